// Package store persists Starpost's core — workspaces and their directory,
// conversations and the event log — in SQLite (the default, through the
// pure-Go modernc.org/sqlite driver) or PostgreSQL (through pgx), behind the
// starpost.Store interface.
//
// One implementation serves both databases over database/sql; a small
// dialect type covers what differs (placeholders, row locks, error codes).
// Every event goes through one committer goroutine per DB that groups the
// Append calls waiting at the same time into one transaction (group commit),
// each call in its own savepoint, so a single fsync acknowledges many calls.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/starpost/starpost"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is a Starpost store on SQLite or PostgreSQL. It implements
// starpost.Store. A DB is safe for concurrent use; close it with Close.
type DB struct {
	dialect dialect
	write   *sql.DB // SQLite: the single writer connection; PostgreSQL: the pool
	read    *sql.DB // SQLite: a pool of read-only connections; PostgreSQL: the pool
	clock   starpost.Clock
	logger  *slog.Logger

	maxBatch int
	reqs     chan *appendReq // unbuffered: a send is a hand-over to the committer
	quit     chan struct{}   // closed by Close
	done     chan struct{}   // closed when the committer has exited
	close    sync.Once
	stats    statsCounters
	stmts    map[string]*sql.Stmt // the committer's prepared statements (SQLite), by query

	// SQLite files: committed batches wait in syncq for the syncer to
	// fsync the WAL before they are answered (walsync.go). nil otherwise.
	wal    *walSyncer
	syncq  chan syncItem
	synced chan struct{}    // closed when the syncer has exited
	ckpt   *walCheckpointer // SQLite files: checkpoints in the background (walcheckpoint.go)
}

var _ starpost.Store = (*DB)(nil)

// MaxBatch is the most Append calls the committer groups into one
// transaction.
const MaxBatch = 256

// Open opens the store named by dsn and applies its migrations. dsn is a
// PostgreSQL URL ("postgres://..." or "postgresql://...") or a SQLite file
// path, optionally prefixed with "sqlite:"; ":memory:" opens a private
// in-memory SQLite database. clock stamps events and new objects; a nil
// logger discards logs.
func Open(ctx context.Context, dsn string, clock starpost.Clock, logger *slog.Logger) (*DB, error) {
	if clock == nil {
		clock = starpost.SystemClock{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db := &DB{
		clock:    clock,
		logger:   logger,
		maxBatch: MaxBatch,
		reqs:     make(chan *appendReq),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		err = db.openPostgres(ctx, dsn)
	default:
		err = db.openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	}
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.closeHandles()
		return nil, fmt.Errorf("migrate %s store: %w", db.dialect.name, err)
	}
	if err := db.prepareCommitter(ctx); err != nil {
		db.closeHandles()
		return nil, fmt.Errorf("open %s store: %w", db.dialect.name, err)
	}
	if db.wal != nil {
		db.syncq, db.synced = make(chan syncItem, 64), make(chan struct{})
		go db.syncLoop()
	}

	go db.commitLoop()
	return db, nil
}

func (db *DB) openPostgres(ctx context.Context, dsn string) error {
	db.dialect = postgresDialect
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("open postgres: %w", err)
	}
	pool.SetMaxOpenConns(max(8, 2*runtime.GOMAXPROCS(0)))
	pool.SetMaxIdleConns(max(8, 2*runtime.GOMAXPROCS(0)))
	pool.SetConnMaxIdleTime(5 * time.Minute)
	db.write, db.read = pool, pool
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return fmt.Errorf("connect to postgres: %w", err)
	}
	return nil
}

func (db *DB) openSQLite(ctx context.Context, path string) error {
	db.dialect = sqliteDialect
	if path == "" {
		return starpost.Errorf(starpost.EINVALID, "empty database path")
	}
	const common = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	if path == ":memory:" {
		// A private in-memory database lives in one connection, which
		// then serves both reads and writes.
		w, err := sql.Open("sqlite", ":memory:?"+common)
		if err != nil {
			return fmt.Errorf("open sqlite: %w", err)
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		w.SetConnMaxIdleTime(0)
		db.write, db.read = w, w
		return nil
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("create database folder: %w", err)
		}
	}
	// synchronous=FULL: a committed transaction survives power loss and
	// kill -9. The committer switches its own batches to NORMAL and fsyncs
	// the WAL itself before answering (walsync.go). wal_autocheckpoint=0: the checkpointer copies the WAL
	// into the database in the background (walcheckpoint.go).
	// temp_store=MEMORY keeps statement journals and sorts off the disk.
	w, err := sql.Open("sqlite", path+"?"+common+"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(0)&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Another process opening the same new file at the same moment may
	// hold the lock while it switches the file to WAL; SQLite then fails
	// without waiting for busy_timeout, so retry for a while.
	for attempt := 1; ; attempt++ {
		err = w.PingContext(ctx)
		if err == nil {
			break
		}
		if !isBusy(err) || attempt == 100 {
			w.Close()
			return fmt.Errorf("open sqlite %s: %w", path, err)
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			w.Close()
			return fmt.Errorf("open sqlite %s: %w", path, ctx.Err())
		}
	}
	r, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return fmt.Errorf("open sqlite readers: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	c, err := openWALCheckpointer(ctx, path, common, db.logger)
	if err != nil {
		r.Close()
		w.Close()
		return err
	}
	db.write, db.read, db.ckpt = w, r, c
	db.wal = newWALSyncer(path)
	return nil
}

// Ping checks that the database answers, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.dialect.name, err)
	}
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping %s: %w", db.dialect.name, err)
	}
	return nil
}

