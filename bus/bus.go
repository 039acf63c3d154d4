// Package bus carries Starpost events between nodes over NATS.
//
// A *Bus implements starpost.EventBus. By default it starts an embedded
// nats-server inside the process and talks to it through an in-process
// connection (no socket); Options.Listen additionally opens a TCP listener so
// other nodes or processes can connect, and Options.URL connects to an
// external NATS server or cluster instead.
//
// Events travel as JSON on the subject "starpost.ev.<workspaceID>". Each node
// holds exactly one NATS subscription, on "starpost.ev.>", which feeds an
// in-process hub. The hub puts the committed events of every workspace into
// cursor order, drops duplicates and fills gaps from the store (see
// Options.Store), then fans them out to the node's local subscribers through
// bounded channels. A subscriber that falls behind is closed rather than
// allowed to block the others; it resumes from its last cursor by reading the
// store (package stream does this transparently).
//
// A subscription of one workspace may be filtered at the hub
// (SubscribeFiltered): the hub indexes such subscriptions by the
// conversations they follow and the participants they stand for, so that an
// event costs one map lookup and wakes only the subscribers that may want
// it, instead of a channel send and a wake-up for every local subscriber of
// the workspace.
package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/starpost/starpost"
)

// SubjectPrefix is the prefix of every event subject; the workspace ID
// follows it.
const SubjectPrefix = "starpost.ev."

// Defaults for the zero values of Options.
const (
	DefaultSubscriberBuffer = 256
	DefaultWideBufferFactor = 16
	DefaultPendingMsgs      = 1 << 16
	DefaultPendingBytes     = 256 << 20
	DefaultGapDelay         = 250 * time.Millisecond
	DefaultBaselineDelay    = 50 * time.Millisecond
	DefaultMaxHeld          = 4096
	DefaultFlushTimeout     = 5 * time.Second
	DefaultStoreTimeout     = 10 * time.Second
	DefaultDrainTimeout     = 10 * time.Second
	DefaultTailCheck        = 5 * time.Second
)

// Errors reported by a closed subscription's Err method and by a closed bus.
var (
	// ErrSlowConsumer closes a subscription whose buffer was full when an
	// event had to be delivered. The subscriber must resume from its last
	// cursor by reading the store.
	ErrSlowConsumer = starpost.Errorf(starpost.EUNAVAILABLE, "event subscriber fell behind")
	// ErrClosed is returned by a closed bus and reported by subscriptions
	// that were closed by their owner or by the bus shutting down.
	ErrClosed = starpost.Errorf(starpost.EUNAVAILABLE, "event bus closed")
)

// Options configure a Bus. The zero value starts an embedded, in-process
// only NATS server with default buffer sizes.
type Options struct {
	// URL of an external NATS server or cluster ("nats://host:4222", comma
	// separated for several). Empty starts an embedded server.
	URL string
	// Listen is the TCP address ("127.0.0.1:0", ":4222") on which the
	// embedded server accepts other nodes and processes. Empty keeps the
	// embedded server in-process only. Ignored when URL is set.
	Listen string
	// JetStreamDir, when set, enables JetStream in the embedded server and
	// keeps its data in this directory (for NATS KV leases and the like).
	JetStreamDir string
	// Name names this node on the NATS connection and the embedded server.
	Name string
	// Logger receives warnings (gaps that could not be filled, slow
	// subscribers, connection trouble). Nil discards them.
	Logger *slog.Logger
	// Store is read to fill gaps in the committed events of a workspace. Nil
	// disables gap filling: a missing range is skipped with a warning after
	// GapDelay.
	Store starpost.ConversationService

	// SubscriberBuffer is the channel capacity of each local subscription
	// (8 bytes an event: 256 is 2 KiB per WebSocket stream).
	SubscriberBuffer int
	// WideBuffer is the channel capacity of each subscription to every
	// workspace (engines such as the router): it receives the events of
	// all workspaces, in bursts as large as a group commit, so it gets
	// more room than one WebSocket's stream. 0 means
	// DefaultWideBufferFactor × SubscriberBuffer.
	WideBuffer int
	// PendingMsgs and PendingBytes bound what the NATS client buffers for
	// the node subscription before it drops messages as a slow consumer
	// (dropped committed events are then filled from the store).
	PendingMsgs  int
	PendingBytes int
	// GapDelay is how long the hub waits for missing events to arrive over
	// NATS before reading them from the store.
	GapDelay time.Duration
	// BaselineDelay is how long the hub holds the first committed events it
	// sees of a workspace before it takes the lowest as the workspace's
	// starting point, so that two publications that crossed right then are
	// still delivered in order. It delays only the first event of each
	// workspace after the node starts. Negative takes the first event at
	// once.
	BaselineDelay time.Duration
	// MaxHeld is how many out-of-order events a workspace may hold before
	// the hub reads the store at once instead of waiting for GapDelay.
	MaxHeld int
	// FlushTimeout bounds Publish when its context has no deadline.
	FlushTimeout time.Duration
	// StoreTimeout bounds each gap-filling read of the store.
	StoreTimeout time.Duration
	// DrainTimeout bounds Close.
	DrainTimeout time.Duration
	// TailCheck is how often the hub asks the store for each known
	// workspace's last cursor, so that a committed event whose publication
	// was lost is delivered even when no later event reveals the gap: a
	// cursor the store reported one check ago and the hub has still not
	// delivered is read from the store. Negative disables the check; it
	// needs Store.
	TailCheck time.Duration
}

