// Package lease elects one leader per cluster for work that must run on a
// single node at a time, such as the router's dispatch driver.
//
// A Lease campaigns until this node holds the lease of a name, calls lead
// with a context that is cancelled the moment leadership is lost (or could
// not be renewed in time), waits for lead to return, and campaigns again,
// until its own context ends. Three implementations share that contract:
//
//   - Postgres: a session-level PostgreSQL advisory lock held on one
//     dedicated connection, for nodes sharing a PostgreSQL store
//     (--db postgres://…);
//   - KV: a key with a TTL in a NATS JetStream key-value bucket, renewed by
//     revision-checked updates, for nodes sharing a NATS cluster
//     (--nats nats://…) or an embedded server with JetStream enabled;
//   - Single: always the leader, for one node on SQLite.
//
// # Terms and fencing
//
// Every acquisition has a Term whose Number grows strictly from one
// acquisition of a name to the next, whichever node makes it (a counter row
// in PostgreSQL; the JetStream sequence of the creating write in NATS KV,
// which renewals advance too, so KV terms are not consecutive, and which
// starts again if the bucket is deleted).
// lead reads it with FromContext.
//
// A lease cannot promise that two nodes never act as leader at the same
// instant: a holder learns of its loss only when a check or renewal fails,
// and lead needs a moment to stop after its context is cancelled. Each
// implementation documents the window (Postgres: up to twice its connection
// check interval after the server ended the holder's session; KV: none as
// long as lead returns within KVOptions.Grace of its cancellation). Work run under a lease
// must therefore stay safe when two leaders overlap briefly. The router's is:
// its decisions carry deterministic idempotency keys, so a decision taken by
// both the old and the new leader commits once; and the store applies every
// event through the conversation state machine inside the appending
// transaction, so a stale decision of the old leader (offering a
// conversation the new one already assigned, expiring an offer that was
// accepted) fails with a conflict and writes nothing. The Term is there for
// work that needs a harder fence: write it with each decision and have the
// store reject decisions of a lower term than the highest it has seen.
package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/starpost/starpost"
)

// Lease runs work on one node of a cluster at a time.
type Lease interface {
	// Run campaigns for the lease named name until it holds it, then calls
	// lead with a context that carries the Term (see FromContext) and is
	// cancelled as soon as leadership is lost or ctx ends. When lead
	// returns, Run gives the lease up and campaigns again. Run returns
	// ctx's error when ctx ends, a non-nil error of lead that lead returned
	// while it still held the lease (the work itself failed), or an error
	// that campaigning can never overcome (a closed connection, a
	// misconfigured server). Transient failures are logged and retried.
	Run(ctx context.Context, name string, lead func(ctx context.Context) error) error
}

// ErrLost is the cause (context.Cause) of a lead context cancelled because
// leadership was lost.
var ErrLost = errors.New("lease lost")

// Term describes one acquisition of a lease.
type Term struct {
	// Name is the lease's name.
	Name string
	// Number grows strictly from one acquisition of Name to the next.
	Number uint64
	// Holder is the ID of the node holding the lease.
	Holder string
	// Since is when the holder acquired the lease, by its clock.
	Since time.Time
}

type termKey struct{}

// FromContext returns the Term of the lease a lead function runs under.
func FromContext(ctx context.Context) (Term, bool) {
	t, ok := ctx.Value(termKey{}).(Term)
	return t, ok
}

// hold is one acquisition. The implementation keeps it alive and closes
// lost, after setting cause, when leadership is lost.
type hold struct {
	term    Term
	lost    chan struct{}
	cause   error
	release func() // stops keeping the lease and gives it up; called once
}

// acquirer blocks until it holds the lease of name, or returns ctx's error
// or an error it cannot overcome.
type acquirer func(ctx context.Context, name string) (*hold, error)

// run is the loop shared by the implementations.
// After lead returns nil while still leading, run waits pause before it
// campaigns again, so a lead that keeps returning cannot spin.
func run(ctx context.Context, name string, lead func(context.Context) error, acquire acquirer, pause time.Duration, log *slog.Logger) error {
	if lead == nil {
		return starpost.FieldError("lead", "required")
	}
	for {
		h, err := acquire(ctx, name)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("lease %s: %w", name, err)
		}
		log.Info("lease acquired", "lease", name, "term", h.term.Number, "holder", h.term.Holder)
		lctx, cancel := context.WithCancelCause(context.WithValue(ctx, termKey{}, h.term))
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			select {
			case <-h.lost:
				cancel(h.cause)
			case <-lctx.Done():
			}
		}()
		err = lead(lctx)
		lostFirst := lctx.Err() != nil
		cancel(nil)
		<-watched
		h.release()
		switch {
		case ctx.Err() != nil:
			log.Info("lease given up", "lease", name, "term", h.term.Number)
			return ctx.Err()
		case lostFirst:
			log.Warn("lease lost", "lease", name, "term", h.term.Number, "cause", context.Cause(lctx), "lead_err", err)
		case err != nil:
			log.Info("lease given up: lead failed", "lease", name, "term", h.term.Number, "err", err)
			return fmt.Errorf("lease %s: lead: %w", name, err)
		default:
			log.Info("lease given up: lead returned", "lease", name, "term", h.term.Number)
			if !sleep(ctx, pause) {
				return ctx.Err()
			}
		}
	}
}

// sleep waits d or until ctx ends, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func defaults(id *string, clock *starpost.Clock, log **slog.Logger) {
	if *id == "" {
		*id = starpost.NewID("nd")
	}
	if *clock == nil {
		*clock = starpost.SystemClock{}
	}
	if *log == nil {
		*log = slog.New(slog.DiscardHandler)
	}
}
