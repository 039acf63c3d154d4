package kb_test

import (
	"context"
	"testing"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/engine"
	"github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/store"
)

// convFixture is a workspace with one open conversation on a real store
// and bus, and the suggestion engine's runner.
type convFixture struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	k     *kb.KB
	r     *engine.Runner
	ws    string
	conv  string
	cust  starpost.Actor
	agent starpost.Actor
}

func newConvFixture(t *testing.T) *convFixture {
	ctx := context.Background()
	db := openDB(t)
	eb, err := bus.Open(ctx, bus.Options{Store: db})
	check(t, err)
	t.Cleanup(func() { eb.Close() })
	ws := &starpost.Workspace{Name: "Acme"}
	check(t, db.CreateWorkspace(ctx, ws))
	q := &starpost.Queue{WorkspaceID: ws.ID, Name: "Support", OfferTimeout: 60}
	check(t, db.CreateQueue(ctx, q))
	cust := starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}
	evs, err := db.Append(ctx, &starpost.Event{WorkspaceID: ws.ID, Kind: starpost.KindCreated, Actor: cust,
		Body: starpost.MustBody(starpost.CreatedBody{Channel: "chat", ContactID: "ct_1", QueueID: q.ID})})
	check(t, err)
	k := openKB(t, db)
	r, err := engine.NewRunner(kb.NewSuggester(k), engine.Options{Store: db, Bus: eb, SQL: db.SQL(), Driver: db.Driver()})
	check(t, err)
	agent := &starpost.User{WorkspaceID: ws.ID, Email: "agent@acme.test", Name: "Agent", Role: starpost.RoleAgent,
		Skills: []starpost.Skilled{}, Capacity: map[starpost.Channel]int{}}
	check(t, db.CreateUser(ctx, agent, "x"))
	_, err = db.Append(ctx, &starpost.Event{WorkspaceID: ws.ID, ConversationID: evs[0].ConversationID, Kind: starpost.KindAssigned,
		Actor: starpost.System, Body: starpost.MustBody(starpost.AssignedBody{AgentID: agent.ID, By: "router"})})
	check(t, err)
	return &convFixture{t: t, ctx: ctx, db: db, k: k, r: r, ws: ws.ID, conv: evs[0].ConversationID, cust: cust,
		agent: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: agent.ID}}
}

func (f *convFixture) say(actor starpost.Actor, text string) *starpost.Event {
	f.t.Helper()
	evs, err := f.db.Append(f.ctx, &starpost.Event{WorkspaceID: f.ws, ConversationID: f.conv, Kind: starpost.KindMessage,
		Actor: actor, Body: starpost.MustBody(starpost.MessageBody{Text: text})})
	check(f.t, err)
	return evs[0]
}

// suggestions runs the engine and returns the conversation's suggestion
// events.
func (f *convFixture) suggestions() []*starpost.Event {
	f.t.Helper()
	check(f.t, f.r.Sync(f.ctx))
	evs, err := f.db.ListEvents(f.ctx, starpost.EventFilter{WorkspaceID: f.ws, ConversationID: f.conv,
		Kinds: []starpost.EventKind{kb.KindSuggestion}})
	check(f.t, err)
	return evs
}

func TestSuggesterEndToEnd(t *testing.T) {
	f := newConvFixture(t)
	ids := seed(t, f.k, f.ws)
	msg := f.say(f.cust, "退款多久能到账？")
	f.say(f.agent, "退款的问题我来查一下") // agents get no suggestions
	f.say(f.cust, "asdfgh")      // nothing matches: no event
	sugg := f.suggestions()
	if len(sugg) != 1 {
		t.Fatalf("%d suggestion events, want 1", len(sugg))
	}
	ev := sugg[0]
	if ev.Actor != engine.Actor(kb.EngineName) {
		t.Fatalf("actor %+v", ev.Actor)
	}
	var b kb.SuggestionBody
	check(t, ev.DecodeBody(&b))
	if b.MessageSeq != msg.Seq || len(b.Items) == 0 || len(b.Items) > kb.SuggestCount {
		t.Fatalf("body %+v", b)
	}
	if b.Items[0].ID != ids["怎么退款"] || b.Items[0].Answer == "" || b.Items[0].Snippet == "" {
		t.Fatalf("top item %+v", b.Items[0])
	}
	// A second Sync (a restart) adds nothing.
	if n := len(f.suggestions()); n != 1 {
		t.Fatalf("%d suggestion events after a second sync", n)
	}
}

func TestSuggesterFeedbackChangesOrder(t *testing.T) {
	f := newConvFixture(t)
	seed(t, f.k, f.ws)
	agent := f.agent
	f.say(f.cust, "退款")
	first := f.suggestions()
	var b kb.SuggestionBody
	check(t, first[0].DecodeBody(&b))
	if len(b.Items) < 2 {
		t.Fatalf("items %+v", b.Items)
	}
	top, second := b.Items[0].ID, b.Items[1].ID
	for _, v := range []struct {
		id      string
		helpful bool
	}{{top, false}, {second, true}} {
		_, err := f.db.Append(f.ctx, &starpost.Event{WorkspaceID: f.ws, ConversationID: f.conv, Kind: kb.KindFeedback, Actor: agent,
			Body: starpost.MustBody(kb.FeedbackBody{SuggestionSeq: first[0].Seq, ID: v.id, Helpful: v.helpful})})
		check(t, err)
	}
	f.say(f.cust, "退款")
	all := f.suggestions()
	if len(all) != 2 {
		t.Fatalf("%d suggestion events", len(all))
	}
	check(t, all[1].DecodeBody(&b))
	if b.Items[0].ID != second || b.Items[1].ID != top {
		t.Fatalf("after feedback: %s, %s; want %s, %s", b.Items[0].ID, b.Items[1].ID, second, top)
	}
}
