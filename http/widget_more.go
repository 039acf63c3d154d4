package http

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/starpost/starpost"
)

// Widget routes beyond chatting: read receipts, the satisfaction rating and
// the public status that tells a widget whether to offer live chat or the
// offline form.

// ReadRequest is the body of POST .../read: the conversation is read up to
// and including Seq.
type ReadRequest struct {
	Seq int64 `json:"seq"`
}

// markRead stores a read receipt as a "read" event. The idempotency key is
// made of the reader and the seq, so marking the same seq again returns the
// first receipt instead of storing another.
func (s *Server) markRead(ctx context.Context, ws string, c *starpost.Conversation, actor starpost.Actor, seq int64) (*starpost.Event, error) {
	b := starpost.ReadBody{Seq: seq}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	if seq > c.LastSeq {
		return nil, starpost.FieldError("seq", "the conversation has only %d events", c.LastSeq)
	}
	return s.appendOne(ctx, &starpost.Event{
		WorkspaceID: ws, ConversationID: c.ID, Kind: starpost.KindRead, Actor: actor,
		Body: starpost.MustBody(b), IdempotencyKey: "read:" + string(actor.Role) + ":" + actor.ID + ":" + strconv.FormatInt(seq, 10),
	})
}

func (s *Server) handleWidgetRead(w http.ResponseWriter, r *http.Request) error {
	v := visitorFromContext(r.Context())
	c, err := s.findVisitorConversation(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req ReadRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	e, err := s.markRead(r.Context(), v.WorkspaceID, c, starpost.Actor{Role: starpost.RoleCustomer, ID: v.ContactID}, req.Seq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, visitorEvent(e, v.ContactID))
	return nil
}

func (s *Server) handleRead(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	c, err := s.findConversation(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req ReadRequest
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	actor, err := actorIn(p, c, starpost.KindMessage)
	if err != nil {
		return err
	}
	e, err := s.markRead(r.Context(), p.WorkspaceID, c, actor, req.Seq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

// handleWidgetRating stores the visitor's satisfaction rating of a resolved
// (or closed) conversation as a "csat" event with body {"score","comment"}.
// A conversation is rated once: the event's idempotency key is
// "csat:<conversation>", so sending the same rating again returns the
// stored event, and a different one is refused with 409. Rating does not
// change the conversation's state; a later customer message still reopens
// a resolved conversation.
func (s *Server) handleWidgetRating(w http.ResponseWriter, r *http.Request) error {
	v := visitorFromContext(r.Context())
	var req starpost.CSATBody
	if err := s.decode(w, r, &req); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	c, err := s.findVisitorConversation(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	if c.State != starpost.StateResolved && c.State != starpost.StateClosed {
		return starpost.Errorf(starpost.ECONFLICT, "a conversation is rated once it is resolved")
	}
	e, err := s.appendOne(r.Context(), &starpost.Event{
		WorkspaceID: v.WorkspaceID, ConversationID: c.ID, Kind: starpost.KindCSAT,
		Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: v.ContactID},
		Body:  starpost.MustBody(req), IdempotencyKey: "csat:" + c.ID,
	})
	if err != nil {
		return err
	}
	var got starpost.CSATBody
	if e.DecodeBody(&got) != nil || got != req {
		return starpost.Errorf(starpost.ECONFLICT, "this conversation has already been rated")
	}
	writeJSON(w, http.StatusCreated, visitorEvent(e, v.ContactID))
	return nil
}

// requestQueueStatus asks the router to send the queue status of the
// visitor's waiting conversations again: a status sent before the widget
// connected (and one that never changes, such as "no agent is available")
// would otherwise never reach it.
func (s *Server) requestQueueStatus(ctx context.Context, v *visitorClaims, convs []string) {
	if len(convs) == 0 {
		return
	}
	now := s.Clock.Now()
	evs := make([]*starpost.Event, len(convs))
	for i, id := range convs {
		evs[i] = &starpost.Event{WorkspaceID: v.WorkspaceID, ConversationID: id, Kind: starpost.KindQueueStatusRequest,
			Actor: starpost.Actor{Role: starpost.RoleCustomer, ID: v.ContactID}, At: now}
	}
	if err := s.Bus.Publish(ctx, evs...); err != nil {
		s.Logger.WarnContext(ctx, "publish queue status request", slog.Any("err", err))
	}
}

// WidgetStatus is the answer of GET /api/v1/widget/{workspace}/status.
type WidgetStatus struct {
	QueueID string `json:"queue_id"`
	// Open says the queue is inside its business hours (always, when it
	// has none). NextOpen is when it opens next, when it is closed.
	Open     bool       `json:"open"`
	NextOpen *time.Time `json:"next_open,omitempty"`
	TimeZone string     `json:"time_zone,omitempty"`
	// AgentsAvailable counts the agents who are available and qualify for
	// the queue; Waiting the conversations waiting in it.
	AgentsAvailable int `json:"agents_available"`
	Waiting         int `json:"waiting"`
	// EstimatedWait is in seconds, -1 when no agent is available. It is a
	// rough figure for the widget's first screen (waiting conversations
	// over free chat slots × StatusHandleTime); a waiting customer gets the
	// router's own estimate in queue.status signals.
	EstimatedWait int `json:"estimated_wait"`
}

// StatusHandleTime is the handle time assumed by the widget status
// estimate.
const StatusHandleTime = 4 * time.Minute

// statusTTL is how long a widget status is cached (and may be cached by
// browsers and proxies).
const statusTTL = 5 * time.Second

// statusCache keeps recent widget statuses: the endpoint is public and
// polled by every open widget.
type statusCache struct {
	mu sync.Mutex
	m  map[string]cachedStatus
}

type cachedStatus struct {
	st  WidgetStatus
	exp time.Time
}

func (c *statusCache) get(key string, now time.Time) (WidgetStatus, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || !now.Before(e.exp) {
		return WidgetStatus{}, false
	}
	return e.st, true
}

func (c *statusCache) put(key string, st WidgetStatus, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]cachedStatus{}
	}
	c.m[key] = cachedStatus{st: st, exp: now.Add(statusTTL)}
}

func (s *Server) handleWidgetStatus(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	now := s.Clock.Now()
	wsID, qID := r.PathValue("workspace"), r.URL.Query().Get("queue")
	if len(qID) > 100 {
		return starpost.FieldError("queue", "too long")
	}
	key := wsID + "\x00" + qID
	st, ok := s.widgetStatus.get(key, now)
	if !ok {
		var err error
		if st, err = s.widgetStatusOf(ctx, wsID, qID, now); err != nil {
			return err
		}
		s.widgetStatus.put(key, st, now)
	}
	writeJSONCached(w, st)
	return nil
}

// writeJSONCached writes v with a short public cache lifetime.
func writeJSONCached(w http.ResponseWriter, v any) {
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(statusTTL/time.Second)))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone
}

