// Package http serves Starpost's REST and WebSocket API: sign-in with
// sessions and API tokens, the workspace directory, conversations and their
// events, the customer widget, live streams, Prometheus metrics, health
// checks and the OpenAPI document that describes it all.
//
// Every route is declared once, in Server.routes, with the least role that
// may call it. The workspace of a request always comes from the
// authenticated principal (or, for widget visitors, from their signed
// token), never from the URL or body, so one tenant cannot name another's
// objects.
package http

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/attachment"
	"github.com/starpost/starpost/auth"
	"github.com/starpost/starpost/canned"
	"github.com/starpost/starpost/draft"
	"github.com/starpost/starpost/kb"
	"github.com/starpost/starpost/quality"
	"github.com/starpost/starpost/wfm/plan"
)

// Rate is a token bucket: up to Burst requests at once, refilled by one
// every Every.
type Rate struct {
	Burst int
	Every time.Duration
}

// Limits bound what clients may send and how long credentials live. Zero
// fields take the defaults of DefaultLimits.
type Limits struct {
	// MaxBodyBytes is the largest request body accepted (413 beyond).
	MaxBodyBytes int64
	// SessionTTL is how long a sign-in session lasts.
	SessionTTL time.Duration
	// VisitorTTL is how long a widget visitor token lasts.
	VisitorTTL time.Duration
	// LoginPerIP and LoginPerEmail limit password attempts.
	LoginPerIP    Rate
	LoginPerEmail Rate
	// WidgetSessionPerIP limits new widget visitors per client address.
	WidgetSessionPerIP Rate
	// StreamQueue is how many events may wait for one slow WebSocket client
	// before it is disconnected (it resumes from its cursor).
	StreamQueue int
	// PingInterval is how often a WebSocket is pinged; WriteTimeout bounds
	// each write and ping.
	PingInterval time.Duration
	WriteTimeout time.Duration
	// MaxFrameBytes is the largest WebSocket frame a client may send.
	MaxFrameBytes int64
	// RetryAfter is the Retry-After given with 503 responses.
	RetryAfter time.Duration

	// Surge limits (back-pressure, see backpressure.go). A customer's new
	// widget conversation is refused with 503, Retry-After, an estimated
	// wait and the offer to leave a message while MaxWaiting chat
	// conversations of the workspace wait for an agent or MaxInflightWrites
	// API writes wait for the store; a visitor's WebSocket is refused while
	// MaxSockets WebSockets are open on this node. Agents are never refused
	// by them. A negative value means no limit.
	MaxWaiting        int
	MaxInflightWrites int
	MaxSockets        int
	// MaxInflightVisitor bounds the widget requests (WebSockets aside) a
	// node works on at once; past it they get 503 with Retry-After at once,
	// so an overloaded node sheds customers' requests instead of piling up
	// connections until they time out. Agents' requests do not count.
	MaxInflightVisitor int
	// VisitorRate and TokenRate limit the requests and WebSocket messages
	// of one widget visitor and the requests of one API token (429).
	VisitorRate Rate
	TokenRate   Rate
	// WaitingRefresh is how often a node recounts a workspace's waiting
	// conversations; in between it adds the ones it let in.
	WaitingRefresh time.Duration
}

