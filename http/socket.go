package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/stream"
)

// Frame is one JSON message on a WebSocket, in either direction.
//
// The server sends {"type":"event","event":{...}} for each event,
// {"type":"ack","idempotency_key":"...","event":{...}} once a client's
// message is committed, and {"type":"error","idempotency_key":"...",
// "error":{...}} when it is refused. Clients send {"type":"message",
// "conversation_id","text","idempotency_key"} and {"type":"typing",
// "conversation_id"}.
type Frame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id,omitempty"`
	Text           string `json:"text,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// Attachments of a client's message: ids of files uploaded into the
	// conversation (POST .../attachments).
	Attachments []starpost.Attachment `json:"attachments,omitempty"`
	Event       *starpost.Event       `json:"event,omitempty"`
	Error       *ErrorBody            `json:"error,omitempty"`
}

// socket is one WebSocket connection being served.
//
// An idle socket has one goroutine, reading the client's frames (the HTTP
// handler hands the socket to it and returns). The stream and the writes
// run in goroutines of their own only while they have work (see onDemand):
// the bus wakes the stream's poller when an event for the socket arrives,
// the poller queues frames in the outbox, the outbox wakes the writer.
// Pings run on a timer of the socket.
type socket struct {
	s      *Server
	conn   *websocket.Conn
	kind   string // "agent" or "visitor", for metrics
	out    outbox
	ctx    context.Context // ends with the socket
	cancel context.CancelFunc
	once   sync.Once
	slow   bool

	st     *stream.Stream
	view   func(*starpost.Event) *starpost.Event
	poller onDemand // passes the stream's events to the outbox
	writer onDemand // writes the outbox
	pingMu sync.Mutex
	ping   *time.Timer // nil once the socket ends

	release func() // the socket's admission (admitSocket)
	started bool   // the handler handed the socket to its own goroutine

	// Exactly one of p and v is set.
	p *starpost.Principal
	v *visitorClaims

	allowed map[string]bool // conversations this socket may type into
}

func cursorParam(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("cursor")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, starpost.FieldError("cursor", "must be an integer ≥ 0")
	}
	return n, nil
}

// handleStream serves the WebSocket of a signed-in user or API token.
func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	after, err := cursorParam(r)
	if err != nil {
		return err
	}
	release, _ := s.admitSocket(false)
	sk := &socket{s: s, kind: "agent", p: p, allowed: map[string]bool{}, release: release}
	defer sk.abandon()
	view := &agentView{p: p, convSet: convSet{convs: map[string]bool{}}}
	q := stream.Query{WorkspaceID: p.WorkspaceID, AfterCursor: after, Match: view.match, Wake: sk.poller.kick}
	list := func(ctx context.Context) ([]string, error) {
		cs, err := s.agentConversations(ctx, p, starpost.ConversationFilter{Open: true})
		if err != nil {
			return nil, err
		}
		return conversationIDs(cs), nil
	}
	if !seesWorkspace(p) {
		// The bus hub sends this stream only the agent's conversations and
		// the events naming the agent, not every event of the workspace.
		q.Interest = &stream.Interest{Participants: []string{p.UserID}, Conversations: view.loader(list)}
	}
	st, err := stream.Open(r.Context(), s.Store, s.Bus, q)
	if err != nil {
		s.Logger.WarnContext(r.Context(), "open stream", slog.Any("err", err))
		return starpost.Errorf(starpost.EUNAVAILABLE, "stream unavailable")
	}
	sk.st = st
	if !seesWorkspace(p) {
		if err := view.load(r.Context(), list); err != nil {
			return err
		}
		view.unfollow = st.Unfollow
	}
	conn, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{OriginPatterns: s.OriginPatterns})
	if err != nil {
		return nil // Accept has written the response
	}
	sk.conn = conn
	sk.start(r, func(e *starpost.Event) *starpost.Event { return e })
	return nil
}

// handleWidgetStream serves a visitor's WebSocket: their own conversations,
// customer-visible kinds only.
func (s *Server) handleWidgetStream(w http.ResponseWriter, r *http.Request) error {
	v := visitorFromContext(r.Context())
	after, err := cursorParam(r)
	if err != nil {
		return err
	}
	release, err := s.admitSocket(true)
	if err != nil {
		return err
	}
	sk := &socket{s: s, kind: "visitor", v: v, allowed: map[string]bool{}, release: release}
	defer sk.abandon()
	view := &visitorView{v: v, convSet: convSet{convs: map[string]bool{}}}
	var queued []string // the visitor's conversations waiting in a queue
	list := func(ctx context.Context) ([]string, error) {
		cs, err := s.Store.ListConversations(ctx, starpost.ConversationFilter{WorkspaceID: v.WorkspaceID, ContactID: v.ContactID})
		if err != nil {
			return nil, err
		}
		ids := make([]string, 0, len(cs))
		queued = queued[:0]
		for _, c := range cs {
			if c.ContactID == v.ContactID {
				ids = append(ids, c.ID)
				if c.State == starpost.StateQueued {
					queued = append(queued, c.ID)
				}
			}
		}
		return ids, nil
	}
	// The bus hub sends this stream only the visitor's conversations and
	// the conversations created for the visitor.
	st, err := stream.Open(r.Context(), s.Store, s.Bus, stream.Query{WorkspaceID: v.WorkspaceID, AfterCursor: after, Match: view.match,
		Interest: &stream.Interest{Participants: []string{v.ContactID}, Conversations: view.loader(list)}, Wake: sk.poller.kick})
	if err != nil {
		s.Logger.WarnContext(r.Context(), "open stream", slog.Any("err", err))
		return starpost.Errorf(starpost.EUNAVAILABLE, "stream unavailable")
	}
	sk.st = st
	if err := view.load(r.Context(), list); err != nil {
		return err
	}
	s.requestQueueStatus(r.Context(), v, queued)
	// Visitors authenticate with a token, never a cookie, and the widget is
	// embedded in other sites' pages: any origin may connect.
	conn, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return nil
	}
	sk.conn = conn
	sk.start(r, func(e *starpost.Event) *starpost.Event { return visitorEvent(e, v.ContactID) })
	return nil
}

// abandon releases what a WebSocket handler acquired (the admission, the
// stream) when it returns without starting the socket.
func (sk *socket) abandon() {
	if sk.started {
		return
	}
	if sk.st != nil {
		sk.st.Close()
	}
	sk.release()
}

// start runs the accepted socket in a goroutine of its own and returns, so
// that the handler's goroutine ends: its stack, grown deep by the work of
// opening the stream, and the request are freed, and an idle socket keeps
// only its reading goroutine, whose stack is shallow. The socket's context
// keeps the request's values; it ends when the http.Server shuts down
// (Shutdown does not track hijacked connections) instead of when the
// handler returns.
func (sk *socket) start(r *http.Request, view func(*starpost.Event) *starpost.Event) {
	s := sk.s
	sk.started = true
	ctx, stop := s.socketContext(r)
	s.open.Add(1)
	if p := sk.p; p != nil && p.UserID != "" {
		s.connection(ctx, p, true)
	}
	go func() {
		defer s.open.Done()
		defer sk.release()
		if p := sk.p; p != nil && p.UserID != "" {
			defer s.connection(ctx, p, false)
		}
		sk.serve(ctx, stop, view)
	}()
}

// socketContext returns the context of a WebSocket served beyond its
// handler: the request's values, cancelled when the http.Server serving the
// request shuts down, or by stop.
func (s *Server) socketContext(r *http.Request) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	hs, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if hs == nil {
		return ctx, cancel
	}
	s.sockMu.Lock()
	down := s.shutdowns[hs]
	if down == nil {
		if s.shutdowns == nil {
			s.shutdowns = map[*http.Server]context.Context{}
		}
		var shut context.CancelFunc
		down, shut = context.WithCancel(context.Background())
		s.shutdowns[hs] = down
		hs.RegisterOnShutdown(func() {
			s.sockMu.Lock()
			delete(s.shutdowns, hs)
			s.sockMu.Unlock()
			shut()
		})
	}
	s.sockMu.Unlock()
	unhook := context.AfterFunc(down, cancel)
	return ctx, func() { unhook(); cancel() }
}

// serve runs the socket until the client goes, the server shuts down, the
// stream ends, or the client reads too slowly; cancel ends ctx, the
// socket's. The stream (sk.st) must have been opened with the poller's kick
// as its Wake.
func (sk *socket) serve(ctx context.Context, cancel context.CancelFunc, view func(*starpost.Event) *starpost.Event) {
	s, st := sk.s, sk.st
	sk.ctx, sk.cancel, sk.view = ctx, cancel, view
	defer cancel()
	sk.out = outbox{max: s.limits.StreamQueue, notify: sk.writer.kick}
	sk.conn.SetReadLimit(s.limits.MaxFrameBytes)
	s.metrics.sockets.WithLabelValues(sk.kind).Inc()
	defer s.metrics.sockets.WithLabelValues(sk.kind).Dec()

	sk.poller.start(sk.poll)
	sk.writer.start(sk.write)
	sk.pingMu.Lock()
	sk.ping = time.AfterFunc(s.limits.PingInterval, sk.pingClient)
	sk.pingMu.Unlock()
	sk.poller.kick() // the replay's first page, and whatever woke it already

	sk.readLoop(sk.ctx)

	sk.cancel()
	sk.pingMu.Lock()
	sk.ping.Stop()
	sk.ping = nil
	sk.pingMu.Unlock()
	st.Close()
	sk.poller.stop()
	sk.writer.stop()
	if sk.slow {
		s.metrics.dropped.Inc()
		_ = sk.conn.Close(websocket.StatusTryAgainLater, "too slow: reconnect with your last cursor")
	} else {
		_ = sk.conn.Close(websocket.StatusNormalClosure, "")
	}
}

// poll passes the events the stream has ready to the outbox (the poller's
// work); an error ends the socket.
func (sk *socket) poll() {
	for sk.ctx.Err() == nil {
		e, err := sk.st.Poll(sk.ctx)
		if err != nil {
			if sk.ctx.Err() == nil {
				sk.s.Logger.DebugContext(sk.ctx, "stream ended", slog.Any("err", err))
			}
			sk.cancel()
			return
		}
		if e == nil || sk.send(Frame{Type: "event", Event: sk.view(e)}) != nil {
			return
		}
	}
}

// write writes the queued frames in order (the writer's work); a failed
// write ends the socket.
func (sk *socket) write() {
	for {
		q := sk.out.take()
		if q == nil {
			return
		}
		for _, b := range q {
			wctx, cancel := context.WithTimeout(sk.ctx, sk.s.limits.WriteTimeout)
			err := sk.conn.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				sk.cancel()
				return
			}
		}
	}
}

// pingClient pings the client (on the socket's timer, in the timer's own
// goroutine) and schedules the next ping; a client that does not answer
// within the write timeout is gone, and the socket ends.
func (sk *socket) pingClient() {
	lim := sk.s.limits
	pctx, cancel := context.WithTimeout(sk.ctx, lim.WriteTimeout)
	err := sk.conn.Ping(pctx)
	cancel()
	if err != nil {
		sk.cancel()
		return
	}
	sk.pingMu.Lock()
	if sk.ping != nil {
		sk.ping.Reset(lim.PingInterval)
	}
	sk.pingMu.Unlock()
}

// send queues a frame without blocking; a full queue means the client reads
// too slowly, and it is disconnected to resume later from its cursor.
func (sk *socket) send(f Frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if sk.out.push(b) {
		return nil
	}
	sk.once.Do(func() { sk.slow = true; sk.cancel() })
	return errors.New("slow client")
}

// outbox is a socket's queue of frames to write, bounded by max. Unlike a
// buffered channel it holds no memory while empty: most sockets of a surge
// are idle, and a 256-slot channel each was a fifth of their heap.
type outbox struct {
	mu     sync.Mutex
	q      [][]byte
	max    int
	notify func() // called after each push: there is something to write
}

// push queues b, or reports false when max frames already wait.
func (o *outbox) push(b []byte) bool {
	o.mu.Lock()
	if len(o.q) >= o.max {
		o.mu.Unlock()
		return false
	}
	o.q = append(o.q, b)
	o.mu.Unlock()
	if o.notify != nil {
		o.notify()
	}
	return true
}

// take returns the queued frames in order and empties the queue.
func (o *outbox) take() [][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	q := o.q
	o.q = nil
	return q
}

// onDemand runs a function in a goroutine of its own only while there is
// work for it, instead of a goroutine per socket waiting for work: kick
// starts the goroutine, or, when it is running, makes it run the function
// once more when it returns, so that work queued while it ran is never
// left behind. One run at a time; successive runs happen one after the
// other. The zero value ignores kicks until start.
type onDemand struct {
	mu      sync.Mutex
	run     func()
	running bool
	again   bool
	stopped bool
	wg      sync.WaitGroup
}

// start sets the function; kicks before it are remembered.
func (d *onDemand) start(run func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.run = run
	if d.again && !d.stopped {
		d.again, d.running = false, true
		d.wg.Add(1)
		go d.loop()
	}
}

// kick makes the function run soon. It never blocks.
func (d *onDemand) kick() {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.stopped:
	case d.running || d.run == nil:
		d.again = true
	default:
		d.running = true
		d.wg.Add(1)
		go d.loop()
	}
}

func (d *onDemand) loop() {
	defer d.wg.Done()
	for {
		d.run()
		d.mu.Lock()
		if !d.again || d.stopped {
			d.running = false
			d.mu.Unlock()
			return
		}
		d.again = false
		d.mu.Unlock()
	}
}

// stop ignores later kicks and waits for a running function to return.
func (d *onDemand) stop() {
	d.mu.Lock()
	d.stopped = true
	d.mu.Unlock()
	d.wg.Wait()
}

func (sk *socket) readLoop(ctx context.Context) {
	for {
		typ, b, err := sk.conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			sk.reply(Frame{Type: "error", Error: &ErrorBody{Code: starpost.EINVALID, Message: "frames must be JSON text"}})
			continue
		}
		sk.handleFrame(ctx, b)
	}
}

func (sk *socket) reply(f Frame) { _ = sk.send(f) }

func (sk *socket) replyError(key string, err error) {
	code := starpost.ErrorCode(err)
	if code == starpost.EINTERNAL {
		sk.s.Logger.Error("websocket frame", slog.Any("err", err))
	}
	sk.reply(Frame{Type: "error", IdempotencyKey: key, Error: &ErrorBody{
		Code: code, Message: starpost.ErrorMessage(err), Field: starpost.ErrorField(err)}})
}

// handleFrame handles one client frame: a message is acked only after it
// is committed; typing becomes an ephemeral bus signal.
func (sk *socket) handleFrame(ctx context.Context, b []byte) {
	var f Frame
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		sk.replyError("", decodeError(err))
		return
	}
	if f.Event != nil || f.Error != nil {
		sk.replyError(f.IdempotencyKey, starpost.FieldError("type", "clients send message or typing frames"))
		return
	}
	switch f.Type {
	case "message":
		var e *starpost.Event
		var err error
		body := starpost.MessageBody{Text: f.Text, Attachments: f.Attachments}
		if sk.v != nil {
			if err := sk.s.allowVisitor(sk.v, sk.s.Clock.Now()); err != nil {
				sk.replyError(f.IdempotencyKey, err)
				return
			}
			e, err = sk.s.visitorMessage(ctx, sk.v, f.ConversationID, body, f.IdempotencyKey, sk.allowed[f.ConversationID])
		} else {
			e, err = sk.s.postMessage(ctx, sk.p, f.ConversationID, starpost.KindMessage, body, f.IdempotencyKey)
		}
		if err != nil {
			sk.replyError(f.IdempotencyKey, err)
			return
		}
		sk.allowed[f.ConversationID] = true
		sk.reply(Frame{Type: "ack", IdempotencyKey: f.IdempotencyKey, Event: e})
	case "typing":
		if err := sk.typing(ctx, f.ConversationID); err != nil {
			sk.replyError("", err)
		}
	default:
		sk.replyError(f.IdempotencyKey, starpost.FieldError("type", "must be message or typing"))
	}
}

func (sk *socket) typing(ctx context.Context, convID string) error {
	if convID == "" {
		return starpost.FieldError("conversation_id", "required")
	}
	var ws string
	var actor starpost.Actor
	if sk.v != nil {
		ws, actor = sk.v.WorkspaceID, starpost.Actor{Role: starpost.RoleCustomer, ID: sk.v.ContactID}
		if !sk.allowed[convID] {
			if _, err := sk.s.findVisitorConversation(ctx, sk.v, convID); err != nil {
				return err
			}
		}
	} else {
		ws = sk.p.WorkspaceID
		c, err := sk.s.findConversation(ctx, sk.p, convID)
		if err != nil {
			return err
		}
		if actor, err = actorIn(sk.p, c, starpost.KindMessage); err != nil {
			return err
		}
	}
	sk.allowed[convID] = true
	e := &starpost.Event{WorkspaceID: ws, ConversationID: convID, Kind: starpost.KindTyping, Actor: actor, At: sk.s.Clock.Now()}
	if err := sk.s.Bus.Publish(ctx, e); err != nil {
		return starpost.Errorf(starpost.EUNAVAILABLE, "typing signal not sent")
	}
	return nil
}

// convSet is the set of conversations a view shows, loaded once: when the
// stream subscribes (after the subscription exists, so that nothing joined
// in between is missed) or, on a bus that does not filter, right after the
// stream opens. It is used only by the stream's goroutine (Interest
// callbacks and Match run there); the bus hub keeps its own index.
type convSet struct {
	convs  map[string]bool
	loaded bool
}

// loader wraps list for stream.Interest.Conversations: the first call also
// loads the set; later ones (after a resubscription) only tell the hub,
// since the set is already right as of the stream's cursor.
func (cs *convSet) loader(list func(context.Context) ([]string, error)) func(context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		ids, err := list(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the stream's conversations: %w", err)
		}
		if !cs.loaded {
			cs.add(ids)
		}
		return ids, nil
	}
}

// load loads the set with list unless the stream's subscription did.
func (cs *convSet) load(ctx context.Context, list func(context.Context) ([]string, error)) error {
	if cs.loaded {
		return nil
	}
	ids, err := list(ctx)
	if err != nil {
		return fmt.Errorf("list the stream's conversations: %w", err)
	}
	cs.add(ids)
	return nil
}

func (cs *convSet) add(ids []string) {
	for _, id := range ids {
		cs.convs[id] = true
	}
	cs.loaded = true
}

func conversationIDs(cs []*starpost.Conversation) []string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

// agentView decides which events a signed-in user's stream shows.
// Supervisors, admins and API tokens see the whole workspace (but not the
// router's connection signals); an agent sees the conversations they hold
// or are offered and their own presence.
//
// For an agent the bus hub pre-filters by the same rules (stream.Interest):
// the events naming the agent bring their conversation in, and the view
// tells the hub through unfollow when a conversation leaves.
type agentView struct {
	p *starpost.Principal
	convSet
	unfollow func(conversationID string) // nil until the stream is open
}

func (v *agentView) match(e *starpost.Event) bool {
	if e.Kind == starpost.KindConnection {
		return false // the router's liveness signals (liveness.go), not for clients
	}
	if seesWorkspace(v.p) {
		return true
	}
	me := v.p.UserID
	if e.ConversationID == "" {
		return e.Kind == starpost.KindPresence && e.Actor.ID == me
	}
	// Joining: an offer to me, an assignment to me, a transfer to me.
	// Leaving (after this event is shown): my offer ended, I was unassigned,
	// someone else got it, it moved on, it closed.
	id := e.ConversationID
	leave := false
	switch e.Kind {
	case starpost.KindOffer:
		var b starpost.OfferBody
		if e.DecodeBody(&b) == nil && b.AgentID == me {
			v.convs[id] = true
		}
	case starpost.KindOfferEnd:
		var b starpost.OfferEndBody
		leave = e.DecodeBody(&b) == nil && b.AgentID == me
	case starpost.KindUnassigned:
		var b starpost.UnassignedBody
		leave = e.DecodeBody(&b) == nil && b.AgentID == me
	case starpost.KindAssigned:
		var b starpost.AssignedBody
		if e.DecodeBody(&b) == nil && b.AgentID == me {
			v.convs[id] = true
		} else {
			leave = true
		}
	case starpost.KindTransferred:
		var b starpost.TransferBody
		if e.DecodeBody(&b) == nil && b.ToAgentID == me {
			v.convs[id] = true
		} else {
			leave = true
		}
	case starpost.KindState:
		var b starpost.StateBody
		leave = e.DecodeBody(&b) == nil && b.State == starpost.StateClosed
	}
	visible := v.convs[id]
	if leave {
		delete(v.convs, id)
		if v.unfollow != nil {
			v.unfollow(id)
		}
	}
	return visible
}

// visitorView decides which events a visitor's stream shows: customer-
// visible kinds of the visitor's own conversations.
type visitorView struct {
	v *visitorClaims
	convSet
}

func (v *visitorView) match(e *starpost.Event) bool {
	if e.WorkspaceID != v.v.WorkspaceID || e.ConversationID == "" {
		return false
	}
	if e.Kind == starpost.KindCreated && createdFor(e, v.v.ContactID) {
		v.convs[e.ConversationID] = true
	}
	return v.convs[e.ConversationID] && visitorVisible(e)
}
