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

-- Intent tags of conversations (bot.Tags), kept by the tag engine from
-- intent.tagged and state events: which intent (FAQ id) a conversation was
-- about and the customer's words that asked for it. Tags of resolved or
-- closed conversations (resolved = 1) are training examples. tag_seq is the
-- seq of the tag event the row holds, so a replayed older tag changes
-- nothing. bot_tag_revisions counts changes per workspace, so the models
-- know when to retrain.
CREATE TABLE IF NOT EXISTS bot_tags (
    workspace_id    TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    intent          TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    resolved        INTEGER NOT NULL,
    tag_seq         INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id)
);
CREATE TABLE IF NOT EXISTS bot_tag_revisions (
    workspace_id TEXT    PRIMARY KEY,
    revision     INTEGER NOT NULL
);
