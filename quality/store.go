package quality

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
)

//go:embed schema_sqlite.sql
var sqliteSchema string

//go:embed schema_postgres.sql
var postgresSchema string

// Store keeps the scorecards of a workspace's conversations (indexed from
// qa.score events by an Indexer), the human reviews that override their
// items, and every change made by a review. It owns the qa_* tables on the
// shared database handle.
type Store struct {
	db     *sql.DB
	driver string
	clock  starpost.Clock
	convs  starpost.ConversationService
}

// StoreOptions configure a Store.
type StoreOptions struct {
	// SQL and Driver ("sqlite" or "postgres") are the shared database
	// handle: pass store.DB.SQL() and store.DB.Driver().
	SQL    *sql.DB
	Driver string
	// Conversations reads transcripts and findings for Detail.
	Conversations starpost.ConversationService
	// Clock stamps reviews; nil is the system clock.
	Clock starpost.Clock
}

// Open creates the quality tables when missing and returns the Store.
func Open(ctx context.Context, opts StoreOptions) (*Store, error) {
	if opts.SQL == nil || opts.Conversations == nil {
		return nil, errors.New("quality: SQL and Conversations are required")
	}
	if err := store.CreateTables(ctx, opts.SQL, opts.Driver, sqliteSchema, postgresSchema); err != nil {
		return nil, fmt.Errorf("quality: %w", err)
	}
	if opts.Clock == nil {
		opts.Clock = starpost.SystemClock{}
	}
	return &Store{db: opts.SQL, driver: opts.Driver, clock: opts.Clock, convs: opts.Conversations}, nil
}

func (s *Store) q(query string) string { return store.Rebind(s.driver, query) }

// Scorecard is the QA result of one resolution of a conversation: the
// automatic result and, after a review, the final one.
type Scorecard struct {
	WorkspaceID    string    `json:"workspace_id"`
	ConversationID string    `json:"conversation_id"`
	ResolvedSeq    int64     `json:"resolved_seq"`
	ResolvedAt     time.Time `json:"resolved_at"`
	AgentID        string    `json:"agent_id,omitempty"`
	TeamID         string    `json:"team_id,omitempty"`
	SiteID         string    `json:"site_id,omitempty"`
	// AutoScore and AutoFailed are the automatic result.
	AutoScore  int  `json:"auto_score"`
	AutoFailed bool `json:"auto_failed"`
	// Score and Failed are the final result: the automatic one with the
	// review's overrides applied.
	Score  int  `json:"score"`
	Failed bool `json:"failed"`
	// Items are the final item results; Auto are the automatic ones.
	Items                []ItemResult   `json:"items"`
	Auto                 []ItemResult   `json:"auto_items"`
	FailedByRule         map[string]int `json:"failed_by_rule"`
	Findings             int            `json:"findings"`
	FirstResponseSeconds *float64       `json:"first_response_seconds,omitempty"`
	CSAT                 int            `json:"csat,omitempty"`
	// ReviewVersion counts the reviews saved (0: not reviewed); a review
	// must name the version it read.
	ReviewVersion int64      `json:"review_version"`
	ReviewedBy    string     `json:"reviewed_by,omitempty"`
	ReviewedAt    time.Time  `json:"reviewed_at,omitzero"`
	Overrides     []Override `json:"overrides"`

	scoreSeq int64
}

// Override is a reviewer's result for one scorecard item.
type Override struct {
	Rule    string    `json:"rule"`
	Passed  bool      `json:"passed"`
	Comment string    `json:"comment,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// ReviewChange records one item of one saved review.
type ReviewChange struct {
	Version int64  `json:"version"`
	Rule    string `json:"rule"`
	// AutoPassed is the automatic result (nil: the item did not apply).
	AutoPassed *bool `json:"auto_passed"`
	// OldPassed is the final result before the change (nil: not applicable).
	OldPassed *bool     `json:"old_passed"`
	NewPassed bool      `json:"new_passed"`
	Comment   string    `json:"comment,omitempty"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
}

