package bot

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/engine"
	"github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/router"
	"github.com/starpost/starpost/store"
)

// world is a real SQLite store, a real embedded bus, a knowledge base with
// faqSet, a bot queue and an agent.
type world struct {
	t      *testing.T
	ctx    context.Context
	db     *store.DB
	bus    *bus.Bus
	kb     *kb.KB
	models *Models
	ws     *starpost.Workspace
	queue  *starpost.Queue
	agent  *starpost.User
	faqs   map[string]string // faqSet key → FAQ id
	answer map[string]string // FAQ id → answer
	watch  starpost.Subscription
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "starpost.db"), nil, nil)
	check(t, err)
	t.Cleanup(func() { db.Close() })
	b, err := bus.Open(ctx, bus.Options{Store: db})
	check(t, err)
	t.Cleanup(func() { b.Close() })
	w := &world{t: t, ctx: ctx, db: db, bus: b, faqs: map[string]string{}, answer: map[string]string{}}
	w.ws = &starpost.Workspace{Name: "Acme"}
	check(t, db.CreateWorkspace(ctx, w.ws))
	w.queue = &starpost.Queue{WorkspaceID: w.ws.ID, Name: "Support", OfferTimeout: 60, Bot: true, BotMaxFailedTurns: 2}
	check(t, db.CreateQueue(ctx, w.queue))
	w.agent = &starpost.User{WorkspaceID: w.ws.ID, Email: "ada@acme.test", Name: "Ada", Role: starpost.RoleAgent}
	check(t, db.CreateUser(ctx, w.agent, ""))
	w.kb, err = kb.Open(ctx, kb.Options{SQL: db.SQL(), Driver: db.Driver(), Tokenizer: testTokenizer(t)})
	check(t, err)
	keys := make([]string, 0, len(faqSet))
	for k := range faqSet {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := &kb.FAQ{Questions: faqSet[k], Answer: "ANSWER " + k, Lang: "zh"}
		check(t, w.kb.CreateFAQ(ctx, w.ws.ID, f))
		w.faqs[k], w.answer[f.ID] = f.ID, f.Answer
	}
	w.models, err = OpenModels(ctx, ModelsOptions{SQL: db.SQL(), Driver: db.Driver(), Tokenizer: testTokenizer(t), Source: KBSource{KB: w.kb},
		Train: TrainOptions{Seed: 1}})
	check(t, err)
	t.Cleanup(w.models.Close)
	w.watch, err = b.Subscribe(w.ws.ID)
	check(t, err)
	t.Cleanup(w.watch.Close)
	return w
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) runner() *engine.Runner {
	w.t.Helper()
	eng, err := NewEngine(w.models, w.db, Config{})
	check(w.t, err)
	r, err := engine.NewRunner(eng, engine.Options{Store: w.db, Bus: w.bus, SQL: w.db.SQL(), Driver: w.db.Driver()})
	check(w.t, err)
	return r
}

// run runs fn until the test ends.
func (w *world) run(name string, fn func(context.Context) error) {
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	w.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			w.t.Errorf("%s: %v", name, err)
		}
	})
}

// append commits an event and publishes it, as every writer does.
func (w *world) append(e *starpost.Event) *starpost.Event {
	w.t.Helper()
	e.WorkspaceID = w.ws.ID
	evs, err := w.db.Append(w.ctx, e)
	if err != nil {
		w.t.Fatalf("append %s: %v", e.Kind, err)
	}
	check(w.t, w.bus.Publish(w.ctx, evs...))
	return evs[0]
}

var cust = starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}

// conversation opens a conversation with the bot, as the API does for a
// bot queue.
func (w *world) conversation() string {
	return w.append(&starpost.Event{Kind: starpost.KindCreated, Actor: cust,
		Body: starpost.MustBody(starpost.CreatedBody{Channel: "chat", ContactID: cust.ID, QueueID: w.queue.ID, State: starpost.StateBot})}).ConversationID
}

func (w *world) say(conv, text string) *starpost.Event {
	return w.append(&starpost.Event{ConversationID: conv, Kind: starpost.KindMessage, Actor: cust,
		Body: starpost.MustBody(starpost.MessageBody{Text: text})})
}

