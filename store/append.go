package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"slices"
	"sort"
	"strings"
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
	// Checkpoints is how many background checkpoints of the SQLite WAL ran,
	// and WALRewinds how many times the committer copied the WAL's last
	// frames so that it could start over (SQLite files only).
	Checkpoints, WALRewinds int64
}

type statsCounters struct {
	batches, calls, events, retries atomic.Int64
}

// Stats returns the committer's counters since Open.
func (db *DB) Stats() Stats {
	s := Stats{
		Batches: db.stats.batches.Load(),
		Calls:   db.stats.calls.Load(),
		Events:  db.stats.events.Load(),
		Retries: db.stats.retries.Load(),
	}
	if db.ckpt != nil {
		s.Checkpoints, s.WALRewinds = db.ckpt.checkpoints.Load(), db.ckpt.rewinds.Load()
	}
	return s
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
	if db.syncq != nil {
		defer func() { <-db.synced }()
		defer close(db.syncq)
	}
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
		db.rewindWAL()
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
	if db.wal != nil {
		if err := db.wal.err(); err != nil {
			for _, r := range live {
				r.done <- appendResult{err: err}
			}
			return
		}
	}
	// The transaction belongs to no single caller, so it runs on its own
	// context; on PostgreSQL a bound keeps a stuck server from hanging the
	// committer. SQLite runs in process and bounds lock waits itself
	// (busy_timeout), and a context that can end costs the driver a
	// watcher goroutine per statement, so its batches run without one.
	ctx := context.Background()
	if db.dialect.numbered {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
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
	if db.ckpt != nil {
		db.ckpt.written.Store(true)
	}
	if db.syncq != nil {
		db.syncq <- syncItem{reqs: live, results: results} // answered once on disk
		return
	}
	for i, r := range live {
		r.done <- results[i]
	}
}

// runBatch runs the calls in one transaction. It returns an error only
// when the whole transaction failed.
//
// Each call is staged in memory against the batch's view of the database:
// the conversations, idempotency keys and users it reads are fetched once
// per batch (conversations with FOR UPDATE on PostgreSQL), and the call's
// changes are applied to private copies. A call that fails is dropped with
// its copies, so it leaves no trace and the calls after it see the state
// the accepted calls left. This gives every call the isolation of its own
// savepoint without a savepoint's round trips. The accepted calls are then
// written together: one cursor UPDATE per workspace, one UPDATE per changed
// conversation and one multi-row INSERT of the events.
func (db *DB) runBatch(ctx context.Context, calls []*appendReq) ([]appendResult, error) {
	var tx *sql.Tx
	var err error
	if db.wal != nil {
		// SQLite: the writer connection commits with synchronous=FULL for
		// everyone else who writes through it (SQL()); the committer holds
		// it for the batch and commits with NORMAL, because the syncer
		// fsyncs the WAL before answering (walsync.go).
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("writer connection: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
			return nil, fmt.Errorf("synchronous for the batch: %w", err)
		}
		defer func() {
			if _, err := conn.ExecContext(context.Background(), "PRAGMA synchronous = FULL"); err != nil {
				// The connection must not go back to the pool as NORMAL.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
				db.logger.Error("restore synchronous=FULL on the writer connection", "err", err)
			}
		}()
		tx, err = conn.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("begin: %w", err)
		}
	} else if tx, err = db.write.BeginTx(ctx, nil); err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	b := &batch{
		db: db, tx: tx, now: db.now(),
		workspaces: map[string]bool{},
		convs:      map[string]*convState{},
		keys:       map[eventKey]*starpost.Event{},
		users:      map[userKey]bool{},
		presence:   map[userKey]*starpost.Event{},
	}
	if err := b.prefetch(ctx, calls); err != nil {
		return nil, err
	}
	results := make([]appendResult, len(calls))
	for i, r := range calls {
		events, err := b.stage(ctx, r.events)
		if err != nil {
			if starpost.ErrorCode(err) == starpost.EINTERNAL {
				return nil, err // a database failure: the batch is in doubt
			}
			results[i] = appendResult{err: err}
			continue
		}
		results[i] = appendResult{events: events}
	}
	if err := b.flush(ctx); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	db.stats.events.Add(int64(len(b.fresh)))
	// Answer with copies: calls that repeat a key share the stored event.
	for i := range results {
		for j, e := range results[i].events {
			c := *e
			results[i].events[j] = &c
		}
	}
	return results, nil
}

