package bus

import (
	"fmt"
	"math"

	"github.com/starpost/starpost"
)

// Filter narrows a subscription at the hub, before anything is sent to it,
// so that events the subscriber does not want never wake it: with one
// subscription per WebSocket, an event of a visitor's conversation then
// costs one map lookup instead of one channel send and one wake-up per open
// socket of the workspace.
//
// A filtered subscription receives, in cursor order and exactly once, the
// events (committed and ephemeral) of the conversations it follows, and the
// events that name one of its Participants (see RoutingKey). A committed
// event that names a participant also makes the subscription follow its
// conversation from that event on, in the hub's order, so that no event of
// a conversation it just joined can be missed. Conversations are followed
// from Conversations, Subscription.Follow and such events, and dropped only
// by Subscription.Unfollow.
//
// Cursors of the events a filtered subscription receives are increasing but
// not consecutive. Subscription.Start tells from which cursor on the hub
// considered the subscription.
type Filter struct {
	// Conversations are followed from the start.
	Conversations []string
	// Participants are routing keys: contact or agent IDs.
	Participants []string
}

// RoutingKey returns the participant that a committed event or signal names
// as the one it concerns, or "" when it names none: the contact of a
// created conversation, the agent of an offer or an assignment, the agent a
// conversation is transferred to, and the agent whose presence changed.
// These are the events that bring a conversation to a participant's stream
// (or, for presence, that concern the participant without a conversation).
func RoutingKey(e *starpost.Event) string {
	switch e.Kind {
	case starpost.KindCreated:
		var b starpost.CreatedBody
		if e.DecodeBody(&b) == nil {
			return b.ContactID
		}
	case starpost.KindOffer:
		var b starpost.OfferBody
		if e.DecodeBody(&b) == nil {
			return b.AgentID
		}
	case starpost.KindAssigned:
		var b starpost.AssignedBody
		if e.DecodeBody(&b) == nil {
			return b.AgentID
		}
	case starpost.KindTransferred:
		var b starpost.TransferBody
		if e.DecodeBody(&b) == nil {
			return b.ToAgentID
		}
	case starpost.KindPresence:
		return e.Actor.ID
	}
	return ""
}

// SubscribeFiltered is Subscribe narrowed at the hub by f (see Filter). It
// needs a workspace.
func (b *Bus) SubscribeFiltered(workspaceID string, f Filter) (*Subscription, error) {
	if err := ValidWorkspaceID(workspaceID); err != nil {
		return nil, fmt.Errorf("bus: subscribe filtered: %w", err)
	}
	s, err := b.hub.subscribeFiltered(workspaceID, b.opts.SubscriberBuffer, f)
	if err != nil {
		return nil, fmt.Errorf("bus: subscribe filtered %q: %w", workspaceID, err)
	}
	return s, nil
}

// wsSubs are the local subscriptions of one workspace, indexed for the
// fan-out.
type wsSubs struct {
	subs   map[*Subscription]struct{}            // all of them
	every  map[*Subscription]struct{}            // unfiltered
	byConv map[string]map[*Subscription]struct{} // filtered, by followed conversation
	byKey  map[string]map[*Subscription]struct{} // filtered, by participant
}

func newWSSubs() *wsSubs {
	return &wsSubs{
		subs:   map[*Subscription]struct{}{},
		every:  map[*Subscription]struct{}{},
		byConv: map[string]map[*Subscription]struct{}{},
		byKey:  map[string]map[*Subscription]struct{}{},
	}
}

func addTo(m map[string]map[*Subscription]struct{}, k string, s *Subscription) {
	set := m[k]
	if set == nil {
		set = map[*Subscription]struct{}{}
		m[k] = set
	}
	set[s] = struct{}{}
}

func removeFrom(m map[string]map[*Subscription]struct{}, k string, s *Subscription) {
	if set := m[k]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}

