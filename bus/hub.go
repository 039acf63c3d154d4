package bus

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/starpost/starpost"
)

// Stats are counters of a node's hub since the bus opened.
type Stats struct {
	Received    int64 // events that arrived over NATS
	Delivered   int64 // events handed to the fan-out (each counted once)
	Sent        int64 // events put into subscription channels (one per subscriber)
	Duplicates  int64 // committed events dropped because they were already delivered
	Filled      int64 // committed events read from the store to fill a gap
	Skipped     int64 // cursors given up on: missing from the store too
	Held        int   // out-of-order events waiting now
	SlowClosed  int64 // subscriptions closed because they fell behind
	Subscribers int   // open local subscriptions
	StoreReads  int64 // gap-filling reads of the store
}

// hub orders the committed events of each workspace by cursor, fills gaps
// from the store and fans events out to the node's local subscriptions.
//
// Fan-out happens under mu with non-blocking sends, so every subscription
// sees the same order and a full subscription is closed instead of waiting.
type hub struct {
	log          *slog.Logger
	store        starpost.ConversationService
	gapDelay     time.Duration
	baseDelay    time.Duration
	maxHeld      int
	storeTimeout time.Duration

	ctx    context.Context // cancelled by close; bounds store reads
	cancel context.CancelFunc
	wg     sync.WaitGroup // fill goroutines

	mu     sync.Mutex
	closed bool
	byWS   map[string]*wsSubs
	all    map[*Subscription]struct{}
	ws     map[string]*wsState
	st     Stats
}

// wsState is the ordering state of one workspace.
type wsState struct {
	id      string
	based   bool  // last is known; until then every committed event is held
	last    int64 // highest cursor delivered
	held    map[int64]*starpost.Event
	timer   *time.Timer
	filling bool
	catchUp bool  // the next fill reads everything after last
	tail    int64 // the store's last cursor at the previous tail check
}

func newHub(opts Options, log *slog.Logger) *hub {
	ctx, cancel := context.WithCancel(context.Background())
	return &hub{
		log:          log,
		store:        opts.Store,
		gapDelay:     opts.GapDelay,
		baseDelay:    opts.BaselineDelay,
		maxHeld:      opts.MaxHeld,
		storeTimeout: opts.StoreTimeout,
		ctx:          ctx,
		cancel:       cancel,
		byWS:         map[string]*wsSubs{},
		all:          map[*Subscription]struct{}{},
		ws:           map[string]*wsState{},
	}
}

// handle takes one event that arrived over NATS.
func (h *hub) handle(e *starpost.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.st.Received++
	if e.Cursor == 0 { // ephemeral signal: no order to keep
		h.fanout(e)
		return
	}
	st := h.ws[e.WorkspaceID]
	if st == nil {
		// The first committed events seen for a workspace set its baseline.
		st = &wsState{id: e.WorkspaceID, held: map[int64]*starpost.Event{}}
		h.ws[e.WorkspaceID] = st
		if h.baseDelay < 0 {
			st.based, st.last = true, e.Cursor-1
			h.startSubs(st)
		} else {
			st.timer = time.AfterFunc(h.baseDelay, func() { h.baseline(st) })
		}
	}
	if e.Cursor <= st.last || st.held[e.Cursor] != nil {
		h.st.Duplicates++
		return
	}
	if !st.based {
		st.held[e.Cursor] = e
		h.st.Held++
		if len(st.held) >= h.maxHeld {
			st.timer.Stop()
			h.setBaseline(st)
		}
		return
	}
	if e.Cursor == st.last+1 {
		h.deliver(st, e)
		h.drain(st)
		if len(st.held) == 0 && st.timer != nil {
			st.timer.Stop()
			st.timer = nil
		}
		return
	}
	// Something is missing: hold the event until it arrives or we read it.
	st.held[e.Cursor] = e
	h.st.Held++
	switch {
	case st.filling:
		// The running fill schedules another round for what is left.
	case len(st.held) >= h.maxHeld:
		if st.timer != nil {
			st.timer.Stop()
			st.timer = nil
		}
		h.startFill(st)
	case st.timer == nil:
		st.timer = time.AfterFunc(h.gapDelay, func() { h.fill(st) })
	}
}