type eventKey struct{ workspace, key string }

type userKey struct{ workspace, user string }

// convState is a conversation as the accepted calls of a batch left it.
type convState struct {
	c     *starpost.Conversation // nil: no such conversation
	ws    string                 // workspace of the stored row
	isNew bool                   // created in this batch
	dirty bool
}

// batch is the state of one group-commit transaction.
type batch struct {
	db         *DB
	tx         *sql.Tx
	now        time.Time
	workspaces map[string]bool              // workspace id → exists
	convs      map[string]*convState        // conversation id → state
	keys       map[eventKey]*starpost.Event // idempotency key → stored or accepted event
	users      map[userKey]bool             // user → exists
	presence   map[userKey]*starpost.Event  // user → newest accepted presence event
	fresh      []*starpost.Event            // accepted new events, in order
}

// prefetch reads, in a few queries, what the calls will look at: their
// workspaces (locked in id order on PostgreSQL, so that writers of one
// workspace queue up and never deadlock), the conversations they name and
// the events already stored under their idempotency keys.
func (b *batch) prefetch(ctx context.Context, calls []*appendReq) error {
	var wsIDs, convIDs []string
	keysByWS := map[string][]string{}
	seenConv := map[string]bool{}
	seenKey := map[eventKey]bool{}
	for _, r := range calls {
		for _, e := range r.events {
			if _, ok := b.workspaces[e.WorkspaceID]; !ok {
				b.workspaces[e.WorkspaceID] = false
				wsIDs = append(wsIDs, e.WorkspaceID)
			}
			if e.ConversationID != "" && !seenConv[e.ConversationID] {
				seenConv[e.ConversationID] = true
				convIDs = append(convIDs, e.ConversationID)
			}
			if k := (eventKey{e.WorkspaceID, e.IdempotencyKey}); k.key != "" && !seenKey[k] {
				seenKey[k] = true
				keysByWS[k.workspace] = append(keysByWS[k.workspace], k.key)
			}
		}
	}
	sort.Strings(wsIDs)
	if err := b.queryIDs(ctx, lockWorkspacesSQL+b.db.dialect.forUpdate, nil, wsIDs, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		b.workspaces[id] = true
		return nil
	}); err != nil {
		return fmt.Errorf("lock workspaces: %w", err)
	}
	sort.Strings(convIDs)
	for _, id := range convIDs {
		b.convs[id] = &convState{}
	}
	if err := b.queryIDs(ctx, loadConversationsSQL+b.db.dialect.forUpdate, nil, convIDs, func(rows *sql.Rows) error {
		var id, ws, data string
		if err := rows.Scan(&id, &ws, &data); err != nil {
			return err
		}
		c, err := decodeConversation(data)
		if err != nil {
			return err
		}
		b.convs[id] = &convState{c: c, ws: ws}
		return nil
	}); err != nil {
		return fmt.Errorf("load conversations: %w", err)
	}
	for ws, keys := range keysByWS {
		if err := b.queryIDs(ctx, findKeysSQL, []any{ws}, keys, func(rows *sql.Rows) error {
			e, err := scanEvent(rows)
			if err != nil {
				return err
			}
			b.keys[eventKey{e.WorkspaceID, e.IdempotencyKey}] = e
			return nil
		}); err != nil {
			return fmt.Errorf("find idempotency keys: %w", err)
		}
	}
	return nil
}

