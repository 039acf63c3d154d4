// Package stream gives realtime handlers (WebSocket connections of agents,
// supervisors and the customer widget) a resumable feed of a workspace's
// events.
//
// A Stream follows one rule: subscribe to the bus first, then replay from the
// store everything after the client's cursor, then switch to the live bus
// events, dropping every committed event whose cursor is not above the last
// one passed. That single rule gives resume after reconnect and node
// failover without gaps or duplicates. When the bus closes the subscription
// because the client fell behind (or the store-backed hub could not fill a
// gap), the stream re-subscribes and replays from its last cursor
// transparently. While live, it also checks that committed events follow
// each other without a gap and reads the store if one does not.
//
// On a bus that filters at its hub (*bus.Bus), a stream whose query names
// conversations or an Interest subscribes narrowed (see bus.Filter): the
// events it would drop anyway mostly never reach it, so thousands of
// streams of one workspace do not each wake up for every event. The stream
// still applies its own filters to every event, replayed or live.
package stream

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/bus"
)

// ErrClosed is returned by Next after Close.
var ErrClosed = starpost.Errorf(starpost.EUNAVAILABLE, "stream closed")

// Query selects what a stream delivers.
type Query struct {
	// WorkspaceID is required.
	WorkspaceID string
	// AfterCursor is the cursor of the last event the client saw; 0 replays
	// the workspace from its first event.
	AfterCursor int64
	// ConversationIDs, when not empty, restricts the stream to events of
	// these conversations (committed and ephemeral alike); the replay asks
	// the store for them only.
	ConversationIDs []string
	// Kinds, when not empty, restricts the stream to these kinds; the replay
	// asks the store for them only.
	Kinds []starpost.EventKind
	// Match, when set, is a further filter that every event, committed or
	// ephemeral, must pass. It must not modify the event.
	Match func(*starpost.Event) bool
	// PageSize is how many events one replay read asks for; 0 means
	// starpost.MaxEventPage.
	PageSize int
	// Interest, when set, tells a filtering bus which live events the
	// stream may want, so the bus hub sends it only those (see
	// bus.Filter). It must select a superset of what the stream's filters
	// pass; Match can narrow it again with Stream.Unfollow.
	Interest *Interest
	// Wake, when set, lets the caller drive the stream with Poll instead
	// of a goroutine blocked in Next: the stream pulls its live events from
	// the bus (bus.Bus.SubscribeNotify) and Wake is called whenever Poll
	// may have something new (an event, or the end of the bus
	// subscription). It runs on the bus's delivery path: it must return
	// quickly and must not call the stream. On a bus that cannot notify, the
	// stream forwards its subscription with a goroutine of its own.
	Wake func()
}

// Interest describes, for the bus hub, which live events a stream may want:
// those of the conversations it follows and those naming its participants
// (see bus.RoutingKey), whose conversations it then follows.
type Interest struct {
	// Participants are the contact or agent IDs whose joining events
	// (created for the contact; an offer, assignment or transfer to the
	// agent; the agent's presence) the stream wants.
	Participants []string
	// Conversations returns the conversations the stream follows now. It
	// is called after every (re)subscription and before the replay reads
	// the store, so that no event of a conversation the subscriber holds
	// can fall between what it read and what the hub sends it.
	Conversations func(context.Context) ([]string, error)
}

// Validate checks the query.
func (q *Query) Validate() error {
	if q.WorkspaceID == "" {
		return starpost.FieldError("workspace_id", "required")
	}
	if q.AfterCursor < 0 {
		return starpost.FieldError("after_cursor", "must not be negative")
	}
	if q.PageSize < 0 || q.PageSize > starpost.MaxEventPage {
		return starpost.FieldError("page_size", "must be 0 to %d", starpost.MaxEventPage)
	}
	return nil
}

// Stats count what a stream did.
type Stats struct {
	Replayed     int64 // committed events delivered from the store
	Live         int64 // committed events delivered from the bus
	Ephemeral    int64 // ephemeral signals delivered
	StoreReads   int64 // ListEvents calls
	Resubscribes int64 // bus subscriptions renewed after the bus closed one
	LiveGaps     int64 // gaps seen in live events and read from the store
}