// baseline ends the baseline delay of a workspace.
func (h *hub) baseline(st *wsState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed && !st.based {
		h.setBaseline(st)
	}
}

// setBaseline takes the lowest held event as the workspace's first and
// delivers what follows it. Callers hold mu.
func (h *hub) setBaseline(st *wsState) {
	st.based, st.timer = true, nil
	if len(st.held) == 0 {
		return // never happens: a workspace is created with its first event
	}
	st.last = minKey(st.held) - 1
	h.startSubs(st)
	h.drain(st)
	if len(st.held) > 0 {
		st.timer = time.AfterFunc(h.gapDelay, func() { h.fill(st) })
	}
}

// deliver hands e to the fan-out and advances the workspace's cursor.
func (h *hub) deliver(st *wsState, e *starpost.Event) {
	st.last = e.Cursor
	h.fanout(e)
}

// drain delivers the held events that now follow the last delivered one.
func (h *hub) drain(st *wsState) {
	for {
		e, ok := st.held[st.last+1]
		if !ok {
			return
		}
		delete(st.held, e.Cursor)
		h.st.Held--
		h.deliver(st, e)
	}
}

// fanout sends e to every subscription that wants it. Callers hold mu.
func (h *hub) fanout(e *starpost.Event) {
	h.st.Delivered++
	if w := h.byWS[e.WorkspaceID]; w != nil {
		for s := range w.every {
			h.send(s, e)
		}
		if len(w.every) < len(w.subs) {
			h.route(w, e)
		}
	}
	for s := range h.all {
		h.send(s, e)
	}
}

func (h *hub) send(s *Subscription, e *starpost.Event) {
	if s.notify != nil {
		if s.queue(e) {
			h.st.Sent++
			return
		}
	} else {
		select {
		case s.ch <- e:
			h.st.Sent++
			return
		default:
		}
	}
	h.st.SlowClosed++
	h.log.Warn("closing slow event subscriber", "workspace", s.ws, "buffer", max(cap(s.ch), s.max), "cursor", e.Cursor)
	h.unsubscribe(s, ErrSlowConsumer)
}

// startFill runs a fill in its own goroutine. Callers hold mu.
func (h *hub) startFill(st *wsState) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.fill(st)
	}()
}

// fill reads the events missing before the held ones from the store and
// delivers everything it can in cursor order. A cursor the store does not
// have either is skipped with a warning; if the store cannot be read, the
// workspace's subscribers are closed so they resume from the store
// themselves.
func (h *hub) fill(st *wsState) {
	h.mu.Lock()
	if !st.based {
		h.mu.Unlock()
		return
	}
	st.timer = nil
	if h.closed || st.filling || (len(st.held) == 0 && !st.catchUp) {
		h.mu.Unlock()
		return
	}
	st.filling = true
	// Every held event was committed before it was published, so every
	// cursor up to the highest held one is committed and readable now.
	from, to := st.last, st.last
	if len(st.held) > 0 {
		to = maxKey(st.held)
	}
	readTo := to
	if st.catchUp {
		readTo, st.catchUp = math.MaxInt64, false
	}
	h.st.StoreReads++
	h.mu.Unlock()

	evs, err := h.readRange(st.id, from, readTo)

	h.mu.Lock()
	defer h.mu.Unlock()
	st.filling = false
	if h.closed {
		return
	}
	if err != nil {
		h.log.Error("cannot fill event gap from the store; closing the workspace's subscribers",
			"workspace", st.id, "after", from, "through", to, "err", err)
		if w := h.byWS[st.id]; w != nil {
			for s := range w.subs {
				h.unsubscribe(s, ErrSlowConsumer)
			}
		}
		for s := range h.all {
			h.unsubscribe(s, ErrSlowConsumer)
		}
	}
	for _, e := range evs {
		if e.WorkspaceID != st.id || e.Cursor <= st.last || st.held[e.Cursor] != nil {
			continue
		}
		st.held[e.Cursor] = e
		h.st.Held++
		h.st.Filled++
	}
	h.drain(st)
	// What is still missing at or below to is not in the store: give up on it.
	for len(st.held) > 0 {
		min := minKey(st.held)
		if min > to {
			break
		}
		h.st.Skipped += min - st.last - 1
		if err == nil {
			h.log.Warn("event cursors missing from the store; skipping them",
				"workspace", st.id, "from", st.last+1, "to", min-1)
		}
		st.last = min - 1
		h.drain(st)
	}
	switch {
	case st.catchUp:
		h.startFill(st)
	case len(st.held) > 0 && st.timer == nil:
		st.timer = time.AfterFunc(h.gapDelay, func() { h.fill(st) })
	}
}

