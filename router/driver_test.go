package router_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/router"
	"github.com/starpost/starpost/store"
)

// system is a real SQLite store and a real embedded bus.
type system struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	bus   *bus.Bus
	ws    *starpost.Workspace
	queue *starpost.Queue
	agent *starpost.User
	watch starpost.Subscription
	clock starpost.Clock
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newSystem(t *testing.T, clock starpost.Clock) *system {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "starpost.db"), clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	b, err := bus.Open(ctx, bus.Options{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	s := &system{t: t, ctx: ctx, db: db, bus: b, clock: clock}
	s.ws = &starpost.Workspace{Name: "Acme"}
	if err := db.CreateWorkspace(ctx, s.ws); err != nil {
		t.Fatal(err)
	}
	s.queue = &starpost.Queue{WorkspaceID: s.ws.ID, Name: "Support", OfferTimeout: 60}
	if err := db.CreateQueue(ctx, s.queue); err != nil {
		t.Fatal(err)
	}
	s.agent = &starpost.User{WorkspaceID: s.ws.ID, Email: "ada@acme.test", Name: "Ada", Role: starpost.RoleAgent}
	if err := db.CreateUser(ctx, s.agent, ""); err != nil {
		t.Fatal(err)
	}
	if s.watch, err = b.Subscribe(s.ws.ID); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.watch.Close)
	return s
}

// append commits an event and publishes it, as every writer does.
func (s *system) append(e *starpost.Event) *starpost.Event {
	s.t.Helper()
	e.WorkspaceID = s.ws.ID
	evs, err := s.db.Append(s.ctx, e)
	if err != nil {
		s.t.Fatalf("append %s: %v", e.Kind, err)
	}
	if err := s.bus.Publish(s.ctx, evs...); err != nil {
		s.t.Fatalf("publish %s: %v", e.Kind, err)
	}
	return evs[0]
}

func (s *system) presence(p starpost.Presence) {
	s.presenceOf(s.agent.ID, p)
}

func (s *system) presenceOf(agentID string, p starpost.Presence) {
	s.append(&starpost.Event{Kind: starpost.KindPresence, Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: agentID},
		Body: starpost.MustBody(starpost.PresenceBody{Presence: p})})
}

// waitFor returns the first watched event of kind k on conversation conv
// (after decoding its body into body).
func (s *system) waitFor(k starpost.EventKind, conv string, body any) *starpost.Event {
	s.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e, ok := <-s.watch.Events():
			if !ok {
				s.t.Fatalf("watch subscription closed while waiting for %s", k)
			}
			if e.Kind == k && e.ConversationID == conv {
				if err := e.DecodeBody(body); err != nil {
					s.t.Fatal(err)
				}
				return e
			}
		case <-deadline:
			s.t.Fatalf("no %s event for %s", k, conv)
		}
	}
}

// runDriver starts a driver and returns a function that stops it.
func (s *system) runDriver() func() {
	_, stop := s.startDriver()
	return stop
}

// startDriver starts a driver and returns it with a function that stops it.
func (s *system) startDriver() (*router.Driver, func()) {
	ctx, cancel := context.WithCancel(s.ctx)
	logger := slog.New(slog.NewTextHandler(testWriter{s.t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d := router.NewDriver(s.db, s.bus, s.clock, logger, router.WithTick(20*time.Millisecond))
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return d, func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			s.t.Errorf("driver Run: %v", err)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// A customer writes in; nobody is available, so the customer hears where
// they stand; an agent goes available and is offered the conversation;
// the driver restarts (rebuilding from the store) while the offer is open;
// the agent steps away, so the new driver withdraws the offer; the agent
// comes back, is offered it again and accepts.
func TestDriverOffersAndAssigns(t *testing.T) {
	s := newSystem(t, starpost.SystemClock{})
	stop := s.runDriver()

	contact, err := s.db.FindOrCreateContact(s.ctx, s.ws.ID, starpost.ChannelChat, "visitor-1", "Lin")
	if err != nil {
		t.Fatal(err)
	}
	created := s.append(&starpost.Event{Kind: starpost.KindCreated, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: contact.ID},
		Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: contact.ID, QueueID: s.queue.ID})})
	conv := created.ConversationID

	var status starpost.QueueStatusBody
	s.waitFor(starpost.KindQueueStatus, conv, &status)
	if status != (starpost.QueueStatusBody{Position: 1, EstimatedWait: -1}) {
		t.Fatalf("queue status %+v, want position 1, no estimate", status)
	}

	s.presence(starpost.PresenceAvailable)
	var offer starpost.OfferBody
	s.waitFor(starpost.KindOffer, conv, &offer)
	if offer.AgentID != s.agent.ID || !offer.ExpiresAt.After(time.Now().Add(30*time.Second)) {
		t.Fatalf("offer %+v", offer)
	}

	// Restart: the new driver finds the open offer in the store.
	stop()
	stop = s.runDriver()
	defer stop()

	s.presence(starpost.PresenceBreak)
	var ended starpost.OfferEndBody
	s.waitFor(starpost.KindOfferEnd, conv, &ended)
	if ended.AgentID != s.agent.ID || ended.Reason != "withdrawn" {
		t.Fatalf("offer ended %+v, want withdrawn", ended)
	}

	s.presence(starpost.PresenceAvailable)
	s.waitFor(starpost.KindOffer, conv, &offer)
	if offer.AgentID != s.agent.ID {
		t.Fatalf("second offer %+v", offer)
	}
	s.append(&starpost.Event{ConversationID: conv, Kind: starpost.KindAssigned, Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: s.agent.ID},
		Body: starpost.MustBody(starpost.AssignedBody{AgentID: s.agent.ID, By: "accept"})})

	c, err := s.db.FindConversation(s.ctx, s.ws.ID, conv)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != starpost.StateAssigned || c.AgentID != s.agent.ID {
		t.Fatalf("conversation %s held by %q, want assigned to %s", c.State, c.AgentID, s.agent.ID)
	}
}