// Stream is a resumable, filtered feed of one workspace's events. Next must
// be called from one goroutine at a time; Close may be called from any.
type Stream struct {
	store starpost.ConversationService
	bus   starpost.EventBus
	q     Query
	limit int

	mu     sync.Mutex // guards sub and closed
	sub    starpost.Subscription
	closed bool

	last       int64             // cursor of the last committed event passed (delivered or filtered out)
	page       []*starpost.Event // replayed events not yet passed
	replaying  bool              // reading the store rather than the bus
	lastPage   bool              // the page being passed is the store's last one
	contiguous bool              // live committed events must follow last without a gap
	pending    *starpost.Event   // a live event that revealed a gap, passed after the replay
	filtered   bool              // the subscription is filtered at the hub: live cursors skip
	started    bool              // the hub's start of a filtered subscription was checked
	st         Stats

	// With Query.Wake the subscription is pulled: inbox holds the events
	// taken from it and not passed yet, ended that it has ended after
	// them, and sig wakes a Next waiting for it.
	inbox []*starpost.Event
	ended bool
	sig   chan struct{}
}

// pullSubscription is a subscription whose events are taken rather than
// received from a channel: *bus.Subscription made by SubscribeNotify, or
// the stream's own forwarder.
type pullSubscription interface {
	starpost.Subscription
	Take() ([]*starpost.Event, error)
}

// Open subscribes to the workspace's live events, then reads the first page
// of the replay, so an unreachable store or bus fails here rather than in
// Next.
func Open(ctx context.Context, store starpost.ConversationService, bus starpost.EventBus, q Query) (*Stream, error) {
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("stream: open: %w", err)
	}
	s := &Stream{store: store, bus: bus, q: q, limit: q.PageSize, last: q.AfterCursor}
	if q.Wake != nil {
		s.sig = make(chan struct{}, 1)
	}
	if s.limit == 0 {
		s.limit = starpost.MaxEventPage
	}
	sub, err := s.subscribe(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream: open: %w", err)
	}
	s.sub = sub
	s.replaying = true
	if err := s.readPage(ctx); err != nil {
		sub.Close()
		return nil, fmt.Errorf("stream: open: %w", err)
	}
	return s, nil
}

// Next returns the next event: replayed ones first, then live ones. It
// blocks until an event arrives, ctx ends or the stream is closed. Committed
// events come in cursor order, each once; ephemeral signals come as they
// arrive. A store or bus error leaves the stream usable: Next may be called
// again. The returned event must not be modified.
func (s *Stream) Next(ctx context.Context) (*starpost.Event, error) {
	return s.next(ctx, true)
}

// Poll is Next without waiting for the bus: it returns nil and no error
// when no event is ready. It may still read the store. With Query.Wake,
// call it after each Wake until it returns nil; it must be called from one
// goroutine at a time, like Next.
func (s *Stream) Poll(ctx context.Context) (*starpost.Event, error) {
	return s.next(ctx, false)
}

// next is Next, or Poll when it must not wait.
func (s *Stream) next(ctx context.Context, wait bool) (*starpost.Event, error) {
	for {
		if s.isClosed() {
			return nil, ErrClosed
		}
		// Pass the replayed page.
		for len(s.page) > 0 {
			e := s.page[0]
			s.page[0] = nil
			s.page = s.page[1:]
			if e.Cursor <= s.last {
				continue
			}
			s.last = e.Cursor
			if s.match(e) {
				s.st.Replayed++
				return e, nil
			}
		}
		if s.replaying {
			if !s.lastPage {
				if err := s.readPage(ctx); err != nil {
					return nil, fmt.Errorf("stream: %w", err)
				}
				continue
			}
			if s.beforeStart() {
				// The hub started this subscription after the replay's
				// end: read up to where it started.
				s.st.LiveGaps++
				s.lastPage = false
				continue
			}
			s.endReplay()
			if p := s.pending; p != nil {
				s.pending = nil
				if p.Cursor > s.last { // the store does not have it: trust the bus
					s.last, s.contiguous = p.Cursor, !s.filtered
					if s.match(p) {
						s.st.Live++
						return p, nil
					}
				}
			}
			continue
		}

		// Live.
		e, ok, err := s.receive(ctx, wait)
		switch {
		case err != nil:
			return nil, err
		case e == nil && ok:
			return nil, nil // Poll: nothing yet
		case !ok:
			if err := s.resubscribe(ctx); err != nil {
				return nil, err
			}
		default:
			if e = s.live(e); e != nil {
				return e, nil
			}
		}
	}
}

