package bot

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
)

// KindIntentTagged records which intent (a published FAQ) a conversation
// was about, said by an agent or supervisor; body: IntentTagBody. Internal:
// the customer does not see it. The newest tag of a conversation counts.
const KindIntentTagged starpost.EventKind = "intent.tagged"

// MaxTagText is the longest customer text, in characters, a tag keeps as a
// training example.
const MaxTagText = 1000

// IntentTagBody is the body of an intent.tagged event.
type IntentTagBody struct {
	// Intent is the intent's id (the FAQ's id).
	Intent string `json:"intent"`
	// IntentTitle is the intent's title when tagged, for people reading the
	// conversation.
	IntentTitle string `json:"intent_title,omitempty"`
	// Text is the customer's words that ask for the intent: the training
	// example the tag adds once the conversation is resolved.
	Text string `json:"text"`
}

// Validate trims the body and checks it: an intent and a text of at most
// MaxTagText characters.
func (b *IntentTagBody) Validate() error {
	b.Intent, b.Text = strings.TrimSpace(b.Intent), strings.TrimSpace(b.Text)
	switch {
	case b.Intent == "":
		return starpost.FieldError("intent", "required")
	case len(b.Intent) > starpost.MaxKeyLen:
		return starpost.FieldError("intent", "longer than %d bytes", starpost.MaxKeyLen)
	case b.Text == "":
		return starpost.FieldError("text", "required: the customer's words that ask for the intent")
	case utf8.RuneCountInString(b.Text) > MaxTagText:
		return starpost.FieldError("text", "longer than %d characters", MaxTagText)
	}
	return nil
}

// Tags keeps the intent tags of conversations, the second source of the
// bot's training examples after the FAQ question variants: every resolved
// or closed conversation tagged with an intent adds its customer's words as
// an example of that intent. The tag engine (NewTagEngine) keeps it up to
// date from the conversation events. It is safe for concurrent use.
type Tags struct {
	db     *sql.DB
	driver string
}

// OpenTags creates the tag tables if needed (they share the bot's schema
// files) and returns Tags. Pass store.DB.SQL() and store.DB.Driver().
func OpenTags(ctx context.Context, db *sql.DB, driver string) (*Tags, error) {
	if err := store.CreateTables(ctx, db, driver, sqliteSchema, postgresSchema); err != nil {
		return nil, fmt.Errorf("bot: create tables: %w", err)
	}
	return &Tags{db: db, driver: driver}, nil
}

func (t *Tags) q(query string) string { return store.Rebind(t.driver, query) }

// Revision is a counter that grows whenever workspace ws's examples change
// (0 before the first tag).
func (t *Tags) Revision(ctx context.Context, ws string) (int64, error) {
	var rev int64
	err := t.db.QueryRowContext(ctx, t.q("SELECT revision FROM bot_tag_revisions WHERE workspace_id = ?"), ws).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("bot: tag revision: %w", err)
	}
	return rev, nil
}