// readRange reads the committed events of workspace ws with cursors in
// (after, to] from the store, page by page.
func (h *hub) readRange(ws string, after, to int64) ([]*starpost.Event, error) {
	if h.store == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(h.ctx, h.storeTimeout)
	defer cancel()
	var out []*starpost.Event
	for after < to {
		limit := int64(starpost.MaxEventPage)
		if to-after < limit {
			limit = to - after
		}
		page, err := h.store.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ws, AfterCursor: after, Limit: int(limit)})
		if err != nil {
			return out, fmt.Errorf("list events of %s after %d: %w", ws, after, err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Cursor > to {
				return out, nil
			}
			out = append(out, e)
		}
		if page[len(page)-1].Cursor <= after { // a store that does not honour AfterCursor
			return out, fmt.Errorf("list events of %s after %d: cursor did not advance", ws, after)
		}
		after = page[len(page)-1].Cursor
		if len(page) < int(limit) { // a short page is the last one
			break
		}
	}
	return out, nil
}

// catchUp reads from the store whatever each known workspace committed
// after its last delivered event. It runs after a reconnect, when events
// published while the connection was down are lost to this node.
func (h *hub) catchUp() {
	if h.store == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	for _, st := range h.ws {
		if !st.based {
			continue // it has not started yet: nothing to catch up on
		}
		st.catchUp = true
		if st.filling {
			continue // it schedules the catch-up when it ends
		}
		if st.timer != nil {
			st.timer.Stop()
			st.timer = nil
		}
		h.startFill(st)
	}
}

// startTailChecks runs checkTails every interval until the hub closes.
func (h *hub) startTailChecks(every time.Duration) {
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-h.ctx.Done():
				return
			case <-t.C:
				h.checkTails()
			}
		}
	}()
}

// checkTails asks the store for the last cursor of every known workspace
// and reads from the store the events of a workspace that has still not
// delivered the cursor the store reported at the previous check: their
// publication was lost, and no later event revealed the gap.
func (h *hub) checkTails() {
	h.mu.Lock()
	var ids []string
	for id, st := range h.ws {
		if st.based {
			ids = append(ids, id)
		}
	}
	h.mu.Unlock()
	for _, id := range ids {
		ctx, cancel := context.WithTimeout(h.ctx, h.storeTimeout)
		lc, err := h.store.LastCursor(ctx, id)
		cancel()
		if err != nil {
			if h.ctx.Err() != nil {
				return
			}
			h.log.Warn("tail check: cannot read the last cursor", "workspace", id, "err", err)
			continue
		}
		h.mu.Lock()
		st := h.ws[id]
		if !h.closed && st.last < st.tail && !st.filling && !st.catchUp {
			h.log.Warn("events committed but never received; reading them from the store",
				"workspace", id, "after", st.last, "through", st.tail)
			st.catchUp = true
			if st.timer != nil {
				st.timer.Stop()
				st.timer = nil
			}
			h.startFill(st)
		}
		st.tail = lc
		h.mu.Unlock()
	}
}

// subscribe adds a local subscription; ws "" means every workspace.
func (h *hub) subscribe(ws string, buffer int) (*Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	return h.add(ws, buffer, false, nil), nil
}

// subscribeWith adds a local pull subscription of every event of ws (see
// Bus.SubscribeNotify).
func (h *hub) subscribeWith(ws string, buffer int, notify func()) (*Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	return h.add(ws, buffer, false, notify), nil
}

