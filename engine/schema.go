package engine

import (
	"context"
	"database/sql"
)

// CreateSchema runs an engine's idempotent schema (CREATE TABLE IF NOT
// EXISTS ...) on db, serialised across processes on PostgreSQL, where two
// concurrent creations of one table can collide in the catalog. Engines that
// own tables (see package bot) create them with it.
func CreateSchema(ctx context.Context, db *sql.DB, driver, schema string) error {
	return createSchema(ctx, db, driver, schema)
}
