package lease_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
	"github.com/starpost/starpost/lease"
	"github.com/starpost/starpost/store"
)

// TestLeadEnds checks what Run does when lead returns while it still leads:
// an error ends Run (and frees the lease for others at once), nil makes it
// campaign again for a new term.
func TestLeadEnds(t *testing.T) {
	all := append(backends(), backend{name: "single", setup: func(*testing.T) func(*testing.T, string) (lease.Lease, func()) {
		return func(_ *testing.T, id string) (lease.Lease, func()) { return &lease.Single{ID: id}, func() {} }
	}})
	boom := errors.New("boom")
	for _, b := range all {
		t.Run(b.name, func(t *testing.T) {
			newCandidate := b.setup(t)
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()

			// nil: a new term, then the error ends Run.
			l, _ := newCandidate(t, "a")
			var terms []uint64
			err := l.Run(ctx, "router", func(ctx context.Context) error {
				term, _ := lease.FromContext(ctx)
				terms = append(terms, term.Number)
				if len(terms) < 2 {
					return nil
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Run returned %v, want %v", err, boom)
			}
			if len(terms) != 2 || terms[1] <= terms[0] {
				t.Fatalf("terms %v, want two growing", terms)
			}

			// The lease is free: another node takes it, with a higher term
			// (a Single is alone: its terms are its own).
			other, _ := newCandidate(t, "b")
			if b.name == "single" {
				other = l
			}
			var got uint64
			err = other.Run(ctx, "router", func(ctx context.Context) error {
				term, _ := lease.FromContext(ctx)
				got = term.Number
				return boom
			})
			if !errors.Is(err, boom) || got <= terms[1] {
				t.Fatalf("second node: Run %v, term %d after %v", err, got, terms)
			}

			// A cancelled context ends Run with its error, leading or not.
			cctx, ccancel := context.WithCancel(ctx)
			ccancel()
			if err := other.Run(cctx, "router", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }); !errors.Is(err, context.Canceled) {
				t.Fatalf("Run with a cancelled context returned %v", err)
			}
		})
	}
}

// TestKVRenews checks that the holder keeps the key alive well past its TTL
// while another node campaigns in vain.
func TestKVRenews(t *testing.T) {
	url := startNATS(t)
	m := newMonitor()
	la, err := lease.NewKV(connect(t, url), kvOptions("a"))
	if err != nil {
		t.Fatal(err)
	}
	start(t, m, "a", la, nil)
	_, term := m.leader(t, "", 0)
	lb, err := lease.NewKV(connect(t, url), kvOptions("b"))
	if err != nil {
		t.Fatal(err)
	}
	start(t, m, "b", lb, nil)

	// Renew is a tenth of the TTL: 30 renewals span three TTLs.
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for {
		holder, rev, err := la.Holder(ctx, "router")
		if err != nil {
			t.Fatal(err)
		}
		if holder != "a" {
			t.Fatalf("holder %q at revision %d, want a", holder, rev)
		}
		if rev >= term+30 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.done) != 0 || len(m.overlaps) != 0 || len(m.active) != 1 {
		t.Fatalf("leadership changed while renewed: done %v, overlaps %v, active %v", m.done, m.overlaps, m.active)
	}
}

// TestKVOnBus runs the lease on the bus's embedded server: it needs
// bus.Options.JetStreamDir.
func TestKVOnBus(t *testing.T) {
	for _, tc := range []struct {
		name      string
		jetStream bool
		wantErr   string
	}{
		{name: "jetstream", jetStream: true},
		{name: "no jetstream", wantErr: "JetStream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			opts := bus.Options{}
			if tc.jetStream {
				opts.JetStreamDir = t.TempDir()
			}
			b, err := bus.Open(ctx, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			l, err := lease.NewKV(b.Conn(), lease.KVOptions{ID: "node-1"})
			if err != nil {
				t.Fatal(err)
			}
			var term lease.Term
			err = l.Run(ctx, "router", func(ctx context.Context) error {
				term, _ = lease.FromContext(ctx)
				return errors.New("done")
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Run returned %v, want an error mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err == nil || err.Error() != "lease router: lead: done" {
				t.Fatalf("Run returned %v", err)
			}
			if term.Holder != "node-1" || term.Number == 0 || term.Name != "router" {
				t.Fatalf("term %+v", term)
			}
		})
	}
}

// TestKVTTLMismatch: nodes must agree on the TTL; one that does not fails
// instead of holding leases by other rules.
func TestKVTTLMismatch(t *testing.T) {
	url := startNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	stop := errors.New("stop")
	for i, ttl := range []time.Duration{2 * time.Second, 3 * time.Second} {
		l, err := lease.NewKV(connect(t, url), lease.KVOptions{TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		err = l.Run(ctx, "router", func(context.Context) error { return stop })
		if i == 0 && !errors.Is(err, stop) {
			t.Fatalf("first node: %v", err)
		}
		if i == 1 && starpost.ErrorCode(err) != starpost.EINVALID {
			t.Fatalf("second node with another TTL: %v, want %s", err, starpost.EINVALID)
		}
	}
}

func TestOptions(t *testing.T) {
	url := startNATS(t)
	nc := connect(t, url)
	for _, tc := range []struct {
		name string
		opts lease.KVOptions
		ok   bool
	}{
		{name: "defaults", ok: true},
		{name: "short ttl", opts: lease.KVOptions{TTL: 500 * time.Millisecond}},
		{name: "renew too slow", opts: lease.KVOptions{TTL: 2 * time.Second, Renew: 1500 * time.Millisecond, Grace: 500 * time.Millisecond}},
		{name: "negative grace", opts: lease.KVOptions{Grace: -time.Second}},
		{name: "tuned", opts: lease.KVOptions{TTL: 3 * time.Second, Renew: 500 * time.Millisecond, Grace: time.Second}, ok: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := lease.NewKV(nc, tc.opts)
			if (err == nil) != tc.ok {
				t.Fatalf("NewKV: %v, want ok %v", err, tc.ok)
			}
			if err != nil && starpost.ErrorCode(err) != starpost.EINVALID {
				t.Fatalf("error code %q, want %s", starpost.ErrorCode(err), starpost.EINVALID)
			}
		})
	}
	if _, err := lease.NewKV(nil, lease.KVOptions{}); err == nil {
		t.Error("NewKV(nil) succeeded")
	}
	if _, err := lease.NewPostgres(nil, lease.PostgresOptions{}); err == nil {
		t.Error("NewPostgres(nil) succeeded")
	}
	l, _ := lease.NewKV(nc, lease.KVOptions{})
	if err := l.Run(context.Background(), "bad name.", func(context.Context) error { return nil }); starpost.ErrorCode(err) != starpost.EINVALID {
		t.Errorf("Run with a bad name: %v", err)
	}
}

// TestPostgresTerm reads the term counter a holder wrote.
func TestPostgresTerm(t *testing.T) {
	db := openDB(t, pg.Get(t).NewDatabase(t))
	l, err := lease.NewPostgres(db, lease.PostgresOptions{ID: "n1", Retry: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if n, err := l.Term(ctx, "router"); err != nil || n != 0 {
		t.Fatalf("Term before any lease: %d, %v", n, err)
	}
	if h, n, err := l.Holder(ctx, "router"); err != nil || h != "" || n != 0 {
		t.Fatalf("Holder before any lease: %q %d %v", h, n, err)
	}
	var seen []uint64
	stop := errors.New("stop")
	for range 3 {
		_ = l.Run(ctx, "router", func(ctx context.Context) error {
			term, _ := lease.FromContext(ctx)
			seen = append(seen, term.Number)
			if k := lease.LockKey("router"); k == lease.LockKey("wfm") {
				t.Errorf("lock keys of different names collide: %d", k)
			}
			if h, n, err := l.Holder(ctx, "router"); err != nil || h != "n1" || n != term.Number {
				t.Errorf("Holder while leading term %d: %q %d %v", term.Number, h, n, err)
			}
			return stop
		})
	}
	n, err := l.Term(ctx, "router")
	if err != nil || n != 3 || len(seen) != 3 || seen[0] != 1 || seen[2] != 3 {
		t.Fatalf("Term %d, %v after terms %v", n, err, seen)
	}
	if h, n, err := l.Holder(ctx, "router"); err != nil || h != "" || n != 0 {
		t.Fatalf("Holder after the lease was given up: %q %d %v", h, n, err)
	}
}

// TestPostgresOnStore runs the lease on the store's own pool, as a node
// does, beside the store's tables.
func TestPostgresOnStore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	db, err := store.Open(ctx, pg.Get(t).NewDatabase(t), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l, err := lease.NewPostgres(db.SQL(), lease.PostgresOptions{ID: "node-1"})
	if err != nil {
		t.Fatal(err)
	}
	var term lease.Term
	stop := errors.New("stop")
	err = l.Run(ctx, "router", func(ctx context.Context) error {
		term, _ = lease.FromContext(ctx)
		// The store still works while the lease holds a connection.
		return errors.Join(stop, db.Ping(ctx))
	})
	if !errors.Is(err, stop) || strings.Count(err.Error(), "\n") != 0 || term.Number != 1 {
		t.Fatalf("Run: %v, term %+v", err, term)
	}
}