// Examples returns the training examples of workspace ws's resolved and
// closed tagged conversations, in conversation id order.
func (t *Tags) Examples(ctx context.Context, ws string) ([]Example, error) {
	rows, err := t.db.QueryContext(ctx, t.q("SELECT intent, text FROM bot_tags WHERE workspace_id = ? AND resolved = 1 ORDER BY conversation_id"), ws)
	if err != nil {
		return nil, fmt.Errorf("bot: list tags: %w", err)
	}
	defer rows.Close()
	var out []Example
	for rows.Next() {
		var x Example
		if err := rows.Scan(&x.Intent, &x.Text); err != nil {
			return nil, fmt.Errorf("bot: list tags: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// tag stores the tag of conversation conv from its event at seq, unless the
// row already holds that tag or a newer one.
func (t *Tags) tag(ctx context.Context, ws, conv string, seq int64, b IntentTagBody, resolved bool) error {
	return t.change(ctx, ws, t.q(`INSERT INTO bot_tags (workspace_id, conversation_id, intent, text, resolved, tag_seq) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, conversation_id) DO UPDATE SET intent = excluded.intent, text = excluded.text, resolved = excluded.resolved, tag_seq = excluded.tag_seq
		WHERE bot_tags.tag_seq < excluded.tag_seq`), ws, conv, b.Intent, b.Text, flag(resolved), seq)
}

// setResolved records whether a tagged conversation is resolved (or
// closed) now; it does nothing for a conversation without a tag.
func (t *Tags) setResolved(ctx context.Context, ws, conv string, resolved bool) error {
	return t.change(ctx, ws, t.q("UPDATE bot_tags SET resolved = ? WHERE workspace_id = ? AND conversation_id = ? AND resolved <> ?"),
		flag(resolved), ws, conv, flag(resolved))
}

// tagged reports whether conversation conv has a tag.
func (t *Tags) tagged(ctx context.Context, ws, conv string) (bool, error) {
	var n int
	if err := t.db.QueryRowContext(ctx, t.q("SELECT COUNT(*) FROM bot_tags WHERE workspace_id = ? AND conversation_id = ?"), ws, conv).Scan(&n); err != nil {
		return false, fmt.Errorf("bot: find tag: %w", err)
	}
	return n > 0, nil
}

// change runs one write and, when it changed a row, moves the workspace's
// revision in the same transaction.
func (t *Tags) change(ctx context.Context, ws, query string, args ...any) error {
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("bot: tag: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("bot: tag: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err
	}
	if _, err := tx.ExecContext(ctx, t.q(`INSERT INTO bot_tag_revisions (workspace_id, revision) VALUES (?, 1)
		ON CONFLICT (workspace_id) DO UPDATE SET revision = bot_tag_revisions.revision + 1`), ws); err != nil {
		return fmt.Errorf("bot: tag revision: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("bot: tag: %w", err)
	}
	return nil
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TagEngineName is the tag engine's name (its checkpoint).
const TagEngineName = "bot-tags"

// TagEngine keeps Tags from the conversation events: an intent.tagged event
// stores the conversation's tag, and every event that changes a tagged
// conversation's state (a state change, a customer's message reopening it)
// records whether it counts as resolved. It adds no events.
type TagEngine struct {
	tags  *Tags
	convs conversationFinder
}

type conversationFinder interface {
	FindConversation(ctx context.Context, workspaceID, id string) (*starpost.Conversation, error)
}

// NewTagEngine returns the engine that keeps tags from conversations read
// through convs (the store).
func NewTagEngine(tags *Tags, convs starpost.ConversationService) *TagEngine {
	return &TagEngine{tags: tags, convs: convs}
}

// Name implements engine.Handler.
func (e *TagEngine) Name() string { return TagEngineName }

// Handle implements engine.Handler.
func (e *TagEngine) Handle(ctx context.Context, ev *starpost.Event) ([]*starpost.Event, error) {
	if ev.ConversationID == "" {
		return nil, nil
	}
	switch {
	case ev.Kind == KindIntentTagged:
		var b IntentTagBody
		if err := ev.DecodeBody(&b); err != nil {
			return nil, err
		}
		if err := b.Validate(); err != nil {
			return nil, err
		}
		resolved, err := e.resolved(ctx, ev)
		if err != nil {
			return nil, err
		}
		return nil, e.tags.tag(ctx, ev.WorkspaceID, ev.ConversationID, ev.Seq, b, resolved)
	case ev.Kind == starpost.KindState || ev.Kind == starpost.KindMessage && customer(ev.Actor.Role):
		// A state event says the state; a customer's message is only
		// accepted on an open conversation and reopens a resolved one.
		resolved := false
		if ev.Kind == starpost.KindState {
			var b starpost.StateBody
			if err := ev.DecodeBody(&b); err != nil {
				return nil, err
			}
			resolved = closedState(b.State)
		}
		ok, err := e.tags.tagged(ctx, ev.WorkspaceID, ev.ConversationID)
		if err != nil || !ok {
			return nil, err
		}
		return nil, e.tags.setResolved(ctx, ev.WorkspaceID, ev.ConversationID, resolved)
	}
	return nil, nil
}

func closedState(s starpost.State) bool {
	return s == starpost.StateResolved || s == starpost.StateClosed
}

// resolved reports whether ev's conversation is resolved or closed now (a
// replayed tag reads the present state; the state events after it, handled
// in order, leave the same result).
func (e *TagEngine) resolved(ctx context.Context, ev *starpost.Event) (bool, error) {
	c, err := e.convs.FindConversation(ctx, ev.WorkspaceID, ev.ConversationID)
	if err != nil {
		return false, err
	}
	return closedState(c.State), nil
}
