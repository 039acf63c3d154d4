// Package engine runs Starpost engines: small pieces of logic that read the
// committed events of every workspace and add events of their own (emotion
// scores, coaching prompts, QA findings ...).
//
// A Runner feeds one Handler every committed event in cursor order, appends
// what the handler returns with deterministic idempotency keys, and
// publishes what it committed ("whoever appends publishes"). It keeps a
// checkpoint cursor per workspace in its own table (engine_checkpoints, see
// the .sql files beside this code) and, after a restart or after falling
// behind on the bus, replays from the store after the checkpoint. Because
// every output carries an idempotency key derived from the event that caused
// it, a replay, or two runners of the same engine, never duplicate output.
package engine

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/starpost/starpost"
)

// Handler is one engine's logic.
type Handler interface {
	// Name names the engine: its checkpoint row, the id of its system actor
	// and the prefix of the idempotency keys the runner fills in. It is
	// lower-case and stable across releases.
	Name() string
	// Handle returns the events the engine adds because of ev, a committed
	// event of any workspace. The runner fills in the workspace, the actor
	// (the engine's system actor, unless the handler set a bot actor: a bot speaks as
	// a participant of the conversation) and, when empty, an idempotency key
	// derived from ev; a handler that returns several events of the same
	// kind for one input should set its own keys. Handle is called from one
	// goroutine, in cursor order within a workspace; it may be called again
	// with an event it saw before (replay), and must then return the same
	// events. An error with code EINVALID, ENOTFOUND or ECONFLICT skips ev;
	// any other error makes the runner retry from its checkpoint.
	Handle(ctx context.Context, ev *starpost.Event) ([]*starpost.Event, error)
}

// Options configure a Runner.
type Options struct {
	Store starpost.Store
	Bus   starpost.EventBus
	// SQL and Driver ("sqlite" or "postgres") locate the checkpoint table:
	// pass store.DB.SQL() and store.DB.Driver().
	SQL    *sql.DB
	Driver string
	// Clock stamps checkpoints; nil is the system clock.
	Clock starpost.Clock
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
	// SkipHistory makes an engine that has no checkpoint in a workspace
	// start at the workspace's newest event instead of replaying its whole
	// history (for adding an engine to a large existing installation).
	SkipHistory bool
	// RetryDelay is the first pause before resubscribing after a failure
	// (default 500 ms); it doubles up to 5 s while failures repeat.
	RetryDelay time.Duration
}

// Stats counts what a Runner did.
type Stats struct {
	Handled   int64 // events given to the handler
	Appended  int64 // output events committed (idempotent repeats included)
	Rejected  int64 // output events the store refused (conflict, invalid)
	Skipped   int64 // input events the handler declined with a client error
	Replayed  int64 // events read from the store rather than the bus
	Resyncs   int64 // times the runner resubscribed after a failure
	Published int64 // committed events published
}

// Runner runs one Handler against the store and the bus.
type Runner struct {
	h     Handler
	name  string
	actor starpost.Actor
	opts  Options
	log   *slog.Logger
	cps   *Checkpoints

	// cursor is, per workspace, the cursor of the last event handled in
	// this session; dirty marks workspaces whose checkpoint is behind it.
	cursor map[string]int64
	dirty  map[string]bool

	mu    sync.Mutex
	stats Stats
}

// NewRunner returns a runner of h. It checks the options; the checkpoint
// table is created by Run.
func NewRunner(h Handler, opts Options) (*Runner, error) {
	if h == nil || h.Name() == "" {
		return nil, errors.New("engine: handler without a name")
	}
	if opts.Store == nil || opts.Bus == nil || opts.SQL == nil {
		return nil, errors.New("engine: Store, Bus and SQL are required")
	}
	if opts.Clock == nil {
		opts.Clock = starpost.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 500 * time.Millisecond
	}
	return &Runner{h: h, name: h.Name(), actor: Actor(h.Name()), opts: opts,
		log: opts.Logger.With("engine", h.Name())}, nil
}

// Actor returns the system actor of the engine named name: the actor of
// every event its runner appends.
func Actor(name string) starpost.Actor {
	return starpost.Actor{Role: starpost.RoleSystem, ID: name}
}

// Key returns a deterministic idempotency key for output part of an engine
// caused by the event at seq in conversation conv (cursor when the event has
// no conversation).
func Key(engine, part, conv string, seq int64) string {
	return engine + ":" + part + ":" + conv + ":" + strconv.FormatInt(seq, 10)
}

