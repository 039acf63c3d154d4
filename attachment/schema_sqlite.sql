-- Attachments (package attachment), SQLite dialect. Created idempotently by
-- attachment.Open. The bytes live in the database so that every node of a
-- cluster serves every file; thumb holds the re-encoded preview of an image.
CREATE TABLE IF NOT EXISTS attachments (
    workspace_id    TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    uploader_role   TEXT    NOT NULL,
    uploader_id     TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    content_type    TEXT    NOT NULL,
    size            INTEGER NOT NULL,
    width           INTEGER NOT NULL DEFAULT 0,
    height          INTEGER NOT NULL DEFAULT 0,
    sha256          TEXT    NOT NULL,
    data            BLOB    NOT NULL,
    internal        INTEGER NOT NULL DEFAULT 0,
    thumb_type      TEXT    NOT NULL DEFAULT '',
    thumb           BLOB,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX IF NOT EXISTS attachments_conversation ON attachments (workspace_id, conversation_id);
