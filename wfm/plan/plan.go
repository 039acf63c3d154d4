// Package plan puts workforce management into the running product: it
// keeps, per workspace and queue, the interval history derived from
// Starpost's own conversation events (arrivals per 15 minutes and handle
// time), day forecasts chosen by rolling-origin backtest (package wfm),
// staffing requirements (Erlang C, chat concurrency, shrinkage), weekly
// schedules built by package wfm/schedule and published per agent, and the
// intraday work: open slots that flexible agents claim first come first
// served, overtime and voluntary-time-off offers, and schedule adherence.
//
// The package owns its tables (schema_sqlite.sql, schema_postgres.sql,
// created idempotently by Open) on the shared database handle, so a restart
// or another node sees the same board. The Engine (engine.Handler) feeds the
// history from the event log and re-plans the rest of the day as events
// arrive.
//
// Times are stored as Unix seconds. A queue's days are local days in the
// queue's time zone (LocalDay: its business hours' zone, else the zone its
// workspace's sites share, else UTC), 23 or 25 hours long on a
// daylight-saving change; an agent's own week is in the agent's site's
// time zone.
package plan

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/wfm"
)

//go:embed schema_sqlite.sql
var sqliteSchema string

//go:embed schema_postgres.sql
var postgresSchema string

// Step is the planning interval.
const Step = 15 * time.Minute

// SlotsPerDay is the number of planning intervals in a day.
const SlotsPerDay = int(24 * time.Hour / Step)

// Rules are the labour rules every claim, offer and generated schedule
// respects.
type Rules struct {
	// MaxDayHours caps the paid hours of one working day (a run of shifts
	// separated by less than MinRest).
	MaxDayHours float64
	// MinRest is the least rest between two working days (11 h).
	MinRest time.Duration
	// MaxWeekHours caps the hours a generated schedule gives an agent.
	MaxWeekHours float64
	// MaxConsecutiveDays caps a run of local days with work (6).
	MaxConsecutiveDays int
}

// Config tunes a Service. Zero fields take the defaults of DefaultConfig.
type Config struct {
	// Shrinkage grosses productive agents up to scheduled agents.
	Shrinkage wfm.Shrinkage
	// ChatConcurrency is the number of chats an agent handles at once.
	ChatConcurrency int
	// DefaultAHT is the handle time used when a queue has no history.
	DefaultAHT time.Duration
	// Rules are the labour rules.
	Rules Rules
	// SlotLength is the length of an open slot published intraday.
	SlotLength time.Duration
	// Damping shapes the intraday re-forecast (see Reforecast).
	Damping Damping
	// SolveTime bounds the schedule optimiser.
	SolveTime time.Duration
	// ClaimLead is how long before an open slot or an offer starts its
	// claim or answer window closes (ExpiresAt); 0, the default, closes
	// it at the start.
	ClaimLead time.Duration
}

