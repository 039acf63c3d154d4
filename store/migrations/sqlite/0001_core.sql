-- Core schema of Starpost on SQLite. Times are Unix nanoseconds (UTC) in
-- INTEGER columns so both backends round-trip time.Time exactly; JSON is TEXT.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    last_cursor INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sites (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name         TEXT NOT NULL,
    time_zone    TEXT NOT NULL
);
CREATE INDEX sites_workspace ON sites (workspace_id);

CREATE TABLE skills (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name         TEXT NOT NULL
);
CREATE INDEX skills_workspace ON skills (workspace_id);

CREATE TABLE teams (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name         TEXT NOT NULL
);
CREATE INDEX teams_workspace ON teams (workspace_id);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspaces (id),
    email          TEXT NOT NULL,
    email_key      TEXT NOT NULL UNIQUE, -- lower-cased email: unique platform-wide
    name           TEXT NOT NULL,
    role           TEXT NOT NULL,
    site_id        TEXT NOT NULL DEFAULT '',
    team_id        TEXT NOT NULL DEFAULT '',
    skills         TEXT NOT NULL DEFAULT '[]',
    capacity       TEXT NOT NULL DEFAULT '{}',
    disabled       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    password_hash  TEXT NOT NULL DEFAULT '',
    presence       TEXT NOT NULL DEFAULT '',
    presence_since INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX users_workspace ON users (workspace_id);

CREATE TABLE queues (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name         TEXT NOT NULL,
    priority     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    data         TEXT NOT NULL -- the whole Queue as JSON
);
CREATE INDEX queues_workspace ON queues (workspace_id);

CREATE TABLE contacts (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name         TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL
);
CREATE INDEX contacts_workspace ON contacts (workspace_id);

CREATE TABLE contact_identities (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    channel      TEXT NOT NULL,
    identity     TEXT NOT NULL,
    contact_id   TEXT NOT NULL REFERENCES contacts (id),
    PRIMARY KEY (workspace_id, channel, identity)
);
CREATE INDEX contact_identities_contact ON contact_identities (contact_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL
);
CREATE INDEX api_tokens_workspace ON api_tokens (workspace_id);

CREATE TABLE conversations (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    channel      TEXT NOT NULL,
    contact_id   TEXT NOT NULL,
    queue_id     TEXT NOT NULL DEFAULT '',
    agent_id     TEXT NOT NULL DEFAULT '',
    offered_to   TEXT NOT NULL DEFAULT '',
    state        TEXT NOT NULL,
    priority     INTEGER NOT NULL DEFAULT 0,
    last_seq     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    data         TEXT NOT NULL -- the whole Conversation as JSON
);
CREATE INDEX conversations_state ON conversations (workspace_id, state);
CREATE INDEX conversations_agent ON conversations (workspace_id, agent_id);
CREATE INDEX conversations_queue ON conversations (workspace_id, queue_id);
CREATE INDEX conversations_contact ON conversations (workspace_id, contact_id);

CREATE TABLE events (
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id),
    cursor          INTEGER NOT NULL,
    conversation_id TEXT NOT NULL DEFAULT '', -- '' for workspace events
    seq             INTEGER NOT NULL,         -- 0 for workspace events
    kind            TEXT NOT NULL,
    actor_role      TEXT NOT NULL,
    actor_id        TEXT NOT NULL DEFAULT '',
    at              INTEGER NOT NULL,
    body            TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, cursor)
);
CREATE UNIQUE INDEX events_conversation_seq ON events (conversation_id, seq) WHERE conversation_id <> '';
CREATE UNIQUE INDEX events_idempotency ON events (workspace_id, idempotency_key) WHERE idempotency_key <> '';
CREATE INDEX events_conversation_cursor ON events (workspace_id, conversation_id, cursor);
