package bot

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/starpost/starpost"
	"github.com/starpost/starpost/store"
	"github.com/starpost/starpost/text"
)

//go:embed schema_sqlite.sql
var sqliteSchema string

//go:embed schema_postgres.sql
var postgresSchema string

// Source is where a workspace's training data and answers come from: the
// knowledge base (see KBSource).
type Source interface {
	// Revision is a counter that grows with every edit of the data.
	Revision(ctx context.Context, ws string) (int64, error)
	// TrainingData returns the examples and the intents they name.
	TrainingData(ctx context.Context, ws string) ([]Example, map[string]Intent, error)
	// Answer returns the current answer of an intent (ENOTFOUND when it is
	// gone).
	Answer(ctx context.Context, ws, intent string) (string, error)
}

// ModelsOptions configure Models.
type ModelsOptions struct {
	// SQL and Driver ("sqlite" or "postgres") locate the bot_models table:
	// pass store.DB.SQL() and store.DB.Driver().
	SQL    *sql.DB
	Driver string
	// Tokenizer is used to train and load models.
	Tokenizer *text.Tokenizer
	Source    Source
	// Train configures training.
	Train TrainOptions
	// Keep is how many versions per workspace are kept (0 means 5).
	Keep int
	// Clock stamps models; nil is the system clock.
	Clock  starpost.Clock
	Logger *slog.Logger
}

// Models keeps every workspace's intent model: the newest stored version is
// loaded on first use (a restart loads, it does not retrain); when the
// source's revision moved past the model's, a new model is trained in the
// background while the old one keeps answering, and stored as the next
// version, unless the training data is unchanged (same fingerprint). It is
// safe for concurrent use.
type Models struct {
	opts ModelsOptions
	log  *slog.Logger

	mu  sync.Mutex
	wss map[string]*wsModels
	bg  sync.WaitGroup
}

type wsModels struct {
	mu       sync.Mutex
	loaded   bool
	model    *Model
	emptyRev int64         // revision at which the data had too few intents (-1: none)
	training chan struct{} // closed when the running background training ends
}

// ModelInfo describes a stored model version.
type ModelInfo struct {
	Version     int64     `json:"version"`
	TrainedAt   time.Time `json:"trained_at"`
	Fingerprint string    `json:"fingerprint"`
	KBRevision  int64     `json:"kb_revision"`
	Metrics     Metrics   `json:"metrics"`
}

// OpenModels creates the bot_models table if needed and returns Models.
func OpenModels(ctx context.Context, opts ModelsOptions) (*Models, error) {
	if opts.SQL == nil || opts.Tokenizer == nil || opts.Source == nil {
		return nil, errors.New("bot: models need SQL, Tokenizer and Source")
	}
	if err := store.CreateTables(ctx, opts.SQL, opts.Driver, sqliteSchema, postgresSchema); err != nil {
		return nil, fmt.Errorf("bot: create tables: %w", err)
	}
	if opts.Keep <= 0 {
		opts.Keep = 5
	}
	if opts.Clock == nil {
		opts.Clock = starpost.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Models{opts: opts, log: opts.Logger, wss: map[string]*wsModels{}}, nil
}

func (m *Models) q(query string) string { return store.Rebind(m.opts.Driver, query) }

func (m *Models) state(ws string) *wsModels {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.wss[ws]
	if st == nil {
		st = &wsModels{emptyRev: -1}
		m.wss[ws] = st
	}
	return st
}

// Current returns the model workspace ws should use, or nil when its data
// has fewer than two intents. The first call loads the newest stored
// version; with none stored it trains one at once. A model behind the
// source's revision is returned while its successor trains in the
// background.
func (m *Models) Current(ctx context.Context, ws string) (*Model, error) {
	st := m.state(ws)
	st.mu.Lock()
	if !st.loaded {
		model, err := m.loadNewest(ctx, ws)
		if err != nil {
			st.mu.Unlock()
			return nil, err
		}
		st.model, st.loaded = model, true
	}
	rev, err := m.opts.Source.Revision(ctx, ws)
	if err != nil {
		st.mu.Unlock()
		return nil, fmt.Errorf("bot: revision of %s: %w", ws, err)
	}
	model := st.model
	switch {
	case model != nil && model.KBRevision >= rev:
		st.mu.Unlock()
		return model, nil
	case model == nil && st.emptyRev == rev:
		st.mu.Unlock()
		return nil, nil
	case model == nil:
		st.mu.Unlock()
		return m.Retrain(ctx, ws)
	}
	if st.training == nil {
		done := make(chan struct{})
		st.training = done
		m.bg.Add(1)
		go func() {
			defer m.bg.Done()
			bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Minute)
			defer cancel()
			if _, err := m.Retrain(bctx, ws); err != nil {
				m.log.Warn("bot: background retraining failed", "workspace", ws, "err", err)
			}
			st.mu.Lock()
			st.training = nil
			st.mu.Unlock()
			close(done)
		}()
	}
	st.mu.Unlock()
	return model, nil
}

