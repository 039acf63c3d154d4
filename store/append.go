package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/starpost/starpost"
)

// appendReq is one Append call waiting for the committer.
type appendReq struct {
	ctx    context.Context
	events []*starpost.Event
	done   chan appendResult // buffered: the committer never blocks on it
}

type appendResult struct {
	events []*starpost.Event
	err    error
}

// maxBatchAttempts bounds how often a batch is run again after a
// serialization failure, deadlock or concurrent duplicate on PostgreSQL.
const maxBatchAttempts = 8

// Stats are counters of the committer, for metrics and benchmarks.
type Stats struct {
	// Batches is how many transactions the committer has committed.
	Batches int64
	// Calls is how many Append calls those transactions answered.
	Calls int64
	// Events is how many new events they stored (idempotent repeats excluded).
	Events int64
	// Retries is how many batches were run again after a retryable error.
	Retries int64
}

type statsCounters struct {
	batches, calls, events, retries atomic.Int64
}

// Stats returns the committer's counters since Open.
func (db *DB) Stats() Stats {
	return Stats{
		Batches: db.stats.batches.Load(),
		Calls:   db.stats.calls.Load(),
		Events:  db.stats.events.Load(),
		Retries: db.stats.retries.Load(),
	}
}

// Append validates and commits the events of one call atomically (all or
// none) and returns the committed events: copies of the arguments with Seq,
// Cursor and, when zero, At assigned, and ConversationID for created
// conversations. The arguments are not modified.
//
// An event whose (workspace, idempotency key) was committed before yields the
// original stored event instead. Ephemeral kinds are EINVALID; an event that
// does not apply to its conversation's state is ECONFLICT (from
// Conversation.Apply); an unknown conversation or workspace is ENOTFOUND; a
// presence event whose actor is not a user of the workspace is ENOTFOUND.
//
// Calls waiting at the same time are committed together in one transaction
// (group commit), each in its own savepoint, so one call's failure never
// affects another's. Append returns only after the commit.
func (db *DB) Append(ctx context.Context, events ...*starpost.Event) ([]*starpost.Event, error) {
	if len(events) == 0 {
		return []*starpost.Event{}, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Cheap checks first, outside the committer.
	for i, e := range events {
		if err := precheck(e); err != nil {
			if len(events) > 1 {
				return nil, fmt.Errorf("event %d: %w", i, err)
			}
			return nil, err
		}
	}
	r := &appendReq{ctx: ctx, events: events, done: make(chan appendResult, 1)}
	select {
	case db.reqs <- r:
	case <-db.quit:
		return nil, starpost.Errorf(starpost.EUNAVAILABLE, "store is closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Once handed over, wait for the outcome even if ctx ends meanwhile: the
	// batch may commit, and the caller must learn what happened.
	res := <-r.done
	return res.events, res.err
}

// precheck validates an event without touching the database.
func precheck(e *starpost.Event) error {
	if e == nil {
		return starpost.FieldError("events", "nil event")
	}
	if err := e.Validate(); err != nil {
		return err
	}
	if e.Kind.Ephemeral() {
		return starpost.FieldError("kind", "%s events are ephemeral signals and are never stored", e.Kind)
	}
	if e.Kind.WorkspaceWide() && e.ConversationID != "" {
		return starpost.FieldError("conversation_id", "must be empty for %s events", e.Kind)
	}
	return nil
}

// commitLoop is the committer: it takes the first waiting call, then every
// call waiting behind it (up to maxBatch), and commits them together.
func (db *DB) commitLoop() {
	defer close(db.done)
	batch := make([]*appendReq, 0, db.maxBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-db.reqs:
			batch = append(batch, r)
		case <-db.quit:
			return
		}
	drain:
		for len(batch) < db.maxBatch {
			select {
			case r := <-db.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		db.commitBatch(batch)
	}
}

// commitBatch runs one batch to completion and answers every call in it.
func (db *DB) commitBatch(batch []*appendReq) {
	live := make([]*appendReq, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- appendResult{err: err}
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	// The transaction belongs to no single caller, so it runs on its own
	// context; a bound keeps a stuck database from hanging the committer.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var results []appendResult
	var err error
	for attempt := 1; ; attempt++ {
		results, err = db.runBatch(ctx, live)
		if err == nil || !isRetryable(err) || attempt == maxBatchAttempts {
			break
		}
		db.stats.retries.Add(1)
		db.logger.Debug("retrying append batch", "attempt", attempt, "err", err)
		time.Sleep(time.Duration(attempt) * time.Millisecond)
	}
	if err != nil {
		db.logger.Error("append batch failed", "calls", len(live), "err", err)
		err = fmt.Errorf("append: %w", err)
		for _, r := range live {
			r.done <- appendResult{err: err}
		}
		return
	}
	db.stats.batches.Add(1)
	db.stats.calls.Add(int64(len(live)))
	for i, r := range live {
		r.done <- results[i]
	}
}

// runBatch runs the calls in one transaction, each in a savepoint. It
// returns an error only when the whole transaction failed.
func (db *DB) runBatch(ctx context.Context, calls []*appendReq) ([]appendResult, error) {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if db.dialect.name == "postgres" {
		// Lock every workspace row the batch will touch, in id order, before
		// anything else: writers of one workspace queue up here (which keeps
		// cursors commit-ordered across nodes) and can never deadlock.
		if err := db.lockWorkspaces(ctx, tx, calls); err != nil {
			return nil, err
		}
	}
	results := make([]appendResult, len(calls))
	var stored int64
	for i, r := range calls {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT append_call"); err != nil {
			return nil, fmt.Errorf("savepoint: %w", err)
		}
		events, n, err := db.appendCall(ctx, tx, r.events)
		if err != nil {
			if isRetryable(err) {
				return nil, err
			}
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT append_call"); rerr != nil {
				return nil, fmt.Errorf("rollback to savepoint: %w (after %w)", rerr, err)
			}
			results[i] = appendResult{err: err}
		} else {
			results[i] = appendResult{events: events}
			stored += n
		}
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT append_call"); err != nil {
			return nil, fmt.Errorf("release savepoint: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	db.stats.events.Add(stored)
	return results, nil
}

func (db *DB) lockWorkspaces(ctx context.Context, tx *sql.Tx, calls []*appendReq) error {
	seen := map[string]bool{}
	var ids []string
	for _, r := range calls {
		for _, e := range r.events {
			if !seen[e.WorkspaceID] {
				seen[e.WorkspaceID] = true
				ids = append(ids, e.WorkspaceID)
			}
		}
	}
	sort.Strings(ids)
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.QueryContext(ctx, db.dialect.q("SELECT id FROM workspaces WHERE id IN ("+placeholders(len(ids))+") ORDER BY id FOR UPDATE"), args...)
	if err != nil {
		return fmt.Errorf("lock workspaces: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("lock workspaces: %w", err)
	}
	return nil
}

// appendCall writes one Append call inside the batch transaction and
// returns the committed events and how many of them are new. On error the
// caller rolls the call's savepoint back.
func (db *DB) appendCall(ctx context.Context, tx *sql.Tx, in []*starpost.Event) ([]*starpost.Event, int64, error) {
	out := make([]*starpost.Event, len(in))
	now := db.now()
	type key struct{ workspace, key string }
	byKey := map[key]*starpost.Event{}
	convs := map[string]*convState{}
	var fresh []*starpost.Event // events to insert, in call order
	type presence struct {
		workspace, agent string
		p                starpost.Presence
		at               time.Time
	}
	var presences []presence

	for i, src := range in {
		e := *src
		e.Seq, e.Cursor = 0, 0
		if e.At.IsZero() {
			e.At = now
		} else {
			e.At = e.At.UTC().Round(0)
		}
		if e.IdempotencyKey != "" {
			k := key{e.WorkspaceID, e.IdempotencyKey}
			if prev := byKey[k]; prev != nil {
				out[i] = prev
				continue
			}
			orig, err := db.eventByKey(ctx, tx, e.WorkspaceID, e.IdempotencyKey)
			if err != nil {
				return nil, 0, err
			}
			if orig != nil {
				out[i], byKey[k] = orig, orig
				continue
			}
		}
		switch {
		case e.Kind.WorkspaceWide():
			if e.Kind == starpost.KindPresence {
				var b starpost.PresenceBody
				if err := e.DecodeBody(&b); err != nil {
					return nil, 0, err
				}
				presences = append(presences, presence{e.WorkspaceID, e.Actor.ID, b.Presence, e.At})
			}
		default:
			if e.Kind == starpost.KindCreated && e.ConversationID == "" {
				e.ConversationID = starpost.NewID("cv")
			}
			cs := convs[e.ConversationID]
			if cs == nil {
				var err error
				if cs, err = db.loadConversation(ctx, tx, e.WorkspaceID, e.ConversationID, e.Kind == starpost.KindCreated); err != nil {
					return nil, 0, err
				}
				convs[e.ConversationID] = cs
			} else if cs.c.WorkspaceID != "" && cs.c.WorkspaceID != e.WorkspaceID {
				return nil, 0, notFound("conversation", e.ConversationID)
			}
			e.Seq = cs.c.LastSeq + 1
			if err := cs.c.Apply(&e); err != nil {
				if len(in) > 1 {
					return nil, 0, fmt.Errorf("event %d: %w", i, err)
				}
				return nil, 0, err
			}
			cs.dirty = true
		}
		ev := e
		out[i] = &ev
		fresh = append(fresh, &ev)
		if ev.IdempotencyKey != "" {
			byKey[key{ev.WorkspaceID, ev.IdempotencyKey}] = &ev
		}
	}
	if len(fresh) == 0 {
		return out, 0, nil
	}

	// Cursors: one UPDATE per workspace moves its counter by the number of
	// new events; the row lock it takes orders concurrent writers.
	counts := map[string]int64{}
	var order []string
	for _, e := range fresh {
		if counts[e.WorkspaceID] == 0 {
			order = append(order, e.WorkspaceID)
		}
		counts[e.WorkspaceID]++
	}
	next := map[string]int64{}
	for _, ws := range order {
		var last int64
		err := tx.QueryRowContext(ctx, db.dialect.q("UPDATE workspaces SET last_cursor = last_cursor + ? WHERE id = ? RETURNING last_cursor"),
			counts[ws], ws).Scan(&last)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, 0, notFound("workspace", ws)
		} else if err != nil {
			return nil, 0, fmt.Errorf("advance cursor: %w", err)
		}
		next[ws] = last - counts[ws] + 1
	}
	for _, e := range fresh {
		e.Cursor = next[e.WorkspaceID]
		next[e.WorkspaceID]++
	}

	for _, p := range presences {
		res, err := tx.ExecContext(ctx, db.dialect.q("UPDATE users SET presence = ?, presence_since = ? WHERE workspace_id = ? AND id = ?"),
			string(p.p), nanos(p.at), p.workspace, p.agent)
		if err != nil {
			return nil, 0, fmt.Errorf("update presence: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, 0, fmt.Errorf("update presence: %w", err)
		} else if n == 0 {
			return nil, 0, notFound("agent", p.agent)
		}
	}
	for _, cs := range convs {
		if cs.dirty {
			if err := db.saveConversation(ctx, tx, cs); err != nil {
				return nil, 0, err
			}
		}
	}
	for _, e := range fresh {
		if err := db.insertEvent(ctx, tx, e); err != nil {
			return nil, 0, err
		}
	}
	return out, int64(len(fresh)), nil
}

// convState is a conversation loaded by an Append call.
type convState struct {
	c     *starpost.Conversation
	isNew bool // not stored yet
	dirty bool
}

// loadConversation reads (and on PostgreSQL locks) a conversation of the
// workspace. For a created event, a missing conversation is a new, empty
// one; an id taken in another workspace is ECONFLICT.
func (db *DB) loadConversation(ctx context.Context, tx *sql.Tx, workspaceID, id string, create bool) (*convState, error) {
	var ws, data string
	err := tx.QueryRowContext(ctx, db.dialect.q("SELECT workspace_id, data FROM conversations WHERE id = ?"+db.dialect.forUpdate), id).Scan(&ws, &data)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if create {
			return &convState{c: &starpost.Conversation{}, isNew: true}, nil
		}
		return nil, notFound("conversation", id)
	case err != nil:
		return nil, fmt.Errorf("load conversation: %w", err)
	case ws != workspaceID:
		if create {
			return nil, starpost.Errorf(starpost.ECONFLICT, "conversation id %s is taken", id)
		}
		return nil, notFound("conversation", id)
	}
	c, err := decodeConversation(data)
	if err != nil {
		return nil, err
	}
	return &convState{c: c}, nil
}

func (db *DB) saveConversation(ctx context.Context, tx *sql.Tx, cs *convState) error {
	c := cs.c
	data := mustJSON(c)
	if cs.isNew {
		_, err := tx.ExecContext(ctx, db.dialect.q(`INSERT INTO conversations
			(id, workspace_id, channel, contact_id, queue_id, agent_id, offered_to, state, priority, last_seq, created_at, updated_at, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			c.ID, c.WorkspaceID, string(c.Channel), c.ContactID, c.QueueID, c.AgentID, c.OfferedTo, string(c.State),
			c.Priority, c.LastSeq, nanos(c.CreatedAt), nanos(c.UpdatedAt), data)
		if err != nil {
			return insertErr(err, "conversation", c.WorkspaceID, "conversation "+c.ID+" exists")
		}
		cs.isNew = false
		return nil
	}
	_, err := tx.ExecContext(ctx, db.dialect.q(`UPDATE conversations SET
		queue_id = ?, agent_id = ?, offered_to = ?, state = ?, priority = ?, last_seq = ?, updated_at = ?, data = ?
		WHERE workspace_id = ? AND id = ?`),
		c.QueueID, c.AgentID, c.OfferedTo, string(c.State), c.Priority, c.LastSeq, nanos(c.UpdatedAt), data, c.WorkspaceID, c.ID)
	if err != nil {
		return fmt.Errorf("save conversation: %w", err)
	}
	return nil
}

func (db *DB) insertEvent(ctx context.Context, tx *sql.Tx, e *starpost.Event) error {
	_, err := tx.ExecContext(ctx, db.dialect.q(`INSERT INTO events
		(workspace_id, cursor, conversation_id, seq, kind, actor_role, actor_id, at, body, idempotency_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		e.WorkspaceID, e.Cursor, e.ConversationID, e.Seq, string(e.Kind), string(e.Actor.Role), e.Actor.ID,
		nanos(e.At), string(e.Body), e.IdempotencyKey)
	if err != nil {
		// On PostgreSQL a unique violation is retryable: another node
		// committed the same key, and the retry returns its event.
		return fmt.Errorf("insert event: %w", err)
	}
	return nil
}

// eventByKey returns the committed event of the workspace with the
// idempotency key, or nil.
func (db *DB) eventByKey(ctx context.Context, q querier, workspaceID, key string) (*starpost.Event, error) {
	e, err := scanEvent(q.QueryRowContext(ctx, db.dialect.q("SELECT "+eventColumns+" FROM events WHERE workspace_id = ? AND idempotency_key = ? AND idempotency_key <> ''"), workspaceID, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("find idempotency key: %w", err)
	}
	return e, nil
}
