// Package kb is Starpost's knowledge base: per-workspace articles (Markdown,
// zh/en, categories, draft/published, a version row for every edit) and FAQ
// entries (several question variants, one answer), a BM25 search index per
// workspace over what is published, synonyms per workspace, and the
// suggestion engine that offers agents the best answers for every customer
// message and learns from their helpful / not helpful feedback.
//
// The package owns its tables (schema_sqlite.sql, schema_postgres.sql,
// created idempotently by Open) on the shared database handle.
//
// Index persistence: each workspace's index lives in memory and is updated
// by every edit made through this KB. Every edit also bumps the workspace's
// revision in kb_revisions, in the same transaction; before a search the KB
// compares its index's revision with the stored one (one primary-key read),
// so an edit made on another node is seen at once. When the index is
// missing or stale it is loaded from kb_index_blobs if the blob was saved at
// the current revision (no re-tokenising after a restart), and otherwise
// rebuilt from the tables and saved. Run saves indexes changed by edits
// every SaveEvery, and Flush saves them on shutdown.
package kb

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/text"
)

//go:embed schema_sqlite.sql
var sqliteSchema string

//go:embed schema_postgres.sql
var postgresSchema string

// Languages and statuses.
const (
	LangZH          = "zh"
	LangEN          = "en"
	StatusDraft     = "draft"
	StatusPublished = "published"
)

// Limits of what the knowledge base accepts.
const (
	MaxTitleLen    = 200    // runes
	MaxCategoryLen = 64     // runes
	MaxArticleBody = 100000 // bytes
	MaxQuestions   = 20
	MaxQuestionLen = 500   // runes
	MaxAnswerLen   = 10000 // bytes
	MaxSynonymSets = 1000
	MaxSynonymSet  = 20
)

// Article is a knowledge-base article.
type Article struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"workspace_id"`
	Title       string    `json:"title"`
	Body        string    `json:"body"` // Markdown
	Lang        string    `json:"lang"`
	Category    string    `json:"category"`
	Status      string    `json:"status"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	UpdatedBy   string    `json:"updated_by"`
}

// ArticleVersion is one stored edit of an article.
type ArticleVersion struct {
	Version  int64     `json:"version"`
	Title    string    `json:"title"`
	Body     string    `json:"body"`
	Lang     string    `json:"lang"`
	Category string    `json:"category"`
	Status   string    `json:"status"`
	EditedBy string    `json:"edited_by"`
	EditedAt time.Time `json:"edited_at"`
}