func (s *Server) widgetStatusOf(ctx context.Context, wsID, qID string, now time.Time) (WidgetStatus, error) {
	ws, err := s.Store.FindWorkspace(ctx, wsID)
	if err != nil {
		return WidgetStatus{}, err
	}
	var q *starpost.Queue
	if qID != "" {
		if q, err = s.Store.FindQueue(ctx, ws.ID, qID); starpost.ErrorCode(err) == starpost.ENOTFOUND {
			return WidgetStatus{}, &starpost.Error{Code: starpost.ENOTFOUND, Field: "queue", Message: "no such queue"}
		} else if err != nil {
			return WidgetStatus{}, err
		}
	} else {
		qs, err := s.Store.ListQueues(ctx, ws.ID)
		if err != nil {
			return WidgetStatus{}, err
		}
		if len(qs) == 0 {
			return WidgetStatus{}, starpost.Errorf(starpost.ENOTFOUND, "the workspace has no queue yet")
		}
		q = defaultQueue(qs)
	}
	st := WidgetStatus{QueueID: q.ID, Open: q.BusinessHours.Open(now), EstimatedWait: -1}
	if bh := q.BusinessHours; bh != nil {
		st.TimeZone = bh.TimeZone
		if !st.Open {
			if t, ok := NextOpening(bh, now); ok {
				st.NextOpen = &t
			}
		}
	}
	pres, err := s.Store.Presence(ctx, ws.ID)
	if err != nil {
		return WidgetStatus{}, err
	}
	avail := map[string]bool{}
	for _, p := range pres {
		if p.Presence == starpost.PresenceAvailable {
			avail[p.AgentID] = true
		}
	}
	slots := 0
	if len(avail) > 0 {
		users, err := s.Store.ListUsers(ctx, ws.ID)
		if err != nil {
			return WidgetStatus{}, err
		}
		for _, u := range users {
			if avail[u.ID] && !u.Disabled && qualifies(u, q) {
				st.AgentsAvailable++
				slots += u.CapacityFor(starpost.ChannelChat)
			}
		}
	}
	waiting, err := s.Store.ListConversations(ctx, starpost.ConversationFilter{WorkspaceID: ws.ID, QueueID: q.ID,
		States: []starpost.State{starpost.StateQueued, starpost.StateOffered}, Limit: 1000})
	if err != nil {
		return WidgetStatus{}, err
	}
	st.Waiting = len(waiting)
	if st.AgentsAvailable > 0 && slots > 0 {
		sec := math.Ceil(float64(st.Waiting+1) / float64(slots) * StatusHandleTime.Seconds())
		if st.Waiting < slots {
			sec = 0 // a free slot: answered as soon as an agent accepts
		}
		st.EstimatedWait = int(math.Ceil(sec/10) * 10)
	}
	return st, nil
}

