package lease

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/starpost/starpost"
)

// Defaults of PostgresOptions.
const (
	DefaultPostgresRetry = time.Second
	DefaultPostgresCheck = time.Second
)

// attemptTimeout bounds one attempt at the lock, so that a server that
// stopped answering does not stall a candidate for ever.
const attemptTimeout = 10 * time.Second

// PostgresOptions configure a Postgres lease. The zero value is usable.
type PostgresOptions struct {
	// ID names this node as holder (default: a random ID).
	ID string
	// Clock stamps Term.Since (default: the system clock).
	Clock starpost.Clock
	// Logger receives acquisitions, losses and retried failures (default:
	// discarded).
	Logger *slog.Logger
	// Retry is how often a candidate tries to take the lock (default 1 s).
	Retry time.Duration
	// Check is how often the holder checks its connection with a cheap
	// query, and how long that query may take (default 1 s).
	Check time.Duration
}

// Postgres is a lease over a PostgreSQL session-level advisory lock.
//
// A candidate takes a connection of its own from the pool and tries
// pg_try_advisory_lock on a key hashed from the lease's name every Retry.
// Once it has the lock it increments the name's row in the lease_term
// table (created on first use) to get its term, and keeps the connection
// open, checking it every Check with "SELECT 1". PostgreSQL releases the
// lock when the session ends, whichever way it ends; the holder gives
// leadership up when a check fails. When Run's lead returns, the holder
// unlocks and closes the connection (it never goes back to the pool with
// the lock held).
//
// Overlap: if the server ends the holder's session (a restart, an
// administrator, a network partition that the server notices first),
// another node may take the lock before the holder's next check fails, so
// two leaders may overlap for up to 2 × Check (the check interval plus the
// check's own timeout) plus the time lead needs to stop. Terms come from the
// lease_term row, incremented by each new holder while it holds the lock. See the package documentation for why the router stays safe.
//
// The pool must reach PostgreSQL directly or through a session-mode pooler:
// a transaction-mode pooler (PgBouncer's default) does not keep advisory
// locks. Any *sql.DB on the pgx driver will do, such as the store's
// (store.DB.SQL()); the lease holds one of its connections while it leads
// and briefly another while it campaigns.
type Postgres struct {
	db   *sql.DB
	opts PostgresOptions

	mu    sync.Mutex
	ready bool // lease_term exists
}

var _ Lease = (*Postgres)(nil)

// NewPostgres returns a lease over db, a PostgreSQL connection pool.
func NewPostgres(db *sql.DB, opts PostgresOptions) (*Postgres, error) {
	if db == nil {
		return nil, fmt.Errorf("lease: new postgres lease: %w", starpost.FieldError("db", "required"))
	}
	if opts.Retry < 0 || opts.Check < 0 {
		return nil, fmt.Errorf("lease: new postgres lease: %w", starpost.FieldError("retry", "durations must not be negative"))
	}
	defaults(&opts.ID, &opts.Clock, &opts.Logger)
	if opts.Retry == 0 {
		opts.Retry = DefaultPostgresRetry
	}
	if opts.Check == 0 {
		opts.Check = DefaultPostgresCheck
	}
	return &Postgres{db: db, opts: opts}, nil
}

// ID returns the holder ID of this node.
func (p *Postgres) ID() string { return p.opts.ID }

// LockKey returns the advisory lock key of the lease named name: the 64-bit
// FNV-1a hash of "starpost.lease/"+name, as a signed integer. Other software sharing the database must not use it.
func LockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("starpost.lease/" + name))
	return int64(h.Sum64())
}

// Run implements Lease.
func (p *Postgres) Run(ctx context.Context, name string, lead func(context.Context) error) error {
	if name == "" {
		return fmt.Errorf("lease: %w", starpost.FieldError("name", "required"))
	}
	return run(ctx, name, lead, p.acquire, p.opts.Retry, p.opts.Logger)
}

// Term returns the number of the latest term of the lease named name (0 if
// it was never held), for monitoring and for fencing checks.
func (p *Postgres) Term(ctx context.Context, name string) (uint64, error) {
	if err := p.migrate(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := p.db.QueryRowContext(ctx, "SELECT term FROM lease_term WHERE name = $1", name).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("lease: read term of %s: %w", name, err)
	}
	return uint64(n), nil
}

