package emotion_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/emotion"
	"github.com/starpost/starpost/engine"
	"github.com/starpost/starpost/store"
)

// world is a real SQLite store and a real embedded bus with one workspace,
// queue and agent.
type world struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	bus   *bus.Bus
	ws    *starpost.Workspace
	queue *starpost.Queue
	agent *starpost.User
	watch starpost.Subscription
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "starpost.db"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b, err := bus.Open(ctx, bus.Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	w := &world{t: t, ctx: ctx, db: db, bus: b}
	w.ws = &starpost.Workspace{Name: "Acme"}
	if err := db.CreateWorkspace(ctx, w.ws); err != nil {
		t.Fatal(err)
	}
	w.queue = &starpost.Queue{WorkspaceID: w.ws.ID, Name: "Support", OfferTimeout: 60}
	if err := db.CreateQueue(ctx, w.queue); err != nil {
		t.Fatal(err)
	}
	w.agent = &starpost.User{WorkspaceID: w.ws.ID, Email: "ada@acme.test", Name: "Ada", Role: starpost.RoleAgent}
	if err := db.CreateUser(ctx, w.agent, ""); err != nil {
		t.Fatal(err)
	}
	if w.watch, err = b.Subscribe(w.ws.ID); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.watch.Close)
	return w
}

// append commits an event and publishes it, as every writer does.
func (w *world) append(e *starpost.Event) *starpost.Event {
	w.t.Helper()
	e.WorkspaceID = w.ws.ID
	evs, err := w.db.Append(w.ctx, e)
	if err != nil {
		w.t.Fatalf("append %s: %v", e.Kind, err)
	}
	if err := w.bus.Publish(w.ctx, evs...); err != nil {
		w.t.Fatalf("publish %s: %v", e.Kind, err)
	}
	return evs[0]
}

// conversation opens a conversation assigned to the agent.
func (w *world) conversation() string {
	c := w.append(&starpost.Event{Kind: starpost.KindCreated, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"},
		Body: starpost.MustBody(starpost.CreatedBody{Channel: "chat", ContactID: "ct_1", QueueID: w.queue.ID, Subject: "订单"})})
	w.append(&starpost.Event{ConversationID: c.ConversationID, Kind: starpost.KindAssigned, Actor: starpost.System,
		Body: starpost.MustBody(starpost.AssignedBody{AgentID: w.agent.ID, By: "router"})})
	return c.ConversationID
}

func (w *world) say(conv string, role starpost.ParticipantRole, id, text string) *starpost.Event {
	return w.append(&starpost.Event{ConversationID: conv, Kind: starpost.KindMessage, Actor: starpost.Actor{Role: role, ID: id},
		Body: starpost.MustBody(starpost.MessageBody{Text: text})})
}

// waitFor returns the next watched event of kind k on conv.
func (w *world) waitFor(k starpost.EventKind, conv string) *starpost.Event {
	w.t.Helper()
	deadline := time.After(30 * time.Second) // a hang guard, not a measurement
	for {
		select {
		case e, ok := <-w.watch.Events():
			if !ok {
				w.t.Fatalf("watch closed while waiting for %s", k)
			}
			if e.Kind == k && e.ConversationID == conv {
				return e
			}
		case <-deadline:
			w.t.Fatalf("no %s event on %s", k, conv)
		}
	}
}

