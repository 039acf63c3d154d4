package lease_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/starpost/starpost/lease"
	"github.com/starpost/starpost/store/pgtest"
)

var pg pgtest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

// patience bounds every wait, only so that a broken test fails instead of
// hanging; nothing is asserted about how long anything takes.
const patience = 60 * time.Second

// interval is one call of a lead function.
type interval struct {
	candidate string
	term      uint64
	cause     error // context.Cause when the lead context ended
}

// monitor records who leads. It notes every moment at which two lead
// functions ran at once.
type monitor struct {
	mu       sync.Mutex
	cond     *sync.Cond
	active   map[string]uint64 // candidate → term, while its lead runs
	done     []interval
	overlaps []string
}

func newMonitor() *monitor {
	m := &monitor{active: map[string]uint64{}}
	m.cond = sync.NewCond(&m.mu)
	return m
}

// lead returns a lead function for candidate that runs until its context
// ends.
func (m *monitor) lead(candidate string) func(context.Context) error {
	return func(ctx context.Context) error {
		term, ok := lease.FromContext(ctx)
		m.mu.Lock()
		if !ok {
			m.overlaps = append(m.overlaps, candidate+": no term in context")
		}
		for other, t := range m.active {
			m.overlaps = append(m.overlaps, fmt.Sprintf("%s (term %d) started while %s (term %d) led", candidate, term.Number, other, t))
		}
		m.active[candidate] = term.Number
		m.cond.Broadcast()
		m.mu.Unlock()

		<-ctx.Done()

		m.mu.Lock()
		delete(m.active, candidate)
		m.done = append(m.done, interval{candidate, term.Number, context.Cause(ctx)})
		m.cond.Broadcast()
		m.mu.Unlock()
		return ctx.Err()
	}
}

// wait blocks until cond holds (called with the lock held), or fails t.
func (m *monitor) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	timer := time.AfterFunc(patience, func() {
		m.mu.Lock()
		m.cond.Broadcast()
		m.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(patience)
	m.mu.Lock()
	defer m.mu.Unlock()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s: active %v, done %v", what, m.active, m.done)
		}
		m.cond.Wait()
	}
}

// leader waits until exactly one candidate leads and returns it with its
// term.
func (m *monitor) leader(t *testing.T, except string, above uint64) (string, uint64) {
	t.Helper()
	var who string
	var term uint64
	m.wait(t, "a leader", func() bool {
		for c, n := range m.active {
			if c != except && n > above && len(m.active) == 1 {
				who, term = c, n
				return true
			}
		}
		return false
	})
	return who, term
}

// candidate is one node campaigning.
type candidate struct {
	id     string
	lease  lease.Lease
	kill   func()     // breaks the node's connection
	cancel func()     // stops Run
	result chan error // Run's result
}

// backend makes candidates of one lease implementation, all campaigning
// against the same server.
type backend struct {
	name string
	// tolerateOverlap: the lease documents that a killed leader may
	// overlap its successor until it notices the loss.
	tolerateOverlap bool
	// exitOnKill: Run returns once its connection is killed.
	exitOnKill bool
	setup      func(t *testing.T) func(t *testing.T, id string) (lease.Lease, func())
}

func backends() []backend {
	return []backend{
		{name: "postgres", tolerateOverlap: true, setup: setupPostgres},
		{name: "nats-kv", exitOnKill: true, setup: setupKV},
	}
}

