package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/starpost/starpost"
)

// Driver defaults.
const (
	DefaultTick        = 100 * time.Millisecond
	DefaultConcurrency = 16
	DefaultBatch       = 256
)

// DriverOption configures a Driver.
type DriverOption func(*Driver)

// WithTick sets how often the driver asks the engine for decisions when no
// event arrives (default 100 ms): offer expiries, grace periods, reply
// timeouts and overflow steps fall due between events.
func WithTick(d time.Duration) DriverOption { return func(dr *Driver) { dr.tick = d } }

// WithEngineOptions passes options to the driver's Engine.
func WithEngineOptions(opts ...Option) DriverOption {
	return func(dr *Driver) { dr.engineOpts = append(dr.engineOpts, opts...) }
}

// WithConcurrency sets how many decisions the driver appends at the same
// time (default 16); the store groups concurrent appends into one commit.
func WithConcurrency(n int) DriverOption { return func(dr *Driver) { dr.conc = n } }

// Driver runs an Engine against the real system: it rebuilds the engine's
// state from the store, feeds it every event of the bus, asks it for
// decisions on every event batch and on a ticker, appends the decisions to
// the store and publishes what it committed.
//
// One Driver must run per cluster. Leadership among several nodes is a
// lease held around Run: a node that takes the lease (NATS KV or a
// PostgreSQL advisory lock) calls Run with a context cancelled when it loses
// the lease; Run's start-up rebuild from the store is exactly the takeover a
// new leader needs, and the deterministic idempotency keys of decisions make
// a decision taken by both the old and the new leader commit once.
// Connection signals are never stored, so after every rebuild the engine
// gives agents one liveness window (WithLiveness) to be named by a node's
// heartbeat; the driver times those signals by its own clock.
type Driver struct {
	store      starpost.Store
	bus        starpost.EventBus
	clock      starpost.Clock
	log        *slog.Logger
	tick       time.Duration
	conc       int
	engineOpts []Option

	engine *Engine
	// snapshot is, per workspace, the cursor of the store read the
	// engine was rebuilt from: bus events at or below it are already in.
	snapshot map[string]int64
	// users remembers, per workspace, the user ids given to the engine,
	// so users that disappear from the directory are removed.
	users map[string]map[string]bool
	// restore holds conversations to read again after a failed read.
	restore []ConversationRef
	mu      sync.Mutex // guards stats
	stats   DriverStats
	// events is the live subscription's channel while loop runs; endErr
	// records why it had to stop while events were read mid-commit.
	events <-chan *starpost.Event
	endErr error
	// outstanding are published events not yet seen back on events.
	outstanding map[echoKey]struct{}
}

// DriverStats counts what a driver did.
type DriverStats struct {
	Events     int64 // bus events observed
	Decisions  int64 // decisions taken
	Committed  int64 // decision events committed
	Conflicts  int64 // decisions the store rejected as stale (ECONFLICT)
	Failures   int64 // appends or publishes that failed otherwise
	Rebuilds   int64 // full rebuilds from the store
	Resyncs    int64 // times the live feed was lost (each leads to a rebuild)
	Restores   int64 // single conversations read again
	StatusSent int64 // queue status signals published
}

