package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/starpost/starpost"
)

// This file holds the read side of starpost.ConversationService and
// Presence.

func decodeConversation(data string) (*starpost.Conversation, error) {
	var c starpost.Conversation
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return nil, fmt.Errorf("decode conversation: %w", err)
	}
	return &c, nil
}

// FindConversation returns the conversation of the workspace with the
// given id.
func (db *DB) FindConversation(ctx context.Context, workspaceID, id string) (*starpost.Conversation, error) {
	var data string
	err := db.read.QueryRowContext(ctx, db.dialect.q("SELECT data FROM conversations WHERE workspace_id = ? AND id = ?"), workspaceID, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("conversation", id)
	} else if err != nil {
		return nil, fmt.Errorf("find conversation: %w", err)
	}
	return decodeConversation(data)
}

// ListConversations returns the workspace's conversations that match f,
// oldest first. A zero Limit returns every match.
func (db *DB) ListConversations(ctx context.Context, f starpost.ConversationFilter) ([]*starpost.Conversation, error) {
	if err := requireWorkspace(f.WorkspaceID); err != nil {
		return nil, err
	}
	if f.Limit < 0 {
		return nil, starpost.FieldError("limit", "must not be negative")
	}
	where := []string{"workspace_id = ?"}
	args := []any{f.WorkspaceID}
	if len(f.States) > 0 {
		where = append(where, "state IN ("+placeholders(len(f.States))+")")
		for _, s := range f.States {
			args = append(args, string(s))
		}
	}
	if f.Open {
		where = append(where, "state NOT IN (?, ?)")
		args = append(args, string(starpost.StateResolved), string(starpost.StateClosed))
	}
	for _, c := range []struct{ col, v string }{{"agent_id", f.AgentID}, {"queue_id", f.QueueID}, {"contact_id", f.ContactID}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	query := "SELECT data FROM conversations WHERE " + strings.Join(where, " AND ") + " ORDER BY created_at, id"
	if f.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := db.read.QueryContext(ctx, db.dialect.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	defer rows.Close()
	out := []*starpost.Conversation{}
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("list conversations: %w", err)
		}
		c, err := decodeConversation(data)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	return out, nil
}

const eventColumns = "workspace_id, cursor, conversation_id, seq, kind, actor_role, actor_id, at, body, idempotency_key"

func scanEvent(sc interface{ Scan(...any) error }) (*starpost.Event, error) {
	var e starpost.Event
	var kind, role, body string
	var at int64
	if err := sc.Scan(&e.WorkspaceID, &e.Cursor, &e.ConversationID, &e.Seq, &kind, &role, &e.Actor.ID, &at, &body, &e.IdempotencyKey); err != nil {
		return nil, err
	}
	e.Kind, e.Actor.Role, e.At = starpost.EventKind(kind), starpost.ParticipantRole(role), fromNanos(at)
	if body != "" {
		e.Body = json.RawMessage(body)
	}
	return &e, nil
}

// ListEvents returns the workspace's events that match f in cursor order,
// at most f.Limit (0 or more than starpost.MaxEventPage means MaxEventPage).
func (db *DB) ListEvents(ctx context.Context, f starpost.EventFilter) ([]*starpost.Event, error) {
	if err := requireWorkspace(f.WorkspaceID); err != nil {
		return nil, err
	}
	if f.Limit < 0 {
		return nil, starpost.FieldError("limit", "must not be negative")
	}
	if f.AfterCursor < 0 {
		return nil, starpost.FieldError("after_cursor", "must not be negative")
	}
	limit := f.Limit
	if limit == 0 || limit > starpost.MaxEventPage {
		limit = starpost.MaxEventPage
	}
	where := []string{"workspace_id = ?", "cursor > ?"}
	args := []any{f.WorkspaceID, f.AfterCursor}
	if f.ConversationID != "" {
		where = append(where, "conversation_id = ?")
		args = append(args, f.ConversationID)
	}
	if len(f.ConversationIDs) > 0 {
		where = append(where, "conversation_id IN ("+placeholders(len(f.ConversationIDs))+")")
		for _, id := range f.ConversationIDs {
			args = append(args, id)
		}
	}
	if len(f.Kinds) > 0 {
		where = append(where, "kind IN ("+placeholders(len(f.Kinds))+")")
		for _, k := range f.Kinds {
			args = append(args, string(k))
		}
	}
	args = append(args, limit)
	rows, err := db.read.QueryContext(ctx, db.dialect.q("SELECT "+eventColumns+" FROM events WHERE "+strings.Join(where, " AND ")+" ORDER BY cursor LIMIT ?"), args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	out := []*starpost.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

// LastCursor returns the cursor of the workspace's newest event (0 when it
// has none).
func (db *DB) LastCursor(ctx context.Context, workspaceID string) (int64, error) {
	var c int64
	err := db.read.QueryRowContext(ctx, db.dialect.q("SELECT last_cursor FROM workspaces WHERE id = ?"), workspaceID).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("workspace", workspaceID)
	} else if err != nil {
		return 0, fmt.Errorf("last cursor: %w", err)
	}
	return c, nil
}

// Presence returns the latest presence of every user of the workspace that
// has ever sent a presence event, ordered by user id. Users without one are
// offline.
func (db *DB) Presence(ctx context.Context, workspaceID string) ([]starpost.AgentPresence, error) {
	rows, err := db.read.QueryContext(ctx, db.dialect.q("SELECT id, presence, presence_since FROM users WHERE workspace_id = ? AND presence <> '' ORDER BY id"), workspaceID)
	if err != nil {
		return nil, fmt.Errorf("presence: %w", err)
	}
	defer rows.Close()
	out := []starpost.AgentPresence{}
	for rows.Next() {
		var p starpost.AgentPresence
		var pr string
		var since int64
		if err := rows.Scan(&p.AgentID, &pr, &since); err != nil {
			return nil, fmt.Errorf("presence: %w", err)
		}
		p.Presence, p.Since = starpost.Presence(pr), fromNanos(since)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("presence: %w", err)
	}
	return out, nil
}
