// Package router is Starpost's dispatch engine: it decides which agent gets
// which waiting conversation, when an offer has expired, when an agent's work
// must be given back, and where each waiting customer stands in the queue.
//
// The package has two halves. Engine is pure decision logic: it holds the
// working state of any number of workspaces in memory, changes it only
// through Observe of committed events (plus configuration calls), and returns
// Decisions from Decide(now). It does no I/O, starts no goroutines and never
// reads the wall clock. Driver runs an Engine against the real system: it
// rebuilds the state from a starpost.Store, feeds it the events of a
// starpost.EventBus and commits the decisions with Store.Append.
//
// # Rules
//
// Waiting conversations are served in order of queue priority, then
// conversation priority, then longest waiting (since they last entered the
// queue). A conversation may go to an agent who is available, connected,
// has spare capacity on its channel (held and offered conversations count,
// per starpost.User.CapacityFor) and meets every required skill at the
// minimum level of the overflow step in force. Overflow steps accumulate:
// the highest MinLevelDrop so far, the latest AnySite or SiteIDs, and every
// QueueID so far (whose base requirement also qualifies). Steps with
// AfterSeconds 0 are in force from the start, which is how a queue names its
// preferred sites. Among qualifying agents the queue's own agents come
// before overflow queues' agents, then the highest proficiency (the sum of
// the agent's levels in the required skills), then the strategy (least
// occupied, when chosen), then the longest idle (since the agent last got an
// offer or became available).
//
// An offer lapses after the queue's OfferTimeout and goes to the next agent:
// agents who declined or let it lapse get it again only when no one else
// can take it. Offers to agents who stop being available and connected are
// withdrawn. Held work is given back when its agent goes offline, when the
// agent's connection stays down longer than the grace period (it is down
// when its socket closed, or when no node has named the agent in a
// heartbeat for MissedBeats intervals: see liveness.go), or when the
// customer's first unanswered message is older than the queue's
// ReplyTimeout (that agent then comes last for it).
//
// Each waiting customer is told their position in the queue's line on their
// channel and an estimated wait: position × observed average handle time ÷
// the capacity of the ready agents who qualify, rounded up to 10 s, or -1
// when no ready agent qualifies. It is sent only when it changes.
package router

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/starpost/starpost"
)

// Strategy orders agents of equal proficiency.
type Strategy int

const (
	// LongestIdle prefers the agent who has gone longest without receiving
	// work (an offer) or since becoming available.
	LongestIdle Strategy = iota
	// LeastOccupied prefers the agent whose held and offered work fills the
	// smallest share of their total capacity, then the longest idle.
	LeastOccupied
)

// String returns the strategy's name.
func (s Strategy) String() string {
	if s == LeastOccupied {
		return "least_occupied"
	}
	return "longest_idle"
}

// Default option values.
const (
	DefaultGracePeriod       = 60 * time.Second
	DefaultRetryDelay        = 5 * time.Second
	DefaultHandleTime        = 5 * time.Minute
	DefaultResolvedRetention = 24 * time.Hour
)

// Option configures an Engine.
type Option func(*config)

type config struct {
	grace     time.Duration
	retry     time.Duration
	strategy  Strategy
	handle    time.Duration
	retention time.Duration
	statusOff bool
	liveness  time.Duration
}

// WithGracePeriod sets how long an agent whose connection dropped keeps their
// conversations before they are given back (default 60 s).
func WithGracePeriod(d time.Duration) Option { return func(c *config) { c.grace = d } }

// WithRetryDelay sets how long a decision stays in flight: the engine does
// not decide the same thing again until the matching event is observed or
// this delay has passed (default 5 s).
func WithRetryDelay(d time.Duration) Option { return func(c *config) { c.retry = d } }

// WithStrategy sets how agents of equal proficiency are ordered (default
// LongestIdle).
func WithStrategy(s Strategy) Option { return func(c *config) { c.strategy = s } }

// WithDefaultHandleTime sets the handle time assumed for a queue before any
// has been observed; it drives the wait estimate (default 5 min).
func WithDefaultHandleTime(d time.Duration) Option { return func(c *config) { c.handle = d } }

// WithResolvedRetention sets how long a resolved conversation is remembered
// so that a customer's reopening message can be routed without a store read
// (default 24 h). A conversation reopened later is reported by NeedsRestore.
func WithResolvedRetention(d time.Duration) Option { return func(c *config) { c.retention = d } }

// WithoutQueueStatus turns off QueueStatus decisions.
func WithoutQueueStatus() Option { return func(c *config) { c.statusOff = true } }

