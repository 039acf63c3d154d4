package quality

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/starpost/starpost"
)

// Event kinds the QA engine writes: one KindFinding event per finding
// (body FindingBody) and one KindScore event (body ScoreBody) per
// resolution of a conversation.
const (
	KindFinding starpost.EventKind = "qa.finding"
	KindScore   starpost.EventKind = "qa.score"
)

// EngineName is the name of the QA engine: its checkpoint, its system
// actor's id and the prefix of its idempotency keys.
const EngineName = "quality"

// FindingBody is the body of a qa.finding event.
type FindingBody struct {
	Finding
	// ResolvedSeq is the seq of the resolution the QA ran on.
	ResolvedSeq int64 `json:"resolved_seq"`
}

// ScoreBody is the body of a qa.score event: the report without its
// findings (which are events of their own).
type ScoreBody struct {
	ResolvedSeq int64        `json:"resolved_seq"`
	ResolvedAt  time.Time    `json:"resolved_at,omitzero"`
	AgentID     string       `json:"agent_id,omitempty"`
	Score       int          `json:"score"`
	AutoFailed  bool         `json:"auto_failed,omitempty"`
	Failed      []string     `json:"failed,omitempty"`
	Items       []ItemResult `json:"items"`
	Findings    int          `json:"findings"`
	Truncated   bool         `json:"truncated,omitempty"`
	// FailedByRule counts the failed findings of each rule.
	FailedByRule         map[string]int `json:"failed_by_rule,omitempty"`
	FirstResponseSeconds *float64       `json:"first_response_seconds,omitempty"`
	CSAT                 int            `json:"csat,omitempty"`
	// Waits is every customer-waiting gap (see Report.Waits).
	Waits []Wait `json:"waits,omitempty"`
	// RatingSeq is the seq of the csat event that caused a re-score (0 for
	// the score written at the resolution).
	RatingSeq int64 `json:"rating_seq,omitempty"`
}

// Engine is the QA engine, an engine.Handler: on every ending of a
// conversation (see Ending: resolved, or closed without resolution) it reads the conversation's events from the store, inspects
// them and writes the findings and the score.
type Engine struct {
	store  starpost.ConversationService
	cfg    Config
	ws     map[string]Config
	search SearchFunc
	qs     *Store

	mu     sync.Mutex
	stored map[string]storedConfig // workspace configurations read from qs, by workspace
}

type storedConfig struct {
	version int64
	cfg     Config
}

// UseStore makes the engine apply each workspace's own configuration
// saved in qs (SaveWorkspaceConfig) when it has one. Call it before the
// engine runs.
func (e *Engine) UseStore(qs *Store) { e.qs = qs }

// configFor returns the configuration that applies to a workspace now: its
// stored one, else Config(ws).
func (e *Engine) configFor(ctx context.Context, ws string) (Config, error) {
	def := e.Config(ws)
	if e.qs == nil {
		return def, nil
	}
	sc, err := e.qs.WorkspaceConfig(ctx, ws, def)
	if err != nil {
		return Config{}, err
	}
	if sc.Version == 0 {
		return def, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.stored[ws]; ok && c.version == sc.Version {
		return c.cfg, nil
	}
	cfg, err := sc.Config.Config()
	if err != nil {
		return def, nil // validated when saved; a stored config that no longer validates falls back
	}
	if e.stored == nil {
		e.stored = map[string]storedConfig{}
	}
	e.stored[ws] = storedConfig{version: sc.Version, cfg: cfg}
	return cfg, nil
}

// RetrievalDepth is how many knowledge-base entries RetrievalRelevance
// compares for the engine.
const RetrievalDepth = 3

// UseRetrieval makes the off-topic rule of workspaces without a Relevance
// of their own use RetrievalRelevance with search (the knowledge base).
// Call it before the engine runs.
func (e *Engine) UseRetrieval(search SearchFunc) { e.search = search }

// NewEngine returns the QA engine reading from store with configuration
// cfg, and perWorkspace overrides for some workspaces (nil for none). Every
// configuration is validated.
func NewEngine(store starpost.ConversationService, cfg Config, perWorkspace map[string]Config) (*Engine, error) {
	if store == nil {
		return nil, fmt.Errorf("quality: engine needs a store")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("quality: config: %w", err)
	}
	ws := make(map[string]Config, len(perWorkspace))
	for id, c := range perWorkspace {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("quality: config of workspace %s: %w", id, err)
		}
		ws[id] = c
	}
	return &Engine{store: store, cfg: cfg, ws: ws}, nil
}