// waitFor returns the next watched event of kind k on conv, decoding its
// body into body.
func (w *world) waitFor(k starpost.EventKind, conv string, body any) *starpost.Event {
	w.t.Helper()
	deadline := time.After(30 * time.Second) // a hang guard, not a measurement
	for {
		select {
		case e, ok := <-w.watch.Events():
			if !ok {
				w.t.Fatalf("watch closed while waiting for %s", k)
			}
			if e.Kind == k && e.ConversationID == conv {
				if body != nil {
					check(w.t, e.DecodeBody(body))
				}
				return e
			}
		case <-deadline:
			w.t.Fatalf("no %s event on %s", k, conv)
		}
	}
}

// lastBotMessage returns the text of the bot's newest message in conv.
func (w *world) lastBotMessage(conv string) string {
	w.t.Helper()
	evs, err := w.db.ListEvents(w.ctx, starpost.EventFilter{WorkspaceID: w.ws.ID, ConversationID: conv, Kinds: []starpost.EventKind{starpost.KindMessage}})
	check(w.t, err)
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Actor == Participant {
			var b starpost.MessageBody
			check(w.t, evs[i].DecodeBody(&b))
			return b.Text
		}
	}
	return ""
}

// A customer talks to the bot: a confident answer in Chinese, a clarifying
// question answered with "1", an answer in English, then a request for a
// person. The bot hands over with the transcript, and the running router,
// which never offered the conversation while the bot had it, offers it to
// the available agent, who accepts.
func TestBotConversationThenHandoff(t *testing.T) {
	w := newWorld(t)
	logger := slog.New(slog.DiscardHandler)
	w.run("bot", w.runner().Run)
	w.run("router", router.NewDriver(w.db, w.bus, starpost.SystemClock{}, logger, router.WithTick(20*time.Millisecond)).Run)
	w.append(&starpost.Event{Kind: starpost.KindPresence, Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: w.agent.ID},
		Body: starpost.MustBody(starpost.PresenceBody{Presence: starpost.PresenceAvailable})})

	conv := w.conversation()
	var joined starpost.JoinedBody
	if e := w.waitFor(starpost.KindJoined, conv, &joined); joined.Role != starpost.RoleBot || e.Actor != Participant {
		t.Fatalf("joined %+v by %+v", joined, e.Actor)
	}

	var turn TurnBody
	msg := w.say(conv, "退款一般几天能到账？")
	w.waitFor(KindTurn, conv, &turn)
	if turn.MessageSeq != msg.Seq || turn.Action != ActAnswer || turn.Intent != w.faqs["refund"] || turn.ModelVersion != 1 {
		t.Fatalf("turn %+v", turn)
	}
	if got := w.lastBotMessage(conv); got != w.answer[w.faqs["refund"]] {
		t.Fatalf("bot said %q", got)
	}

	w.say(conv, "card")
	w.waitFor(KindTurn, conv, &turn)
	if turn.Action != ActClarify || len(turn.Options) != 2 {
		t.Fatalf("turn %+v, want a clarifying question", turn)
	}
	opts := []string{turn.Options[0].ID, turn.Options[1].ID}
	sort.Strings(opts)
	want := []string{w.faqs["card_lost"], w.faqs["card_new"]}
	sort.Strings(want)
	if opts[0] != want[0] || opts[1] != want[1] {
		t.Fatalf("options %+v, want the two card intents", turn.Options)
	}
	if q := w.lastBotMessage(conv); !strings.Contains(q, turn.Options[0].Title) || !strings.Contains(q, turn.Options[1].Title) {
		t.Fatalf("clarifying question %q does not name both options %+v", q, turn.Options)
	}
	first := turn.Options[0].ID
	w.say(conv, "1")
	w.waitFor(KindTurn, conv, &turn)
	if turn.Action != ActAnswer || turn.Intent != first {
		t.Fatalf("after choosing 1: %+v, want the answer of %s", turn, first)
	}
	if got := w.lastBotMessage(conv); got != w.answer[first] {
		t.Fatalf("bot said %q", got)
	}

	w.say(conv, "How do I reset my password?")
	w.waitFor(KindTurn, conv, &turn)
	if turn.Action != ActAnswer || turn.Intent != w.faqs["password"] {
		t.Fatalf("turn %+v", turn)
	}

	// The router left the conversation alone while the bot had it.
	offers, err := w.db.ListEvents(w.ctx, starpost.EventFilter{WorkspaceID: w.ws.ID, ConversationID: conv, Kinds: []starpost.EventKind{starpost.KindOffer}})
	check(t, err)
	if len(offers) != 0 {
		t.Fatalf("the router offered a bot conversation: %+v", offers[0])
	}

	ask := w.say(conv, "我要转人工")
	var ho HandoffBody
	w.waitFor(KindHandoff, conv, &ho)
	if ho.Reason != ReasonRequested || ho.TriggerSeq != ask.Seq || ho.Turns != 5 || ho.Intent == "" || ho.Confidence <= 0 || ho.ModelVersion != 1 {
		t.Fatalf("handoff %+v", ho)
	}
	if len(ho.Transcript) != 8 || ho.Transcript[len(ho.Transcript)-1].Text != "我要转人工" || !strings.Contains(ho.Summary, "Bot: ") {
		t.Fatalf("transcript %+v summary %q", ho.Transcript, ho.Summary)
	}
	var st starpost.StateBody
	w.waitFor(starpost.KindState, conv, &st)
	if st.State != starpost.StateQueued {
		t.Fatalf("state %+v", st)
	}
	var offer starpost.OfferBody
	w.waitFor(starpost.KindOffer, conv, &offer)
	if offer.AgentID != w.agent.ID {
		t.Fatalf("offer %+v", offer)
	}
	w.append(&starpost.Event{ConversationID: conv, Kind: starpost.KindAssigned, Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: w.agent.ID},
		Body: starpost.MustBody(starpost.AssignedBody{AgentID: w.agent.ID, By: "accept"})})
	c, err := w.db.FindConversation(w.ctx, w.ws.ID, conv)
	check(t, err)
	if c.State != starpost.StateAssigned || c.AgentID != w.agent.ID {
		t.Fatalf("conversation %+v", c)
	}
	// The bot is a participant; it says nothing once the agent has it.
	w.say(conv, "退款多久到账")
	if got := w.lastBotMessage(conv); !strings.Contains(got, "转接") {
		t.Fatalf("the bot spoke after the handoff: %q", got)
	}
}