// Wait returns when no background training of workspace ws is running.
func (m *Models) Wait(ctx context.Context, ws string) error {
	st := m.state(ws)
	st.mu.Lock()
	done := st.training
	st.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close waits for background trainings to end.
func (m *Models) Close() { m.bg.Wait() }

// Retrain reads workspace ws's training data and, unless it is what the
// current model was trained on, trains and stores the next version, which
// becomes current. It returns the current model (nil with fewer than two
// intents).
func (m *Models) Retrain(ctx context.Context, ws string) (*Model, error) {
	rev, err := m.opts.Source.Revision(ctx, ws)
	if err != nil {
		return nil, fmt.Errorf("bot: revision of %s: %w", ws, err)
	}
	examples, intents, err := m.opts.Source.TrainingData(ctx, ws)
	if err != nil {
		return nil, fmt.Errorf("bot: training data of %s: %w", ws, err)
	}
	fp := Fingerprint(examples, m.opts.Train)
	st := m.state(ws)
	st.mu.Lock()
	cur := st.model
	st.mu.Unlock()
	if cur != nil && cur.Fingerprint == fp {
		// Same data (an article or an answer changed): no new version.
		if _, err := m.opts.SQL.ExecContext(ctx, m.q("UPDATE bot_models SET kb_revision = ? WHERE workspace_id = ? AND version = ? AND kb_revision < ?"),
			rev, ws, cur.Version, rev); err != nil {
			return nil, fmt.Errorf("bot: update model revision: %w", err)
		}
		st.mu.Lock()
		if st.model == cur && cur.KBRevision < rev {
			cur.KBRevision = rev
		}
		st.mu.Unlock()
		return cur, nil
	}
	model, err := Train(ctx, m.opts.Tokenizer, examples, intents, m.opts.Train)
	if errors.Is(err, ErrTooFewIntents) {
		st.mu.Lock()
		st.emptyRev, st.model, st.loaded = rev, nil, true
		st.mu.Unlock()
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("bot: train %s: %w", ws, err)
	}
	model.Workspace, model.Fingerprint, model.KBRevision = ws, fp, rev
	model.TrainedAt = m.opts.Clock.Now().UTC()
	if err := m.save(ctx, model); err != nil {
		return nil, err
	}
	st.mu.Lock()
	if st.model == nil || st.model.Version < model.Version {
		st.model, st.loaded = model, true
	}
	model = st.model
	st.mu.Unlock()
	m.log.Info("bot: model trained", "workspace", ws, "version", model.Version, "intents", model.Metrics.Intents,
		"examples", model.Metrics.Examples, "cv_accuracy", model.Metrics.CVAccuracy, "ms", model.Metrics.TrainMillis)
	return model, nil
}

// save stores model as the workspace's next version and drops versions
// older than the Keep newest.
func (m *Models) save(ctx context.Context, model *Model) error {
	data, err := model.MarshalBinary()
	if err != nil {
		return err
	}
	metrics, _ := json.Marshal(model.Metrics)
	tx, err := m.opts.SQL.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("bot: save model: %w", err)
	}
	defer tx.Rollback()
	var last int64
	if err := tx.QueryRowContext(ctx, m.q("SELECT COALESCE(MAX(version), 0) FROM bot_models WHERE workspace_id = ?"), model.Workspace).Scan(&last); err != nil {
		return fmt.Errorf("bot: save model: %w", err)
	}
	model.Version = last + 1
	if _, err := tx.ExecContext(ctx, m.q("INSERT INTO bot_models (workspace_id, version, trained_at, fingerprint, kb_revision, metrics, data) VALUES (?, ?, ?, ?, ?, ?, ?)"),
		model.Workspace, model.Version, model.TrainedAt.UnixNano(), model.Fingerprint, model.KBRevision, string(metrics), data); err != nil {
		return fmt.Errorf("bot: save model (another node may have saved version %d): %w", model.Version, err)
	}
	if _, err := tx.ExecContext(ctx, m.q("DELETE FROM bot_models WHERE workspace_id = ? AND version <= ?"), model.Workspace, model.Version-int64(m.opts.Keep)); err != nil {
		return fmt.Errorf("bot: prune models: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("bot: save model: %w", err)
	}
	return nil
}

// loadNewest reads the newest stored model of ws (nil when none).
func (m *Models) loadNewest(ctx context.Context, ws string) (*Model, error) {
	var (
		version, trained, rev int64
		fp, metrics           string
		data                  []byte
	)
	err := m.opts.SQL.QueryRowContext(ctx, m.q("SELECT version, trained_at, fingerprint, kb_revision, metrics, data FROM bot_models WHERE workspace_id = ? ORDER BY version DESC LIMIT 1"), ws).
		Scan(&version, &trained, &fp, &rev, &metrics, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("bot: load model of %s: %w", ws, err)
	}
	model, err := LoadModel(data, m.opts.Tokenizer)
	if err != nil {
		return nil, err
	}
	model.Workspace, model.Version, model.TrainedAt, model.Fingerprint, model.KBRevision = ws, version, time.Unix(0, trained).UTC(), fp, rev
	return model, nil
}

// Versions lists the stored model versions of ws, newest first.
func (m *Models) Versions(ctx context.Context, ws string) ([]ModelInfo, error) {
	rows, err := m.opts.SQL.QueryContext(ctx, m.q("SELECT version, trained_at, fingerprint, kb_revision, metrics FROM bot_models WHERE workspace_id = ? ORDER BY version DESC"), ws)
	if err != nil {
		return nil, fmt.Errorf("bot: list models: %w", err)
	}
	defer rows.Close()
	var out []ModelInfo
	for rows.Next() {
		var mi ModelInfo
		var trained int64
		var metrics string
		if err := rows.Scan(&mi.Version, &trained, &mi.Fingerprint, &mi.KBRevision, &metrics); err != nil {
			return nil, fmt.Errorf("bot: list models: %w", err)
		}
		mi.TrainedAt = time.Unix(0, trained).UTC()
		if err := json.Unmarshal([]byte(metrics), &mi.Metrics); err != nil {
			return nil, fmt.Errorf("bot: metrics of version %d: %w", mi.Version, err)
		}
		out = append(out, mi)
	}
	return out, rows.Err()
}