// NewDriver returns a driver over store and bus. A nil clock is the system
// clock; a nil logger discards logs.
func NewDriver(store starpost.Store, bus starpost.EventBus, clock starpost.Clock, logger *slog.Logger, opts ...DriverOption) *Driver {
	if clock == nil {
		clock = starpost.SystemClock{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &Driver{store: store, bus: bus, clock: clock, log: logger, tick: DefaultTick, conc: DefaultConcurrency}
	for _, o := range opts {
		o(d)
	}
	if d.tick <= 0 {
		d.tick = DefaultTick
	}
	if d.conc <= 0 {
		d.conc = DefaultConcurrency
	}
	return d
}

// Stats returns the driver's counters. It is safe to call while Run runs.
func (d *Driver) Stats() DriverStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// count adds n to one of the driver's counters.
func (d *Driver) count(c *int64, n int64) {
	d.mu.Lock()
	*c += n
	d.mu.Unlock()
}

// Run dispatches until ctx is done, then returns ctx's error. It subscribes
// to the bus for every workspace before it reads the store, so no event
// falls between the two; when the subscription ends (the driver fell
// behind, or the bus reconnects), it subscribes again and rebuilds.
func (d *Driver) Run(ctx context.Context) error {
	ticker := time.NewTicker(d.tick)
	defer ticker.Stop()
	backoff := d.tick
	for {
		sub, err := d.bus.Subscribe("")
		if err != nil {
			return fmt.Errorf("router: subscribe: %w", err)
		}
		err = d.rebuild(ctx)
		if err == nil {
			err = d.loop(ctx, sub, ticker)
		}
		sub.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		d.count(&d.stats.Resyncs, 1)
		d.log.Warn("router: resynchronising", "err", err, "after", backoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		if errors.Is(err, errSubscriptionEnded) {
			backoff = d.tick // fell behind: catch up at once
		} else {
			backoff = min(2*backoff, 5*time.Second) // the store or bus is in trouble
		}
	}
}

var errSubscriptionEnded = errors.New("bus subscription ended")

// loop observes events and decides until the subscription ends or ctx is
// done.
func (d *Driver) loop(ctx context.Context, sub starpost.Subscription, ticker *time.Ticker) error {
	events := sub.Events()
	d.events, d.endErr = events, nil
	d.outstanding = make(map[echoKey]struct{})
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-events:
			if !ok {
				return errSubscriptionEnded
			}
			if err := d.observe(ctx, ev); err != nil {
				return err
			}
			// Take what else is waiting before deciding.
		more:
			for range DefaultBatch {
				select {
				case ev, ok := <-events:
					if !ok {
						return errSubscriptionEnded
					}
					if err := d.observe(ctx, ev); err != nil {
						return err
					}
				default:
					break more
				}
			}
		case <-ticker.C:
		}
		d.step(ctx)
		if d.endErr != nil {
			return d.endErr
		}
	}
}

// echoKey names an event the driver published and expects back on its own
// subscription: a committed event by cursor, a signal by conversation.
type echoKey struct {
	ws     string
	cursor int64
	conv   string
}

func keyOf(e *starpost.Event) echoKey {
	if e.Cursor > 0 {
		return echoKey{ws: e.WorkspaceID, cursor: e.Cursor}
	}
	return echoKey{ws: e.WorkspaceID, conv: e.ConversationID}
}

// maxOutstanding bounds how many of its own published events the driver
// lets travel back to it at once, below the bus's per-subscriber buffer
// (256 by default), so a surge of decisions never makes it a slow consumer.
const maxOutstanding = 96

// published notes events the driver published and waits, observing its
// feed, until few enough of them are still on their way back. It gives up
// waiting after echoWait without progress (a bus that does not echo).
func (d *Driver) published(ctx context.Context, evs []*starpost.Event) {
	for _, e := range evs {
		d.outstanding[keyOf(e)] = struct{}{}
	}
	timer := time.NewTimer(echoWait)
	defer timer.Stop()
	for len(d.outstanding) > maxOutstanding && d.endErr == nil {
		select {
		case ev, ok := <-d.events:
			if !ok {
				d.endErr = errSubscriptionEnded
				return
			}
			if err := d.observe(ctx, ev); err != nil {
				d.endErr = err
			}
			if !timer.Stop() {
				<-timer.C
			}
			timer.Reset(echoWait)
		case <-timer.C:
			clear(d.outstanding)
			return
		case <-ctx.Done():
			return
		}
	}
}

const echoWait = 250 * time.Millisecond

// observe feeds one bus event to the engine.
func (d *Driver) observe(ctx context.Context, ev *starpost.Event) error {
	if ev == nil {
		return nil
	}
	snap, known := d.snapshot[ev.WorkspaceID]
	if !known {
		// A workspace created after the rebuild.
		if err := d.loadWorkspace(ctx, ev.WorkspaceID); starpost.ErrorCode(err) == starpost.ENOTFOUND {
			d.log.Warn("router: event of an unknown workspace", "workspace", ev.WorkspaceID, "kind", ev.Kind)
			return nil
		} else if err != nil {
			return err
		}
		snap = d.snapshot[ev.WorkspaceID]
	}
	if ev.Cursor > 0 && ev.Cursor <= snap {
		delete(d.outstanding, keyOf(ev))
		return nil
	}
	d.count(&d.stats.Events, 1)
	if len(d.outstanding) > 0 {
		delete(d.outstanding, keyOf(ev))
	}
	if ev.Kind == starpost.KindConnection {
		// Liveness is measured on this node's clock, the one Decide runs
		// on, not on the clock of the node that sent the signal.
		cp := *ev
		cp.At = d.clock.Now()
		ev = &cp
	}
	d.engine.Observe(ev)
	if ev.Kind == starpost.KindDirectory || d.unknownQueue(ev) {
		if err := d.loadDirectory(ctx, ev.WorkspaceID); err != nil {
			d.log.Warn("router: reload directory", "workspace", ev.WorkspaceID, "err", err)
		}
	}
	return nil
}

// unknownQueue reports whether ev sends a conversation to a queue the
// engine has no configuration for (created before the directory event
// reached the driver): the directory is then read at once.
func (d *Driver) unknownQueue(ev *starpost.Event) bool {
	var q string
	switch ev.Kind {
	case starpost.KindCreated:
		var b starpost.CreatedBody
		if ev.DecodeBody(&b) != nil {
			return false
		}
		q = b.QueueID
	case starpost.KindTransferred:
		var b starpost.TransferBody
		if ev.DecodeBody(&b) != nil {
			return false
		}
		q = b.ToQueueID
	}
	return q != "" && !d.engine.HasQueue(ev.WorkspaceID, q)
}

// rebuild replaces the engine with one built from the store.
func (d *Driver) rebuild(ctx context.Context) error {
	d.count(&d.stats.Rebuilds, 1)
	d.engine = NewEngine(d.engineOpts...)
	d.snapshot = make(map[string]int64)
	d.users = make(map[string]map[string]bool)
	d.restore = nil
	wss, err := d.store.ListWorkspaces(ctx)
	if err != nil {
		return fmt.Errorf("router: rebuild: list workspaces: %w", err)
	}
	for _, w := range wss {
		if err := d.loadWorkspace(ctx, w.ID); err != nil {
			return err
		}
	}
	// Connection signals are never stored: every agent gets one liveness
	// window to be named by a node's heartbeat (WithLiveness).
	d.engine.AssumeConnected(d.clock.Now())
	d.log.Info("router: state rebuilt", "workspaces", len(wss))
	return nil
}

// loadWorkspace loads one workspace's directory, presence and open
// conversations. The cursor is read first: whatever is committed after it
// arrives on the bus, and the engine skips what it already has by
// conversation seq.
func (d *Driver) loadWorkspace(ctx context.Context, ws string) error {
	cur, err := d.store.LastCursor(ctx, ws)
	if err != nil {
		return fmt.Errorf("router: load workspace %s: last cursor: %w", ws, err)
	}
	d.snapshot[ws] = cur
	if err := d.loadDirectory(ctx, ws); err != nil {
		return err
	}
	ps, err := d.store.Presence(ctx, ws)
	if err != nil {
		return fmt.Errorf("router: load workspace %s: presence: %w", ws, err)
	}
	for _, p := range ps {
		d.engine.SetPresence(ws, p)
	}
	convs, err := d.store.ListConversations(ctx, starpost.ConversationFilter{WorkspaceID: ws, Open: true})
	if err != nil {
		return fmt.Errorf("router: load workspace %s: conversations: %w", ws, err)
	}
	expiry, err := d.offerExpiries(ctx, ws, convs)
	if err != nil {
		return err
	}
	for _, c := range convs {
		d.engine.Restore(c, expiry[c.ID])
	}
	return nil
}

// loadDirectory gives the engine a workspace's users and queues.
func (d *Driver) loadDirectory(ctx context.Context, ws string) error {
	users, err := d.store.ListUsers(ctx, ws)
	if err != nil {
		return fmt.Errorf("router: load users of %s: %w", ws, err)
	}
	queues, err := d.store.ListQueues(ctx, ws)
	if err != nil {
		return fmt.Errorf("router: load queues of %s: %w", ws, err)
	}
	seen := make(map[string]bool, len(users))
	for _, u := range users {
		d.engine.SetAgent(u)
		seen[u.ID] = true
	}
	for id := range d.users[ws] {
		if !seen[id] {
			d.engine.RemoveAgent(ws, id)
		}
	}
	d.users[ws] = seen
	for _, q := range queues {
		d.engine.SetQueue(q)
	}
	return nil
}

// offerExpiries reads the expiry of the open offer of every offered
// conversation among convs from its latest offer event.
func (d *Driver) offerExpiries(ctx context.Context, ws string, convs []*starpost.Conversation) (map[string]time.Time, error) {
	var ids []string
	for _, c := range convs {
		if c.State == starpost.StateOffered {
			ids = append(ids, c.ID)
		}
	}
	out := make(map[string]time.Time, len(ids))
	for chunk := range slices.Chunk(ids, 100) {
		var after int64
		for {
			evs, err := d.store.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, ConversationIDs: chunk,
				Kinds: []starpost.EventKind{starpost.KindOffer}, AfterCursor: after})
			if err != nil {
				return nil, fmt.Errorf("router: offer expiries of %s: %w", ws, err)
			}
			for _, e := range evs {
				var b starpost.OfferBody
				if e.DecodeBody(&b) == nil {
					out[e.ConversationID] = b.ExpiresAt // cursor order: the latest wins
				}
				after = e.Cursor
			}
			if len(evs) < starpost.MaxEventPage {
				break
			}
		}
	}
	return out, nil
}