// Each handoff reason through the real store, with the runner's Sync.
func TestHandoffReasons(t *testing.T) {
	w := newWorld(t)
	r := w.runner()
	for _, c := range []struct {
		name   string
		says   []string
		angry  bool // an emotion event with anger follows the last message
		reason Reason
		failed int
	}{
		{"requested (en)", []string{"can I talk to a human"}, false, ReasonRequested, 0},
		{"out of scope", []string{"asdkjh qwpoeiru zxmcnb"}, false, ReasonLowConfidence, 0},
		{"failed turns", []string{"how do I get a refund", "no, that didn't help", "not what I asked"}, false, ReasonFailedTurns, 2},
		{"angry customer", []string{"where is my package"}, true, ReasonAngry, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			conv := w.conversation()
			var last *starpost.Event
			for _, s := range c.says {
				last = w.say(conv, s)
				check(t, r.Sync(w.ctx))
			}
			if c.angry {
				w.append(&starpost.Event{ConversationID: conv, Kind: "emotion", Actor: engine.Actor("emotion"),
					Body: []byte(`{"message_seq":` + strconv.FormatInt(last.Seq, 10) + `,"anger":0.92,"abusive":false,"trend":{"direction":"escalating","anger":0.8}}`)})
				check(t, r.Sync(w.ctx))
			}
			evs, err := w.db.ListEvents(w.ctx, starpost.EventFilter{WorkspaceID: w.ws.ID, ConversationID: conv, Kinds: []starpost.EventKind{KindHandoff}})
			check(t, err)
			if len(evs) != 1 {
				t.Fatalf("%d handoff events", len(evs))
			}
			var ho HandoffBody
			check(t, evs[0].DecodeBody(&ho))
			if ho.Reason != c.reason || ho.FailedTurns != c.failed {
				t.Fatalf("handoff %+v, want reason %s failed %d", ho, c.reason, c.failed)
			}
			cv, err := w.db.FindConversation(w.ctx, w.ws.ID, conv)
			check(t, err)
			if cv.State != starpost.StateQueued {
				t.Fatalf("state %s", cv.State)
			}
			// A replay from the start (a restart without checkpoints) adds nothing.
			before, err := w.db.LastCursor(w.ctx, w.ws.ID)
			check(t, err)
			fresh := w.runner()
			_, err = w.db.SQL().ExecContext(w.ctx, "DELETE FROM engine_checkpoints WHERE engine = ?", EngineName)
			check(t, err)
			check(t, fresh.Sync(w.ctx))
			after, err := w.db.LastCursor(w.ctx, w.ws.ID)
			check(t, err)
			if after != before {
				t.Fatalf("a replay appended %d events", after-before)
			}
		})
	}
}