// receive returns the next live event from the subscription; ok is false
// when the subscription has ended. Unless wait, it returns no event and ok
// when none is ready.
func (s *Stream) receive(ctx context.Context, wait bool) (e *starpost.Event, ok bool, err error) {
	sub := s.subscription()
	ps, pull := sub.(pullSubscription)
	if pull = pull && s.q.Wake != nil; !pull { // with Wake, every subscription is pulled
		var done <-chan struct{}
		if wait {
			done = ctx.Done()
		} else if ctx.Err() == nil {
			select {
			case e, ok := <-sub.Events():
				return e, ok, nil
			default:
				return nil, true, nil
			}
		}
		select {
		case e, ok := <-sub.Events():
			return e, ok, nil
		case <-done:
		}
		return nil, false, fmt.Errorf("stream: next: %w", ctx.Err())
	}
	for {
		if len(s.inbox) == 0 && !s.ended {
			evs, err := ps.Take()
			s.inbox, s.ended = evs, err != nil
		}
		if len(s.inbox) > 0 {
			e := s.inbox[0]
			s.inbox[0] = nil
			if s.inbox = s.inbox[1:]; len(s.inbox) == 0 {
				s.inbox = nil
			}
			return e, true, nil
		}
		if s.ended {
			s.ended = false
			return nil, false, nil
		}
		if !wait {
			return nil, true, nil
		}
		select {
		case <-s.sig:
		case <-ctx.Done():
			return nil, false, fmt.Errorf("stream: next: %w", ctx.Err())
		}
	}
}

// notify is the pulled subscription's notification: it wakes a waiting
// Next and the caller's Poll.
func (s *Stream) notify() {
	select {
	case s.sig <- struct{}{}:
	default:
	}
	s.q.Wake()
}

// live decides what to do with an event from the bus; it returns the event
// when it is to be delivered.
func (s *Stream) live(e *starpost.Event) *starpost.Event {
	if e.Cursor == 0 {
		if s.match(e) {
			s.st.Ephemeral++
			return e
		}
		return nil
	}
	if e.Cursor <= s.last {
		return nil // replayed already
	}
	if s.beforeStart() {
		// Events between last and where the hub started the subscription
		// were sent to nobody here: read them.
		s.st.LiveGaps++
		s.pending = e
		s.startReplay()
		return nil
	}
	if s.contiguous && e.Cursor > s.last+1 {
		// Something between last and e was not delivered by the bus (a
		// crossed publication at the hub's baseline): read it.
		s.st.LiveGaps++
		s.pending = e
		s.startReplay()
		return nil
	}
	s.last, s.contiguous = e.Cursor, !s.filtered // a filtered subscription skips cursors
	if s.match(e) {
		s.st.Live++
		return e
	}
	return nil
}

// readPage reads the next replay page after last.
func (s *Stream) readPage(ctx context.Context) error {
	s.st.StoreReads++
	page, err := s.store.ListEvents(ctx, starpost.EventFilter{
		WorkspaceID:     s.q.WorkspaceID,
		AfterCursor:     s.last,
		ConversationIDs: s.q.ConversationIDs,
		Kinds:           s.q.Kinds,
		Limit:           s.limit,
	})
	if err != nil {
		return fmt.Errorf("replay %s after cursor %d: %w", s.q.WorkspaceID, s.last, err)
	}
	s.page = page
	s.lastPage = len(page) < s.limit
	return nil
}

func (s *Stream) startReplay() {
	s.replaying, s.lastPage, s.contiguous = true, false, false
}

// endReplay switches to live events. When the replay read every event of
// the workspace (no store-side filter), last is the workspace's position and
// the next live event must follow it directly.
func (s *Stream) endReplay() {
	s.replaying = false
	s.contiguous = !s.filtered && len(s.q.ConversationIDs) == 0 && len(s.q.Kinds) == 0
}

// beforeStart reports, once per filtered subscription that the hub had not
// started when it was made and as soon as the hub knows, whether the hub
// started considering the subscription after the cursor following last; the
// events in between must be read from the store. (An unfiltered
// subscription finds such a gap by its contiguity.) After a replay filtered
// by the store, last may lag the store's end and the read finds nothing
// new: that costs one read, at a workspace's first events on this node.
func (s *Stream) beforeStart() bool {
	if !s.filtered || s.started {
		return false
	}
	fs, ok := s.subscription().(filteredSubscription)
	if !ok {
		s.started = true
		return false
	}
	start, known := fs.Start()
	if !known {
		return false
	}
	s.started = true
	return start-1 > s.last // not start > last+1: last may be MaxInt64
}

// filteringBus is a bus that filters at its hub, such as *bus.Bus.
type filteringBus interface {
	SubscribeFiltered(workspaceID string, f bus.Filter) (*bus.Subscription, error)
}

// notifyingBus is a bus whose subscriptions can be pulled, such as
// *bus.Bus.
type notifyingBus interface {
	SubscribeNotify(workspaceID string, f *bus.Filter, notify func()) (*bus.Subscription, error)
}

// filteredSubscription is what the stream uses of a hub-filtered
// subscription.
type filteredSubscription interface {
	starpost.Subscription
	Follow(conversationIDs ...string)
	Unfollow(conversationID string, cursor int64)
	Start() (int64, bool)
}