// route sends e to the filtered subscriptions of w that want it. Callers
// hold mu.
func (h *hub) route(w *wsSubs, e *starpost.Event) {
	var named map[*Subscription]struct{}
	if len(w.byKey) > 0 {
		if k := RoutingKey(e); k != "" {
			named = w.byKey[k]
		}
	}
	for s := range named {
		switch {
		case e.ConversationID == "":
			h.send(s, e)
		case e.Cursor > 0:
			h.follow(w, s, e.ConversationID, e.Cursor) // delivered below
		default:
			if _, ok := s.convs[e.ConversationID]; !ok {
				h.send(s, e) // a signal naming s in a conversation it does not follow
			}
		}
	}
	if e.ConversationID != "" {
		for s := range w.byConv[e.ConversationID] {
			h.send(s, e)
		}
	}
}

// follow makes s follow conversation id from cursor from on. Callers hold
// mu.
func (h *hub) follow(w *wsSubs, s *Subscription, id string, from int64) {
	if s.err != nil {
		return
	}
	if cur, ok := s.convs[id]; !ok {
		addTo(w.byConv, id, s)
	} else if cur > from {
		return
	}
	s.convs[id] = from
}

// subscribeFiltered adds a local subscription of workspace ws narrowed by f.
func (h *hub) subscribeFiltered(ws string, buffer int, f Filter) (*Subscription, error) {
	return h.subscribeFilteredWith(ws, buffer, f, nil)
}

// subscribeFilteredWith is subscribeFiltered, for a pull subscription when
// notify is set (see Bus.SubscribeNotify).
func (h *hub) subscribeFilteredWith(ws string, buffer int, f Filter, notify func()) (*Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	s := h.add(ws, buffer, true, notify)
	w := h.byWS[ws]
	s.keys = make([]string, 0, len(f.Participants))
	for _, k := range f.Participants {
		if k == "" {
			continue
		}
		s.keys = append(s.keys, k)
		addTo(w.byKey, k, s)
	}
	from := h.position(ws)
	for _, id := range f.Conversations {
		if id != "" {
			h.follow(w, s, id, from)
		}
	}
	return s, nil
}

// position is the cursor of the last event of ws that the hub delivered, or
// MaxInt64 when the hub has not started delivering ws yet. Callers hold mu.
func (h *hub) position(ws string) int64 {
	if st := h.ws[ws]; st != nil && st.based {
		return st.last
	}
	return math.MaxInt64
}

// startSubs records where the hub started considering the subscriptions of
// st's workspace that did not know yet: st was just based. Callers hold mu.
func (h *hub) startSubs(st *wsState) {
	if w := h.byWS[st.id]; w != nil {
		for s := range w.subs {
			if s.start == 0 {
				s.start = st.last + 1
			}
		}
	}
}

// Follow makes the subscription follow these conversations from now on, in
// addition to the ones it follows. Followed conversations stay followed
// until Unfollow; following one twice is harmless.
func (s *Subscription) Follow(conversationIDs ...string) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	w := h.byWS[s.ws]
	if !s.filtered || s.err != nil || w == nil {
		return
	}
	from := h.position(s.ws)
	for _, id := range conversationIDs {
		if id != "" {
			h.follow(w, s, id, from)
		}
	}
}

// Unfollow stops the delivery of conversation id's events, because the
// subscriber decided at the committed event with this cursor that it no
// longer needs them. It does nothing when the hub (re)started following the
// conversation after that cursor: a subscriber that replays old events from
// the store may unfollow with a stale cursor and lose nothing.
func (s *Subscription) Unfollow(id string, cursor int64) {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	from, ok := s.convs[id]
	if !s.filtered || s.err != nil || !ok || cursor < from {
		return
	}
	delete(s.convs, id)
	if w := h.byWS[s.ws]; w != nil {
		removeFrom(w.byConv, id, s)
	}
}

// Filtered reports whether the hub filters the subscription.
func (s *Subscription) Filtered() bool { return s.filtered }

// Start returns the first cursor the hub considered for the subscription:
// committed events below it were never sent to it, whether they matched or
// not, and a subscriber that has read the store only up to an earlier
// cursor must read the rest. ok is false while the hub has not started
// delivering the workspace (it waits briefly for the first events of a
// workspace to put them in order) and for subscriptions of every workspace.
func (s *Subscription) Start() (start int64, ok bool) {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.start, s.start > 0
}