// Holder returns the ID of the node holding the lease named name and its
// term, or "" when no session holds the lock (the last holder died and no
// other node has taken over yet).
func (p *Postgres) Holder(ctx context.Context, name string) (string, uint64, error) {
	if err := p.migrate(ctx); err != nil {
		return "", 0, err
	}
	key := uint64(LockKey(name))
	// A bigint advisory lock shows in pg_locks as classid = high 32 bits,
	// objid = low 32 bits, objsubid = 1.
	var holder string
	var n int64
	err := p.db.QueryRowContext(ctx, `SELECT t.holder, t.term FROM lease_term t
		WHERE t.name = $1 AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid = $2::bigint::oid AND l.objid = $3::bigint::oid AND l.objsubid = 1)`,
		name, int64(key>>32), int64(key&0xffffffff)).Scan(&holder, &n)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("lease: read holder of %s: %w", name, err)
	}
	return holder, uint64(n), nil
}

const createTable = `CREATE TABLE IF NOT EXISTS lease_term (
	name   text PRIMARY KEY,
	term   bigint NOT NULL,
	holder text NOT NULL,
	since  timestamptz NOT NULL
)`

func (p *Postgres) migrate(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ready {
		return nil
	}
	if _, err := p.db.ExecContext(ctx, createTable); err != nil {
		// Two nodes creating the table at once can collide on the catalog;
		// the caller retries.
		return fmt.Errorf("lease: create table lease_term: %w", err)
	}
	p.ready = true
	return nil
}

func (p *Postgres) acquire(ctx context.Context, name string) (*hold, error) {
	for {
		h, err := p.try(ctx, name)
		if h != nil {
			return h, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			p.opts.Logger.Warn("lease campaign failed", "lease", name, "err", err)
		}
		if !sleep(ctx, p.opts.Retry) {
			return nil, ctx.Err()
		}
	}
}

// try makes one attempt at the lock. It returns nil, nil when another
// session holds it.
func (p *Postgres) try(ctx context.Context, name string) (_ *hold, err error) {
	ctx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	if err := p.migrate(ctx); err != nil {
		return nil, err
	}
	conn, err := p.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lease: connect: %w", err)
	}
	key := LockKey(name)
	var got bool
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
		discard(conn)
		return nil, fmt.Errorf("lease: try advisory lock: %w", err)
	}
	if !got {
		conn.Close()
		return nil, nil
	}
	since := p.opts.Clock.Now()
	var n int64
	err = conn.QueryRowContext(ctx, `INSERT INTO lease_term (name, term, holder, since) VALUES ($1, 1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET term = lease_term.term + 1, holder = EXCLUDED.holder, since = EXCLUDED.since
		RETURNING term`, name, p.opts.ID, since).Scan(&n)
	if err != nil {
		discard(conn) // ends the session, which releases the lock
		return nil, fmt.Errorf("lease: count term: %w", err)
	}
	h := &hold{
		term: Term{Name: name, Number: uint64(n), Holder: p.opts.ID, Since: since},
		lost: make(chan struct{}),
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go p.keep(conn, h, stop, done)
	h.release = func() {
		close(stop)
		<-done
		select {
		case <-h.lost:
		default:
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.Check)
			if _, err := conn.ExecContext(uctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
				p.opts.Logger.Warn("lease unlock failed; closing the session releases it", "lease", name, "err", err)
			}
			cancel()
		}
		discard(conn)
	}
	return h, nil
}

// keep checks the holder's connection every Check until stop is closed,
// and reports the loss of the lease on h when a check fails.
func (p *Postgres) keep(conn *sql.Conn, h *hold, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(p.opts.Check)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.opts.Check)
		var one int
		err := conn.QueryRowContext(ctx, "SELECT 1").Scan(&one)
		cancel()
		if err != nil {
			h.cause = fmt.Errorf("%w: connection check failed: %w", ErrLost, err)
			close(h.lost)
			return
		}
	}
}

// discard closes conn's session instead of returning it to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	conn.Close()
}
