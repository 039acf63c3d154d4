package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/starpost/starpost"
)

// Defaults of KVOptions.
const (
	DefaultBucket = "starpost_leases"
	DefaultTTL    = 10 * time.Second
)

// KVOptions configure a KV lease. The zero value is usable. Every node
// campaigning in one bucket must use the same Bucket and TTL.
type KVOptions struct {
	// ID names this node as holder (default: a random ID).
	ID string
	// Clock stamps Term.Since (default: the system clock).
	Clock starpost.Clock
	// Logger receives acquisitions, losses and retried failures (default:
	// discarded).
	Logger *slog.Logger
	// Bucket is the key-value bucket holding the leases (default
	// "starpost_leases"); it is created when missing.
	Bucket string
	// TTL is how long a lease lives without renewal (default 10 s, at
	// least 1 s): the bucket's TTL. A node that dies is replaced after
	// at most TTL + Retry.
	TTL time.Duration
	// Renew is how often the holder renews (default TTL/5).
	Renew time.Duration
	// Grace is how long before the key can expire the holder stops
	// leading (default TTL/4): it cancels lead's context TTL − Grace after
	// it sent its last successful write, so lead has Grace to stop before
	// another node can take the lease. Renew must be below TTL − Grace.
	Grace time.Duration
	// Retry is how often a candidate tries to create the key (default
	// Renew).
	Retry time.Duration
	// Replicas is the bucket's replica count in a JetStream cluster
	// (default 1; use 3 in a 3-node cluster so the lease survives a
	// server).
	Replicas int
}

// KV is a lease over a NATS JetStream key-value bucket whose TTL is the
// lease's. A candidate creates the key named after the lease (create
// succeeds only if the key is absent) with its ID; the JetStream sequence of
// that write is the term. The holder renews every Renew by an update that
// succeeds only if the key's revision is still the one it last wrote. It
// stops leading at once when an update is refused (the key expired or was
// taken) or the connection is closed, and in any case TTL − Grace after the
// send of its last successful write, the earliest moment minus Grace at
// which the server can expire it. Others keep trying to create the key and
// get it once it expired, or at once when the holder gives it up by
// deleting it.
//
// Overlap: none, as long as lead returns within Grace of its context's
// cancellation and the clocks of holder and server run at the same rate;
// both are checked against monotonic time, never the wall clock.
//
// It needs JetStream: an external server or cluster started with
// JetStream (nats-server -js), or the embedded server of bus.Open with
// bus.Options.JetStreamDir set (bus.Bus.Conn gives the connection).
type KV struct {
	nc   *nats.Conn
	opts KVOptions

	mu sync.Mutex
	kv jetstream.KeyValue
}

var _ Lease = (*KV)(nil)

// NewKV returns a lease over the NATS connection nc.
func NewKV(nc *nats.Conn, opts KVOptions) (*KV, error) {
	if nc == nil {
		return nil, fmt.Errorf("lease: new kv lease: %w", starpost.FieldError("nc", "required"))
	}
	defaults(&opts.ID, &opts.Clock, &opts.Logger)
	if opts.Bucket == "" {
		opts.Bucket = DefaultBucket
	}
	if opts.TTL == 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Renew == 0 {
		opts.Renew = opts.TTL / 5
	}
	if opts.Grace == 0 {
		opts.Grace = opts.TTL / 4
	}
	if opts.Retry == 0 {
		opts.Retry = opts.Renew
	}
	switch {
	case opts.TTL < time.Second:
		return nil, fmt.Errorf("lease: new kv lease: %w", starpost.FieldError("ttl", "must be at least 1s"))
	case opts.Renew < 0 || opts.Grace < 0 || opts.Retry < 0:
		return nil, fmt.Errorf("lease: new kv lease: %w", starpost.FieldError("renew", "durations must not be negative"))
	case opts.Renew >= opts.TTL-opts.Grace:
		return nil, fmt.Errorf("lease: new kv lease: %w", starpost.FieldError("renew", "must be below ttl - grace"))
	}
	return &KV{nc: nc, opts: opts}, nil
}

// ID returns the holder ID of this node.
func (k *KV) ID() string { return k.opts.ID }

// Run implements Lease. name must be a valid key: letters, digits and
// "-_/=.", not starting or ending with ".".
func (k *KV) Run(ctx context.Context, name string, lead func(context.Context) error) error {
	if !validKey(name) {
		return fmt.Errorf("lease: %w", starpost.FieldError("name", "must be letters, digits and -_/=. not starting or ending with ."))
	}
	return run(ctx, name, lead, k.acquire, k.opts.Retry, k.opts.Logger)
}

// Holder returns the ID of the node holding the lease named name and the
// key's current revision, or "" when nobody holds it.
func (k *KV) Holder(ctx context.Context, name string) (string, uint64, error) {
	kv, err := k.bucket(ctx)
	if err != nil {
		return "", 0, err
	}
	e, err := kv.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("lease: read %s: %w", name, err)
	}
	return string(e.Value()), e.Revision(), nil
}

func validKey(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '/' || c == '=' || c == '.') {
			return false
		}
	}
	return true
}

// errFatal marks errors campaigning cannot overcome.
type errFatal struct{ error }

func (e errFatal) Unwrap() error { return e.error }