// applyOverrides returns the final items: auto with each override applied
// (an overridden item applies even when it did not automatically).
func applyOverrides(auto []ItemResult, ovs []Override) []ItemResult {
	items := make([]ItemResult, len(auto))
	copy(items, auto)
	for _, o := range ovs {
		for i := range items {
			if items[i].Rule == o.Rule {
				items[i].Applicable, items[i].Passed = true, o.Passed
			}
		}
	}
	return items
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Index stores the score of ev, a qa.score event, with the agent's team and
// site (agent may be nil). A score older than the one stored for the same
// resolution is ignored; the overrides of a review are kept and applied to
// the new score.
func (s *Store) Index(ctx context.Context, ev *starpost.Event, agent *starpost.User) error {
	var b ScoreBody
	if ev.Kind != KindScore || ev.DecodeBody(&b) != nil {
		return starpost.Errorf(starpost.EINVALID, "quality: not a qa.score event")
	}
	at := b.ResolvedAt
	if at.IsZero() {
		at = ev.At
	}
	var team, site string
	if agent != nil {
		team, site = agent.TeamID, agent.SiteID
	}
	items, _ := json.Marshal(b.Items)
	byRule, _ := json.Marshal(b.FailedByRule)
	var frt any
	if b.FirstResponseSeconds != nil {
		frt = int64(*b.FirstResponseSeconds * 1000)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("quality: index: %w", err)
	}
	defer tx.Rollback()
	ovs, err := s.overrides(ctx, tx, ev.WorkspaceID, ev.ConversationID, b.ResolvedSeq)
	if err != nil {
		return err
	}
	score, failed, _ := Score(applyOverrides(b.Items, ovs))
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO qa_scorecards (workspace_id, conversation_id, resolved_seq, score_seq, resolved_at,
		agent_id, team_id, site_id, auto_score, auto_failed, score, failed, items, failed_by_rule, findings, first_response_ms, csat)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, conversation_id, resolved_seq) DO UPDATE SET score_seq = excluded.score_seq,
		resolved_at = excluded.resolved_at, agent_id = excluded.agent_id, team_id = excluded.team_id, site_id = excluded.site_id,
		auto_score = excluded.auto_score, auto_failed = excluded.auto_failed, score = excluded.score, failed = excluded.failed,
		items = excluded.items, failed_by_rule = excluded.failed_by_rule, findings = excluded.findings,
		first_response_ms = excluded.first_response_ms, csat = excluded.csat
		WHERE qa_scorecards.score_seq < excluded.score_seq`),
		ev.WorkspaceID, ev.ConversationID, b.ResolvedSeq, ev.Seq, nanos(at), b.AgentID, team, site, b.Score, b2i(b.AutoFailed),
		score, b2i(failed), string(items), string(byRule), b.Findings, frt, b.CSAT)
	if err != nil {
		return fmt.Errorf("quality: index %s: %w", ev.ConversationID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("quality: index %s: %w", ev.ConversationID, err)
	}
	return nil
}

func (s *Store) overrides(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, ws, conv string, resolvedSeq int64) ([]Override, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT rule, passed, comment, by_user, at FROM qa_overrides
		WHERE workspace_id = ? AND conversation_id = ? AND resolved_seq = ? ORDER BY rule`), ws, conv, resolvedSeq)
	if err != nil {
		return nil, fmt.Errorf("quality: overrides: %w", err)
	}
	defer rows.Close()
	var out []Override
	for rows.Next() {
		var o Override
		var passed int
		var at int64
		if err := rows.Scan(&o.Rule, &passed, &o.Comment, &o.By, &at); err != nil {
			return nil, fmt.Errorf("quality: overrides: %w", err)
		}
		o.Passed, o.At = passed != 0, fromNanos(at)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("quality: overrides: %w", err)
	}
	return out, nil
}

const cardColumns = `workspace_id, conversation_id, resolved_seq, score_seq, resolved_at, agent_id, team_id, site_id, auto_score,
	auto_failed, score, failed, items, failed_by_rule, findings, first_response_ms, csat, review_version, reviewed_by, reviewed_at`

type scanner interface{ Scan(dest ...any) error }

