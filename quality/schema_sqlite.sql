-- Quality (package quality), SQLite dialect. Created idempotently by quality.Open.
-- qa_scorecards indexes every qa.score event (one row per conversation and
-- resolution; a later score of the same resolution, after a csat rating,
-- replaces it) with the agent's team and site at scoring time, and keeps the
-- final score after a human review. qa_overrides holds the current human
-- result of each overridden item; qa_review_changes records every change
-- (who, when, from what, to what, why). qa_configs holds a workspace's own QA
-- configuration (quality.ConfigDoc as JSON), versioned.
CREATE TABLE IF NOT EXISTS qa_scorecards (
    workspace_id      TEXT    NOT NULL,
    conversation_id   TEXT    NOT NULL,
    resolved_seq      INTEGER NOT NULL,
    score_seq         INTEGER NOT NULL,
    resolved_at       INTEGER NOT NULL,
    agent_id          TEXT    NOT NULL DEFAULT '',
    team_id           TEXT    NOT NULL DEFAULT '',
    site_id           TEXT    NOT NULL DEFAULT '',
    auto_score        INTEGER NOT NULL,
    auto_failed       INTEGER NOT NULL,
    score             INTEGER NOT NULL,
    failed            INTEGER NOT NULL,
    items             TEXT    NOT NULL,
    failed_by_rule    TEXT    NOT NULL,
    findings          INTEGER NOT NULL,
    first_response_ms INTEGER,
    csat              INTEGER NOT NULL DEFAULT 0,
    review_version    INTEGER NOT NULL DEFAULT 0,
    reviewed_by       TEXT    NOT NULL DEFAULT '',
    reviewed_at       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, conversation_id, resolved_seq)
);
CREATE INDEX IF NOT EXISTS qa_scorecards_time ON qa_scorecards (workspace_id, resolved_at);
CREATE TABLE IF NOT EXISTS qa_overrides (
    workspace_id    TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    resolved_seq    INTEGER NOT NULL,
    rule            TEXT    NOT NULL,
    passed          INTEGER NOT NULL,
    comment         TEXT    NOT NULL DEFAULT '',
    by_user         TEXT    NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id, resolved_seq, rule)
);
CREATE TABLE IF NOT EXISTS qa_review_changes (
    workspace_id    TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    resolved_seq    INTEGER NOT NULL,
    version         INTEGER NOT NULL,
    rule            TEXT    NOT NULL,
    auto_passed     INTEGER,
    old_passed      INTEGER,
    new_passed      INTEGER NOT NULL,
    comment         TEXT    NOT NULL DEFAULT '',
    by_user         TEXT    NOT NULL,
    at              INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id, resolved_seq, version, rule)
);
CREATE TABLE IF NOT EXISTS qa_configs (
    workspace_id TEXT    NOT NULL PRIMARY KEY,
    config       TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    updated_by   TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL
);
