package store

import (
	"context"
	"database/sql"
	"fmt"
)

// CreateSchema runs a capability's idempotent schema (CREATE ... IF NOT
// EXISTS statements separated by semicolons) on db. On PostgreSQL two
// concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalog
// (23505 on pg_type), so the statements run in one transaction under an
// advisory lock.
func CreateSchema(ctx context.Context, db *sql.DB, driver, schema string) error {
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