// Name returns EngineName.
func (e *Engine) Name() string { return EngineName }

// Config returns the configuration given in code for a workspace
// (NewEngine); a workspace's stored configuration (UseStore) takes
// precedence over it when the engine runs.
func (e *Engine) Config(workspaceID string) Config {
	if c, ok := e.ws[workspaceID]; ok {
		return c
	}
	return e.cfg
}

// Handle implements engine.Handler. A csat event (a rating, usually given
// after the resolution) re-scores the conversation's last ending with it.
func (e *Engine) Handle(ctx context.Context, ev *starpost.Event) ([]*starpost.Event, error) {
	rating := ev.Kind == kindCSAT
	if st := stateOf(ev); ev.ConversationID == "" || !rating && st != starpost.StateResolved && st != starpost.StateClosed {
		return nil, nil
	}
	var evs []*starpost.Event
	var after int64
	for {
		page, err := e.store.ListEvents(ctx, starpost.EventFilter{WorkspaceID: ev.WorkspaceID, ConversationID: ev.ConversationID, AfterCursor: after})
		if err != nil {
			return nil, fmt.Errorf("quality: read %s: %w", ev.ConversationID, err)
		}
		done := len(page) < starpost.MaxEventPage
		for _, x := range page {
			if x.Cursor > ev.Cursor {
				done = true
				break
			}
			evs = append(evs, x)
			after = x.Cursor
		}
		if done {
			break
		}
	}
	end := Ending(evs)
	if end == nil || !rating && end.Seq != ev.Seq {
		return nil, nil // closing a resolved conversation: already inspected
	}
	cfg, err := e.configFor(ctx, ev.WorkspaceID)
	if err != nil {
		return nil, err
	}
	if e.search != nil && cfg.Relevance == nil {
		cfg.Relevance = RetrievalRelevance(ctx, ev.WorkspaceID, e.search, RetrievalDepth)
	}
	rep, err := Inspect(evs, cfg)
	if err != nil {
		return nil, err
	}
	if rating {
		return events(ev.ConversationID, rep, ev.Seq), nil
	}
	return Events(ev.ConversationID, rep), nil
}

// Events returns the events that record rep on conversation conv: one
// qa.finding per finding and a qa.score, with deterministic idempotency
// keys (a replay of the same resolution commits nothing new).
func Events(conv string, rep Report) []*starpost.Event { return events(conv, rep, 0) }

// events is Events for the score written at a resolution (ratingSeq 0) or
// a re-score after the csat event ratingSeq: findings keep their keys (the
// rating's finding comes last, so earlier ones are the same), the score
// gets a key of its own.
func events(conv string, rep Report, ratingSeq int64) []*starpost.Event {
	key := func(part string) string {
		return EngineName + ":" + conv + ":" + strconv.FormatInt(rep.ResolvedSeq, 10) + ":" + part
	}
	out := make([]*starpost.Event, 0, len(rep.Findings)+1)
	for i, f := range rep.Findings {
		out = append(out, &starpost.Event{ConversationID: conv, Kind: KindFinding, IdempotencyKey: key("f" + strconv.Itoa(i)),
			Body: starpost.MustBody(FindingBody{Finding: f, ResolvedSeq: rep.ResolvedSeq})})
	}
	byRule := map[string]int{}
	for _, f := range rep.Findings {
		if !f.Pass {
			byRule[f.Rule]++
		}
	}
	scoreKey := "score"
	if ratingSeq > 0 {
		scoreKey += ":csat" + strconv.FormatInt(ratingSeq, 10)
	}
	out = append(out, &starpost.Event{ConversationID: conv, Kind: KindScore, IdempotencyKey: key(scoreKey),
		Body: starpost.MustBody(ScoreBody{ResolvedSeq: rep.ResolvedSeq, ResolvedAt: rep.ResolvedAt, AgentID: rep.AgentID, Score: rep.Score, AutoFailed: rep.AutoFailed,
			Failed: rep.Failed, Items: rep.Items, Findings: len(rep.Findings), Truncated: rep.Truncated,
			FailedByRule: byRule, FirstResponseSeconds: rep.FirstResponseSeconds, CSAT: rep.CSAT, Waits: rep.Waits, RatingSeq: ratingSeq})})
	return out
}