func scanCard(r scanner) (*Scorecard, error) {
	var c Scorecard
	var resolvedAt, reviewedAt int64
	var autoFailed, failed int
	var items, byRule string
	var frt sql.NullInt64
	if err := r.Scan(&c.WorkspaceID, &c.ConversationID, &c.ResolvedSeq, &c.scoreSeq, &resolvedAt, &c.AgentID, &c.TeamID, &c.SiteID,
		&c.AutoScore, &autoFailed, &c.Score, &failed, &items, &byRule, &c.Findings, &frt, &c.CSAT, &c.ReviewVersion,
		&c.ReviewedBy, &reviewedAt); err != nil {
		return nil, err
	}
	c.ResolvedAt, c.ReviewedAt = fromNanos(resolvedAt), fromNanos(reviewedAt)
	c.AutoFailed, c.Failed = autoFailed != 0, failed != 0
	if err := json.Unmarshal([]byte(items), &c.Auto); err != nil {
		return nil, fmt.Errorf("items: %w", err)
	}
	if err := json.Unmarshal([]byte(byRule), &c.FailedByRule); err != nil {
		return nil, fmt.Errorf("failed_by_rule: %w", err)
	}
	if c.FailedByRule == nil {
		c.FailedByRule = map[string]int{}
	}
	if frt.Valid {
		v := float64(frt.Int64) / 1000
		c.FirstResponseSeconds = &v
	}
	c.Items = c.Auto
	c.Overrides = []Override{}
	return &c, nil
}

// ScorecardFilter selects scorecards of one workspace. Zero fields do not
// filter.
type ScorecardFilter struct {
	WorkspaceID string
	AgentID     string
	TeamID      string
	SiteID      string
	// From and To bound the resolution time: From <= resolved_at < To.
	From, To time.Time
	// ScoreBelow keeps final scores strictly below it (nil: any).
	ScoreBelow *int
	// Failed keeps auto-failed (true) or not auto-failed (false) cards,
	// by the final result.
	Failed *bool
	// Reviewed keeps reviewed (true) or unreviewed (false) cards.
	Reviewed *bool
	// Limit is at most MaxScorecards (0 means 100).
	Limit int
}

// MaxScorecards is the most scorecards one List returns.
const MaxScorecards = 500

func (f ScorecardFilter) where() (string, []any) {
	conds := []string{"workspace_id = ?"}
	args := []any{f.WorkspaceID}
	add := func(cond string, v any) { conds, args = append(conds, cond), append(args, v) }
	if f.AgentID != "" {
		add("agent_id = ?", f.AgentID)
	}
	if f.TeamID != "" {
		add("team_id = ?", f.TeamID)
	}
	if f.SiteID != "" {
		add("site_id = ?", f.SiteID)
	}
	if !f.From.IsZero() {
		add("resolved_at >= ?", f.From.UnixNano())
	}
	if !f.To.IsZero() {
		add("resolved_at < ?", f.To.UnixNano())
	}
	if f.ScoreBelow != nil {
		add("score < ?", *f.ScoreBelow)
	}
	if f.Failed != nil {
		add("failed = ?", b2i(*f.Failed))
	}
	if f.Reviewed != nil {
		if *f.Reviewed {
			conds = append(conds, "review_version > 0")
		} else {
			conds = append(conds, "review_version = 0")
		}
	}
	return strings.Join(conds, " AND "), args
}