// Stats returns the runner's counters; safe to call while Run runs.
func (r *Runner) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

func (r *Runner) count(c *int64, n int64) {
	r.mu.Lock()
	*c += n
	r.mu.Unlock()
}

// errEnded reports that the live subscription ended.
var errEnded = errors.New("engine: bus subscription ended")

// Run handles events until ctx is done, then returns ctx's error. It
// subscribes to every workspace before it reads the store, so no event
// falls between the replay and the live feed.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.open(ctx); err != nil {
		return err
	}
	backoff := r.opts.RetryDelay
	for {
		sub, err := r.opts.Bus.Subscribe("")
		if err != nil {
			return fmt.Errorf("engine %s: subscribe: %w", r.name, err)
		}
		err = r.session(ctx, sub)
		sub.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.count(&r.stats.Resyncs, 1)
		if errors.Is(err, errEnded) {
			backoff = r.opts.RetryDelay // fell behind: catch up at once
		}
		r.log.Warn("engine: resynchronising", "err", err, "after", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second) // the store or bus is in trouble
	}
}

func (r *Runner) open(ctx context.Context) error {
	if r.cps != nil {
		return nil
	}
	cps, err := OpenCheckpoints(ctx, r.opts.SQL, r.opts.Driver)
	if err != nil {
		return err
	}
	r.cps = cps
	return nil
}

// Sync handles, once, every stored event after the checkpoint of every
// workspace, and returns when it has caught up. It is Run's start-up
// without the live feed: a batch job (re-scoring after a configuration
// change, once the checkpoints are reset) or a test uses it. Sync must not
// run at the same time as Run on the same Runner.
func (r *Runner) Sync(ctx context.Context) error {
	if err := r.open(ctx); err != nil {
		return err
	}
	return r.replayAll(ctx)
}

// replayAll starts a session's cursors and catches up every workspace.
func (r *Runner) replayAll(ctx context.Context) error {
	r.cursor, r.dirty = make(map[string]int64), make(map[string]bool)
	wss, err := r.opts.Store.ListWorkspaces(ctx)
	if err != nil {
		return fmt.Errorf("engine %s: list workspaces: %w", r.name, err)
	}
	for _, w := range wss {
		if err := r.catchUp(ctx, w.ID); err != nil {
			return err
		}
	}
	return nil
}

// session replays every workspace from its checkpoint, then follows the
// live feed until it ends or fails.
func (r *Runner) session(ctx context.Context, sub starpost.Subscription) error {
	if err := r.replayAll(ctx); err != nil {
		r.flush(context.WithoutCancel(ctx)) // keep what was handled
		return err
	}
	events := sub.Events()
	for {
		select {
		case <-ctx.Done():
			r.flush(context.WithoutCancel(ctx))
			return ctx.Err()
		case ev, ok := <-events:
			if !ok {
				r.flush(context.WithoutCancel(ctx))
				return errEnded
			}
			if err := r.live(ctx, ev); err != nil {
				r.flush(context.WithoutCancel(ctx))
				return err
			}
			// Take what else is waiting before saving checkpoints.
		more:
			for range 256 {
				select {
				case ev, ok := <-events:
					if !ok {
						r.flush(context.WithoutCancel(ctx))
						return errEnded
					}
					if err := r.live(ctx, ev); err != nil {
						r.flush(context.WithoutCancel(ctx))
						return err
					}
				default:
					break more
				}
			}
			if err := r.flush(ctx); err != nil {
				return err
			}
		}
	}
}

// live handles one bus event: in order, it is handled at once; after a gap
// (or for a workspace not seen yet) the store is read from the checkpoint.
func (r *Runner) live(ctx context.Context, ev *starpost.Event) error {
	if ev == nil || ev.Cursor == 0 {
		return nil // ephemeral signals are not engine input
	}
	cur, known := r.cursor[ev.WorkspaceID]
	switch {
	case !known || ev.Cursor > cur+1:
		return r.catchUp(ctx, ev.WorkspaceID)
	case ev.Cursor <= cur:
		return nil
	}
	return r.handle(ctx, ev)
}

