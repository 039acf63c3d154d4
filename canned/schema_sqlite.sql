-- Canned replies (package canned), SQLite dialect. Created idempotently by
-- canned.Open. One row per reply; a shortcut is unique per workspace and
-- language ('' = any language).
CREATE TABLE IF NOT EXISTS canned_replies (
    workspace_id TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    shortcut     TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    lang         TEXT    NOT NULL DEFAULT '',
    team_id      TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    updated_by   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS canned_replies_shortcut ON canned_replies (workspace_id, shortcut, lang);