func (w *world) runner(t *testing.T, a *emotion.Analyzer) *engine.Runner {
	t.Helper()
	h, err := emotion.NewEngine(a, w.db, emotion.EngineConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := engine.NewRunner(h, engine.Options{Store: w.db, Bus: w.bus, SQL: w.db.SQL(), Driver: w.db.Driver()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// kinds counts the conversation's stored events by kind.
func (w *world) kinds(conv string) map[starpost.EventKind]int {
	w.t.Helper()
	evs, err := w.db.ListEvents(w.ctx, starpost.EventFilter{WorkspaceID: w.ws.ID, ConversationID: conv})
	if err != nil {
		w.t.Fatal(err)
	}
	n := map[starpost.EventKind]int{}
	for _, e := range evs {
		n[e.Kind]++
	}
	return n
}

func TestEngineThroughStoreAndBus(t *testing.T) {
	a, err := emotion.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	r := w.runner(t, a)
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	conv := w.conversation()
	customer := starpost.RoleCustomer

	// A calm message: one emotion event, no coaching.
	m := w.say(conv, customer, "ct_1", "你好，请问我的订单什么时候发货？")
	var eb emotion.EmotionBody
	if err := w.waitFor(emotion.KindEmotion, conv).DecodeBody(&eb); err != nil {
		t.Fatal(err)
	}
	if eb.MessageSeq != m.Seq || eb.Lang != "zh" || eb.Abusive {
		t.Fatalf("calm message: %+v", eb)
	}
	w.say(conv, starpost.RoleAgentParticipant, w.agent.ID, "您好，我帮您查一下")

	// Abuse: emotion, coaching for the agent and a supervisor alert.
	m = w.say(conv, customer, "ct_1", "垃圾客服，你们都是废物！！！")
	ev := w.waitFor(emotion.KindCoaching, conv)
	var cb emotion.CoachingBody
	if err := ev.DecodeBody(&cb); err != nil {
		t.Fatal(err)
	}
	if cb.Reason != "abuse" || cb.MessageSeq != m.Seq || cb.AgentID != w.agent.ID || cb.ZH.Apologise == "" || cb.EN.Avoid == "" {
		t.Fatalf("coaching: %+v", cb)
	}
	if ev.Actor != engine.Actor(emotion.EngineName) {
		t.Fatalf("actor %+v", ev.Actor)
	}
	var ab emotion.AlertBody
	if err := w.waitFor(emotion.KindAlert, conv).DecodeBody(&ab); err != nil {
		t.Fatal(err)
	}
	if ab.Reason != "abuse" || ab.AbusiveMessages != 1 || ab.Excerpt == "" {
		t.Fatalf("alert: %+v", ab)
	}
	// Second abusive message: the default policy warns the customer.
	w.say(conv, customer, "ct_1", "傻逼客服，废物")
	if err := w.waitFor(emotion.KindAlert, conv).DecodeBody(&ab); err != nil {
		t.Fatal(err)
	}
	if ab.Reason != "abuse_warned" || ab.AbusiveMessages != 2 {
		t.Fatalf("second alert: %+v", ab)
	}
	warn := w.waitFor(starpost.KindMessage, conv)
	if warn.Actor.Role != starpost.RoleSystem {
		t.Fatalf("warning from %+v", warn.Actor)
	}
	// Fourth abusive message: the policy ends the conversation.
	w.say(conv, customer, "ct_1", "你们就是一群废物")
	w.say(conv, customer, "ct_1", "Fuck you, idiots!!!")
	var sb starpost.StateBody
	if err := w.waitFor(starpost.KindState, conv).DecodeBody(&sb); err != nil {
		t.Fatal(err)
	}
	if sb.State != starpost.StateClosed {
		t.Fatalf("state %+v", sb)
	}
	c, err := w.db.FindConversation(w.ctx, w.ws.ID, conv)
	if err != nil || c.State != starpost.StateClosed {
		t.Fatalf("conversation %+v, %v", c, err)
	}
	cancel()
	<-done

	// Restart with a new engine (no memory) and no checkpoint: the full
	// replay commits nothing new.
	before := w.kinds(conv)
	if _, err := w.db.SQL().ExecContext(w.ctx, "DELETE FROM engine_checkpoints"); err != nil {
		t.Fatal(err)
	}
	r2 := w.runner(t, a)
	if err := r2.Sync(w.ctx); err != nil {
		t.Fatal(err)
	}
	after := w.kinds(conv)
	if len(before) != len(after) {
		t.Fatalf("kinds before %v after %v", before, after)
	}
	for k, n := range before {
		if after[k] != n {
			t.Fatalf("%s: %d before, %d after replay", k, n, after[k])
		}
	}
	if before[emotion.KindEmotion] != 5 || before[emotion.KindCoaching] != 4 || before[emotion.KindAlert] != 4 {
		t.Fatalf("outputs: %v", before)
	}
	// 16 engine events: 5 emotion, 4 coaching, 4 alerts, a warning, an
	// ending message and a state change, all repeats of the originals.
	if st := r2.Stats(); st.Handled == 0 || st.Appended != 16 {
		t.Fatalf("replay stats: %+v", st)
	}
}