func setupPostgres(t *testing.T) func(t *testing.T, id string) (lease.Lease, func()) {
	dsn := pg.Get(t).NewDatabase(t)
	admin := openDB(t, dsn)
	return func(t *testing.T, id string) (lease.Lease, func()) {
		db := openDB(t, dsn) // a pool of its own: another node
		l, err := lease.NewPostgres(db, lease.PostgresOptions{ID: id, Retry: 50 * time.Millisecond, Check: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		kill := func() {
			// The holder is the only session with a granted advisory lock.
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			var n int
			err := admin.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks
				WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
			if err != nil || n != 1 {
				t.Errorf("terminate the holder's session: %d sessions, %v", n, err)
			}
		}
		return l, kill
	}
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// startNATS starts an in-process nats-server with JetStream in a temporary
// folder and returns its URL.
func startNATS(t *testing.T) string {
	t.Helper()
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoSigs: true, NoLog: true,
		JetStream: true, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(patience) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv.ClientURL()
}

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// kvOptions keeps the TTL short and gives lead most of it to stop.
func kvOptions(id string) lease.KVOptions {
	return lease.KVOptions{ID: id, TTL: time.Second, Renew: 100 * time.Millisecond, Grace: 600 * time.Millisecond, Retry: 50 * time.Millisecond}
}

func setupKV(t *testing.T) func(t *testing.T, id string) (lease.Lease, func()) {
	url := startNATS(t)
	return func(t *testing.T, id string) (lease.Lease, func()) {
		nc := connect(t, url)
		l, err := lease.NewKV(nc, kvOptions(id))
		if err != nil {
			t.Fatal(err)
		}
		return l, nc.Close
	}
}

// start runs l for id under m.
func start(t *testing.T, m *monitor, id string, l lease.Lease, kill func()) *candidate {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &candidate{id: id, lease: l, kill: kill, cancel: cancel, result: make(chan error, 1)}
	go func() { c.result <- l.Run(ctx, "router", m.lead(id)) }()
	t.Cleanup(func() {
		cancel()
		c.wait(t)
	})
	return c
}

// wait returns Run's result, once.
func (c *candidate) wait(t *testing.T) error {
	t.Helper()
	select {
	case err, ok := <-c.result:
		if ok {
			close(c.result)
		}
		return err
	case <-time.After(patience):
		t.Fatalf("%s: Run did not return", c.id)
		return nil
	}
}

func TestContract(t *testing.T) {
	type scenario struct {
		name string
		// stop ends the leader's leadership.
		stop func(t *testing.T, c *candidate)
		// lost: the leader's lead context ends with ErrLost.
		lost bool
	}
	scenarios := []scenario{
		{name: "kill the leader's connection", lost: true, stop: func(t *testing.T, c *candidate) { c.kill() }},
		{name: "cancel the leader", stop: func(t *testing.T, c *candidate) {
			c.cancel()
			if err := c.wait(t); !errors.Is(err, context.Canceled) {
				t.Errorf("%s: Run returned %v, want context.Canceled", c.id, err)
			}
		}},
	}
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			newCandidate := b.setup(t)
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					m := newMonitor()
					cands := map[string]*candidate{}
					for _, id := range []string{"a", "b", "c"} {
						l, kill := newCandidate(t, id+"-"+strings.ReplaceAll(sc.name, " ", "-"))
						cands[id] = start(t, m, id, l, kill)
					}
					first, term1 := m.leader(t, "", 0)
					old := cands[first]
					sc.stop(t, old)
					second, term2 := m.leader(t, first, term1)
					if term2 <= term1 {
						t.Errorf("term went from %d (%s) to %d (%s)", term1, first, term2, second)
					}
					m.wait(t, "the old leader to stop", func() bool { _, ok := m.active[first]; return !ok })
					if sc.lost && b.exitOnKill {
						if err := old.wait(t); err == nil {
							t.Errorf("%s: Run returned nil after its connection was closed", first)
						}
					}
					m.mu.Lock()
					defer m.mu.Unlock()
					for _, iv := range m.done {
						if iv.candidate == first && iv.term == term1 {
							if got := errors.Is(iv.cause, lease.ErrLost); got != sc.lost {
								t.Errorf("old leader's cause %v: ErrLost %v, want %v", iv.cause, got, sc.lost)
							}
						}
					}
					if len(m.overlaps) > 0 && !(b.tolerateOverlap && sc.lost) {
						t.Errorf("two leaders at once: %v", m.overlaps)
					}
					for _, o := range m.overlaps {
						if !strings.Contains(o, "while "+first+" ") {
							t.Errorf("overlap that does not involve the killed leader: %s", o)
						}
					}
				})
			}
		})
	}
}