// catchUp handles the workspace's stored events after its checkpoint.
func (r *Runner) catchUp(ctx context.Context, ws string) error {
	cur, known := r.cursor[ws]
	if !known {
		var err error
		if cur, err = r.cps.Get(ctx, r.name, ws); err != nil {
			return err
		}
		if cur == 0 && r.opts.SkipHistory {
			if cur, err = r.opts.Store.LastCursor(ctx, ws); err != nil {
				return fmt.Errorf("engine %s: last cursor of %s: %w", r.name, ws, err)
			}
			r.dirty[ws] = true
		}
		r.cursor[ws] = cur
	}
	for {
		evs, err := r.opts.Store.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, AfterCursor: cur})
		if err != nil {
			return fmt.Errorf("engine %s: replay %s after %d: %w", r.name, ws, cur, err)
		}
		for _, ev := range evs {
			r.count(&r.stats.Replayed, 1)
			if err := r.handle(ctx, ev); err != nil {
				return err
			}
			cur = ev.Cursor
		}
		if err := r.flush(ctx); err != nil {
			return err
		}
		if len(evs) < starpost.MaxEventPage {
			return nil
		}
	}
}

// flush saves the checkpoints that moved.
func (r *Runner) flush(ctx context.Context) error {
	for ws := range r.dirty {
		if err := r.cps.Set(ctx, r.name, ws, r.cursor[ws], r.opts.Clock.Now()); err != nil {
			return err
		}
		delete(r.dirty, ws)
	}
	return nil
}

// handle gives ev to the handler, commits and publishes its output, and
// moves the workspace's cursor past ev.
func (r *Runner) handle(ctx context.Context, ev *starpost.Event) error {
	if ev.Actor != r.actor && !ev.Kind.Ephemeral() {
		if err := r.process(ctx, ev); err != nil {
			return err
		}
	}
	r.cursor[ev.WorkspaceID] = ev.Cursor
	r.dirty[ev.WorkspaceID] = true
	return nil
}

func clientError(err error) bool {
	switch starpost.ErrorCode(err) {
	case starpost.EINVALID, starpost.ENOTFOUND, starpost.ECONFLICT, starpost.EFORBIDDEN:
		return true
	}
	return false
}

func (r *Runner) process(ctx context.Context, ev *starpost.Event) error {
	r.count(&r.stats.Handled, 1)
	out, err := r.h.Handle(ctx, ev)
	if clientError(err) {
		r.count(&r.stats.Skipped, 1)
		r.log.Debug("engine: event skipped", "workspace", ev.WorkspaceID, "cursor", ev.Cursor, "err", err)
		return nil
	} else if err != nil {
		return fmt.Errorf("engine %s: handle %s event %d of %s: %w", r.name, ev.Kind, ev.Cursor, ev.WorkspaceID, err)
	}
	if len(out) == 0 {
		return nil
	}
	for i, o := range out {
		o.WorkspaceID = ev.WorkspaceID
		if o.Actor.Role != starpost.RoleBot || o.Actor.ID == "" {
			o.Actor = r.actor // a bot engine speaks as its bot participant
		}
		o.Seq, o.Cursor = 0, 0
		if o.IdempotencyKey == "" {
			src, n := ev.ConversationID, ev.Seq
			if src == "" {
				src, n = "ws", ev.Cursor
			}
			o.IdempotencyKey = Key(r.name, string(o.Kind)+"."+strconv.Itoa(i), src, n)
		}
	}
	committed, err := r.opts.Store.Append(ctx, out...)
	if clientError(err) && len(out) > 1 {
		// One of them does not apply (a conversation closed meanwhile):
		// commit the others one by one.
		committed = committed[:0]
		for _, o := range out {
			evs, err := r.opts.Store.Append(ctx, o)
			if clientError(err) {
				r.count(&r.stats.Rejected, 1)
				r.log.Debug("engine: output rejected", "kind", o.Kind, "key", o.IdempotencyKey, "err", err)
				continue
			} else if err != nil {
				return fmt.Errorf("engine %s: append %s: %w", r.name, o.Kind, err)
			}
			committed = append(committed, evs...)
		}
	} else if clientError(err) {
		r.count(&r.stats.Rejected, 1)
		r.log.Debug("engine: output rejected", "kind", out[0].Kind, "key", out[0].IdempotencyKey, "err", err)
		return nil
	} else if err != nil {
		return fmt.Errorf("engine %s: append: %w", r.name, err)
	}
	r.count(&r.stats.Appended, int64(len(committed)))
	if len(committed) > 0 {
		if err := r.opts.Bus.Publish(context.WithoutCancel(ctx), committed...); err != nil {
			// Committed anyway: bus hubs fill gaps from the store.
			r.log.Warn("engine: publish", "events", len(committed), "err", err)
		} else {
			r.count(&r.stats.Published, int64(len(committed)))
		}
	}
	return nil
}
