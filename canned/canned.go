// Package canned keeps a workspace's canned replies: short, reusable
// answers an agent inserts in the composer by typing "/" and the reply's
// shortcut (for example /refund). Admins write them; agents list the ones
// meant for them (no team, or their own team). A body may hold placeholders
// such as {{customer.name}} that the workspace fills in on the client.
//
// The package owns its table (schema_sqlite.sql, schema_postgres.sql,
// created idempotently by Open) on the shared database handle.
package canned

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
)

//go:embed schema_sqlite.sql
var sqliteSchema string

//go:embed schema_postgres.sql
var postgresSchema string

// Limits of what a canned reply may hold.
const (
	MaxTitleLen    = 200   // runes
	MaxShortcutLen = 32    // runes
	MaxBodyLen     = 4000  // runes, the composer's limit
	MaxReplies     = 2000  // per workspace
	MaxTeamIDLen   = 128   // bytes
	maxBodyBytes   = 16000 // bytes, bounds MaxBodyLen runes of CJK text
)

// Languages a reply may be written in; "" means any.
const (
	LangAny = ""
	LangZH  = "zh"
	LangEN  = "en"
)

// Reply is one canned reply.
type Reply struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	Title       string `json:"title"`
	// Shortcut is what the agent types after "/", stored without the
	// slash, lower-case.
	Shortcut string `json:"shortcut"`
	Body     string `json:"body"`
	// Lang is "zh", "en" or "" (any language).
	Lang string `json:"lang"`
	// TeamID limits the reply to one team's agents; "" is for everyone.
	TeamID    string    `json:"team_id"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// NormalizeShortcut trims s, drops one leading "/" and lower-cases it.
func NormalizeShortcut(s string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "/"))
}

// ValidShortcut reports why s (normalised) cannot be a shortcut, or nil:
// 1 to MaxShortcutLen letters, digits, "-", "_" or ".", in any script.
func ValidShortcut(s string) error {
	if s == "" {
		return starpost.FieldError("shortcut", "required")
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxShortcutLen {
		return starpost.FieldError("shortcut", "at most %d characters", MaxShortcutLen)
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' && r != '.' {
			return starpost.FieldError("shortcut", "only letters, digits, '-', '_' and '.' (no spaces or '/')")
		}
	}
	return nil
}

// Validate checks the reply's editable fields, after normalising them.
func (r *Reply) Validate() error {
	r.Title = strings.TrimSpace(r.Title)
	r.Shortcut = NormalizeShortcut(r.Shortcut)
	r.TeamID = strings.TrimSpace(r.TeamID)
	if r.Title == "" {
		return starpost.FieldError("title", "required")
	}
	if !utf8.ValidString(r.Title) || utf8.RuneCountInString(r.Title) > MaxTitleLen {
		return starpost.FieldError("title", "at most %d characters", MaxTitleLen)
	}
	if err := ValidShortcut(r.Shortcut); err != nil {
		return err
	}
	if strings.TrimSpace(r.Body) == "" {
		return starpost.FieldError("body", "required")
	}
	if !utf8.ValidString(r.Body) || len(r.Body) > maxBodyBytes || utf8.RuneCountInString(r.Body) > MaxBodyLen {
		return starpost.FieldError("body", "UTF-8 of at most %d characters", MaxBodyLen)
	}
	if r.Lang != LangAny && r.Lang != LangZH && r.Lang != LangEN {
		return starpost.FieldError("lang", "must be zh, en or empty (any)")
	}
	if len(r.TeamID) > MaxTeamIDLen || !utf8.ValidString(r.TeamID) {
		return starpost.FieldError("team_id", "at most %d bytes", MaxTeamIDLen)
	}
	return nil
}

// Patch changes some fields of a reply; nil fields stay as they are.
type Patch struct {
	Title    *string `json:"title"`
	Shortcut *string `json:"shortcut"`
	Body     *string `json:"body"`
	Lang     *string `json:"lang"`
	TeamID   *string `json:"team_id"`
}

// Filter selects replies of a workspace.
type Filter struct {
	// ForTeam, when Agent is set, keeps replies for everyone and for this
	// team; "" keeps only replies for everyone.
	ForTeam string
	// Agent limits the list to what an agent of ForTeam may use; otherwise
	// every reply is listed (admins).
	Agent bool
	// Lang, when set, keeps replies in that language and in any language.
	Lang string
}

// Options configure a Store.
type Options struct {
	// SQL is the shared database handle and Driver its dialect ("sqlite"
	// or "postgres"): store.DB.SQL() and store.DB.Driver().
	SQL    *sql.DB
	Driver string
	// Clock stamps edits; nil is the system clock.
	Clock starpost.Clock
}

// Store keeps the canned replies of every workspace. It is safe for
// concurrent use.
type Store struct {
	db     *sql.DB
	driver string
	clock  starpost.Clock
}

// Open creates the package's table if it does not exist and returns the
// store over it.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.SQL == nil {
		return nil, errors.New("canned: SQL is required")
	}
	var schema string
	switch opts.Driver {
	case "sqlite":
		schema = sqliteSchema
	case "postgres":
		schema = postgresSchema
	default:
		return nil, fmt.Errorf("canned: unknown driver %q", opts.Driver)
	}
	if err := store.ExecSchema(ctx, opts.SQL, opts.Driver, schema); err != nil {
		return nil, fmt.Errorf("canned: create table: %w", err)
	}
	if opts.Clock == nil {
		opts.Clock = starpost.SystemClock{}
	}
	return &Store{db: opts.SQL, driver: opts.Driver, clock: opts.Clock}, nil
}

func (s *Store) q(query string) string { return store.Rebind(s.driver, query) }

const cols = "workspace_id, id, title, shortcut, body, lang, team_id, created_at, updated_at, updated_by"

func scan(sc interface{ Scan(...any) error }) (*Reply, error) {
	var r Reply
	var created, updated int64
	if err := sc.Scan(&r.WorkspaceID, &r.ID, &r.Title, &r.Shortcut, &r.Body, &r.Lang, &r.TeamID, &created, &updated, &r.UpdatedBy); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	return &r, nil
}

func taken(shortcut, lang string) error {
	if lang == "" {
		return starpost.Errorf(starpost.ECONFLICT, "the shortcut /%s is already used", shortcut)
	}
	return starpost.Errorf(starpost.ECONFLICT, "the shortcut /%s is already used in %s", shortcut, lang)
}

// Create validates r and stores it in workspace ws, written by editor. A
// shortcut already used in the same language is ECONFLICT.
func (s *Store) Create(ctx context.Context, ws, editor string, r *Reply) error {
	if err := r.Validate(); err != nil {
		return err
	}
	var n int
	if err := s.db.QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM canned_replies WHERE workspace_id = ?"), ws).Scan(&n); err != nil {
		return fmt.Errorf("canned: count replies: %w", err)
	}
	if n >= MaxReplies {
		return starpost.Errorf(starpost.EINVALID, "a workspace holds at most %d canned replies", MaxReplies)
	}
	now := s.clock.Now().UTC()
	r.ID, r.WorkspaceID, r.CreatedAt, r.UpdatedAt, r.UpdatedBy = starpost.NewID("cr"), ws, now, now, editor
	res, err := s.db.ExecContext(ctx, s.q("INSERT INTO canned_replies ("+cols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"),
		ws, r.ID, r.Title, r.Shortcut, r.Body, r.Lang, r.TeamID, now.UnixNano(), now.UnixNano(), editor)
	if err != nil {
		return fmt.Errorf("canned: create reply: %w", err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return taken(r.Shortcut, r.Lang)
	}
	return nil
}

// Get returns reply id of workspace ws, or ENOTFOUND.
func (s *Store) Get(ctx context.Context, ws, id string) (*Reply, error) {
	r, err := scan(s.db.QueryRowContext(ctx, s.q("SELECT "+cols+" FROM canned_replies WHERE workspace_id = ? AND id = ?"), ws, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, starpost.Errorf(starpost.ENOTFOUND, "canned reply not found")
	} else if err != nil {
		return nil, fmt.Errorf("canned: read reply: %w", err)
	}
	return r, nil
}

// List returns the replies of workspace ws that f selects, by shortcut.
func (s *Store) List(ctx context.Context, ws string, f Filter) ([]*Reply, error) {
	query := "SELECT " + cols + " FROM canned_replies WHERE workspace_id = ?"
	args := []any{ws}
	if f.Agent {
		query += " AND (team_id = '' OR team_id = ?)"
		args = append(args, f.ForTeam)
	}
	if f.Lang != "" {
		query += " AND (lang = '' OR lang = ?)"
		args = append(args, f.Lang)
	}
	rows, err := s.db.QueryContext(ctx, s.q(query+" ORDER BY shortcut, lang, id"), args...)
	if err != nil {
		return nil, fmt.Errorf("canned: list replies: %w", err)
	}
	defer rows.Close()
	out := []*Reply{}
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("canned: list replies: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("canned: list replies: %w", err)
	}
	return out, nil
}

// Update applies p to reply id of workspace ws and returns the result.
func (s *Store) Update(ctx context.Context, ws, id, editor string, p Patch) (*Reply, error) {
	r, err := s.Get(ctx, ws, id)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		dst *string
		src *string
	}{{&r.Title, p.Title}, {&r.Shortcut, p.Shortcut}, {&r.Body, p.Body}, {&r.Lang, p.Lang}, {&r.TeamID, p.TeamID}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	var other string
	err = s.db.QueryRowContext(ctx, s.q("SELECT id FROM canned_replies WHERE workspace_id = ? AND shortcut = ? AND lang = ? AND id <> ?"),
		ws, r.Shortcut, r.Lang, id).Scan(&other)
	if err == nil {
		return nil, taken(r.Shortcut, r.Lang)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("canned: check shortcut: %w", err)
	}
	now := s.clock.Now().UTC()
	r.UpdatedAt, r.UpdatedBy = now, editor
	res, err := s.db.ExecContext(ctx, s.q("UPDATE canned_replies SET title = ?, shortcut = ?, body = ?, lang = ?, team_id = ?, updated_at = ?, updated_by = ? WHERE workspace_id = ? AND id = ?"),
		r.Title, r.Shortcut, r.Body, r.Lang, r.TeamID, now.UnixNano(), editor, ws, id)
	if err != nil {
		return nil, fmt.Errorf("canned: update reply: %w", err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return nil, starpost.Errorf(starpost.ENOTFOUND, "canned reply not found")
	}
	return r, nil
}

// Delete removes reply id of workspace ws, or returns ENOTFOUND.
func (s *Store) Delete(ctx context.Context, ws, id string) error {
	res, err := s.db.ExecContext(ctx, s.q("DELETE FROM canned_replies WHERE workspace_id = ? AND id = ?"), ws, id)
	if err != nil {
		return fmt.Errorf("canned: delete reply: %w", err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return starpost.Errorf(starpost.ENOTFOUND, "canned reply not found")
	}
	return nil
}

// Defaults are the canned replies a new workspace starts with, in Chinese
// and English.
func Defaults() []Reply {
	return []Reply{
		{Title: "Greeting", Shortcut: "hi", Lang: LangEN, Body: "Hello {{customer.name}}! I'm {{agent.name}}. How can I help you today?"},
		{Title: "问候", Shortcut: "hi", Lang: LangZH, Body: "{{customer.name}}您好！我是{{agent.name}}，请问有什么可以帮您？"},
		{Title: "Please wait", Shortcut: "wait", Lang: LangEN, Body: "Thanks for waiting — I am checking this for you now."},
		{Title: "请稍等", Shortcut: "wait", Lang: LangZH, Body: "感谢您的耐心等待，我正在为您查询。"},
		{Title: "Refund started", Shortcut: "refund", Lang: LangEN, Body: "I have started your refund, {{customer.name}}. It reaches your original payment method within 3–5 working days."},
		{Title: "退款已提交", Shortcut: "refund", Lang: LangZH, Body: "{{customer.name}}，您的退款已提交，将在 3–5 个工作日内原路退回。"},
		{Title: "Anything else", Shortcut: "thanks", Lang: LangEN, Body: "Thank you! Is there anything else I can help you with?"},
		{Title: "还有其他问题吗", Shortcut: "thanks", Lang: LangZH, Body: "谢谢！请问还有其他可以帮您的吗？"},
	}
}

// SeedDefaults gives workspace ws the Defaults when it has no canned reply
// yet; it reports how many it created.
func (s *Store) SeedDefaults(ctx context.Context, ws, editor string) (int, error) {
	have, err := s.List(ctx, ws, Filter{})
	if err != nil {
		return 0, err
	}
	if len(have) > 0 {
		return 0, nil
	}
	n := 0
	for _, r := range Defaults() {
		if err := s.Create(ctx, ws, editor, &r); err != nil {
			return n, fmt.Errorf("canned: seed %s: %w", r.Shortcut, err)
		}
		n++
	}
	return n, nil
}