// DefaultLimits are the limits used for zero fields of Server.Limits.
func DefaultLimits() Limits {
	return Limits{
		MaxBodyBytes:       256 << 10,
		SessionTTL:         12 * time.Hour,
		VisitorTTL:         30 * 24 * time.Hour,
		LoginPerIP:         Rate{Burst: 20, Every: 3 * time.Second},
		LoginPerEmail:      Rate{Burst: 5, Every: 30 * time.Second},
		WidgetSessionPerIP: Rate{Burst: 30, Every: 2 * time.Second},
		StreamQueue:        256,
		PingInterval:       25 * time.Second,
		WriteTimeout:       10 * time.Second,
		MaxFrameBytes:      64 << 10,
		RetryAfter:         5 * time.Second,
		MaxWaiting:         5000,
		MaxInflightWrites:  4096,
		MaxSockets:         60_000,
		MaxInflightVisitor: 1024,
		VisitorRate:        Rate{Burst: 40, Every: 200 * time.Millisecond},
		TokenRate:          Rate{Burst: 200, Every: 5 * time.Millisecond},
		WaitingRefresh:     time.Second,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBodyBytes > 0 {
		d.MaxBodyBytes = l.MaxBodyBytes
	}
	if l.SessionTTL > 0 {
		d.SessionTTL = l.SessionTTL
	}
	if l.VisitorTTL > 0 {
		d.VisitorTTL = l.VisitorTTL
	}
	if l.LoginPerIP.Burst > 0 {
		d.LoginPerIP = l.LoginPerIP
	}
	if l.LoginPerEmail.Burst > 0 {
		d.LoginPerEmail = l.LoginPerEmail
	}
	if l.WidgetSessionPerIP.Burst > 0 {
		d.WidgetSessionPerIP = l.WidgetSessionPerIP
	}
	if l.StreamQueue > 0 {
		d.StreamQueue = l.StreamQueue
	}
	if l.PingInterval > 0 {
		d.PingInterval = l.PingInterval
	}
	if l.WriteTimeout > 0 {
		d.WriteTimeout = l.WriteTimeout
	}
	if l.MaxFrameBytes > 0 {
		d.MaxFrameBytes = l.MaxFrameBytes
	}
	if l.RetryAfter > 0 {
		d.RetryAfter = l.RetryAfter
	}
	for _, f := range []struct{ to, from *int }{{&d.MaxWaiting, &l.MaxWaiting}, {&d.MaxInflightWrites, &l.MaxInflightWrites}, {&d.MaxSockets, &l.MaxSockets}, {&d.MaxInflightVisitor, &l.MaxInflightVisitor}} {
		if *f.from != 0 {
			*f.to = *f.from
		}
	}
	if l.VisitorRate.Burst > 0 {
		d.VisitorRate = l.VisitorRate
	}
	if l.TokenRate.Burst > 0 {
		d.TokenRate = l.TokenRate
	}
	if l.WaitingRefresh > 0 {
		d.WaitingRefresh = l.WaitingRefresh
	}
	return d
}

// Server is the API. Set its fields, then call Handler once and serve the
// result with an http.Server:
//
//	srv := &sphttp.Server{Store: db, Bus: b, Clock: starpost.SystemClock{},
//		Logger: logger, Secret: secret, Registry: prometheus.NewRegistry()}
//	httpServer := &http.Server{Addr: ":8080", Handler: srv.Handler()}
type Server struct {
	// Store persists the directory and the conversations.
	Store starpost.Store
	// Bus carries committed events and ephemeral signals. Every handler that
	// appends to Store publishes what it committed here.
	Bus starpost.EventBus
	// Clock tells the time for sessions, rate limits and metrics.
	Clock starpost.Clock
	// Logger receives the access log (debug level) and internal errors.
	Logger *slog.Logger
	// Secret keys the HMAC of session cookies and visitor tokens. It must be
	// at least 32 bytes and the same on every node.
	Secret []byte
	// Registry receives the HTTP metrics and serves GET /metrics. Nil means a
	// new private registry.
	Registry *prometheus.Registry
	// Limits bound request sizes, rates and streams.
	Limits Limits
	// OriginPatterns are extra hosts (path.Match patterns) whose pages may
	// open a cookie-authenticated agent WebSocket; the request's own host is
	// always allowed. The widget stream accepts any origin: it
	// authenticates with a token, not a cookie.
	OriginPatterns []string
	// KB is the knowledge base (articles, FAQs, synonyms, search). Nil
	// leaves it empty and read-only.
	KB *kb.KB
	// Attachments stores the files attached to messages (widget feature).
	// Nil refuses uploads and attachment references with 503.
	Attachments *attachment.Store
	// BotModels lists the versions of each workspace's bot intent model.
	// Nil lists none.
	BotModels BotModelLister
	// Drafts writes reply drafts with a language model. Nil turns drafting
	// off (POST .../draft answers 404).
	Drafts *draft.Writer

	// Agent assist (canned replies, well-being). Canned keeps the canned
	// replies; nil leaves them empty and read-only. Wellbeing holds each
	// workspace's break policy by workspace id ("" is the default).
	Canned    *canned.Store
	Wellbeing map[string]WellbeingPolicy
	// Waiting counts waiting conversations for the surge limits (the store
	// implements it); nil lists them from Store instead.
	Waiting WaitingCounter
	hostile hostileCache

	// Agent liveness (see RunHeartbeats). Node names this node in
	// connection signals (default: a random name); Heartbeat is how often
	// RunHeartbeats re-announces the agents whose sockets this node serves.
	Node      string
	Heartbeat time.Duration

	// Quality holds QA scorecards, reviews and workspace rules. Nil leaves
	// the lists empty, scorecards not found and changes unavailable.
	Quality *quality.Store

	// WFM is workforce management (forecasts, schedules, open slots,
	// adherence). Nil makes its routes answer 503.
	WFM *plan.Service

	once      sync.Once
	handler   http.Handler
	limits    Limits
	sessions  *auth.Signer
	visitors  *auth.Signer
	loginIP   *limiter
	loginMail *limiter
	widgetIP  *limiter
	metrics   *metrics
	pressure  *pressure

	sockMu  sync.Mutex
	sockets map[sockKey]int // open user sockets on this node
	sigSeq  uint64          // the last connection signal's number (Seq)
	beating atomic.Bool     // RunHeartbeats is running
	open    sync.WaitGroup  // WebSockets still open
	// shutdowns end the WebSockets of each http.Server when it shuts down
	// (sockets feature: they outlive their handlers); guarded by sockMu.
	shutdowns map[*http.Server]context.Context

	widgetStatus statusCache // widget feature: public status, cached briefly
}

// Wait blocks until every WebSocket has ended, or ctx ends.
// http.Server.Shutdown does not wait for hijacked connections; call Wait
// after it (the sockets end when the http.Server that accepted them shuts
// down) and before closing the store and the bus, so their last events are
// not lost.
func (s *Server) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.open.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Handler returns the API's http.Handler. It panics when Store, Bus or a
// Secret of at least 32 bytes is missing, which is a wiring error.
func (s *Server) Handler() http.Handler {
	s.once.Do(s.init)
	return s.handler
}

func (s *Server) init() {
	if s.Store == nil || s.Bus == nil {
		panic("http: Server needs a Store and a Bus")
	}
	if len(s.Secret) < 32 {
		panic("http: Server.Secret must be at least 32 bytes")
	}
	if s.Clock == nil {
		s.Clock = starpost.SystemClock{}
	}
	if s.Node == "" {
		s.Node = starpost.NewID("node")
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	s.limits = s.Limits.withDefaults()
	s.sessions = auth.NewSigner(s.Secret, "session")
	s.visitors = auth.NewSigner(s.Secret, "visitor")
	s.loginIP = newLimiter(s.limits.LoginPerIP)
	s.loginMail = newLimiter(s.limits.LoginPerEmail)
	s.widgetIP = newLimiter(s.limits.WidgetSessionPerIP)
	s.metrics = newMetrics(s.Registry)
	s.pressure = newPressure(s.limits, s.Registry)

	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
	}
	mux.Handle("/", s.wrap(Route{Pattern: "unmatched", Access: AccessPublic, handle: func(w http.ResponseWriter, r *http.Request) error {
		return starpost.Errorf(starpost.ENOTFOUND, "no route for %s %s", r.Method, r.URL.Path)
	}}))
	s.handler = mux
}

// Access is the least privilege a route needs.
type Access string

// Access levels. The user roles nest: admin ⊇ supervisor ⊇ agent. Visitors
// are anonymous widget customers holding a signed visitor token.
const (
	AccessPublic     Access = "public"
	AccessVisitor    Access = "visitor"
	AccessAgent      Access = "agent"
	AccessSupervisor Access = "supervisor"
	AccessAdmin      Access = "admin"
)

// Route is one entry of the route table.
type Route struct {
	Method  string
	Pattern string
	Access  Access
	handle  func(w http.ResponseWriter, r *http.Request) error
}

// Routes returns the route table: every method, path pattern and access
// level the API serves. Tests and the OpenAPI check enumerate it.
func (s *Server) Routes() []Route { return s.routes() }

func (s *Server) routes() []Route {
	return []Route{
		// Operations.
		{"GET", "/healthz", AccessPublic, s.handleHealthz},
		{"GET", "/readyz", AccessPublic, s.handleReadyz},
		{"GET", "/metrics", AccessPublic, s.handleMetrics},
		{"GET", "/api/v1/openapi.json", AccessPublic, s.handleOpenAPI},

		// Sign-in and the signed-in user.
		{"POST", "/api/v1/login", AccessPublic, s.handleLogin},
		{"POST", "/api/v1/logout", AccessPublic, s.handleLogout},
		{"GET", "/api/v1/me", AccessAgent, s.handleMe},
		{"PUT", "/api/v1/me/presence", AccessAgent, s.handleSetPresence},
		{"GET", "/api/v1/presence", AccessSupervisor, s.handleListPresence},

		// Directory.
		{"POST", "/api/v1/users", AccessAdmin, s.handleCreateUser},
		{"GET", "/api/v1/users", AccessSupervisor, s.handleListUsers},
		{"GET", "/api/v1/users/{id}", AccessSupervisor, s.handleGetUser},
		{"PATCH", "/api/v1/users/{id}", AccessAdmin, s.handleUpdateUser},
		{"POST", "/api/v1/sites", AccessAdmin, s.handleCreateSite},
		{"GET", "/api/v1/sites", AccessSupervisor, s.handleListSites},
		{"POST", "/api/v1/skills", AccessAdmin, s.handleCreateSkill},
		{"GET", "/api/v1/skills", AccessSupervisor, s.handleListSkills},
		{"POST", "/api/v1/teams", AccessAdmin, s.handleCreateTeam},
		{"GET", "/api/v1/teams", AccessSupervisor, s.handleListTeams},
		{"POST", "/api/v1/queues", AccessAdmin, s.handleCreateQueue},
		{"GET", "/api/v1/queues", AccessSupervisor, s.handleListQueues},
		{"GET", "/api/v1/queues/{id}", AccessSupervisor, s.handleGetQueue},
		{"PATCH", "/api/v1/queues/{id}", AccessAdmin, s.handleUpdateQueue},
		{"POST", "/api/v1/tokens", AccessAdmin, s.handleCreateToken},
		{"GET", "/api/v1/tokens", AccessAdmin, s.handleListTokens},
		{"DELETE", "/api/v1/tokens/{id}", AccessAdmin, s.handleDeleteToken},
		{"GET", "/api/v1/contacts/{id}", AccessAgent, s.handleGetContact},

		// Conversations.
		{"POST", "/api/v1/conversations", AccessAgent, s.handleCreateConversation},
		{"GET", "/api/v1/conversations", AccessAgent, s.handleListConversations},
		{"GET", "/api/v1/conversations/{id}", AccessAgent, s.handleGetConversation},
		{"GET", "/api/v1/conversations/{id}/events", AccessAgent, s.handleListEvents},
		{"POST", "/api/v1/conversations/{id}/messages", AccessAgent, s.handlePostMessage},
		{"POST", "/api/v1/conversations/{id}/notes", AccessAgent, s.handlePostNote},
		{"POST", "/api/v1/conversations/{id}/accept", AccessAgent, s.handleAccept},
		{"POST", "/api/v1/conversations/{id}/decline", AccessAgent, s.handleDecline},
		{"POST", "/api/v1/conversations/{id}/transfer", AccessAgent, s.handleTransfer},
		{"POST", "/api/v1/conversations/{id}/resolve", AccessAgent, s.handleResolve},
		{"POST", "/api/v1/conversations/{id}/reopen", AccessAgent, s.handleReopen},
		{"POST", "/api/v1/conversations/{id}/close", AccessAgent, s.handleClose},
		{"POST", "/api/v1/conversations/{id}/assign", AccessSupervisor, s.handleForceAssign},
		{"POST", "/api/v1/conversations/{id}/join", AccessSupervisor, s.handleJoin},
		{"GET", "/api/v1/stream", AccessAgent, s.handleStream},
		{"POST", "/api/v1/conversations/{id}/suggestions/{event_seq}/feedback", AccessAgent, s.handleSuggestionFeedback},

		// Knowledge base.
		{"GET", "/api/v1/kb/articles", AccessSupervisor, s.handleListArticles},
		{"POST", "/api/v1/kb/articles", AccessAdmin, s.handleCreateArticle},
		{"GET", "/api/v1/kb/articles/{id}", AccessSupervisor, s.handleGetArticle},
		{"PATCH", "/api/v1/kb/articles/{id}", AccessAdmin, s.handleUpdateArticle},
		{"DELETE", "/api/v1/kb/articles/{id}", AccessAdmin, s.handleDeleteArticle},
		{"GET", "/api/v1/kb/articles/{id}/versions", AccessSupervisor, s.handleArticleVersions},
		{"GET", "/api/v1/kb/faqs", AccessSupervisor, s.handleListFAQs},
		{"POST", "/api/v1/kb/faqs", AccessAdmin, s.handleCreateFAQ},
		{"GET", "/api/v1/kb/faqs/export", AccessSupervisor, s.handleExportFAQs},
		{"POST", "/api/v1/kb/faqs/import", AccessAdmin, s.handleImportFAQs},
		{"GET", "/api/v1/kb/faqs/{id}", AccessSupervisor, s.handleGetFAQ},
		{"PATCH", "/api/v1/kb/faqs/{id}", AccessAdmin, s.handleUpdateFAQ},
		{"DELETE", "/api/v1/kb/faqs/{id}", AccessAdmin, s.handleDeleteFAQ},
		{"GET", "/api/v1/kb/synonyms", AccessSupervisor, s.handleGetSynonyms},
		{"PUT", "/api/v1/kb/synonyms", AccessAdmin, s.handleSetSynonyms},
		{"GET", "/api/v1/kb/search", AccessAgent, s.handleSearchKB},

		// Widget (customers).
		{"POST", "/api/v1/widget/{workspace}/session", AccessPublic, s.handleWidgetSession},
		{"POST", "/api/v1/widget/conversations", AccessVisitor, s.handleWidgetStart},
		{"GET", "/api/v1/widget/conversations", AccessVisitor, s.handleWidgetList},
		{"GET", "/api/v1/widget/conversations/{id}/events", AccessVisitor, s.handleWidgetEvents},
		{"POST", "/api/v1/widget/conversations/{id}/messages", AccessVisitor, s.handleWidgetMessage},
		{"GET", "/api/v1/widget/stream", AccessVisitor, s.handleWidgetStream},
		{"GET", "/api/v1/widget-identity", AccessAdmin, s.handleWidgetIdentity},
		{"GET", "/api/v1/bot/models", AccessSupervisor, s.handleBotModels},
		{"GET", "/api/v1/alerts", AccessSupervisor, s.handleAlerts},

		// Widget feature: status, attachments, read receipts, satisfaction rating.
		{"GET", "/api/v1/widget/{workspace}/status", AccessPublic, s.handleWidgetStatus},
		{"POST", "/api/v1/widget/conversations/{id}/attachments", AccessVisitor, s.handleWidgetUpload},
		{"GET", "/api/v1/widget/conversations/{id}/attachments/{att}", AccessVisitor, s.handleWidgetAttachment},
		{"POST", "/api/v1/widget/conversations/{id}/read", AccessVisitor, s.handleWidgetRead},
		{"POST", "/api/v1/widget/conversations/{id}/rating", AccessVisitor, s.handleWidgetRating},
		{"POST", "/api/v1/conversations/{id}/attachments", AccessAgent, s.handleUpload},
		{"GET", "/api/v1/conversations/{id}/attachments/{att}", AccessAgent, s.handleAttachment},
		{"POST", "/api/v1/conversations/{id}/read", AccessAgent, s.handleRead},

		// Reply drafting (optional language model).
		{"POST", "/api/v1/conversations/{id}/draft", AccessAgent, s.handleDraft},
		// Agent assist: canned replies, the agents' directory, well-being.
		{"GET", "/api/v1/canned", AccessAgent, s.handleListCanned},
		{"POST", "/api/v1/canned", AccessAdmin, s.handleCreateCanned},
		{"PATCH", "/api/v1/canned/{id}", AccessAdmin, s.handleUpdateCanned},
		{"DELETE", "/api/v1/canned/{id}", AccessAdmin, s.handleDeleteCanned},
		{"GET", "/api/v1/directory", AccessAgent, s.handleDirectory},
		{"GET", "/api/v1/me/wellbeing", AccessAgent, s.handleWellbeing},
		{"GET", "/api/v1/me/preferences", AccessAgent, s.handlePreferences},
		{"PUT", "/api/v1/me/preferences", AccessAgent, s.handleSetPreferences},

		// Quality review and dashboards (package quality).
		{"GET", "/api/v1/quality/scorecards", AccessSupervisor, s.handleListScorecards},
		{"GET", "/api/v1/quality/scorecards/{conversation}", AccessSupervisor, s.handleGetScorecard},
		{"PUT", "/api/v1/quality/scorecards/{conversation}/review", AccessSupervisor, s.handleReviewScorecard},
		{"GET", "/api/v1/quality/agreement", AccessSupervisor, s.handleQualityAgreement},
		{"GET", "/api/v1/quality/dashboard", AccessSupervisor, s.handleQualityDashboard},
		{"GET", "/api/v1/quality/config", AccessSupervisor, s.handleGetQualityConfig},
		{"PUT", "/api/v1/quality/config", AccessAdmin, s.handlePutQualityConfig},

		// Workforce management (wfm/plan): planners, then agents.
		{"GET", "/api/v1/wfm/queues/{id}/day", AccessSupervisor, s.handleWFMDay},
		{"POST", "/api/v1/wfm/queues/{id}/schedules", AccessSupervisor, s.handleWFMGenerate},
		{"GET", "/api/v1/wfm/schedules", AccessSupervisor, s.handleWFMListSchedules},
		{"GET", "/api/v1/wfm/schedules/{id}", AccessSupervisor, s.handleWFMGetSchedule},
		{"POST", "/api/v1/wfm/schedules/{id}/publish", AccessSupervisor, s.handleWFMPublish},
		{"GET", "/api/v1/wfm/shifts", AccessSupervisor, s.handleWFMShifts},
		{"POST", "/api/v1/wfm/slots", AccessSupervisor, s.handleWFMOpenSlot},
		{"GET", "/api/v1/wfm/adherence", AccessSupervisor, s.handleWFMAdherence},
		{"GET", "/api/v1/wfm/me", AccessAgent, s.handleWFMMe},
		{"POST", "/api/v1/wfm/slots/{id}/claim", AccessAgent, s.handleWFMClaim},
		{"POST", "/api/v1/wfm/offers/{id}/accept", AccessAgent, s.handleWFMAcceptOffer},
		{"POST", "/api/v1/wfm/offers/{id}/decline", AccessAgent, s.handleWFMDeclineOffer},
		// Workforce management: flexible agents (灵活用工).
		{"GET", "/api/v1/wfm/agents", AccessSupervisor, s.handleWFMListAgents},
		{"PUT", "/api/v1/wfm/agents/{id}", AccessSupervisor, s.handleWFMPutAgent},
		{"PUT", "/api/v1/wfm/me/profile", AccessAgent, s.handleWFMOptIn},
		// WFM events calendar (sales, festivals, launches).
		{"GET", "/api/v1/wfm/events", AccessSupervisor, s.handleWFMEvents},
		{"POST", "/api/v1/wfm/events", AccessSupervisor, s.handleWFMAddEvent},
		{"DELETE", "/api/v1/wfm/events/{id}", AccessSupervisor, s.handleWFMDeleteEvent},
		// Back-pressure: leave a message when a surge limit refused a chat.
		{"POST", CallbackPath, AccessVisitor, s.handleCallback},

		// Intent tags of conversations: training data of the bot.
		{"GET", "/api/v1/bot/intents", AccessAgent, s.handleIntents},
		{"POST", "/api/v1/conversations/{id}/intent", AccessAgent, s.handleTagIntent},
	}
}

// wrap turns a route into an http.Handler: metrics, access log,
// authentication, role check, then the route's handler, whose error is
// written by writeError.
func (s *Server) wrap(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.Clock.Now()
		rec := &statusRecorder{ResponseWriter: w}
		done, err := s.admitVisitorRequest(rt)
		if err == nil {
			defer done()
			r, err = s.authenticate(r, rt)
		}
		if err == nil {
			err = s.rateLimit(r)
		}
		if err == nil {
			err = rt.handle(rec, r)
		}
		if err != nil {
			s.writeError(rec, r, err)
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		d := s.Clock.Now().Sub(start)
		s.metrics.observe(rt.Method, rt.Pattern, status, d)
		s.Logger.LogAttrs(r.Context(), slog.LevelDebug, "http request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("route", rt.Pattern), slog.Int("status", status),
			slog.Duration("duration", d), slog.String("remote", clientIP(r)))
	})
}

// statusRecorder remembers the status written through it. It forwards
// Hijack-free Unwrap so http.ResponseController and WebSocket upgrades work.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap returns the underlying writer for http.ResponseController.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