// subscribe subscribes to the workspace's live events, narrowed at the hub
// when the bus can and the query says how, and sets filtered accordingly.
func (s *Stream) subscribe(ctx context.Context) (starpost.Subscription, error) {
	ws, in := s.q.WorkspaceID, s.q.Interest
	s.inbox, s.ended = nil, false
	fb, filtering := s.bus.(filteringBus)
	nb, notifying := s.bus.(notifyingBus)
	pull := s.q.Wake != nil && notifying
	filter := in != nil || len(s.q.ConversationIDs) > 0
	if !filter || !filtering && !pull {
		var sub starpost.Subscription
		var err error
		switch {
		case pull:
			sub, err = nb.SubscribeNotify(ws, nil, s.notify)
		default:
			sub, err = s.bus.Subscribe(ws)
			if err == nil && s.q.Wake != nil {
				sub = forward(sub, s.notify)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("subscribe to %s: %w", ws, err)
		}
		s.filtered, s.started = false, false
		return sub, nil
	}
	f := bus.Filter{Conversations: s.q.ConversationIDs}
	if in != nil {
		f.Participants = in.Participants
	}
	var sub *bus.Subscription
	var err error
	if pull {
		sub, err = nb.SubscribeNotify(ws, &f, s.notify)
	} else {
		sub, err = fb.SubscribeFiltered(ws, f)
	}
	if err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", ws, err)
	}
	var fsub filteredSubscription = sub
	if !pull && s.q.Wake != nil {
		fsub = forwardFiltered{forward(sub, s.notify), sub}
	}
	if in != nil && in.Conversations != nil {
		ids, err := in.Conversations(ctx)
		if err != nil {
			sub.Close()
			return nil, fmt.Errorf("subscribe to %s: conversations to follow: %w", ws, err)
		}
		sub.Follow(ids...)
	}
	// When the hub already delivers the workspace, it starts the
	// subscription after an event that was committed before the replay
	// reads the store: nothing can fall between them. Otherwise the hub
	// starts it later, at the first events it sees, and beforeStart checks.
	_, known := sub.Start()
	s.filtered, s.started = true, known
	return fsub, nil
}

// resubscribe replaces a subscription the bus closed and replays what it
// may have missed.
func (s *Stream) resubscribe(ctx context.Context) error {
	if s.isClosed() {
		return ErrClosed
	}
	sub, err := s.subscribe(ctx)
	if err != nil {
		return fmt.Errorf("stream: resubscribe: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		sub.Close()
		return ErrClosed
	}
	s.sub = sub
	s.st.Resubscribes++
	s.startReplay()
	return nil
}

// Unfollow tells a filtering bus that the stream no longer wants the live
// events of a conversation, as decided at the event being passed. Call it
// only from Query.Match, when that event makes the conversation leave the
// stream's view; the conversation comes back with an event naming one of
// the Interest's participants. A replayed event's decision never drops a
// conversation the hub follows for a newer reason. Without hub filtering it
// does nothing.
func (s *Stream) Unfollow(conversationID string) {
	if !s.filtered {
		return
	}
	if fs, ok := s.subscription().(filteredSubscription); ok {
		fs.Unfollow(conversationID, s.last)
	}
}

func (s *Stream) match(e *starpost.Event) bool {
	if len(s.q.ConversationIDs) > 0 && !slices.Contains(s.q.ConversationIDs, e.ConversationID) {
		return false
	}
	if len(s.q.Kinds) > 0 && !slices.Contains(s.q.Kinds, e.Kind) {
		return false
	}
	return s.q.Match == nil || s.q.Match(e)
}

func (s *Stream) subscription() starpost.Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sub
}

func (s *Stream) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Last returns the cursor of the last committed event the stream passed,
// delivered or filtered out: a client that saw everything it was sent may
// resume after it. Call it from the goroutine that calls Next.
func (s *Stream) Last() int64 { return s.last }

// Stats returns the stream's counters. Call it from the goroutine that
// calls Next.
func (s *Stream) Stats() Stats { return s.st }

// Close ends the stream and its bus subscription; a blocked Next returns
// ErrClosed. It is safe to call more than once, from any goroutine.
func (s *Stream) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.sub.Close()
}

// Run calls fn with every event until ctx ends, the stream is closed or fn
// fails, and returns why it stopped.
func (s *Stream) Run(ctx context.Context, fn func(*starpost.Event) error) error {
	for {
		e, err := s.Next(ctx)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return fmt.Errorf("stream: handle event %d: %w", e.Cursor, err)
		}
	}
}
