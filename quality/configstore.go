package quality

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/starpost/starpost"
)

// StoredConfig is a workspace's own QA configuration.
type StoredConfig struct {
	// Version counts the saves (0: the workspace has none and uses the
	// server's default).
	Version   int64     `json:"version"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	Config    ConfigDoc `json:"config"`
}

// WorkspaceConfig returns the workspace's stored configuration, or def
// (the server's default) with Version 0 when it has none.
func (s *Store) WorkspaceConfig(ctx context.Context, ws string, def Config) (*StoredConfig, error) {
	var raw string
	var at int64
	out := &StoredConfig{}
	err := s.db.QueryRowContext(ctx, s.q(`SELECT config, version, updated_by, updated_at FROM qa_configs WHERE workspace_id = ?`), ws).
		Scan(&raw, &out.Version, &out.UpdatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		out.Config = def.Doc()
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("quality: read config: %w", err)
	}
	if err := json.Unmarshal([]byte(raw), &out.Config); err != nil {
		return nil, fmt.Errorf("quality: stored config of %s: %w", ws, err)
	}
	out.UpdatedAt = fromNanos(at)
	return out, nil
}

// SaveWorkspaceConfig validates and stores a workspace's configuration.
// version must be the stored version (0 for the first save); ECONFLICT
// otherwise.
func (s *Store) SaveWorkspaceConfig(ctx context.Context, ws, by string, version int64, doc ConfigDoc) (*StoredConfig, error) {
	if _, err := doc.Config(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("quality: save config: %w", err)
	}
	now := s.clock.Now().UTC()
	var res sql.Result
	if version == 0 {
		res, err = s.db.ExecContext(ctx, s.q(`INSERT INTO qa_configs (workspace_id, config, version, updated_by, updated_at)
			VALUES (?, ?, 1, ?, ?) ON CONFLICT (workspace_id) DO NOTHING`), ws, string(raw), by, nanos(now))
	} else {
		res, err = s.db.ExecContext(ctx, s.q(`UPDATE qa_configs SET config = ?, version = version + 1, updated_by = ?, updated_at = ?
			WHERE workspace_id = ? AND version = ?`), string(raw), by, nanos(now), ws, version)
	}
	if err != nil {
		return nil, fmt.Errorf("quality: save config: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("quality: save config: %w", err)
	} else if n == 0 {
		return nil, starpost.Errorf(starpost.ECONFLICT, "the configuration changed since version %d: reload it", version)
	}
	return &StoredConfig{Version: version + 1, UpdatedBy: by, UpdatedAt: now, Config: doc}, nil
}