func (o *Options) setDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Name == "" {
		o.Name = "starpost"
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.SubscriberBuffer, DefaultSubscriberBuffer)
	def(&o.WideBuffer, DefaultWideBufferFactor*o.SubscriberBuffer)
	def(&o.PendingMsgs, DefaultPendingMsgs)
	def(&o.PendingBytes, DefaultPendingBytes)
	def(&o.MaxHeld, DefaultMaxHeld)
	defd(&o.GapDelay, DefaultGapDelay)
	if o.BaselineDelay == 0 {
		o.BaselineDelay = DefaultBaselineDelay
	}
	defd(&o.FlushTimeout, DefaultFlushTimeout)
	defd(&o.StoreTimeout, DefaultStoreTimeout)
	defd(&o.DrainTimeout, DefaultDrainTimeout)
	if o.TailCheck == 0 {
		o.TailCheck = DefaultTailCheck
	}
}

// Bus is a starpost.EventBus over NATS. It is safe for concurrent use.
type Bus struct {
	opts   Options
	log    *slog.Logger
	srv    *server.Server // nil when connected to an external server
	nc     *nats.Conn
	sub    *nats.Subscription
	hub    *hub
	closed chan struct{} // closed by the NATS client once the connection is closed

	closeOnce sync.Once
	closeErr  error
}

var _ starpost.EventBus = (*Bus)(nil)

// Open starts the bus: it starts the embedded server (unless opts.URL is
// set), connects, and subscribes the node to every workspace's events.
// Events published anywhere after Open returns reach this node.
func Open(ctx context.Context, opts Options) (*Bus, error) {
	opts.setDefaults()
	b := &Bus{opts: opts, log: opts.Logger, closed: make(chan struct{})}

	url := opts.URL
	natsOpts := []nats.Option{
		nats.Name(opts.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.DrainTimeout(opts.DrainTimeout),
		nats.ClosedHandler(func(*nats.Conn) { close(b.closed) }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			// Slow consumer drops land here; the hub fills the committed
			// events they lose from the store.
			b.log.Warn("nats async error", "err", err)
		}),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
			// Events published while we were away are lost to us: read them.
			b.hub.catchUp()
		}),
	}
	if url == "" {
		srv, err := startServer(ctx, opts, b.log)
		if err != nil {
			return nil, err
		}
		b.srv = srv
		natsOpts = append(natsOpts, nats.InProcessServer(srv))
	}

	b.hub = newHub(opts, b.log)
	nc, err := nats.Connect(url, natsOpts...)
	if err != nil {
		b.shutdownServer()
		return nil, fmt.Errorf("bus: connect to nats %q: %w", url, err)
	}
	b.nc = nc

	sub, err := nc.Subscribe(SubjectPrefix+">", b.receive)
	if err == nil {
		err = sub.SetPendingLimits(opts.PendingMsgs, opts.PendingBytes)
	}
	if err == nil {
		fctx, cancel := context.WithTimeout(ctx, opts.FlushTimeout)
		err = nc.FlushWithContext(fctx) // the server knows our interest before Open returns
		cancel()
	}
	if err != nil {
		nc.Close()
		b.shutdownServer()
		return nil, fmt.Errorf("bus: subscribe %s>: %w", SubjectPrefix, err)
	}
	b.sub = sub
	if opts.Store != nil && opts.TailCheck > 0 {
		b.hub.startTailChecks(opts.TailCheck)
	}
	return b, nil
}

// receive is the callback of the node subscription. The NATS client calls it
// from one goroutine, in arrival order.
func (b *Bus) receive(m *nats.Msg) {
	var e starpost.Event
	if err := json.Unmarshal(m.Data, &e); err != nil {
		b.log.Warn("dropping undecodable event", "subject", m.Subject, "err", err)
		return
	}
	if m.Subject != SubjectPrefix+e.WorkspaceID || e.Cursor < 0 {
		b.log.Warn("dropping event with mismatched subject or bad cursor",
			"subject", m.Subject, "workspace", e.WorkspaceID, "cursor", e.Cursor)
		return
	}
	b.hub.handle(&e)
}

