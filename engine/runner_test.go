package engine_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/engine"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/store/pgtest"
)

func TestCheckpoints(t *testing.T) {
	for _, tt := range pgtest.Backends(nil) {
		t.Run(tt.Name, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, tt.DSN(t), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			cps, err := engine.OpenCheckpoints(ctx, db.SQL(), db.Driver())
			if err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			steps := []struct {
				engine, ws string
				set        int64 // 0: only read
				want       int64
			}{
				{"emotion", "ws_a", 0, 0},
				{"emotion", "ws_a", 5, 5},
				{"emotion", "ws_a", 3, 5}, // never moves back
				{"emotion", "ws_a", 9, 9},
				{"quality", "ws_a", 0, 0}, // per engine
				{"emotion", "ws_b", 0, 0}, // per workspace
			}
			for i, s := range steps {
				if s.set > 0 {
					if err := cps.Set(ctx, s.engine, s.ws, s.set, now); err != nil {
						t.Fatal(err)
					}
				}
				got, err := cps.Get(ctx, s.engine, s.ws)
				if err != nil || got != s.want {
					t.Fatalf("step %d: got %d, %v; want %d", i, got, err, s.want)
				}
			}
			// Created idempotently: opening again keeps the rows.
			cps, err = engine.OpenCheckpoints(ctx, db.SQL(), db.Driver())
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := cps.Get(ctx, "emotion", "ws_a"); got != 9 {
				t.Fatalf("after reopening: %d", got)
			}
		})
	}
}

// seen is a test engine: for every customer message it writes a test.seen
// event naming the message.
type seen struct {
	mu     sync.Mutex
	inputs map[starpost.EventKind]int
}

func (s *seen) Name() string { return "seen" }

func (s *seen) Handle(_ context.Context, ev *starpost.Event) ([]*starpost.Event, error) {
	s.mu.Lock()
	if s.inputs == nil {
		s.inputs = map[starpost.EventKind]int{}
	}
	s.inputs[ev.Kind]++
	s.mu.Unlock()
	if ev.Kind != starpost.KindMessage || ev.Actor.Role != starpost.RoleCustomer {
		return nil, nil
	}
	return []*starpost.Event{{ConversationID: ev.ConversationID, Kind: "test.seen", Body: starpost.MustBody(map[string]int64{"seq": ev.Seq})}}, nil
}

func (s *seen) count(k starpost.EventKind) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inputs[k]
}

type world struct {
	t   *testing.T
	ctx context.Context
	db  *store.DB
	bus *bus.Bus
}

func newWorld(t *testing.T) *world {
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
	return &world{t: t, ctx: ctx, db: db, bus: b}
}

// workspace creates a workspace with a queue and returns their ids.
func (w *world) workspace(name string) (string, string) {
	ws := &starpost.Workspace{Name: name}
	if err := w.db.CreateWorkspace(w.ctx, ws); err != nil {
		w.t.Fatal(err)
	}
	q := &starpost.Queue{WorkspaceID: ws.ID, Name: "Support", OfferTimeout: 60}
	if err := w.db.CreateQueue(w.ctx, q); err != nil {
		w.t.Fatal(err)
	}
	return ws.ID, q.ID
}

func (w *world) append(e *starpost.Event) *starpost.Event {
	w.t.Helper()
	evs, err := w.db.Append(w.ctx, e)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.bus.Publish(w.ctx, evs...); err != nil {
		w.t.Fatal(err)
	}
	return evs[0]
}

// chat opens a conversation in ws and has the customer write n messages.
func (w *world) chat(ws, queue string, n int) string {
	cust := starpost.Actor{Role: starpost.RoleCustomer, ID: "ct_1"}
	c := w.append(&starpost.Event{WorkspaceID: ws, Kind: starpost.KindCreated, Actor: cust,
		Body: starpost.MustBody(starpost.CreatedBody{Channel: "chat", ContactID: "ct_1", QueueID: queue})})
	for range n {
		w.append(&starpost.Event{WorkspaceID: ws, ConversationID: c.ConversationID, Kind: starpost.KindMessage, Actor: cust,
			Body: starpost.MustBody(starpost.MessageBody{Text: "hello"})})
	}
	return c.ConversationID
}

func (w *world) count(ws string, k starpost.EventKind) int {
	w.t.Helper()
	evs, err := w.db.ListEvents(w.ctx, starpost.EventFilter{WorkspaceID: ws, Kinds: []starpost.EventKind{k}})
	if err != nil {
		w.t.Fatal(err)
	}
	return len(evs)
}

func (w *world) runner(h engine.Handler) *engine.Runner {
	r, err := engine.NewRunner(h, engine.Options{Store: w.db, Bus: w.bus, SQL: w.db.SQL(), Driver: w.db.Driver()})
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// waitCount waits until ws holds n events of kind k, watching the bus.
func (w *world) waitCount(sub starpost.Subscription, ws string, k starpost.EventKind, n int) {
	w.t.Helper()
	deadline := time.After(30 * time.Second) // a hang guard, not a measurement
	for w.count(ws, k) < n {
		select {
		case <-sub.Events():
		case <-deadline:
			w.t.Fatalf("%d %s events in %s, want %d", w.count(ws, k), k, ws, n)
		}
	}
}

func TestRunner(t *testing.T) {
	w := newWorld(t)
	wsA, qA := w.workspace("A")
	w.chat(wsA, qA, 2) // before the runner starts: replayed from the store

	sub, err := w.bus.Subscribe("")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	h := &seen{}
	r := w.runner(h)
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	w.waitCount(sub, wsA, "test.seen", 2)

	// Live events, and a workspace created after the runner started.
	w.chat(wsA, qA, 3)
	wsB, qB := w.workspace("B")
	w.chat(wsB, qB, 1)
	w.waitCount(sub, wsA, "test.seen", 5)
	w.waitCount(sub, wsB, "test.seen", 1)
	cancel()
	<-done
	if n := h.count("test.seen"); n != 0 {
		t.Fatalf("the engine was given %d of its own events", n)
	}

	// Restart from the checkpoints: nothing new.
	if err := w.runner(&seen{}).Sync(w.ctx); err != nil {
		t.Fatal(err)
	}
	// Two runners replaying everything at once (checkpoints lost): still
	// nothing new, thanks to the idempotency keys.
	if _, err := w.db.SQL().ExecContext(w.ctx, "DELETE FROM engine_checkpoints"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if err := w.runner(&seen{}).Sync(w.ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if a, b := w.count(wsA, "test.seen"), w.count(wsB, "test.seen"); a != 5 || b != 1 {
		t.Fatalf("test.seen: %d in A, %d in B; want 5 and 1", a, b)
	}

	// A new engine told to skip history handles only what comes next.
	late := &lateSeen{}
	r2, err := engine.NewRunner(late, engine.Options{Store: w.db, Bus: w.bus, SQL: w.db.SQL(), Driver: w.db.Driver(), SkipHistory: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Sync(w.ctx); err != nil {
		t.Fatal(err)
	}
	w.chat(wsA, qA, 1)
	if err := r2.Sync(w.ctx); err != nil {
		t.Fatal(err)
	}
	if n := late.count(starpost.KindMessage); n != 1 {
		t.Fatalf("late engine saw %d messages, want 1", n)
	}
}

// lateSeen is seen under another name (its own checkpoints).
type lateSeen struct{ seen }

func (*lateSeen) Name() string { return "late" }