// step restores suspect conversations, decides and commits.
func (d *Driver) step(ctx context.Context) {
	d.restoreMissing(ctx)
	ds := d.engine.Decide(d.clock.Now())
	if len(ds) == 0 {
		return
	}
	d.count(&d.stats.Decisions, int64(len(ds)))
	d.commit(ctx, ds)
}

// restoreMissing reads again the conversations the engine asks for.
func (d *Driver) restoreMissing(ctx context.Context) {
	refs := append(d.restore, d.engine.NeedsRestore()...)
	d.restore = nil
	for _, r := range refs {
		c, err := d.store.FindConversation(ctx, r.WorkspaceID, r.ID)
		if starpost.ErrorCode(err) == starpost.ENOTFOUND {
			continue
		} else if err != nil {
			d.log.Warn("router: restore conversation", "workspace", r.WorkspaceID, "conversation", r.ID, "err", err)
			d.restore = append(d.restore, r)
			continue
		}
		exp, err := d.offerExpiries(ctx, r.WorkspaceID, []*starpost.Conversation{c})
		if err != nil {
			d.log.Warn("router: restore conversation", "conversation", r.ID, "err", err)
			d.restore = append(d.restore, r)
			continue
		}
		d.count(&d.stats.Restores, 1)
		d.engine.Restore(c, exp[c.ID])
	}
}