// With the clock in the test's hand: the first agent lets the offer lapse,
// and the driver ends it and offers the chat to the next agent.
func TestDriverOfferTimeout(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC)}
	s := newSystem(t, clock)
	second := &starpost.User{WorkspaceID: s.ws.ID, Email: "bo@acme.test", Name: "Bo", Role: starpost.RoleAgent}
	if err := s.db.CreateUser(s.ctx, second, ""); err != nil {
		t.Fatal(err)
	}
	s.presence(starpost.PresenceAvailable) // Ada, idle the longest
	clock.advance(time.Second)
	s.presenceOf(second.ID, starpost.PresenceAvailable)
	stop := s.runDriver()
	defer stop()

	contact, err := s.db.FindOrCreateContact(s.ctx, s.ws.ID, starpost.ChannelChat, "visitor-2", "Kai")
	if err != nil {
		t.Fatal(err)
	}
	conv := s.append(&starpost.Event{Kind: starpost.KindCreated, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: contact.ID},
		Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: contact.ID, QueueID: s.queue.ID})}).ConversationID
	var offer starpost.OfferBody
	s.waitFor(starpost.KindOffer, conv, &offer)
	if offer.AgentID != s.agent.ID || !offer.ExpiresAt.Equal(clock.Now().Add(60*time.Second)) {
		t.Fatalf("offer %+v at %v", offer, clock.Now())
	}
	clock.advance(61 * time.Second)
	var ended starpost.OfferEndBody
	s.waitFor(starpost.KindOfferEnd, conv, &ended)
	if ended.Reason != "expired" {
		t.Fatalf("offer ended %+v", ended)
	}
	s.waitFor(starpost.KindOffer, conv, &offer)
	if offer.AgentID != second.ID {
		t.Fatalf("re-offered to %s, want the next agent %s", offer.AgentID, second.ID)
	}
}

