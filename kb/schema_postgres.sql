-- Knowledge base (package kb), PostgreSQL dialect. Created idempotently by kb.Open.
-- Articles keep their current form in kb_articles and every edit as a row of
-- kb_article_versions; kb_revisions counts the edits of a workspace so every
-- node can tell whether its in-memory search index is current; kb_index_blobs
-- holds the persisted index (text.Index.Save) of the revision it was saved at.
CREATE TABLE IF NOT EXISTS kb_articles (
    workspace_id TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    lang         TEXT    NOT NULL,
    category     TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL,
    version      BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    updated_by   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, id)
);
CREATE TABLE IF NOT EXISTS kb_article_versions (
    workspace_id TEXT    NOT NULL,
    article_id   TEXT    NOT NULL,
    version      BIGINT  NOT NULL,
    title        TEXT    NOT NULL,
    body         TEXT    NOT NULL,
    lang         TEXT    NOT NULL,
    category     TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL,
    edited_by    TEXT    NOT NULL DEFAULT '',
    edited_at    BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, article_id, version)
);
CREATE TABLE IF NOT EXISTS kb_faqs (
    workspace_id TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    questions    TEXT    NOT NULL,
    answer       TEXT    NOT NULL,
    lang         TEXT    NOT NULL,
    category     TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL,
    version      BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE TABLE IF NOT EXISTS kb_synonyms (
    workspace_id TEXT    NOT NULL,
    grp          BIGINT  NOT NULL,
    term         TEXT    NOT NULL,
    PRIMARY KEY (workspace_id, grp, term)
);
CREATE TABLE IF NOT EXISTS kb_revisions (
    workspace_id TEXT    NOT NULL PRIMARY KEY,
    revision     BIGINT  NOT NULL
);
CREATE TABLE IF NOT EXISTS kb_index_blobs (
    workspace_id TEXT    NOT NULL PRIMARY KEY,
    revision     BIGINT  NOT NULL,
    data         BYTEA   NOT NULL,
    saved_at     BIGINT  NOT NULL
);
CREATE TABLE IF NOT EXISTS kb_feedback (
    workspace_id    TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    seq             BIGINT  NOT NULL,
    doc_id          TEXT    NOT NULL,
    helpful         BIGINT  NOT NULL,
    PRIMARY KEY (workspace_id, conversation_id, seq)
);