// queryIDs runs query (with %s standing for the placeholders of ids, after
// the fixed args) in chunks and calls fn for every row.
func (b *batch) queryIDs(ctx context.Context, query string, args []any, ids []string, fn func(*sql.Rows) error) error {
	const chunk = 500
	for len(ids) > 0 {
		n := min(len(ids), chunk)
		all := append(append(make([]any, 0, len(args)+n), args...), stringsToAny(ids[:n])...)
		ids = ids[n:]
		rows, err := b.db.query(ctx, b.tx, fmt.Sprintf(query, placeholders(n)), all...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := fn(rows); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func stringsToAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// stage applies one Append call to private copies of the batch state and,
// when every event applies, makes them the batch state. It returns the
// call's events (their cursors are assigned by flush).
func (b *batch) stage(ctx context.Context, in []*starpost.Event) ([]*starpost.Event, error) {
	out := make([]*starpost.Event, len(in))
	convs := map[string]*convState{} // copies changed by this call
	keys := map[eventKey]*starpost.Event{}
	presence := map[userKey]*starpost.Event{}
	var fresh []*starpost.Event
	fail := func(i int, err error) ([]*starpost.Event, error) {
		if len(in) > 1 && starpost.ErrorCode(err) != starpost.EINTERNAL {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		return nil, err
	}
	for i, src := range in {
		e := *src
		e.Seq, e.Cursor = 0, 0
		if e.At.IsZero() {
			e.At = b.now
		} else {
			e.At = e.At.UTC().Round(0)
		}
		k := eventKey{e.WorkspaceID, e.IdempotencyKey}
		if k.key != "" {
			if prev := keys[k]; prev != nil {
				out[i] = prev
				continue
			}
			if prev := b.keys[k]; prev != nil {
				out[i] = prev
				continue
			}
		}
		if !b.workspaces[e.WorkspaceID] {
			return fail(i, notFound("workspace", e.WorkspaceID))
		}
		switch {
		case e.Kind.WorkspaceWide():
			if e.Kind == starpost.KindPresence {
				var body starpost.PresenceBody
				if err := e.DecodeBody(&body); err != nil {
					return fail(i, err)
				}
				u := userKey{e.WorkspaceID, e.Actor.ID}
				ok, err := b.userExists(ctx, u)
				if err != nil {
					return nil, err
				}
				if !ok {
					return fail(i, notFound("agent", e.Actor.ID))
				}
				presence[u] = &e
			}
		default:
			if e.Kind == starpost.KindCreated && e.ConversationID == "" {
				e.ConversationID = starpost.NewID("cv")
			}
			cs := convs[e.ConversationID]
			if cs == nil {
				base := b.convs[e.ConversationID]
				if base == nil {
					base = &convState{} // a new id made up above
				}
				cs = base.clone()
				convs[e.ConversationID] = cs
			}
			if cs.c == nil {
				if e.Kind != starpost.KindCreated {
					return fail(i, notFound("conversation", e.ConversationID))
				}
				cs.c, cs.ws, cs.isNew = &starpost.Conversation{}, e.WorkspaceID, true
			} else if cs.ws != e.WorkspaceID {
				if e.Kind == starpost.KindCreated {
					return fail(i, starpost.Errorf(starpost.ECONFLICT, "conversation id %s is taken", e.ConversationID))
				}
				return fail(i, notFound("conversation", e.ConversationID))
			}
			e.Seq = cs.c.LastSeq + 1
			if err := cs.c.Apply(&e); err != nil {
				return fail(i, err)
			}
			cs.dirty = true
		}
		ev := &e
		out[i] = ev
		fresh = append(fresh, ev)
		if k.key != "" {
			keys[k] = ev
		}
	}
	// Every event applies: the call's copies become the batch state.
	for id, cs := range convs {
		b.convs[id] = cs
	}
	for k, e := range keys {
		b.keys[k] = e
	}
	for u, e := range presence {
		b.presence[u] = e
	}
	b.fresh = append(b.fresh, fresh...)
	return out, nil
}

// clone returns a copy of cs that Apply may change without touching cs.
func (cs *convState) clone() *convState {
	n := *cs
	if cs.c != nil {
		c := *cs.c
		c.Participants = slices.Clone(cs.c.Participants)
		n.c = &c
	}
	return &n
}

func (b *batch) userExists(ctx context.Context, u userKey) (bool, error) {
	if ok, seen := b.users[u]; seen {
		return ok, nil
	}
	var n int
	err := b.tx.QueryRowContext(ctx, b.db.dialect.q("SELECT COUNT(*) FROM users WHERE workspace_id = ? AND id = ?"), u.workspace, u.user).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("find user: %w", err)
	}
	b.users[u] = n > 0
	return n > 0, nil
}

// flush writes the accepted calls: cursors, conversations, presence and
// events.
func (b *batch) flush(ctx context.Context) error {
	if len(b.fresh) == 0 {
		return nil
	}
	// Cursors: one UPDATE per workspace moves its counter by the number of
	// new events, in the same transaction, so cursors are gapless and
	// follow commit order (the row lock orders concurrent writers).
	counts := map[string]int64{}
	var order []string
	for _, e := range b.fresh {
		if counts[e.WorkspaceID] == 0 {
			order = append(order, e.WorkspaceID)
		}
		counts[e.WorkspaceID]++
	}
	sort.Strings(order)
	next := map[string]int64{}
	for _, ws := range order {
		var last int64
		err := b.db.queryRow(ctx, b.tx, advanceCursorSQL,
			counts[ws], ws).Scan(&last)
		if err != nil {
			return fmt.Errorf("advance cursor of %s: %w", ws, err)
		}
		next[ws] = last - counts[ws] + 1
	}
	for _, e := range b.fresh {
		e.Cursor = next[e.WorkspaceID]
		next[e.WorkspaceID]++
	}

	ids := make([]string, 0, len(b.convs))
	for id, cs := range b.convs {
		if cs.dirty {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		if err := b.db.saveConversation(ctx, b.tx, b.convs[id]); err != nil {
			return err
		}
	}
	users := make([]userKey, 0, len(b.presence))
	for u := range b.presence {
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool {
		return users[i].workspace < users[j].workspace || users[i].workspace == users[j].workspace && users[i].user < users[j].user
	})
	for _, u := range users {
		e := b.presence[u]
		var body starpost.PresenceBody
		if err := e.DecodeBody(&body); err != nil {
			return err
		}
		if _, err := b.db.exec(ctx, b.tx, updatePresenceSQL,
			string(body.Presence), nanos(e.At), u.workspace, u.user); err != nil {
			return fmt.Errorf("update presence: %w", err)
		}
	}
	return b.insertEvents(ctx)
}

// insertEvents writes the accepted events: on PostgreSQL with multi-row
// INSERTs (one round trip per 100 events); on SQLite, in process, one
// prepared single-row INSERT per event, which costs no parsing and, unlike a
// multi-row INSERT, needs no statement journal (SQLite copies every page a
// multi-row statement touches aside, in case a later row fails).
func (b *batch) insertEvents(ctx context.Context) error {
	const row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	perStmt := 100
	if !b.db.dialect.numbered {
		perStmt = 1
	}
	for evs := b.fresh; len(evs) > 0; {
		n := min(len(evs), perStmt)
		args := make([]any, 0, n*10)
		for _, e := range evs[:n] {
			args = append(args, e.WorkspaceID, e.Cursor, e.ConversationID, e.Seq, string(e.Kind), string(e.Actor.Role), e.Actor.ID,
				nanos(e.At), string(e.Body), e.IdempotencyKey)
		}
		evs = evs[n:]
		query := insertEventSQL
		if n > 1 {
			query += strings.Repeat(", "+row, n-1)
		}
		if _, err := b.db.exec(ctx, b.tx, query, args...); err != nil {
			// On PostgreSQL a unique violation is retryable: another node
			// committed the same key, and the retry returns its event.
			return fmt.Errorf("insert events: %w", err)
		}
	}
	return nil
}

func (db *DB) saveConversation(ctx context.Context, tx *sql.Tx, cs *convState) error {
	c := cs.c
	data := mustJSON(c)
	if cs.isNew {
		_, err := db.exec(ctx, tx, insertConvSQL,
			c.ID, c.WorkspaceID, string(c.Channel), c.ContactID, c.QueueID, c.AgentID, c.OfferedTo, string(c.State),
			c.Priority, c.LastSeq, nanos(c.CreatedAt), nanos(c.UpdatedAt), data)
		if err != nil {
			return fmt.Errorf("insert conversation: %w", err)
		}
		return nil
	}
	_, err := db.exec(ctx, tx, updateConvSQL,
		c.QueueID, c.AgentID, c.OfferedTo, string(c.State), c.Priority, c.LastSeq, nanos(c.UpdatedAt), data, c.WorkspaceID, c.ID)
	if err != nil {
		return fmt.Errorf("save conversation: %w", err)
	}
	return nil
}