// FAQ is a frequently asked question: several ways to ask it, one answer.
type FAQ struct {
	ID          string    `json:"id"`
	WorkspaceID string    `json:"workspace_id"`
	Questions   []string  `json:"questions"`
	Answer      string    `json:"answer"`
	Lang        string    `json:"lang"`
	Category    string    `json:"category"`
	Status      string    `json:"status"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func validLang(l string) error {
	if l != LangZH && l != LangEN {
		return starpost.FieldError("lang", "must be zh or en")
	}
	return nil
}

func validStatus(s string) error {
	if s != StatusDraft && s != StatusPublished {
		return starpost.FieldError("status", "must be draft or published")
	}
	return nil
}

func validRunes(field, s string, maxRunes int, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return starpost.FieldError(field, "required")
	}
	if !utf8.ValidString(s) {
		return starpost.FieldError(field, "not valid UTF-8")
	}
	if n := utf8.RuneCountInString(s); n > maxRunes {
		return starpost.FieldError(field, "longer than %d characters", maxRunes)
	}
	return nil
}

// Validate checks the article's editable fields.
func (a *Article) Validate() error {
	if err := validRunes("title", a.Title, MaxTitleLen, true); err != nil {
		return err
	}
	if strings.TrimSpace(a.Body) == "" {
		return starpost.FieldError("body", "required")
	}
	if len(a.Body) > MaxArticleBody || !utf8.ValidString(a.Body) {
		return starpost.FieldError("body", "must be UTF-8 of at most %d bytes", MaxArticleBody)
	}
	if err := validLang(a.Lang); err != nil {
		return err
	}
	if err := validRunes("category", a.Category, MaxCategoryLen, false); err != nil {
		return err
	}
	return validStatus(a.Status)
}

// Validate checks the FAQ's editable fields.
func (f *FAQ) Validate() error {
	if len(f.Questions) == 0 {
		return starpost.FieldError("questions", "at least one question required")
	}
	if len(f.Questions) > MaxQuestions {
		return starpost.FieldError("questions", "at most %d", MaxQuestions)
	}
	for i, q := range f.Questions {
		if err := validRunes("questions", q, MaxQuestionLen, true); err != nil {
			return starpost.FieldError("questions", "question %d: %s", i+1, starpost.ErrorMessage(err))
		}
	}
	if strings.TrimSpace(f.Answer) == "" {
		return starpost.FieldError("answer", "required")
	}
	if len(f.Answer) > MaxAnswerLen || !utf8.ValidString(f.Answer) {
		return starpost.FieldError("answer", "must be UTF-8 of at most %d bytes", MaxAnswerLen)
	}
	if err := validLang(f.Lang); err != nil {
		return err
	}
	if err := validRunes("category", f.Category, MaxCategoryLen, false); err != nil {
		return err
	}
	return validStatus(f.Status)
}

// Options configure a KB.
type Options struct {
	// SQL and Driver ("sqlite" or "postgres") locate the KB's tables: pass
	// store.DB.SQL() and store.DB.Driver().
	SQL    *sql.DB
	Driver string
	// Tokenizer is shared by every workspace's index; build it once per
	// process with text.NewTokenizer(text.TokenizerOptions{DropStopWords: true}).
	Tokenizer *text.Tokenizer
	// Clock stamps edits; nil is the system clock.
	Clock starpost.Clock
	// Logger receives warnings; nil discards them.
	Logger *slog.Logger
	// SaveEvery is how often Run persists indexes changed by edits
	// (default 30 s).
	SaveEvery time.Duration
	// Candidates is how many BM25 hits are re-ranked by feedback before
	// the best are kept (default 12).
	Candidates int
}

// KB is the knowledge base of every workspace. It is safe for concurrent
// use.
type KB struct {
	db     *sql.DB
	driver string
	tok    *text.Tokenizer
	clock  starpost.Clock
	log    *slog.Logger
	opts   Options

	mu  sync.Mutex
	wss map[string]*wsIndex
}

// Open creates the KB's tables if they do not exist and returns a KB.
func Open(ctx context.Context, opts Options) (*KB, error) {
	if opts.SQL == nil || opts.Tokenizer == nil {
		return nil, errors.New("kb: SQL and Tokenizer are required")
	}
	if err := store.CreateTables(ctx, opts.SQL, opts.Driver, sqliteSchema, postgresSchema); err != nil {
		return nil, fmt.Errorf("kb: %w", err)
	}
	if opts.Clock == nil {
		opts.Clock = starpost.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SaveEvery <= 0 {
		opts.SaveEvery = 30 * time.Second
	}
	if opts.Candidates <= 0 {
		opts.Candidates = 12
	}
	return &KB{db: opts.SQL, driver: opts.Driver, tok: opts.Tokenizer, clock: opts.Clock, log: opts.Logger,
		opts: opts, wss: map[string]*wsIndex{}}, nil
}

// q rewrites ? placeholders for the database in use.
func (k *KB) q(query string) string { return store.Rebind(k.driver, query) }

// tx runs fn in a transaction and, when fn succeeds, bumps the workspace's
// revision in the same transaction and returns the new revision.
func (k *KB) tx(ctx context.Context, ws string, fn func(tx *sql.Tx) error) (int64, error) {
	tx, err := k.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("kb: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return 0, err
	}
	var rev int64
	err = tx.QueryRowContext(ctx, k.q(`INSERT INTO kb_revisions (workspace_id, revision) VALUES (?, 1)
ON CONFLICT (workspace_id) DO UPDATE SET revision = kb_revisions.revision + 1 RETURNING revision`), ws).Scan(&rev)
	if err != nil {
		return 0, fmt.Errorf("kb: bump revision: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("kb: commit: %w", err)
	}
	return rev, nil
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// ---- articles ----

const articleCols = "workspace_id, id, title, body, lang, category, status, version, created_at, updated_at, updated_by"

func scanArticle(sc interface{ Scan(...any) error }) (*Article, error) {
	var a Article
	var c, u int64
	if err := sc.Scan(&a.WorkspaceID, &a.ID, &a.Title, &a.Body, &a.Lang, &a.Category, &a.Status, &a.Version, &c, &u, &a.UpdatedBy); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = fromNanos(c), fromNanos(u)
	return &a, nil
}

// CreateArticle validates a and stores it as version 1 in workspace ws; it
// fills in ID, WorkspaceID, Version and the times.
func (k *KB) CreateArticle(ctx context.Context, ws, by string, a *Article) error {
	if a.Status == "" {
		a.Status = StatusDraft
	}
	if err := a.Validate(); err != nil {
		return err
	}
	now := k.clock.Now()
	a.ID, a.WorkspaceID, a.Version, a.CreatedAt, a.UpdatedAt, a.UpdatedBy = starpost.NewID("ka"), ws, 1, now, now, by
	rev, err := k.tx(ctx, ws, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, k.q("INSERT INTO kb_articles ("+articleCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
			ws, a.ID, a.Title, a.Body, a.Lang, a.Category, a.Status, a.Version, nanos(now), nanos(now), by); err != nil {
			return fmt.Errorf("kb: insert article: %w", err)
		}
		return k.insertVersion(ctx, tx, a)
	})
	if err != nil {
		return err
	}
	k.applied(ws, rev, func(ix *text.Index) { putArticle(ix, a) })
	return nil
}

func (k *KB) insertVersion(ctx context.Context, tx *sql.Tx, a *Article) error {
	_, err := tx.ExecContext(ctx, k.q(`INSERT INTO kb_article_versions (workspace_id, article_id, version, title, body, lang, category, status, edited_by, edited_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), a.WorkspaceID, a.ID, a.Version, a.Title, a.Body, a.Lang, a.Category, a.Status, a.UpdatedBy, nanos(a.UpdatedAt))
	if err != nil {
		return fmt.Errorf("kb: insert article version: %w", err)
	}
	return nil
}

