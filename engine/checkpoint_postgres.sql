-- Checkpoints of the engine runner (package engine), PostgreSQL dialect.
-- One row per engine and workspace: the cursor of the last event the engine
-- finished handling. Created idempotently when a Runner starts.
CREATE TABLE IF NOT EXISTS engine_checkpoints (
    engine       TEXT   NOT NULL,
    workspace_id TEXT   NOT NULL,
    last_cursor  BIGINT NOT NULL DEFAULT 0,
    updated_at   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (engine, workspace_id)
);
