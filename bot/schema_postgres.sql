-- Intent models of the bot (package bot), PostgreSQL dialect. Created
-- idempotently by bot.OpenModels. One row per trained model version of a
-- workspace; the newest version is the one in use. fingerprint digests the
-- training data (FAQ questions) and options, kb_revision is the knowledge
-- base revision the data was read at, metrics is JSON (bot.Metrics) and
-- data the encoded model (bot.Model.MarshalBinary).
CREATE TABLE IF NOT EXISTS bot_models (
    workspace_id TEXT   NOT NULL,
    version      BIGINT NOT NULL,
    trained_at   BIGINT NOT NULL,
    fingerprint  TEXT   NOT NULL,
    kb_revision  BIGINT NOT NULL,
    metrics      TEXT   NOT NULL,
    data         BYTEA  NOT NULL,
    PRIMARY KEY (workspace_id, version)
);

-- Intent tags of conversations (bot.Tags): see schema_sqlite.sql.
CREATE TABLE IF NOT EXISTS bot_tags (
    workspace_id    TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    intent          TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    resolved        INTEGER NOT NULL,
    tag_seq         BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id)
);
CREATE TABLE IF NOT EXISTS bot_tag_revisions (
    workspace_id TEXT   PRIMARY KEY,
    revision     BIGINT NOT NULL
);
