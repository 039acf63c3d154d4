package engine

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/starpost/starpost/store"
)

//go:embed checkpoint_sqlite.sql
var sqliteSchema string

//go:embed checkpoint_postgres.sql
var postgresSchema string

// Checkpoints keeps, per engine and workspace, the cursor of the last event
// the engine finished handling, in the engine_checkpoints table of the
// shared database. It is safe for concurrent use.
type Checkpoints struct {
	db     *sql.DB
	driver string
}

// OpenCheckpoints creates the checkpoint table if it does not exist and
// returns a Checkpoints over it. driver is "sqlite" or "postgres" (what
// store.DB.Driver returns).
func OpenCheckpoints(ctx context.Context, db *sql.DB, driver string) (*Checkpoints, error) {
	if db == nil {
		return nil, errors.New("engine: checkpoints: nil database")
	}
	var schema string
	switch driver {
	case "sqlite":
		schema = sqliteSchema
	case "postgres":
		schema = postgresSchema
	default:
		return nil, fmt.Errorf("engine: checkpoints: unknown driver %q", driver)
	}
	if err := createSchema(ctx, db, driver, schema); err != nil {
		return nil, fmt.Errorf("engine: create checkpoint table: %w", err)
	}
	return &Checkpoints{db: db, driver: driver}, nil
}

// createSchema runs the idempotent schema, serialised on PostgreSQL (see
// store.ExecSchema).
func createSchema(ctx context.Context, db *sql.DB, driver, schema string) error {
	return store.ExecSchema(ctx, db, driver, schema)
}

// q rewrites ? placeholders for the database in use.
func (c *Checkpoints) q(query string) string { return store.Rebind(c.driver, query) }

// Get returns the engine's checkpoint in the workspace, 0 when it has none.
func (c *Checkpoints) Get(ctx context.Context, engine, workspaceID string) (int64, error) {
	var cur int64
	err := c.db.QueryRowContext(ctx, c.q("SELECT last_cursor FROM engine_checkpoints WHERE engine = ? AND workspace_id = ?"),
		engine, workspaceID).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("engine: read checkpoint of %s in %s: %w", engine, workspaceID, err)
	}
	return cur, nil
}

// Set moves the engine's checkpoint in the workspace forward to cursor; a
// checkpoint never moves back (two runners may race).
func (c *Checkpoints) Set(ctx context.Context, engine, workspaceID string, cursor int64, at time.Time) error {
	_, err := c.db.ExecContext(ctx, c.q(`INSERT INTO engine_checkpoints (engine, workspace_id, last_cursor, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (engine, workspace_id) DO UPDATE SET last_cursor = excluded.last_cursor, updated_at = excluded.updated_at
WHERE excluded.last_cursor > engine_checkpoints.last_cursor`), engine, workspaceID, cursor, at.UnixNano())
	if err != nil {
		return fmt.Errorf("engine: save checkpoint of %s in %s: %w", engine, workspaceID, err)
	}
	return nil
}