// commit appends the decisions, lets the engine observe what was committed,
// and publishes it with the ephemeral queue status signals. Decisions go in
// chunks of 4×concurrency, up to d.conc appends at a time (the store groups
// concurrent appends into few transactions); between chunks the events
// coming back on the subscription are observed (see published). A decision
// that fails is taken again by the engine after its retry delay.
func (d *Driver) commit(ctx context.Context, ds []Decision) {
	var signals []*starpost.Event
	var durable []*Decision
	for i := range ds {
		if ds[i].Ephemeral() {
			signals = append(signals, ds[i].Event())
		} else {
			durable = append(durable, &ds[i])
		}
	}
	for chunk := range slices.Chunk(durable, 4*d.conc) {
		d.published(ctx, d.commitChunk(ctx, chunk))
	}
	// Signals come back on the subscription too: publish them in chunks.
	for chunk := range slices.Chunk(signals, 4*d.conc) {
		if err := d.bus.Publish(ctx, chunk...); err != nil {
			if ctx.Err() != nil {
				return // stopping: queue statuses are sent again by whoever leads next
			}
			d.count(&d.stats.Failures, 1)
			d.log.Warn("router: publish queue status", "signals", len(chunk), "err", err)
		} else {
			d.count(&d.stats.StatusSent, int64(len(chunk)))
			d.published(ctx, chunk)
		}
	}
}

// commitChunk appends some decisions concurrently and publishes the
// committed events, which it returns when the publication succeeded.
func (d *Driver) commitChunk(ctx context.Context, durable []*Decision) []*starpost.Event {
	type result struct {
		d   *Decision
		evs []*starpost.Event
		err error
	}
	results := make([]result, len(durable))
	sem := make(chan struct{}, d.conc)
	var wg sync.WaitGroup
	for i, dec := range durable {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			evs, err := d.store.Append(ctx, dec.Event())
			results[i] = result{d: dec, evs: evs, err: err}
		}()
	}
	wg.Wait()
	var committed []*starpost.Event
	for _, r := range results {
		switch code := starpost.ErrorCode(r.err); {
		case r.err == nil:
			d.count(&d.stats.Committed, 1)
			committed = append(committed, r.evs...)
		case code == starpost.ECONFLICT || code == starpost.ENOTFOUND:
			d.count(&d.stats.Conflicts, 1)
			d.log.Debug("router: stale decision", "decision", r.d.String(), "err", r.err)
		default:
			d.count(&d.stats.Failures, 1)
			d.log.Warn("router: append decision", "decision", r.d.String(), "err", r.err)
		}
	}
	for _, e := range committed {
		d.engine.Observe(e)
	}
	if len(committed) > 0 {
		if err := d.bus.Publish(context.WithoutCancel(ctx), committed...); err != nil {
			// Committed anyway: bus hubs read lost events from the store.
			d.count(&d.stats.Failures, 1)
			d.log.Warn("router: publish decisions", "events", len(committed), "err", err)
			return nil
		}
	}
	return committed
}