// Publish sends events to every node. It must be called only after the
// committed events among them are committed; ephemeral signals (Cursor 0)
// are never stored. An error after a commit need not fail the caller's
// request: the event is committed, and hubs read it from the store when a
// later event reveals the gap, after a reconnect, or at the next tail check.
//
// All events are validated and encoded before any is sent, then written to
// the connection back to back and followed by one flush (a PING/PONG round
// trip), so Publish returns once the server has received them all: a batch
// costs one round trip, and connection failures reach the caller rather than
// an asynchronous handler. A committed event whose publication is lost
// anyway (the node crashes first) is still delivered everywhere, because
// every hub fills cursor gaps from the store.
func (b *Bus) Publish(ctx context.Context, events ...*starpost.Event) error {
	if len(events) == 0 {
		return nil
	}
	if b.isClosed() {
		return fmt.Errorf("bus: publish: %w", ErrClosed)
	}
	type msg struct {
		subject string
		data    []byte
	}
	msgs := make([]msg, len(events))
	for i, e := range events {
		if e == nil {
			return fmt.Errorf("bus: publish: event %d is nil: %w", i, starpost.FieldError("event", "required"))
		}
		if err := ValidWorkspaceID(e.WorkspaceID); err != nil {
			return fmt.Errorf("bus: publish: event %d: %w", i, err)
		}
		if e.Cursor < 0 {
			return fmt.Errorf("bus: publish: event %d: %w", i, starpost.FieldError("cursor", "must not be negative"))
		}
		data, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("bus: publish: encode event %d: %w", i, err)
		}
		msgs[i] = msg{SubjectPrefix + e.WorkspaceID, data}
	}
	for i, m := range msgs {
		if err := b.nc.Publish(m.subject, m.data); err != nil {
			return fmt.Errorf("bus: publish event %d of %d to %s: %w", i+1, len(msgs), m.subject, err)
		}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.opts.FlushTimeout)
		defer cancel()
	}
	if err := b.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("bus: publish: flush %d events: %w", len(msgs), err)
	}
	return nil
}

// Subscribe delivers the live events of one workspace, or of every workspace
// when workspaceID is empty, in cursor order per workspace and exactly once,
// with ephemeral signals interleaved as they arrive. All subscribers receive
// the same *starpost.Event values and must not modify them.
//
// The returned subscription is a *Subscription.
func (b *Bus) Subscribe(workspaceID string) (starpost.Subscription, error) {
	if workspaceID != "" {
		if err := ValidWorkspaceID(workspaceID); err != nil {
			return nil, fmt.Errorf("bus: subscribe: %w", err)
		}
	}
	buffer := b.opts.SubscriberBuffer
	if workspaceID == "" {
		buffer = b.opts.WideBuffer
	}
	s, err := b.hub.subscribe(workspaceID, buffer)
	if err != nil {
		return nil, fmt.Errorf("bus: subscribe %q: %w", workspaceID, err)
	}
	return s, nil
}

// ClientURL is the URL other nodes and processes use to connect to this
// bus's NATS server: the embedded server's listen address, or Options.URL.
// It is empty for an embedded server without Listen.
func (b *Bus) ClientURL() string {
	if b.srv == nil {
		return b.opts.URL
	}
	if addr := b.srv.Addr(); addr != nil {
		return "nats://" + addr.String()
	}
	return ""
}

// Conn returns the bus's NATS connection, for components that need NATS
// directly (leases over KV, request/reply). Closing it breaks the bus.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// Stats returns counters of the hub, for metrics and tests.
func (b *Bus) Stats() Stats { return b.hub.stats() }

// Close drains the NATS subscription (events already received are still
// delivered), closes the connection, closes every local subscription and
// shuts the embedded server down. It is safe to call more than once.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		if err := b.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			b.closeErr = fmt.Errorf("bus: drain: %w", err)
			b.nc.Close()
		}
		select {
		case <-b.closed:
		case <-time.After(b.opts.DrainTimeout + time.Second):
			b.nc.Close()
			if b.closeErr == nil {
				b.closeErr = fmt.Errorf("bus: drain: timed out after %s", b.opts.DrainTimeout)
			}
		}
		b.hub.close()
		b.shutdownServer()
	})
	return b.closeErr
}

func (b *Bus) isClosed() bool {
	select {
	case <-b.closed:
		return true
	default:
		return b.nc.IsClosed() || b.nc.IsDraining()
	}
}

func (b *Bus) shutdownServer() {
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
}

// ValidWorkspaceID checks that id can be used as a NATS subject token: 1 to
// 64 ASCII letters, digits, '_' or '-' (IDs look like "ws_<hex>").
func ValidWorkspaceID(id string) error {
	if id == "" || len(id) > 64 {
		return starpost.FieldError("workspace_id", "must be 1 to 64 characters")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return starpost.FieldError("workspace_id", "may hold only letters, digits, '_' and '-'")
		}
	}
	return nil
}
