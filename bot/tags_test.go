package bot

import (
	"context"
	"slices"
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/store/pgtest"
)

// TestTags runs the tag engine on SQLite and PostgreSQL: a tag counts as a
// training example only while its conversation is resolved or closed, the
// newest tag wins, a replayed older tag changes nothing, every change moves
// the revision (and nothing else does), tags stay in their workspace, and
// KBSource adds tagged examples of published FAQs only.
func TestTags(t *testing.T) {
	for _, be := range pgtest.Backends(nil) {
		t.Run(be.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, be.DSN(t), nil, nil)
			check(t, err)
			defer db.Close()
			tags, err := OpenTags(ctx, db.SQL(), db.Driver())
			check(t, err)
			if _, err := OpenTags(ctx, db.SQL(), db.Driver()); err != nil { // idempotent
				t.Fatal(err)
			}
			eng := NewTagEngine(tags, db)
			wsA, wsB := &starpost.Workspace{Name: "A"}, &starpost.Workspace{Name: "B"}
			check(t, db.CreateWorkspace(ctx, wsA))
			check(t, db.CreateWorkspace(ctx, wsB))
			q := &starpost.Queue{WorkspaceID: wsA.ID, Name: "Support"}
			check(t, db.CreateQueue(ctx, q))
			k, err := kb.Open(ctx, kb.Options{SQL: db.SQL(), Driver: db.Driver(), Tokenizer: testTokenizer(t)})
			check(t, err)
			refund := &kb.FAQ{Questions: []string{"怎么退款"}, Answer: "A", Lang: "zh", Status: kb.StatusPublished}
			draft := &kb.FAQ{Questions: []string{"发票"}, Answer: "B", Lang: "zh", Status: kb.StatusDraft}
			check(t, k.CreateFAQ(ctx, wsA.ID, refund))
			check(t, k.CreateFAQ(ctx, wsA.ID, draft))

			// handle commits e and hands it to the engine, as the runner does.
			handle := func(e *starpost.Event) *starpost.Event {
				t.Helper()
				e.WorkspaceID = wsA.ID
				evs, err := db.Append(ctx, e)
				check(t, err)
				if _, err := eng.Handle(ctx, evs[0]); err != nil {
					t.Fatalf("handle %s: %v", e.Kind, err)
				}
				return evs[0]
			}
			examples := func() []Example {
				t.Helper()
				x, err := tags.Examples(ctx, wsA.ID)
				check(t, err)
				return x
			}
			revision := func() int64 {
				t.Helper()
				r, err := tags.Revision(ctx, wsA.ID)
				check(t, err)
				return r
			}
			agent := starpost.Actor{Role: starpost.RoleAgentParticipant, ID: "us_1"}
			conv := handle(&starpost.Event{Kind: starpost.KindCreated, Actor: cust,
				Body: starpost.MustBody(starpost.CreatedBody{Channel: "chat", ContactID: cust.ID, QueueID: q.ID})}).ConversationID
			handle(&starpost.Event{ConversationID: conv, Kind: starpost.KindMessage, Actor: cust, Body: starpost.MustBody(starpost.MessageBody{Text: "钱什么时候退给我"})})
			tag := func(intent, text string) *starpost.Event {
				return handle(&starpost.Event{ConversationID: conv, Kind: KindIntentTagged, Actor: agent,
					Body: starpost.MustBody(IntentTagBody{Intent: intent, Text: text})})
			}
			state := func(s starpost.State) {
				handle(&starpost.Event{ConversationID: conv, Kind: starpost.KindState, Actor: agent, Body: starpost.MustBody(starpost.StateBody{State: s})})
			}

			// Tagged while open: stored, not yet an example.
			first := tag(draft.ID, "发票怎么开")
			if r := revision(); r != 1 || len(examples()) != 0 {
				t.Fatalf("open conversation: revision %d, examples %v", r, examples())
			}
			// Retagged: the newest tag wins; then resolved: an example.
			second := tag(refund.ID, "钱什么时候退给我")
			state(starpost.StateResolved)
			want := []Example{{Text: "钱什么时候退给我", Intent: refund.ID}}
			if got := examples(); !slices.Equal(got, want) || revision() != 3 {
				t.Fatalf("resolved: examples %v revision %d, want %v and 3", got, revision(), want)
			}
			// Replays change nothing: the older tag, the newer one again.
			for _, e := range []*starpost.Event{first, second} {
				if _, err := eng.Handle(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			if got := examples(); !slices.Equal(got, want) || revision() != 3 {
				t.Fatalf("after replays: examples %v revision %d", got, revision())
			}
			// The customer writes again: reopened, no longer an example.
			handle(&starpost.Event{ConversationID: conv, Kind: starpost.KindMessage, Actor: cust, Body: starpost.MustBody(starpost.MessageBody{Text: "还没到账"})})
			if got := examples(); len(got) != 0 || revision() != 4 {
				t.Fatalf("reopened: examples %v revision %d", got, revision())
			}
			state(starpost.StateClosed)
			if got := examples(); !slices.Equal(got, want) {
				t.Fatalf("closed: examples %v", got)
			}
			// Another workspace sees nothing.
			if x, err := tags.Examples(ctx, wsB.ID); err != nil || len(x) != 0 {
				t.Fatalf("workspace B: %v %v", x, err)
			}
			if r, err := tags.Revision(ctx, wsB.ID); err != nil || r != 0 {
				t.Fatalf("workspace B revision %d %v", r, err)
			}

			// KBSource: the FAQ variants and the tag of the published FAQ;
			// its revision moves with the tags'.
			src := KBSource{KB: k, Tags: tags}
			ex, intents, err := src.TrainingData(ctx, wsA.ID)
			check(t, err)
			wantEx := []Example{{Text: "怎么退款", Intent: refund.ID}, {Text: "钱什么时候退给我", Intent: refund.ID}}
			if !slices.Equal(ex, wantEx) || len(intents) != 1 {
				t.Fatalf("training data %v %v, want %v", ex, intents, wantEx)
			}
			kbRev, err := k.Revision(ctx, wsA.ID)
			check(t, err)
			if rev, err := src.Revision(ctx, wsA.ID); err != nil || rev != kbRev+revision() {
				t.Fatalf("source revision %d %v, want %d", rev, err, kbRev+revision())
			}
			// A tag of the draft FAQ is stored but not trained on.
			tag(draft.ID, "发票怎么开")
			ex, _, err = src.TrainingData(ctx, wsA.ID)
			check(t, err)
			if len(ex) != 1 {
				t.Fatalf("a tag of a draft FAQ was trained on: %v", ex)
			}
		})
	}
}

func TestIntentTagBodyValidate(t *testing.T) {
	long := make([]rune, MaxTagText+1)
	for i := range long {
		long[i] = '字'
	}
	for _, tc := range []struct {
		name  string
		body  IntentTagBody
		field string
	}{
		{"ok", IntentTagBody{Intent: " fq_1 ", Text: " 退款 "}, ""},
		{"no intent", IntentTagBody{Text: "退款"}, "intent"},
		{"no text", IntentTagBody{Intent: "fq_1", Text: "  "}, "text"},
		{"long text", IntentTagBody{Intent: "fq_1", Text: string(long)}, "text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.body
			err := b.Validate()
			if got := starpost.ErrorField(err); got != tc.field {
				t.Fatalf("error %v on field %q, want %q", err, got, tc.field)
			}
			if err == nil && (b.Intent != "fq_1" || b.Text != "退款") {
				t.Fatalf("not trimmed: %+v", b)
			}
		})
	}
}
