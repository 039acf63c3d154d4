package http

// Back-pressure: past its configured limits the API says so at once (503
// or 429 with Retry-After) instead of letting requests time out. Only
// customers' new conversations, visitors' WebSockets and per-visitor or
// per-token request rates are limited; agents' own actions never are, so
// the people working the surge down are never slowed by it.

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/starpost/starpost"
)

// WaitingCounter counts the conversations of a channel waiting for an agent
// (queued or offered) in a workspace and tells when the oldest was created.
// *store.DB implements it with one indexed query.
type WaitingCounter interface {
	CountWaiting(ctx context.Context, workspaceID string, channel starpost.Channel) (int, time.Time, error)
}

// Busy is what a 503 from a surge limit tells the client, so the widget can
// be honest with the customer and offer to leave a message.
type Busy struct {
	// Waiting is how many customers wait for an agent (when known).
	Waiting int `json:"waiting,omitempty"`
	// EstimatedWait is the expected wait in seconds of a customer who
	// joined the line now: how long the longest-waiting customer has waited
	// (the head-of-line estimate), at least Retry-After.
	EstimatedWait int `json:"estimated_wait_seconds"`
	// Callback is where to leave a message or request a callback instead.
	Callback string `json:"callback"`
}

// CallbackPath is where a visitor refused by a surge limit leaves a message.
const CallbackPath = "/api/v1/widget/callbacks"

// pressure is the state of the surge limits on this node.
type pressure struct {
	limits   Limits
	inflight atomic.Int64 // writes waiting for the store
	visiting atomic.Int64 // widget requests being served
	sockets  atomic.Int64 // WebSockets open on this node
	visitor  *limiter     // by visitor id
	token    *limiter     // by API token id
	refused  *prometheus.CounterVec

	mu      sync.Mutex
	waiting map[string]*waitCount // by workspace
}

// waitCount is a workspace's waiting line as last counted, plus the
// conversations this node let in since.
type waitCount struct {
	mu       sync.Mutex
	n        int
	oldest   time.Time
	at       time.Time
	admitted int
}

// maxWaitCounts bounds the workspaces whose counts a node keeps.
const maxWaitCounts = 10_000

func newPressure(l Limits, reg prometheus.Registerer) *pressure {
	p := &pressure{limits: l, visitor: newLimiter(l.VisitorRate), token: newLimiter(l.TokenRate), waiting: map[string]*waitCount{},
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "starpost_refused_total",
			Help: "Requests refused by a surge limit: busy (503 on a new conversation), overload (503 on any widget request), sockets (503 on a WebSocket), visitor_rate and token_rate (429).",
		}, []string{"limit"})}
	reg.MustRegister(p.refused, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "starpost_inflight_writes",
		Help: "API writes waiting for the store on this node.",
	}, func() float64 { return float64(p.inflight.Load()) }))
	return p
}

// write counts one write to the store until the returned func is called.
func (p *pressure) write() func() {
	p.inflight.Add(1)
	return func() { p.inflight.Add(-1) }
}

// admitConversation decides whether a customer may open a new conversation
// in the workspace now. Refused, it returns a 503 carrying Retry-After and
// an estimated wait.
func (s *Server) admitConversation(ctx context.Context, workspaceID string) error {
	p := s.pressure
	now := s.Clock.Now()
	if max := p.limits.MaxInflightWrites; max > 0 && p.inflight.Load() >= int64(max) {
		return s.busy(0, time.Time{}, now, "the service is busy saving other customers' messages")
	}
	if p.limits.MaxWaiting <= 0 {
		return nil
	}
	wc := p.count(workspaceID)
	wc.mu.Lock()
	defer wc.mu.Unlock()
	if now.Sub(wc.at) >= p.limits.WaitingRefresh || wc.at.IsZero() {
		n, oldest, err := s.countWaiting(ctx, workspaceID)
		if err != nil {
			return err
		}
		wc.n, wc.oldest, wc.at, wc.admitted = n, oldest, now, 0
	}
	if n := wc.n + wc.admitted; n >= p.limits.MaxWaiting {
		return s.busy(n, wc.oldest, now, "all agents are busy")
	}
	wc.admitted++
	return nil
}

// count returns the workspace's waiting count, creating it.
func (p *pressure) count(workspaceID string) *waitCount {
	p.mu.Lock()
	defer p.mu.Unlock()
	wc, ok := p.waiting[workspaceID]
	if !ok {
		if len(p.waiting) >= maxWaitCounts {
			clear(p.waiting)
		}
		wc = &waitCount{}
		p.waiting[workspaceID] = wc
	}
	return wc
}