// DefaultConfig returns the defaults: 25 % shrinkage, two chats at once,
// 5-minute handle time, 10 h a day, 11 h rest, 40 h a week, six days in a
// row, 2-hour slots.
func DefaultConfig() Config {
	return Config{
		Shrinkage:       wfm.Shrinkage{Breaks: 0.1, Training: 0.05, Absence: 0.05, Other: 0.05},
		ChatConcurrency: 2,
		DefaultAHT:      5 * time.Minute,
		Rules:           Rules{MaxDayHours: 10, MinRest: 11 * time.Hour, MaxWeekHours: 40, MaxConsecutiveDays: 6},
		SlotLength:      2 * time.Hour,
		Damping:         DefaultDamping(),
		SolveTime:       3 * time.Second,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Shrinkage.Total() > 0 {
		d.Shrinkage = c.Shrinkage
	}
	if c.ChatConcurrency > 0 {
		d.ChatConcurrency = c.ChatConcurrency
	}
	if c.DefaultAHT > 0 {
		d.DefaultAHT = c.DefaultAHT
	}
	if c.Rules.MaxDayHours > 0 {
		d.Rules.MaxDayHours = c.Rules.MaxDayHours
	}
	if c.Rules.MinRest > 0 {
		d.Rules.MinRest = c.Rules.MinRest
	}
	if c.Rules.MaxWeekHours > 0 {
		d.Rules.MaxWeekHours = c.Rules.MaxWeekHours
	}
	if c.Rules.MaxConsecutiveDays > 0 {
		d.Rules.MaxConsecutiveDays = c.Rules.MaxConsecutiveDays
	}
	if c.SlotLength >= Step {
		d.SlotLength = c.SlotLength.Truncate(Step)
	}
	if c.Damping.Prior > 0 {
		d.Damping = c.Damping
	}
	if c.SolveTime > 0 {
		d.SolveTime = c.SolveTime
	}
	if c.ClaimLead > 0 {
		d.ClaimLead = c.ClaimLead
	}
	return d
}

// Options configure Open.
type Options struct {
	// SQL and Driver locate the tables: store.DB.SQL() and store.DB.Driver().
	SQL    *sql.DB
	Driver string
	// Directory reads users and queues.
	Directory starpost.DirectoryService
	// Clock tells the time; nil is the system clock.
	Clock starpost.Clock
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
	// Config tunes planning.
	Config Config
}

// Service is workforce management for every workspace. It is safe for
// concurrent use.
type Service struct {
	db     *sql.DB
	driver string
	dir    starpost.DirectoryService
	clock  starpost.Clock
	log    *slog.Logger
	cfg    Config
}

// Open creates the tables when they do not exist and returns the service.
func Open(ctx context.Context, opts Options) (*Service, error) {
	if opts.SQL == nil || opts.Directory == nil {
		return nil, errors.New("plan: SQL and Directory are required")
	}
	if err := store.CreateTables(ctx, opts.SQL, opts.Driver, sqliteSchema, postgresSchema); err != nil {
		return nil, fmt.Errorf("plan: create tables: %w", err)
	}
	if opts.Driver != "postgres" {
		// The PostgreSQL schema adds later columns with ADD COLUMN IF NOT
		// EXISTS; SQLite has no such clause.
		for _, c := range laterColumns {
			if err := addSQLiteColumn(ctx, opts.SQL, c[0], c[1], c[2]); err != nil {
				return nil, err
			}
		}
	}
	if opts.Clock == nil {
		opts.Clock = starpost.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: opts.SQL, driver: opts.Driver, dir: opts.Directory, clock: opts.Clock,
		log: opts.Logger, cfg: opts.Config.withDefaults()}, nil
}

// laterColumns are the columns added to the tables after their first
// release: table, column, definition.
var laterColumns = [][3]string{
	{"wfm_forecasts", "time_zone", "TEXT NOT NULL DEFAULT ''"},
	{"wfm_slots", "expires_at", "INTEGER NOT NULL DEFAULT 0"},
	{"wfm_offers", "expires_at", "INTEGER NOT NULL DEFAULT 0"},
}

// addSQLiteColumn adds a column to a SQLite table unless it has it. A
// concurrent opener adding it first is not an error.
func addSQLiteColumn(ctx context.Context, db *sql.DB, table, column, def string) error {
	has := func() (bool, error) {
		var n int
		err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, table, column).Scan(&n)
		return n > 0, err
	}
	ok, err := has()
	if err != nil {
		return fmt.Errorf("plan: columns of %s: %w", table, err)
	}
	if ok {
		return nil
	}
	if _, err := db.ExecContext(ctx, `ALTER TABLE `+table+` ADD COLUMN `+column+` `+def); err != nil {
		if ok, _ := has(); ok {
			return nil
		}
		return fmt.Errorf("plan: add %s.%s: %w", table, column, err)
	}
	return nil
}

// createSchema runs the statements of schema; on PostgreSQL under a
// transaction-scoped advisory lock, because concurrent CREATE ... IF NOT
// EXISTS can collide in the catalog.
func createSchema(ctx context.Context, db *sql.DB, driver, schema string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if driver == "postgres" {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7311190532)"); err != nil {
			return err
		}
	}
	for _, stmt := range strings.Split(stripComments(schema), ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// Config returns the service's configuration (defaults filled in).
func (s *Service) Config() Config { return s.cfg }

// q rewrites ? placeholders for the database in use.
func (s *Service) q(query string) string { return store.Rebind(s.driver, query) }

// querier is what *sql.DB and *sql.Tx have in common for reads.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// on returns tx, or the database when tx is nil: reads inside a claim's
// transaction see its own writes.
func (s *Service) on(tx *sql.Tx) querier {
	if tx != nil {
		return tx
	}
	return s.db
}

// DayStart returns UTC midnight of the day containing t.
func DayStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// ParseDay parses a "YYYY-MM-DD" day, reporting a field error on field.
func ParseDay(field, s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, starpost.FieldError(field, "must be a date YYYY-MM-DD")
	}
	if d.Year() < 2000 || d.Year() > 2200 {
		return time.Time{}, starpost.FieldError(field, "year out of range")
	}
	return d, nil
}

func dayKey(d time.Time) string { return d.UTC().Format(time.DateOnly) }

func unix(t time.Time) int64 { return t.Unix() }

func fromUnix(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// findQueue returns the workspace's queue or ENOTFOUND.
func (s *Service) findQueue(ctx context.Context, ws, id string) (*starpost.Queue, error) {
	q, err := s.dir.FindQueue(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	return q, nil
}

// inTx runs fn in a transaction, rolled back when fn fails.
func (s *Service) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("plan: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("plan: commit: %w", err)
	}
	return nil
}