// bucket opens the lease bucket, creating it when missing.
func (k *KV) bucket(ctx context.Context) (jetstream.KeyValue, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.kv != nil {
		return k.kv, nil
	}
	if k.nc.IsClosed() {
		return nil, errFatal{fmt.Errorf("lease: open bucket: %w", nats.ErrConnectionClosed)}
	}
	js, err := jetstream.New(k.nc)
	if err != nil {
		return nil, fmt.Errorf("lease: jetstream: %w", err)
	}
	kv, err := js.KeyValue(ctx, k.opts.Bucket)
	if errors.Is(err, nats.ErrNoResponders) {
		// Nobody answers the JetStream API: ask whether it is enabled at
		// all, which the server answers.
		if _, aerr := js.AccountInfo(ctx); aerr != nil {
			err = fmt.Errorf("%w: %w", err, aerr)
		}
	}
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      k.opts.Bucket,
			Description: "Starpost leadership leases",
			History:     1,
			TTL:         k.opts.TTL,
			Replicas:    k.opts.Replicas,
		})
		if errors.Is(err, jetstream.ErrBucketExists) { // created meanwhile by another node
			kv, err = js.KeyValue(ctx, k.opts.Bucket)
		}
	}
	if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		return nil, errFatal{fmt.Errorf("lease: open bucket %s (enable JetStream on the NATS server): %w", k.opts.Bucket, err)}
	}
	if err != nil {
		return nil, fmt.Errorf("lease: open bucket %s: %w", k.opts.Bucket, err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("lease: bucket %s status: %w", k.opts.Bucket, err)
	}
	if st.TTL() != k.opts.TTL {
		return nil, errFatal{fmt.Errorf("lease: bucket %s has TTL %s, this node wants %s: %w",
			k.opts.Bucket, st.TTL(), k.opts.TTL, starpost.Errorf(starpost.EINVALID, "lease TTL differs between nodes"))}
	}
	k.kv = kv
	return kv, nil
}

func (k *KV) acquire(ctx context.Context, name string) (*hold, error) {
	for {
		h, err := k.try(ctx, name)
		if h != nil {
			return h, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var fatal errFatal
		if errors.As(err, &fatal) {
			return nil, fatal.error
		}
		if err != nil {
			k.opts.Logger.Warn("lease campaign failed", "lease", name, "err", err)
		}
		if !sleep(ctx, k.opts.Retry) {
			return nil, ctx.Err()
		}
	}
}

// try makes one attempt at creating the key. It returns nil, nil when
// another node holds it.
func (k *KV) try(ctx context.Context, name string) (*hold, error) {
	kv, err := k.bucket(ctx)
	if err != nil {
		return nil, err
	}
	if k.nc.IsClosed() {
		return nil, errFatal{fmt.Errorf("lease: create %s: %w", name, nats.ErrConnectionClosed)}
	}
	value := []byte(k.opts.ID)
	sent := time.Now() // monotonic: the key expires TTL after a moment later than this
	since := k.opts.Clock.Now()
	rev, err := kv.Create(ctx, name, value)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lease: create %s: %w", name, err)
	}
	h := &hold{
		term: Term{Name: name, Number: rev, Holder: k.opts.ID, Since: since},
		lost: make(chan struct{}),
	}
	stop, done := make(chan struct{}), make(chan struct{})
	var last uint64 // the revision the keeper wrote last; read after done
	go func() {
		defer close(done)
		last = k.keep(kv, h, value, rev, sent, stop)
	}()
	h.release = func() {
		close(stop)
		<-done
		select {
		case <-h.lost:
			return
		default:
		}
		// Give the lease up at once so that another node need not wait for
		// the TTL; only if it is still ours.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.opts.Renew)
		defer cancel()
		if err := kv.Delete(dctx, name, jetstream.LastRevision(last)); err != nil {
			k.opts.Logger.Warn("lease release failed; it expires after its TTL", "lease", name, "err", err)
		}
	}
	return h, nil
}

// keep renews the key every Renew until stop is closed or leadership is
// lost, which it reports on h. It returns the last revision it wrote.
func (k *KV) keep(kv jetstream.KeyValue, h *hold, value []byte, rev uint64, sent time.Time, stop <-chan struct{}) uint64 {
	name := h.term.Name
	lose := func(err error) uint64 {
		h.cause = fmt.Errorf("%w: %w", ErrLost, err)
		close(h.lost)
		return rev
	}
	keepFor := k.opts.TTL - k.opts.Grace // how long a write keeps us leading
	deadline := time.NewTimer(keepFor - time.Since(sent))
	defer deadline.Stop()
	tick := time.NewTicker(k.opts.Renew)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return rev
		case <-deadline.C:
			return lose(fmt.Errorf("not renewed within %s", keepFor))
		case <-tick.C:
		}
		left := keepFor - time.Since(sent)
		if left <= 0 {
			return lose(fmt.Errorf("not renewed within %s", keepFor))
		}
		now := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), left)
		r, err := kv.Update(ctx, name, value, rev)
		cancel()
		switch {
		case err == nil:
			rev, sent = r, now
			deadline.Reset(keepFor - time.Since(sent))
		case errors.Is(err, jetstream.ErrKeyRevisionMismatch), errors.Is(err, jetstream.ErrKeyNotFound):
			return lose(fmt.Errorf("key expired or taken: %w", err))
		case errors.Is(err, nats.ErrConnectionClosed), k.nc.IsClosed():
			return lose(fmt.Errorf("connection closed: %w", err))
		default:
			k.opts.Logger.Warn("lease renewal failed", "lease", name, "err", err)
		}
	}
}