// A surge: the driver starts on a backlog of more conversations than the
// bus buffers for one subscriber. It offers what the agent can take and
// tells the rest where they stand, without falling behind the events of its
// own decisions as they come back on the bus.
func TestDriverSurge(t *testing.T) {
	s := newSystem(t, starpost.SystemClock{})
	s.watch.Close() // not read here
	s.agent.Capacity = map[starpost.Channel]int{starpost.ChannelChat: 100}
	if err := s.db.UpdateUser(s.ctx, s.agent); err != nil {
		t.Fatal(err)
	}
	s.presence(starpost.PresenceAvailable)
	const n = 600
	for i := range n {
		contact, err := s.db.FindOrCreateContact(s.ctx, s.ws.ID, starpost.ChannelChat, fmt.Sprintf("visitor-%d", i), "")
		if err != nil {
			t.Fatal(err)
		}
		s.append(&starpost.Event{Kind: starpost.KindCreated, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: contact.ID},
			Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: contact.ID, QueueID: s.queue.ID})})
	}
	// The driver starts on the backlog: one Decide takes 600 decisions.
	d, stop := s.startDriver()
	defer stop()
	deadline := time.Now().Add(30 * time.Second)
	for {
		offered, err := s.db.ListConversations(s.ctx, starpost.ConversationFilter{WorkspaceID: s.ws.ID, States: []starpost.State{starpost.StateOffered}})
		if err != nil {
			t.Fatal(err)
		}
		st := d.Stats()
		// Its own 100 offers and 500 queue status signals come back.
		if len(offered) == 100 && st.Events >= n {
			if st.Resyncs != 0 || st.Rebuilds != 1 {
				t.Fatalf("the driver fell behind its own events: %+v", st)
			}
			return
		}
		if st.Resyncs != 0 {
			t.Fatalf("the driver fell behind its own events: %+v", st)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d offered, stats %+v", len(offered), st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A new leader's driver (rebuilt from the store) never heard the
// connection signals of the old one: it gives every agent one liveness
// window. Bo's node names him in heartbeats; Ada, who held a conversation,
// is named by no node (her site dropped during the failover), so after the
// window and the grace period her conversation is given back and offered
// to Bo.
func TestDriverFailoverLiveness(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 11, 11, 9, 0, 0, 0, time.UTC)}
	s := newSystem(t, clock)
	bo := &starpost.User{WorkspaceID: s.ws.ID, Email: "bo@acme.test", Name: "Bo", Role: starpost.RoleAgent}
	if err := s.db.CreateUser(s.ctx, bo, ""); err != nil {
		t.Fatal(err)
	}
	s.presence(starpost.PresenceAvailable)
	old := s.runDriver()
	contact, err := s.db.FindOrCreateContact(s.ctx, s.ws.ID, starpost.ChannelChat, "visitor-3", "Mei")
	if err != nil {
		t.Fatal(err)
	}
	conv := s.append(&starpost.Event{Kind: starpost.KindCreated, Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: contact.ID},
		Body: starpost.MustBody(starpost.CreatedBody{Channel: starpost.ChannelChat, ContactID: contact.ID, QueueID: s.queue.ID})}).ConversationID
	var offer starpost.OfferBody
	s.waitFor(starpost.KindOffer, conv, &offer)
	s.append(&starpost.Event{ConversationID: conv, Kind: starpost.KindAssigned, Actor: starpost.Actor{Role: starpost.RoleAgentParticipant, ID: s.agent.ID},
		Body: starpost.MustBody(starpost.AssignedBody{AgentID: s.agent.ID, By: "accept"})})
	old()

	// The new leader.
	const beat, grace = 10 * time.Second, 60 * time.Second
	ctx, cancel := context.WithCancel(s.ctx)
	d := router.NewDriver(s.db, s.bus, clock, nil, router.WithTick(10*time.Millisecond),
		router.WithEngineOptions(router.WithGracePeriod(grace), router.WithLiveness(router.MissedBeats*beat)))
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	s.presenceOf(bo.ID, starpost.PresenceAvailable)

	heartbeat := func(seq uint64) {
		// The sender's clock is far off: the driver times signals by its own.
		e := &starpost.Event{WorkspaceID: s.ws.ID, Kind: starpost.KindConnection, Actor: starpost.System, At: clock.Now().Add(-time.Hour),
			Body: starpost.MustBody(starpost.ConnectionBody{Connected: true, Node: "node-b", Seq: seq, EveryMS: beat.Milliseconds(), AgentIDs: []string{bo.ID}})}
		if err := s.bus.Publish(s.ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	var unassigned starpost.UnassignedBody
	got := make(chan struct{})
	go func() {
		s.waitFor(starpost.KindUnassigned, conv, &unassigned)
		close(got)
	}()
	deadline := time.After(30 * time.Second)
	for seq := uint64(1); ; seq++ {
		heartbeat(seq)
		waitObserved(t, d, seq)
		select {
		case <-got:
		case <-deadline:
			t.Fatalf("no unassignment after %d heartbeats", seq)
		default:
			clock.advance(beat / 2)
			continue
		}
		break
	}
	if unassigned.AgentID != s.agent.ID || unassigned.Reason != "disconnected" {
		t.Fatalf("unassigned %+v, want Ada disconnected", unassigned)
	}
	s.waitFor(starpost.KindOffer, conv, &offer)
	if offer.AgentID != bo.ID {
		t.Fatalf("re-offered to %s, want Bo %s", offer.AgentID, bo.ID)
	}
}

// waitObserved waits until the driver has observed at least n bus events
// (n heartbeats were published, so it keeps up with them).
func waitObserved(t *testing.T, d *router.Driver, n uint64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for d.Stats().Events < int64(n) {
		if time.Now().After(deadline) {
			t.Fatalf("the driver observed %d events, want %d", d.Stats().Events, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
