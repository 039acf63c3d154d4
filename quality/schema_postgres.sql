-- Quality (package quality), PostgreSQL dialect. Created idempotently by quality.Open.
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
    resolved_seq      BIGINT  NOT NULL,
    score_seq         BIGINT  NOT NULL,
    resolved_at       BIGINT  NOT NULL,
    agent_id          TEXT    NOT NULL DEFAULT '',
    team_id           TEXT    NOT NULL DEFAULT '',
    site_id           TEXT    NOT NULL DEFAULT '',
    auto_score        BIGINT  NOT NULL,
    auto_failed       BIGINT  NOT NULL,
    score             BIGINT  NOT NULL,
    failed            BIGINT  NOT NULL,
    items             TEXT    NOT NULL,
    failed_by_rule    TEXT    NOT NULL,
    findings          BIGINT  NOT NULL,
    first_response_ms BIGINT ,
    csat              BIGINT  NOT NULL DEFAULT 0,
    review_version    BIGINT  NOT NULL DEFAULT 0,
    reviewed_by       TEXT    NOT NULL DEFAULT '',
    reviewed_at       BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, conversation_id, resolved_seq)
);
CREATE INDEX IF NOT EXISTS qa_scorecards_time ON qa_scorecards (workspace_id, resolved_at);
CREATE TABLE IF NOT EXISTS qa_overrides (
    workspace_id    TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    resolved_seq    BIGINT  NOT NULL,
    rule            TEXT    NOT NULL,
    passed          BIGINT  NOT NULL,
    comment         TEXT    NOT NULL DEFAULT '',
    by_user         TEXT    NOT NULL,
    at              BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id, resolved_seq, rule)
);
CREATE TABLE IF NOT EXISTS qa_review_changes (
    workspace_id    TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    resolved_seq    BIGINT  NOT NULL,
    version         BIGINT  NOT NULL,
    rule            TEXT    NOT NULL,
    auto_passed     BIGINT ,
    old_passed      BIGINT ,
    new_passed      BIGINT  NOT NULL,
    comment         TEXT    NOT NULL DEFAULT '',
    by_user         TEXT    NOT NULL,
    at              BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id, resolved_seq, version, rule)
);
CREATE TABLE IF NOT EXISTS qa_configs (
    workspace_id TEXT    NOT NULL PRIMARY KEY,
    config       TEXT    NOT NULL,
    version      BIGINT NOT NULL,
    updated_by   TEXT    NOT NULL,
    updated_at   BIGINT NOT NULL
);
