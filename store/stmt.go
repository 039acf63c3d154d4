package store

import (
	"context"
	"database/sql"
	"fmt"
)

// The committer's statements. On SQLite they are prepared once, on the
// single writer connection, when the store opens, so a batch only binds
// and steps them instead of parsing the same SQL for every row. (pgx keeps
// prepared statements per connection by itself, so PostgreSQL runs them
// as they are.)
const (
	insertEventSQL = "INSERT INTO events (" + eventColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	insertConvSQL  = `INSERT INTO conversations
			(id, workspace_id, channel, contact_id, queue_id, agent_id, offered_to, state, priority, last_seq, created_at, updated_at, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	updateConvSQL = `UPDATE conversations SET
		queue_id = ?, agent_id = ?, offered_to = ?, state = ?, priority = ?, last_seq = ?, updated_at = ?, data = ?
		WHERE workspace_id = ? AND id = ?`
	advanceCursorSQL  = "UPDATE workspaces SET last_cursor = last_cursor + ? WHERE id = ? RETURNING last_cursor"
	updatePresenceSQL = "UPDATE users SET presence = ?, presence_since = ? WHERE workspace_id = ? AND id = ?"

	// The batch's reads, with %s for the placeholders of the ids; on SQLite
	// the one-id form, what a batch of one call reads, is prepared too.
	lockWorkspacesSQL    = "SELECT id FROM workspaces WHERE id IN (%s) ORDER BY id"
	loadConversationsSQL = "SELECT id, workspace_id, data FROM conversations WHERE id IN (%s) ORDER BY id"
	findKeysSQL          = "SELECT " + eventColumns + " FROM events WHERE workspace_id = ? AND idempotency_key <> '' AND idempotency_key IN (%s)"
)

// prepareCommitter prepares the committer's statements on SQLite's writer
// connection. It must run while no transaction holds that connection
// (preparing waits for it), so Open calls it before the committer starts.
func (db *DB) prepareCommitter(ctx context.Context) error {
	if db.dialect.numbered {
		return nil
	}
	db.stmts = map[string]*sql.Stmt{}
	one := func(q string) string { return fmt.Sprintf(q, "?") }
	for _, q := range []string{insertEventSQL, insertConvSQL, updateConvSQL, advanceCursorSQL, updatePresenceSQL,
		one(lockWorkspacesSQL), one(loadConversationsSQL), one(findKeysSQL)} {
		st, err := db.write.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		db.stmts[q] = st
	}
	return nil
}

// exec runs query (written with "?" placeholders) in tx, through its
// prepared statement when there is one.
func (db *DB) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := db.stmts[query]; st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, db.dialect.q(query), args...)
}

// queryRow is exec for a query that returns one row.
func (db *DB) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := db.stmts[query]; st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, db.dialect.q(query), args...)
}

// query is exec for a query that returns rows.
func (db *DB) query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if st := db.stmts[query]; st != nil {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, db.dialect.q(query), args...)
}

// closeStmts closes the prepared statements.
func (db *DB) closeStmts() {
	for _, st := range db.stmts {
		st.Close()
	}
	db.stmts = nil
}