// add registers a new subscription; a filtered one is indexed by its caller.
// With notify, events are queued for Take instead of sent on a channel.
// Callers hold mu.
func (h *hub) add(ws string, buffer int, filtered bool, notify func()) *Subscription {
	s := &Subscription{hub: h, ws: ws, filtered: filtered}
	if notify != nil {
		s.notify, s.max = notify, buffer
	} else {
		s.ch = make(chan *starpost.Event, buffer)
	}
	if ws == "" {
		h.all[s] = struct{}{}
	} else {
		w := h.byWS[ws]
		if w == nil {
			w = newWSSubs()
			h.byWS[ws] = w
		}
		w.subs[s] = struct{}{}
		if filtered {
			s.convs = map[string]int64{}
		} else {
			w.every[s] = struct{}{}
		}
		if st := h.ws[ws]; st != nil && st.based {
			s.start = st.last + 1
		}
	}
	h.st.Subscribers++
	return s
}

// unsubscribe removes s and closes its channel. Callers hold mu.
func (h *hub) unsubscribe(s *Subscription, reason error) {
	if s.err != nil {
		return
	}
	s.err = reason
	if s.ws == "" {
		delete(h.all, s)
	} else if w := h.byWS[s.ws]; w != nil {
		delete(w.subs, s)
		delete(w.every, s)
		for _, k := range s.keys {
			removeFrom(w.byKey, k, s)
		}
		for id := range s.convs {
			removeFrom(w.byConv, id, s)
		}
		if len(w.subs) == 0 {
			delete(h.byWS, s.ws)
		}
	}
	h.st.Subscribers--
	if s.notify != nil {
		s.notify()
	} else {
		close(s.ch)
	}
}

func (h *hub) stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.st
}

// close stops the timers, waits for running fills and closes every
// subscription.
func (h *hub) close() {
	h.mu.Lock()
	for _, st := range h.ws {
		if st.timer != nil {
			st.timer.Stop()
			st.timer = nil
		}
		if !st.based { // nothing is missing before them: deliver
			h.setBaseline(st)
			if st.timer != nil {
				st.timer.Stop()
				st.timer = nil
			}
		}
	}
	h.closed = true
	h.cancel()
	h.mu.Unlock()
	h.wg.Wait()

	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.all {
		h.unsubscribe(s, ErrClosed)
	}
	for _, w := range h.byWS {
		for s := range w.subs {
			h.unsubscribe(s, ErrClosed)
		}
	}
}

func maxKey(m map[int64]*starpost.Event) int64 {
	var max int64 = math.MinInt64
	for k := range m {
		if k > max {
			max = k
		}
	}
	return max
}

func minKey(m map[int64]*starpost.Event) int64 {
	var min int64 = math.MaxInt64
	for k := range m {
		if k < min {
			min = k
		}
	}
	return min
}

// Subscription is a local subscription to a Bus. Its channel is closed when
// Close is called, when the bus closes, or when it falls behind; Err then
// tells which.
type Subscription struct {
	hub *hub
	ws  string
	ch  chan *starpost.Event // nil for a pull subscription
	err error                // guarded by hub.mu; set when closed

	// A pull subscription (Bus.SubscribeNotify) queues its events in q,
	// at most max, and calls notify; guarded by hub.mu.
	notify func()
	q      []*starpost.Event
	max    int

	// Hub-side filtering (see Filter); guarded by hub.mu.
	filtered bool
	keys     []string         // participants
	convs    map[string]int64 // followed conversations → cursor from which
	start    int64            // first cursor considered; 0 while unknown
}

// Events returns the channel of events. It is closed when the subscription
// ends. It is nil for a subscription made with Bus.SubscribeNotify.
func (s *Subscription) Events() <-chan *starpost.Event { return s.ch }

// Close ends the subscription and closes its channel. It is safe to call
// more than once and concurrently with delivery.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.unsubscribe(s, ErrClosed)
}

// Err returns nil while the subscription is open, ErrSlowConsumer if it was
// closed because it fell behind, and ErrClosed otherwise.
func (s *Subscription) Err() error {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.err
}

// WorkspaceID returns the subscribed workspace, "" for all of them.
func (s *Subscription) WorkspaceID() string { return s.ws }