// countWaiting counts the workspace's waiting chat conversations with the
// Waiting counter, or by listing them when there is none.
func (s *Server) countWaiting(ctx context.Context, workspaceID string) (int, time.Time, error) {
	if s.Waiting != nil {
		n, oldest, err := s.Waiting.CountWaiting(ctx, workspaceID, starpost.ChannelChat)
		if err != nil {
			return 0, time.Time{}, fmt.Errorf("count waiting: %w", err)
		}
		return n, oldest, nil
	}
	cs, err := s.Store.ListConversations(ctx, starpost.ConversationFilter{WorkspaceID: workspaceID,
		States: []starpost.State{starpost.StateQueued, starpost.StateOffered}})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count waiting: %w", err)
	}
	n, oldest := 0, time.Time{}
	for _, c := range cs {
		if c.Channel != starpost.ChannelChat {
			continue
		}
		n++
		if oldest.IsZero() || c.CreatedAt.Before(oldest) {
			oldest = c.CreatedAt
		}
	}
	return n, oldest, nil
}

// busy builds the 503 of a surge limit. The estimated wait is how long the
// oldest waiting customer has waited so far (a newcomer joins behind
// everyone, so in a steady line that is what they will wait too), rounded
// up to 10 s and never below Retry-After.
func (s *Server) busy(waiting int, oldest, now time.Time, reason string) error {
	retry := s.limits.RetryAfter
	est := retry
	if !oldest.IsZero() && now.Sub(oldest) > est {
		est = now.Sub(oldest)
	}
	est = est.Truncate(time.Second)
	secs := int(math.Ceil(est.Seconds()/10) * 10)
	// Come back after a fraction of the wait, between Retry-After and 2 min.
	retry = min(max(retry, (est/4).Truncate(time.Second)), 2*time.Minute)
	s.pressure.refused.WithLabelValues("busy").Inc()
	return &httpError{err: starpost.Errorf(starpost.EUNAVAILABLE, "%s: about %d minutes' wait; leave a message and we will get back to you",
		reason, (secs+59)/60), retryAfter: retry, busy: &Busy{Waiting: waiting, EstimatedWait: secs, Callback: CallbackPath}}
}

// admitVisitorRequest counts a widget request (not the widget's
// WebSocket) until the returned func is called, or refuses it with 503 when
// MaxInflightVisitor are being served.
func (s *Server) admitVisitorRequest(rt Route) (func(), error) {
	if !strings.HasPrefix(rt.Pattern, "/api/v1/widget/") || rt.Pattern == "/api/v1/widget/stream" {
		return func() {}, nil
	}
	p := s.pressure
	n := p.visiting.Add(1)
	done := func() { p.visiting.Add(-1) }
	if max := p.limits.MaxInflightVisitor; max > 0 && n > int64(max) {
		done()
		p.refused.WithLabelValues("overload").Inc()
		return nil, &httpError{err: starpost.Errorf(starpost.EUNAVAILABLE, "the service is overloaded; try again in a moment"),
			retryAfter: s.limits.RetryAfter}
	}
	return done, nil
}

// admitSocket counts one more WebSocket on this node until the returned
// func is called. A visitor's is refused with 503 when MaxSockets are open;
// an agent's never is.
func (s *Server) admitSocket(visitor bool) (func(), error) {
	n := s.pressure.sockets.Add(1)
	release := func() { s.pressure.sockets.Add(-1) }
	if max := s.pressure.limits.MaxSockets; visitor && max > 0 && n > int64(max) {
		release()
		s.pressure.refused.WithLabelValues("sockets").Inc()
		return nil, &httpError{err: starpost.Errorf(starpost.EUNAVAILABLE, "this server has too many open connections; try again shortly"),
			retryAfter: s.limits.RetryAfter}
	}
	return release, nil
}

// rateLimit applies the per-visitor and per-API-token request rates to an
// authenticated request. Signed-in users (agents, supervisors) are not
// limited.
func (s *Server) rateLimit(r *http.Request) error {
	now := s.Clock.Now()
	if v := visitorFromContext(r.Context()); v != nil {
		return s.allowVisitor(v, now)
	}
	if p := starpost.PrincipalFromContext(r.Context()); p != nil && p.UserID == "" && p.TokenID != "" {
		if ok, wait := s.pressure.token.allow(p.TokenID, now); !ok {
			s.pressure.refused.WithLabelValues("token_rate").Inc()
			return tooMany(wait, "too many requests with this API token; retry later")
		}
	}
	return nil
}

// allowVisitor takes one request (or WebSocket message) from the visitor's
// budget.
func (s *Server) allowVisitor(v *visitorClaims, now time.Time) error {
	if ok, wait := s.pressure.visitor.allow(v.VisitorID, now); !ok {
		s.pressure.refused.WithLabelValues("visitor_rate").Inc()
		return tooMany(wait, "too many requests; slow down")
	}
	return nil
}