// Driver returns "sqlite" or "postgres".
func (db *DB) Driver() string { return db.dialect.name }

// SQL returns the underlying write handle, so that capability packages can
// keep their own tables in the same database (see ARCHITECTURE: each folder
// owns its tables). On SQLite it is the single writer connection: never hold
// a transaction on it for long.
func (db *DB) SQL() *sql.DB { return db.write }

// Close stops the committer after its current batch and closes the
// database. Append calls after Close fail with EUNAVAILABLE.
func (db *DB) Close() error {
	var err error
	db.close.Do(func() {
		close(db.quit)
		<-db.done
		err = db.closeHandles()
	})
	return err
}

func (db *DB) closeHandles() error {
	db.closeStmts()
	var errs []error
	if db.ckpt != nil {
		errs = append(errs, db.ckpt.close())
	}
	if db.read != nil && db.read != db.write {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		errs = append(errs, db.write.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// dialect holds what differs between SQLite and PostgreSQL.
type dialect struct {
	name string
	// forUpdate is appended to SELECTs that read a row the transaction
	// will change ("" on SQLite, where the single writer serialises).
	forUpdate string
	// numbered placeholders ($1, $2 ...) instead of "?".
	numbered bool
}

var (
	sqliteDialect   = dialect{name: "sqlite"}
	postgresDialect = dialect{name: "postgres", forUpdate: " FOR UPDATE", numbered: true}
)

// q rewrites a query written with "?" placeholders for the dialect.
func (d dialect) q(query string) string {
	if !d.numbered || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// Rebind rewrites a query written with "?" placeholders for the named
// driver ("sqlite" or "postgres", as DB.Driver returns), so that capability
// packages keeping their own tables write their SQL once for both.
func Rebind(driver, query string) string {
	if driver == postgresDialect.name {
		return postgresDialect.q(query)
	}
	return query
}

// ExecSchema runs a capability's idempotent schema (CREATE TABLE IF NOT
// EXISTS ...) on db. On PostgreSQL two concurrent CREATE TABLE IF NOT EXISTS
// can still collide in the catalog (23505 on pg_type), as two nodes or two
// engines starting together do; a transaction-scoped advisory lock
// serialises them. driver is "sqlite" or "postgres" (DB.Driver).
func ExecSchema(ctx context.Context, db *sql.DB, driver, schema string) error {
	if driver != postgresDialect.name {
		if _, err := db.ExecContext(ctx, schema); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7311190531)"); err != nil {
		return fmt.Errorf("create schema: lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	return nil
}

// CreateTables creates a capability's own tables on db: it runs the
// capability's idempotent schema for driver ("sqlite" or "postgres", as
// DB.Driver says) with ExecSchema.
func CreateTables(ctx context.Context, db *sql.DB, driver, sqliteSchema, postgresSchema string) error {
	switch driver {
	case sqliteDialect.name:
		return ExecSchema(ctx, db, driver, sqliteSchema)
	case postgresDialect.name:
		return ExecSchema(ctx, db, driver, postgresSchema)
	}
	return fmt.Errorf("create tables: unknown database driver %q", driver)
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// querier is what *sql.DB, *sql.Tx and *sql.Conn have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// nanos stores a time as Unix nanoseconds; the zero time is 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos; times come back in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// now returns the clock's time in UTC without a monotonic reading.
func (db *DB) now() time.Time { return db.clock.Now().UTC().Round(0) }

// Error classification across the two drivers.

type sqlStater interface{ SQLState() string }

type sqliteCoder interface{ Code() int }

// isUniqueViolation reports whether err is a unique or primary-key
// violation.
func isUniqueViolation(err error) bool {
	var pe sqlStater
	if errors.As(err, &pe) {
		return pe.SQLState() == "23505"
	}
	var se sqliteCoder
	if errors.As(err, &se) {
		c := se.Code()
		return c == 2067 || c == 1555 || (c == 19 && strings.Contains(err.Error(), "UNIQUE"))
	}
	return false
}

// isForeignKeyViolation reports whether err is a foreign-key violation.
func isForeignKeyViolation(err error) bool {
	var pe sqlStater
	if errors.As(err, &pe) {
		return pe.SQLState() == "23503"
	}
	var se sqliteCoder
	if errors.As(err, &se) {
		c := se.Code()
		return c == 787 || (c == 19 && strings.Contains(err.Error(), "FOREIGN KEY"))
	}
	return false
}

// isBusy reports whether err is SQLite's SQLITE_BUSY or SQLITE_LOCKED.
func isBusy(err error) bool {
	var se sqliteCoder
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == 5 || c == 6
	}
	return false
}

// isRetryable reports whether a transaction that failed with err should be
// run again: serialization failures and deadlocks on PostgreSQL, and
// unique violations of rows another node committed meanwhile; a SQLite
// file locked by another process.
func isRetryable(err error) bool {
	var pe sqlStater
	if errors.As(err, &pe) {
		switch pe.SQLState() {
		case "40001", "40P01", "23505":
			return true
		}
	}
	return isBusy(err) // another process held the SQLite file past busy_timeout

}