// qualifies reports whether user u has every skill queue q requires, at its
// minimum level (overflow steps aside).
func qualifies(u *starpost.User, q *starpost.Queue) bool {
	for _, need := range q.Skills {
		if !slices.ContainsFunc(u.Skills, func(s starpost.Skilled) bool {
			return s.SkillID == need.SkillID && s.Level >= need.MinLevel
		}) {
			return false
		}
	}
	return true
}

// NextOpening returns when business hours bh next open after now, looking
// up to eight days ahead; false when they never open.
func NextOpening(bh *starpost.BusinessHours, now time.Time) (time.Time, bool) {
	if bh == nil {
		return now, true
	}
	loc, err := time.LoadLocation(bh.TimeZone)
	if err != nil {
		return time.Time{}, false
	}
	lt := now.In(loc)
	day0 := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	for i := range 8 {
		day := day0.AddDate(0, 0, i)
		var best time.Time
		for _, span := range bh.Days[day.Weekday()] {
			from, _, ok := spanMinutes(span)
			if !ok {
				continue
			}
			t := time.Date(day.Year(), day.Month(), day.Day(), from/60, from%60, 0, 0, loc)
			if t.After(now) && (best.IsZero() || t.Before(best)) {
				best = t
			}
		}
		if !best.IsZero() {
			return best.UTC(), true
		}
	}
	return time.Time{}, false
}

// spanMinutes parses "HH:MM-HH:MM" (already validated with the queue) into
// minutes after midnight.
func spanMinutes(s string) (from, to int, ok bool) {
	if len(s) != 11 || s[2] != ':' || s[5] != '-' || s[8] != ':' {
		return 0, 0, false
	}
	var v [4]int
	for i, at := range []int{0, 3, 6, 9} {
		n, err := strconv.Atoi(s[at : at+2])
		if err != nil || n < 0 {
			return 0, 0, false
		}
		v[i] = n
	}
	return v[0]*60 + v[1], v[2]*60 + v[3], true
}
