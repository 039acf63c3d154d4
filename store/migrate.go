package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// migrationLockKey is the PostgreSQL advisory lock that serialises nodes
// migrating the same database at once.
const migrationLockKey = 0x5374_6172_706f_7374 // "Starpost"

// Migration is one embedded schema change.
type Migration struct {
	Version string // the file name without ".sql", e.g. "0001_core"
	SQL     string
}

// Migrations returns the embedded migrations of a dialect ("sqlite" or
// "postgres") in the order they apply.
func Migrations(dialect string) ([]Migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations of %s: %w", dialect, err)
	}
	var ms []Migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, Migration{Version: strings.TrimSuffix(e.Name(), ".sql"), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// migrate applies the migrations not yet recorded in schema_migrations,
// each in its own transaction. On PostgreSQL it holds an advisory lock so
// that nodes starting together migrate one after the other.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := Migrations(db.dialect.name)
	if err != nil {
		return err
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("get connection: %w", err)
	}
	defer conn.Close()
	if db.dialect.name == "postgres" {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLockKey)); err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		defer func() {
			// A fresh context: the lock must be released even when ctx is done.
			if _, err := conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", int64(migrationLockKey)); err != nil {
				db.logger.Warn("release migration lock", "err", err)
			}
		}()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := map[string]bool{}
	rows, err := conn.QueryContext(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		done, err := db.applyMigration(ctx, conn, m)
		if err != nil {
			return err
		}
		if done {
			db.logger.Info("applied migration", "driver", db.dialect.name, "version", m.Version)
		}
	}
	return nil
}

// applyMigration applies m in a transaction unless another process applied
// it first, and reports whether it did. On SQLite the transaction takes the
// write lock at BEGIN (IMMEDIATE), so the check and the change are atomic
// across processes; on PostgreSQL the advisory lock serialises them.
func (db *DB) applyMigration(ctx context.Context, conn *sql.Conn, m Migration) (bool, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migration %s: begin: %w", m.Version, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, db.dialect.q("SELECT COUNT(*) FROM schema_migrations WHERE version = ?"), m.Version).Scan(&n); err != nil {
		return false, fmt.Errorf("migration %s: check: %w", m.Version, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Version, err)
	}
	if _, err := tx.ExecContext(ctx, db.dialect.q("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"),
		m.Version, nanos(db.now())); err != nil {
		return false, fmt.Errorf("migration %s: record: %w", m.Version, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.Version, err)
	}
	return true, nil
}