// List returns the scorecards matching f, newest resolution first, without
// their overrides (Get has them).
func (s *Store) List(ctx context.Context, f ScorecardFilter) ([]*Scorecard, error) {
	if f.WorkspaceID == "" {
		return nil, starpost.FieldError("workspace_id", "required")
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, MaxScorecards)
	where, args := f.where()
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+cardColumns+` FROM qa_scorecards WHERE `+where+
		` ORDER BY resolved_at DESC, conversation_id, resolved_seq DESC LIMIT ?`), append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("quality: list scorecards: %w", err)
	}
	defer rows.Close()
	out := []*Scorecard{}
	for rows.Next() {
		c, err := scanCard(rows)
		if err != nil {
			return nil, fmt.Errorf("quality: list scorecards: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("quality: list scorecards: %w", err)
	}
	return out, nil
}

// Get returns the scorecard of a conversation's resolution (resolvedSeq 0:
// its latest) with the review's overrides applied.
func (s *Store) Get(ctx context.Context, ws, conv string, resolvedSeq int64) (*Scorecard, error) {
	return s.get(ctx, s.db, ws, conv, resolvedSeq)
}

type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func (s *Store) get(ctx context.Context, q querier, ws, conv string, resolvedSeq int64) (*Scorecard, error) {
	query := `SELECT ` + cardColumns + ` FROM qa_scorecards WHERE workspace_id = ? AND conversation_id = ?`
	args := []any{ws, conv}
	if resolvedSeq > 0 {
		query += ` AND resolved_seq = ?`
		args = append(args, resolvedSeq)
	}
	c, err := scanCard(q.QueryRowContext(ctx, s.q(query+` ORDER BY resolved_seq DESC LIMIT 1`), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, starpost.Errorf(starpost.ENOTFOUND, "no scorecard for conversation %s", conv)
	}
	if err != nil {
		return nil, fmt.Errorf("quality: get scorecard: %w", err)
	}
	ovs, err := s.overrides(ctx, q, ws, conv, c.ResolvedSeq)
	if err != nil {
		return nil, err
	}
	if ovs != nil {
		c.Overrides = ovs
	}
	c.Items = applyOverrides(c.Auto, c.Overrides)
	return c, nil
}

// ItemReview is a reviewer's result for one item.
type ItemReview struct {
	Rule   string `json:"rule"`
	Passed bool   `json:"passed"`
	// Comment explains the result; required when it differs from the
	// automatic one.
	Comment string `json:"comment"`
}

// Review is a saved review of a scorecard.
type Review struct {
	// Version is the ReviewVersion the reviewer read (0 for the first
	// review): a review made on a stale scorecard fails with ECONFLICT.
	Version int64        `json:"version"`
	Items   []ItemReview `json:"items"`
}

// MaxCommentLen is the longest review comment, in characters.
const MaxCommentLen = 2000

// validate checks the review's items against the scorecard's.
func (r *Review) validate(c *Scorecard) error {
	if r.Version < 0 {
		return starpost.FieldError("version", "must not be negative")
	}
	if len(r.Items) == 0 {
		return starpost.FieldError("items", "required")
	}
	auto := map[string]ItemResult{}
	for _, it := range c.Auto {
		auto[it.Rule] = it
	}
	seen := map[string]bool{}
	for i, it := range r.Items {
		a, ok := auto[it.Rule]
		if !ok {
			return starpost.FieldError("items", "item %d: rule %q is not on this scorecard", i, it.Rule)
		}
		if seen[it.Rule] {
			return starpost.FieldError("items", "item %d: rule %q twice", i, it.Rule)
		}
		seen[it.Rule] = true
		if !utf8.ValidString(it.Comment) || utf8.RuneCountInString(it.Comment) > MaxCommentLen {
			return starpost.FieldError("items", "item %d: comment must be UTF-8 of at most %d characters", i, MaxCommentLen)
		}
		if (!a.Applicable || a.Passed != it.Passed) && strings.TrimSpace(it.Comment) == "" {
			return starpost.FieldError("items", "item %d: a comment is required to change %q", i, it.Rule)
		}
	}
	return nil
}

// SaveReview records a review of a conversation's resolution by reviewer:
// each item's result becomes an override, the final score is recomputed,
// and every item is recorded as a change. It fails with ECONFLICT when the
// scorecard was reviewed since version r.Version.
func (s *Store) SaveReview(ctx context.Context, ws, conv string, resolvedSeq int64, reviewer string, r Review) (*Scorecard, error) {
	if reviewer == "" {
		return nil, starpost.FieldError("reviewer", "required")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("quality: review: %w", err)
	}
	defer tx.Rollback()
	c, err := s.get(ctx, tx, ws, conv, resolvedSeq)
	if err != nil {
		return nil, err
	}
	if err := r.validate(c); err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC()
	version := c.ReviewVersion + 1
	res, err := tx.ExecContext(ctx, s.q(`UPDATE qa_scorecards SET review_version = ?, reviewed_by = ?, reviewed_at = ?
		WHERE workspace_id = ? AND conversation_id = ? AND resolved_seq = ? AND review_version = ?`),
		version, reviewer, nanos(now), ws, conv, c.ResolvedSeq, r.Version)
	if err != nil {
		return nil, fmt.Errorf("quality: review: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("quality: review: %w", err)
	} else if n == 0 {
		return nil, starpost.Errorf(starpost.ECONFLICT, "the scorecard was reviewed since version %d (now %d): reload it", r.Version, c.ReviewVersion)
	}
	auto, final := map[string]ItemResult{}, map[string]ItemResult{}
	for i := range c.Auto {
		auto[c.Auto[i].Rule], final[c.Items[i].Rule] = c.Auto[i], c.Items[i]
	}
	ovs := map[string]Override{}
	for _, o := range c.Overrides {
		ovs[o.Rule] = o
	}
	optBool := func(it ItemResult) any {
		if !it.Applicable {
			return nil
		}
		return b2i(it.Passed)
	}
	for _, it := range r.Items {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO qa_review_changes (workspace_id, conversation_id, resolved_seq, version, rule,
			auto_passed, old_passed, new_passed, comment, by_user, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			ws, conv, c.ResolvedSeq, version, it.Rule, optBool(auto[it.Rule]), optBool(final[it.Rule]), b2i(it.Passed),
			it.Comment, reviewer, nanos(now)); err != nil {
			return nil, fmt.Errorf("quality: review: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO qa_overrides (workspace_id, conversation_id, resolved_seq, rule, passed, comment, by_user, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (workspace_id, conversation_id, resolved_seq, rule) DO UPDATE SET
			passed = excluded.passed, comment = excluded.comment, by_user = excluded.by_user, at = excluded.at`),
			ws, conv, c.ResolvedSeq, it.Rule, b2i(it.Passed), it.Comment, reviewer, nanos(now)); err != nil {
			return nil, fmt.Errorf("quality: review: %w", err)
		}
		ovs[it.Rule] = Override{Rule: it.Rule, Passed: it.Passed, Comment: it.Comment, By: reviewer, At: now}
	}
	list := make([]Override, 0, len(ovs))
	for _, o := range ovs {
		list = append(list, o)
	}
	score, failed, _ := Score(applyOverrides(c.Auto, list))
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE qa_scorecards SET score = ?, failed = ?
		WHERE workspace_id = ? AND conversation_id = ? AND resolved_seq = ?`), score, b2i(failed), ws, conv, c.ResolvedSeq); err != nil {
		return nil, fmt.Errorf("quality: review: %w", err)
	}
	out, err := s.get(ctx, tx, ws, conv, c.ResolvedSeq)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("quality: review: %w", err)
	}
	return out, nil
}

// Changes returns every recorded review change of a conversation's
// resolution, oldest first.
func (s *Store) Changes(ctx context.Context, ws, conv string, resolvedSeq int64) ([]ReviewChange, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT version, rule, auto_passed, old_passed, new_passed, comment, by_user, at
		FROM qa_review_changes WHERE workspace_id = ? AND conversation_id = ? AND resolved_seq = ? ORDER BY version, rule`),
		ws, conv, resolvedSeq)
	if err != nil {
		return nil, fmt.Errorf("quality: review changes: %w", err)
	}
	defer rows.Close()
	out := []ReviewChange{}
	for rows.Next() {
		var ch ReviewChange
		var auto, old sql.NullInt64
		var nw int
		var at int64
		if err := rows.Scan(&ch.Version, &ch.Rule, &auto, &old, &nw, &ch.Comment, &ch.By, &at); err != nil {
			return nil, fmt.Errorf("quality: review changes: %w", err)
		}
		if auto.Valid {
			v := auto.Int64 != 0
			ch.AutoPassed = &v
		}
		if old.Valid {
			v := old.Int64 != 0
			ch.OldPassed = &v
		}
		ch.NewPassed, ch.At = nw != 0, fromNanos(at)
		out = append(out, ch)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("quality: review changes: %w", err)
	}
	return out, nil
}
