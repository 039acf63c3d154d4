-- Intent models of the bot (package bot), SQLite dialect. Created
-- idempotently by bot.OpenModels. One row per trained model version of a
-- workspace; the newest version is the one in use. fingerprint digests the
-- training data (FAQ questions) and options, kb_revision is the knowledge
-- base revision the data was read at, metrics is JSON (bot.Metrics) and
-- data the encoded model (bot.Model.MarshalBinary).
CREATE TABLE IF NOT EXISTS bot_models (
    workspace_id TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    trained_at   INTEGER NOT NULL,
    fingerprint  TEXT    NOT NULL,
    kb_revision  INTEGER NOT NULL,
    metrics      TEXT    NOT NULL,
    data         BLOB    NOT NULL,
    PRIMARY KEY (workspace_id, version)
);