// Engine is the pure dispatch logic. It is not safe for concurrent use: one
// goroutine (the Driver) owns it.
type Engine struct {
	cfg    config
	ws     map[string]*workspace
	wsList []*workspace // sorted by id, for deterministic output
	timers timerHeap
	tseq   uint64
	// missing holds conversations whose view is unknown or suspect and must
	// be reloaded with Restore.
	missing map[ConversationRef]struct{}
	// unknownUntil ends the liveness window started by AssumeConnected.
	unknownUntil time.Time
}

// ConversationRef names a conversation of a workspace.
type ConversationRef struct {
	WorkspaceID string
	ID          string
}

// NewEngine returns an empty engine.
func NewEngine(opts ...Option) *Engine {
	cfg := config{
		grace:     DefaultGracePeriod,
		retry:     DefaultRetryDelay,
		strategy:  LongestIdle,
		handle:    DefaultHandleTime,
		retention: DefaultResolvedRetention,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.retry <= 0 {
		cfg.retry = DefaultRetryDelay
	}
	if cfg.handle <= 0 {
		cfg.handle = DefaultHandleTime
	}
	return &Engine{cfg: cfg, ws: make(map[string]*workspace), missing: make(map[ConversationRef]struct{})}
}

// nch is the number of channels; chIndex maps a channel to 0..nch-1.
const nch = 4

func chIndex(c starpost.Channel) int {
	switch c {
	case starpost.ChannelChat:
		return 0
	case starpost.ChannelEmail:
		return 1
	case starpost.ChannelVoice:
		return 2
	case starpost.ChannelVideo:
		return 3
	}
	return -1
}

// workspace is the working state of one tenant.
type workspace struct {
	id      string
	agents  map[string]*agent
	queues  map[string]*queue
	qlist   []*queue // sorted by id
	convs   map[string]*conv
	groups  map[string]*group
	dirty   bool     // a routing pass may find a match
	rlist   []*queue // queues with a channel marked for routing
	sdirty  bool     // some queue's status may have changed
	touched []*agent
	// strategy is the engine's, for agents' ordering keys.
	strategy Strategy
	// unknownUntil ends the window in which agents not yet named by a
	// connection signal count as connected (zero: no window, they always
	// do); swept is set once it has passed.
	unknownUntil time.Time
	swept        bool
}

func (e *Engine) workspace(id string) *workspace {
	if w := e.ws[id]; w != nil {
		return w
	}
	w := &workspace{
		id:       id,
		agents:   make(map[string]*agent),
		queues:   make(map[string]*queue),
		convs:    make(map[string]*conv),
		groups:   make(map[string]*group),
		strategy: e.cfg.strategy,
	}
	e.ws[id] = w
	if !e.unknownUntil.IsZero() {
		e.startUnknown(w)
	}
	i, _ := slices.BinarySearchFunc(e.wsList, id, func(x *workspace, id string) int { return cmp.Compare(x.id, id) })
	e.wsList = slices.Insert(e.wsList, i, w)
	return w
}

// agent is the routing view of a user.
type agent struct {
	id         string
	ws         *workspace
	configured bool // SetAgent was called and the user is enabled
	site       string
	skills     map[string]int
	cap        [nch]int
	capTotal   int

	presence       starpost.Presence
	presenceCursor int64
	connected      bool
	disconnectedAt time.Time
	// links are the nodes' reports on the agent's connection; heard is
	// set once there was one; liveAt is when the pending liveness timer
	// falls (see liveness.go).
	links  []link
	heard  bool
	liveAt time.Time

	// load counts held, offered and reserved (offer in flight)
	// conversations per channel.
	load      [nch]int
	loadTotal int
	held      map[string]*conv
	offered   map[string]*conv
	idleSince time.Time
	idleNs    int64 // idleSince in ns, for fast ordering
	// keyDirty is set when the heap ordering key changed since the last
	// reindex.
	keyDirty bool
	handled  int

	members []*member
	isReady bool // value of ready() at the last reindex
	queued  bool // in ws.touched
}

func (a *agent) ready() bool {
	return a.configured && a.presence == starpost.PresenceAvailable && a.connected
}

func (w *workspace) agent(id string) *agent {
	if a := w.agents[id]; a != nil {
		return a
	}
	a := &agent{id: id, ws: w, connected: true, held: make(map[string]*conv), offered: make(map[string]*conv), idleNs: math.MinInt64}
	if w.swept {
		// Known after the liveness window: connected once a node says so.
		a.connected, a.disconnectedAt = false, w.unknownUntil
	}
	w.agents[id] = a
	return a
}

// touch schedules a reindex of a at the end of the current operation.
func (w *workspace) touch(a *agent) {
	if !a.queued {
		a.queued = true
		w.touched = append(w.touched, a)
	}
}

// flush reindexes every touched agent.
func (e *Engine) flush(w *workspace) {
	for _, a := range w.touched {
		a.queued = false
		e.reindex(a)
	}
	w.touched = w.touched[:0]
}

func (a *agent) addLoad(ch, n int) {
	a.load[ch] += n
	a.loadTotal += n
	if a.ws.strategy == LeastOccupied {
		a.keyDirty = true
	}
	a.ws.touch(a)
}

// setIdle records that a was last given work (or became available) at t.
func (a *agent) setIdle(t time.Time) {
	a.idleSince = t
	a.idleNs = math.MinInt64
	if !t.IsZero() {
		a.idleNs = t.UnixNano()
	}
	a.keyDirty = true
}

// SetAgent adds or updates an agent's routing profile: site, skills and
// capacity per channel. Any user may take conversations (a supervisor who
// goes available is routed to like an agent); presence decides who is
// offered work. A disabled user is never offered work. Presence and load are
// kept across updates.
func (e *Engine) SetAgent(u *starpost.User) {
	w := e.workspace(u.WorkspaceID)
	a := w.agent(u.ID)
	a.configured = !u.Disabled
	a.site = u.SiteID
	a.skills = make(map[string]int, len(u.Skills))
	for _, s := range u.Skills {
		a.skills[s.SkillID] = s.Level
	}
	a.capTotal = 0
	for _, c := range starpost.Channels {
		i := chIndex(c)
		a.cap[i] = u.CapacityFor(c)
		a.capTotal += a.cap[i]
	}
	e.rejoin(w, a)
	e.flush(w)
	if !a.configured {
		e.checkAgentSoon(a) // withdraw open offers
	}
}

// RemoveAgent forgets an agent's routing profile: they are offered nothing
// more. Conversations they hold stay theirs until events say otherwise.
func (e *Engine) RemoveAgent(workspaceID, agentID string) {
	w := e.ws[workspaceID]
	if w == nil {
		return
	}
	a := w.agents[agentID]
	if a == nil {
		return
	}
	a.configured = false
	e.leaveGroups(a)
	e.reindex(a)
	e.checkAgentSoon(a)
	if len(a.held) == 0 && len(a.offered) == 0 && a.loadTotal == 0 {
		delete(w.agents, agentID)
	}
}

// SetPresence sets an agent's presence as read from the store when the
// state is rebuilt; later changes arrive as presence events.
func (e *Engine) SetPresence(workspaceID string, p starpost.AgentPresence) {
	w := e.workspace(workspaceID)
	a := w.agent(p.AgentID)
	e.setPresence(a, p.Presence, p.Since)
	e.flush(w)
}

// SetConnected sets whether an agent's realtime connection is up, as an
// unordered report that never lapses; connection signals (Observe) carry
// the nodes' reports. Agents not reported on are assumed connected, or,
// after AssumeConnected, for the liveness window.
func (e *Engine) SetConnected(workspaceID, agentID string, connected bool, at time.Time) {
	w := e.workspace(workspaceID)
	e.signal(w.agent(agentID), "", 0, connected, 0, at)
	e.flush(w)
}

func (e *Engine) setPresence(a *agent, p starpost.Presence, at time.Time) {
	if a.presence == p {
		return
	}
	a.presence = p
	if p == starpost.PresenceAvailable {
		a.setIdle(at)
	}
	a.ws.touch(a)
	e.checkAgentSoon(a)
}

func (e *Engine) setConnected(a *agent, up bool, at time.Time) {
	if a.connected == up {
		return
	}
	a.connected = up
	if up {
		a.disconnectedAt = time.Time{}
	} else {
		a.disconnectedAt = at
		e.pushTimer(at.Add(e.cfg.grace), a.ws, nil, a)
	}
	a.ws.touch(a)
	e.checkAgentSoon(a)
}

// SetQueue adds or updates a queue's routing configuration.
func (e *Engine) SetQueue(q *starpost.Queue) {
	w := e.workspace(q.WorkspaceID)
	cp := *q
	qq := e.queueFor(w, q.ID)
	qq.cfg = &cp
	e.rebuildQueues(w)
	// Reply timeouts may have changed: look at held conversations again.
	for _, c := range w.convs {
		if c.queue == qq && c.state.HeldByAgent() {
			e.pushReplyTimer(c)
		}
	}
	e.flush(w)
	for _, q := range w.qlist {
		for ch := range nch {
			q.markRoute(ch)
		}
		q.sdirty = true
	}
	w.sdirty = true
}

// HasQueue reports whether SetQueue configured the queue.
func (e *Engine) HasQueue(workspaceID, queueID string) bool {
	w := e.ws[workspaceID]
	return w != nil && w.queues[queueID] != nil && w.queues[queueID].cfg != nil
}

// AgentView is a read-only snapshot of an agent's routing state.
type AgentView struct {
	ID         string
	Configured bool
	Presence   starpost.Presence
	Connected  bool
	// Load counts held, offered and reserved conversations per channel.
	Load      map[starpost.Channel]int
	Capacity  map[starpost.Channel]int
	Held      []string
	Offered   []string
	IdleSince time.Time
	Handled   int
}

// Agent returns a snapshot of an agent's routing state.
func (e *Engine) Agent(workspaceID, agentID string) (AgentView, bool) {
	w := e.ws[workspaceID]
	if w == nil || w.agents[agentID] == nil {
		return AgentView{}, false
	}
	a := w.agents[agentID]
	v := AgentView{
		ID: a.id, Configured: a.configured, Presence: a.presence, Connected: a.connected,
		Load: map[starpost.Channel]int{}, Capacity: map[starpost.Channel]int{},
		IdleSince: a.idleSince, Handled: a.handled,
	}
	for _, c := range starpost.Channels {
		v.Load[c], v.Capacity[c] = a.load[chIndex(c)], a.cap[chIndex(c)]
	}
	for id := range a.held {
		v.Held = append(v.Held, id)
	}
	for id := range a.offered {
		v.Offered = append(v.Offered, id)
	}
	slices.Sort(v.Held)
	slices.Sort(v.Offered)
	return v, true
}

// ConversationView is a read-only snapshot of a conversation as the engine
// sees it.
type ConversationView struct {
	ID        string
	QueueID   string
	Channel   starpost.Channel
	Priority  int
	State     starpost.State
	AgentID   string
	OfferedTo string
	QueuedAt  time.Time
	LastSeq   int64
	// Excluded lists agents who declined or let an offer expire since the
	// conversation last entered its queue.
	Excluded []string
	// InFlight is true while a decision about the conversation awaits its
	// event.
	InFlight bool
}

// Conversation returns a snapshot of a conversation the engine tracks: every
// open conversation, and resolved ones for a while.
func (e *Engine) Conversation(workspaceID, id string) (ConversationView, bool) {
	w := e.ws[workspaceID]
	if w == nil || w.convs[id] == nil {
		return ConversationView{}, false
	}
	c := w.convs[id]
	return ConversationView{
		ID: c.id, QueueID: c.queue.id, Channel: starpost.Channels[c.ch], Priority: c.prio,
		State: c.state, AgentID: c.agent, OfferedTo: c.offeredTo, QueuedAt: c.queuedAt,
		LastSeq: c.lastSeq, Excluded: slices.Clone(c.excluded), InFlight: c.mark != nil,
	}, true
}

// Conversations returns the ids of the conversations the engine tracks in a
// workspace, sorted.
func (e *Engine) Conversations(workspaceID string) []string {
	w := e.ws[workspaceID]
	if w == nil {
		return nil
	}
	ids := make([]string, 0, len(w.convs))
	for id := range w.convs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Waiting returns the ids of a queue's waiting conversations on a channel,
// in queue order.
func (e *Engine) Waiting(workspaceID, queueID string, ch starpost.Channel) []string {
	w := e.ws[workspaceID]
	i := chIndex(ch)
	if w == nil || w.queues[queueID] == nil || i < 0 {
		return nil
	}
	var ids []string
	for _, c := range w.queues[queueID].wait[i] {
		ids = append(ids, c.id)
	}
	return ids
}

// NeedsRestore returns, and forgets, the conversations whose view is unknown
// or suspect (an event arrived for a conversation the engine does not know,
// or a gap in a conversation's seq was seen). The caller reads each one from
// the store and passes it to Restore.
func (e *Engine) NeedsRestore() []ConversationRef {
	if len(e.missing) == 0 {
		return nil
	}
	out := make([]ConversationRef, 0, len(e.missing))
	for r := range e.missing {
		out = append(out, r)
	}
	clear(e.missing)
	slices.SortFunc(out, func(a, b ConversationRef) int {
		return cmp.Or(cmp.Compare(a.WorkspaceID, b.WorkspaceID), cmp.Compare(a.ID, b.ID))
	})
	return out
}