// Article returns article id of workspace ws, or ENOTFOUND.
func (k *KB) Article(ctx context.Context, ws, id string) (*Article, error) {
	a, err := scanArticle(k.db.QueryRowContext(ctx, k.q("SELECT "+articleCols+" FROM kb_articles WHERE workspace_id = ? AND id = ?"), ws, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, starpost.Errorf(starpost.ENOTFOUND, "article not found")
	} else if err != nil {
		return nil, fmt.Errorf("kb: read article: %w", err)
	}
	return a, nil
}

// ArticleFilter narrows ListArticles; empty fields match everything.
type ArticleFilter struct {
	Status, Lang, Category string
}

// ListArticles returns the articles of workspace ws, newest edit first.
func (k *KB) ListArticles(ctx context.Context, ws string, f ArticleFilter) ([]*Article, error) {
	return list(ctx, k, "articles", "SELECT "+articleCols+" FROM kb_articles", ws, f, scanArticle)
}

// list runs query (a SELECT without WHERE) for workspace ws narrowed by f,
// newest edit first, and scans every row.
func list[T any](ctx context.Context, k *KB, what, query, ws string, f ArticleFilter, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	query += " WHERE workspace_id = ?"
	args := []any{ws}
	for _, c := range []struct{ col, v string }{{"status", f.Status}, {"lang", f.Lang}, {"category", f.Category}} {
		if c.v != "" {
			query += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	rows, err := k.db.QueryContext(ctx, k.q(query+" ORDER BY updated_at DESC, id"), args...)
	if err != nil {
		return nil, fmt.Errorf("kb: list %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		x, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("kb: list %s: %w", what, err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("kb: list %s: %w", what, err)
	}
	return out, nil
}

// ArticlePatch changes some fields of an article; nil fields keep their
// value. Version, when set, must be the article's current version
// (optimistic concurrency: ECONFLICT otherwise).
type ArticlePatch struct {
	Title    *string `json:"title"`
	Body     *string `json:"body"`
	Lang     *string `json:"lang"`
	Category *string `json:"category"`
	Status   *string `json:"status"`
	Version  *int64  `json:"version"`
}

// UpdateArticle applies p to article id of ws as a new version.
func (k *KB) UpdateArticle(ctx context.Context, ws, id, by string, p ArticlePatch) (*Article, error) {
	var a *Article
	rev, err := k.tx(ctx, ws, func(tx *sql.Tx) error {
		var err error
		a, err = scanArticle(tx.QueryRowContext(ctx, k.q("SELECT "+articleCols+" FROM kb_articles WHERE workspace_id = ? AND id = ?"), ws, id))
		if errors.Is(err, sql.ErrNoRows) {
			return starpost.Errorf(starpost.ENOTFOUND, "article not found")
		} else if err != nil {
			return fmt.Errorf("kb: read article: %w", err)
		}
		if p.Version != nil && *p.Version != a.Version {
			return &starpost.Error{Code: starpost.ECONFLICT, Field: "version", Message: fmt.Sprintf("the article is at version %d", a.Version)}
		}
		for _, f := range []struct {
			dst *string
			src *string
		}{{&a.Title, p.Title}, {&a.Body, p.Body}, {&a.Lang, p.Lang}, {&a.Category, p.Category}, {&a.Status, p.Status}} {
			if f.src != nil {
				*f.dst = *f.src
			}
		}
		if err := a.Validate(); err != nil {
			return err
		}
		a.Version++
		a.UpdatedAt, a.UpdatedBy = k.clock.Now(), by
		if _, err := tx.ExecContext(ctx, k.q(`UPDATE kb_articles SET title = ?, body = ?, lang = ?, category = ?, status = ?, version = ?, updated_at = ?, updated_by = ?
WHERE workspace_id = ? AND id = ?`), a.Title, a.Body, a.Lang, a.Category, a.Status, a.Version, nanos(a.UpdatedAt), by, ws, id); err != nil {
			return fmt.Errorf("kb: update article: %w", err)
		}
		return k.insertVersion(ctx, tx, a)
	})
	if err != nil {
		return nil, err
	}
	k.applied(ws, rev, func(ix *text.Index) { putArticle(ix, a) })
	return a, nil
}

// DeleteArticle removes article id of ws with its versions.
func (k *KB) DeleteArticle(ctx context.Context, ws, id string) error {
	rev, err := k.tx(ctx, ws, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, k.q("DELETE FROM kb_articles WHERE workspace_id = ? AND id = ?"), ws, id)
		if err != nil {
			return fmt.Errorf("kb: delete article: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return starpost.Errorf(starpost.ENOTFOUND, "article not found")
		}
		if _, err := tx.ExecContext(ctx, k.q("DELETE FROM kb_article_versions WHERE workspace_id = ? AND article_id = ?"), ws, id); err != nil {
			return fmt.Errorf("kb: delete article versions: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	k.applied(ws, rev, func(ix *text.Index) { ix.Delete(id) })
	return nil
}

// ArticleVersions returns every version of article id of ws, newest first.
func (k *KB) ArticleVersions(ctx context.Context, ws, id string) ([]*ArticleVersion, error) {
	if _, err := k.Article(ctx, ws, id); err != nil {
		return nil, err
	}
	rows, err := k.db.QueryContext(ctx, k.q(`SELECT version, title, body, lang, category, status, edited_by, edited_at FROM kb_article_versions
WHERE workspace_id = ? AND article_id = ? ORDER BY version DESC`), ws, id)
	if err != nil {
		return nil, fmt.Errorf("kb: list versions: %w", err)
	}
	defer rows.Close()
	var out []*ArticleVersion
	for rows.Next() {
		var v ArticleVersion
		var at int64
		if err := rows.Scan(&v.Version, &v.Title, &v.Body, &v.Lang, &v.Category, &v.Status, &v.EditedBy, &at); err != nil {
			return nil, fmt.Errorf("kb: list versions: %w", err)
		}
		v.EditedAt = fromNanos(at)
		out = append(out, &v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("kb: list versions: %w", err)
	}
	return out, nil
}

// ---- FAQs ----

const faqCols = "workspace_id, id, questions, answer, lang, category, status, version, created_at, updated_at"

func scanFAQ(sc interface{ Scan(...any) error }) (*FAQ, error) {
	var f FAQ
	var qs string
	var c, u int64
	if err := sc.Scan(&f.WorkspaceID, &f.ID, &qs, &f.Answer, &f.Lang, &f.Category, &f.Status, &f.Version, &c, &u); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(qs), &f.Questions); err != nil {
		return nil, fmt.Errorf("questions of %s: %w", f.ID, err)
	}
	f.CreatedAt, f.UpdatedAt = fromNanos(c), fromNanos(u)
	return &f, nil
}

func normalizeFAQ(f *FAQ) {
	if f.Status == "" {
		f.Status = StatusPublished
	}
	qs := f.Questions[:0:0]
	for _, q := range f.Questions {
		if q = strings.TrimSpace(q); q != "" {
			qs = append(qs, q)
		}
	}
	if len(f.Questions) > 0 && len(qs) == 0 {
		qs = f.Questions // keep them so Validate names the field
	}
	f.Questions = qs
}

func (k *KB) insertFAQ(ctx context.Context, tx *sql.Tx, f *FAQ) error {
	qs, _ := json.Marshal(f.Questions)
	_, err := tx.ExecContext(ctx, k.q("INSERT INTO kb_faqs ("+faqCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		f.WorkspaceID, f.ID, string(qs), f.Answer, f.Lang, f.Category, f.Status, f.Version, nanos(f.CreatedAt), nanos(f.UpdatedAt))
	if err != nil {
		return fmt.Errorf("kb: insert faq: %w", err)
	}
	return nil
}

func (k *KB) updateFAQRow(ctx context.Context, tx *sql.Tx, f *FAQ) error {
	qs, _ := json.Marshal(f.Questions)
	_, err := tx.ExecContext(ctx, k.q(`UPDATE kb_faqs SET questions = ?, answer = ?, lang = ?, category = ?, status = ?, version = ?, updated_at = ?
WHERE workspace_id = ? AND id = ?`), string(qs), f.Answer, f.Lang, f.Category, f.Status, f.Version, nanos(f.UpdatedAt), f.WorkspaceID, f.ID)
	if err != nil {
		return fmt.Errorf("kb: update faq: %w", err)
	}
	return nil
}

// CreateFAQ validates f and stores it in workspace ws (status defaults to
// published).
func (k *KB) CreateFAQ(ctx context.Context, ws string, f *FAQ) error {
	normalizeFAQ(f)
	if err := f.Validate(); err != nil {
		return err
	}
	now := k.clock.Now()
	f.ID, f.WorkspaceID, f.Version, f.CreatedAt, f.UpdatedAt = starpost.NewID("kf"), ws, 1, now, now
	rev, err := k.tx(ctx, ws, func(tx *sql.Tx) error { return k.insertFAQ(ctx, tx, f) })
	if err != nil {
		return err
	}
	k.applied(ws, rev, func(ix *text.Index) { putFAQ(ix, f) })
	return nil
}

// FAQ returns FAQ id of workspace ws, or ENOTFOUND.
func (k *KB) FAQ(ctx context.Context, ws, id string) (*FAQ, error) {
	return k.faqIn(ctx, k.db, ws, id)
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (k *KB) faqIn(ctx context.Context, db queryRower, ws, id string) (*FAQ, error) {
	f, err := scanFAQ(db.QueryRowContext(ctx, k.q("SELECT "+faqCols+" FROM kb_faqs WHERE workspace_id = ? AND id = ?"), ws, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, starpost.Errorf(starpost.ENOTFOUND, "faq not found")
	} else if err != nil {
		return nil, fmt.Errorf("kb: read faq: %w", err)
	}
	return f, nil
}

// ListFAQs returns the FAQs of workspace ws, newest edit first.
func (k *KB) ListFAQs(ctx context.Context, ws string, f ArticleFilter) ([]*FAQ, error) {
	return list(ctx, k, "faqs", "SELECT "+faqCols+" FROM kb_faqs", ws, f, scanFAQ)
}

// FAQPatch changes some fields of a FAQ; nil fields keep their value.
type FAQPatch struct {
	Questions *[]string `json:"questions"`
	Answer    *string   `json:"answer"`
	Lang      *string   `json:"lang"`
	Category  *string   `json:"category"`
	Status    *string   `json:"status"`
	Version   *int64    `json:"version"`
}

func (p FAQPatch) apply(f *FAQ) {
	if p.Questions != nil {
		f.Questions = *p.Questions
	}
	for _, x := range []struct {
		dst *string
		src *string
	}{{&f.Answer, p.Answer}, {&f.Lang, p.Lang}, {&f.Category, p.Category}, {&f.Status, p.Status}} {
		if x.src != nil {
			*x.dst = *x.src
		}
	}
}

// UpdateFAQ applies p to FAQ id of ws.
func (k *KB) UpdateFAQ(ctx context.Context, ws, id string, p FAQPatch) (*FAQ, error) {
	var f *FAQ
	rev, err := k.tx(ctx, ws, func(tx *sql.Tx) error {
		var err error
		if f, err = k.faqIn(ctx, tx, ws, id); err != nil {
			return err
		}
		if p.Version != nil && *p.Version != f.Version {
			return &starpost.Error{Code: starpost.ECONFLICT, Field: "version", Message: fmt.Sprintf("the faq is at version %d", f.Version)}
		}
		p.apply(f)
		normalizeFAQ(f)
		if err := f.Validate(); err != nil {
			return err
		}
		f.Version++
		f.UpdatedAt = k.clock.Now()
		return k.updateFAQRow(ctx, tx, f)
	})
	if err != nil {
		return nil, err
	}
	k.applied(ws, rev, func(ix *text.Index) { putFAQ(ix, f) })
	return f, nil
}

// DeleteFAQ removes FAQ id of ws.
func (k *KB) DeleteFAQ(ctx context.Context, ws, id string) error {
	rev, err := k.tx(ctx, ws, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, k.q("DELETE FROM kb_faqs WHERE workspace_id = ? AND id = ?"), ws, id)
		if err != nil {
			return fmt.Errorf("kb: delete faq: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return starpost.Errorf(starpost.ENOTFOUND, "faq not found")
		}
		return nil
	})
	if err != nil {
		return err
	}
	k.applied(ws, rev, func(ix *text.Index) { ix.Delete(id) })
	return nil
}

// ---- synonyms ----

// Synonyms returns the synonym sets of workspace ws: each set lists terms
// that mean the same (退款, 退钱, refund).
func (k *KB) Synonyms(ctx context.Context, ws string) ([][]string, error) {
	rows, err := k.db.QueryContext(ctx, k.q("SELECT grp, term FROM kb_synonyms WHERE workspace_id = ? ORDER BY grp, term"), ws)
	if err != nil {
		return nil, fmt.Errorf("kb: read synonyms: %w", err)
	}
	defer rows.Close()
	var out [][]string
	last := int64(-1)
	for rows.Next() {
		var g int64
		var t string
		if err := rows.Scan(&g, &t); err != nil {
			return nil, fmt.Errorf("kb: read synonyms: %w", err)
		}
		if g != last {
			out = append(out, nil)
			last = g
		}
		out[len(out)-1] = append(out[len(out)-1], t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("kb: read synonyms: %w", err)
	}
	return out, nil
}

// SetSynonyms replaces the synonym sets of workspace ws. Each set needs two
// to MaxSynonymSet distinct terms.
func (k *KB) SetSynonyms(ctx context.Context, ws string, sets [][]string) error {
	if len(sets) > MaxSynonymSets {
		return starpost.FieldError("synonyms", "at most %d sets", MaxSynonymSets)
	}
	clean := make([][]string, 0, len(sets))
	for i, set := range sets {
		seen := map[string]bool{}
		var terms []string
		for _, t := range set {
			t = strings.ToLower(strings.TrimSpace(t))
			if err := validRunes("synonyms", t, 64, true); err != nil {
				return starpost.FieldError("synonyms", "set %d: %s", i+1, starpost.ErrorMessage(err))
			}
			if !seen[t] {
				seen[t] = true
				terms = append(terms, t)
			}
		}
		if len(terms) < 2 || len(terms) > MaxSynonymSet {
			return starpost.FieldError("synonyms", "set %d: needs 2 to %d distinct terms", i+1, MaxSynonymSet)
		}
		clean = append(clean, terms)
	}
	rev, err := k.tx(ctx, ws, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, k.q("DELETE FROM kb_synonyms WHERE workspace_id = ?"), ws); err != nil {
			return fmt.Errorf("kb: clear synonyms: %w", err)
		}
		for g, set := range clean {
			for _, t := range set {
				if _, err := tx.ExecContext(ctx, k.q("INSERT INTO kb_synonyms (workspace_id, grp, term) VALUES (?, ?, ?)"), ws, g, t); err != nil {
					return fmt.Errorf("kb: insert synonym: %w", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	k.mu.Lock()
	w := k.wss[ws]
	k.mu.Unlock()
	if w != nil {
		w.mu.Lock()
		if w.ix != nil && w.rev == rev-1 {
			w.setSynonyms(k.tok, clean)
			w.rev = rev
			w.dirty = true
		}
		w.mu.Unlock()
	}
	return nil
}
