-- Workforce management in the product (package wfm/plan), PostgreSQL dialect.
-- Created idempotently by plan.Open. Times are Unix seconds (UTC); days are
-- 'YYYY-MM-DD' local dates in the queue's time zone (wfm_forecasts.time_zone).
-- wfm_contacts and wfm_presence are derived from the conversation events by the wfm engine (keyed so a replay changes nothing);
-- the other tables are the planner's and the agents' work.
CREATE TABLE IF NOT EXISTS wfm_contacts (
    workspace_id    TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    queue_id        TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    arrived_at      BIGINT  NOT NULL,
    assigned_at     BIGINT  NOT NULL DEFAULT 0,
    ended_at        BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, conversation_id)
);
CREATE INDEX IF NOT EXISTS wfm_contacts_queue ON wfm_contacts (workspace_id, queue_id, arrived_at);
CREATE TABLE IF NOT EXISTS wfm_presence (
    workspace_id TEXT    NOT NULL,
    cursor       BIGINT  NOT NULL,
    agent_id     TEXT    NOT NULL,
    at           BIGINT  NOT NULL,
    presence     TEXT    NOT NULL,
    PRIMARY KEY (workspace_id, cursor)
);
CREATE INDEX IF NOT EXISTS wfm_presence_agent ON wfm_presence (workspace_id, agent_id, at);
CREATE TABLE IF NOT EXISTS wfm_forecasts (
    workspace_id TEXT    NOT NULL,
    queue_id     TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    slot         BIGINT  NOT NULL,
    contacts     DOUBLE PRECISION NOT NULL,
    aht_seconds  DOUBLE PRECISION NOT NULL,
    required     BIGINT  NOT NULL,
    method       TEXT    NOT NULL,
    reforecast   DOUBLE PRECISION NOT NULL DEFAULT -1,
    re_required  BIGINT  NOT NULL DEFAULT -1,
    computed_at  BIGINT  NOT NULL,
    time_zone    TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, queue_id, day, slot)
);
CREATE TABLE IF NOT EXISTS wfm_schedules (
    workspace_id TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    queue_id     TEXT    NOT NULL,
    week_start   TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    paid_hours   DOUBLE PRECISION NOT NULL,
    lower_bound  DOUBLE PRECISION NOT NULL,
    created_at   BIGINT  NOT NULL,
    published_at BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, id)
);
CREATE TABLE IF NOT EXISTS wfm_shifts (
    workspace_id TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    schedule_id  TEXT    NOT NULL,
    queue_id     TEXT    NOT NULL,
    agent_id     TEXT    NOT NULL,
    start_at     BIGINT  NOT NULL,
    end_at       BIGINT  NOT NULL,
    break_start  BIGINT  NOT NULL DEFAULT 0,
    break_end    BIGINT  NOT NULL DEFAULT 0,
    kind         TEXT    NOT NULL,
    published    BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX IF NOT EXISTS wfm_shifts_agent ON wfm_shifts (workspace_id, agent_id, start_at);
CREATE INDEX IF NOT EXISTS wfm_shifts_queue ON wfm_shifts (workspace_id, queue_id, start_at);
CREATE TABLE IF NOT EXISTS wfm_slots (
    workspace_id TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    queue_id     TEXT    NOT NULL,
    start_at     BIGINT  NOT NULL,
    end_at       BIGINT  NOT NULL,
    break_start  BIGINT  NOT NULL DEFAULT 0,
    break_end    BIGINT  NOT NULL DEFAULT 0,
    status       TEXT    NOT NULL,
    agent_id     TEXT    NOT NULL DEFAULT '',
    reason       TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    claimed_at   BIGINT  NOT NULL DEFAULT 0,
    expires_at   BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX IF NOT EXISTS wfm_slots_open ON wfm_slots (workspace_id, status, start_at);
CREATE TABLE IF NOT EXISTS wfm_offers (
    workspace_id TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    queue_id     TEXT    NOT NULL,
    agent_id     TEXT    NOT NULL,
    shift_id     TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    start_at     BIGINT  NOT NULL,
    end_at       BIGINT  NOT NULL,
    status       TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    answered_at  BIGINT  NOT NULL DEFAULT 0,
    expires_at   BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS wfm_offers_shift ON wfm_offers (workspace_id, shift_id, kind);
-- Agents' flexible-work profile (灵活用工): flexible is set by a planner,
-- opted_in by the agent; either lets the agent see and claim open slots.
-- max_week_hours (0: the service's rule) caps the agent's paid hours in a
-- local calendar week.
CREATE TABLE IF NOT EXISTS wfm_agents (
    workspace_id   TEXT    NOT NULL,
    agent_id       TEXT    NOT NULL,
    flexible       BIGINT NOT NULL DEFAULT 0,
    opted_in       BIGINT NOT NULL DEFAULT 0,
    max_week_hours DOUBLE PRECISION NOT NULL DEFAULT 0,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, agent_id)
);
-- Columns added after the first release (older databases).
ALTER TABLE wfm_forecasts ADD COLUMN IF NOT EXISTS time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE wfm_slots ADD COLUMN IF NOT EXISTS expires_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE wfm_offers ADD COLUMN IF NOT EXISTS expires_at BIGINT NOT NULL DEFAULT 0;
-- The events calendar (calendar.go): see schema_sqlite.sql.
CREATE TABLE IF NOT EXISTS wfm_events (
    workspace_id TEXT   NOT NULL,
    id           TEXT   NOT NULL,
    queue_id     TEXT   NOT NULL,
    day          TEXT   NOT NULL,
    kind         TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS wfm_events_day ON wfm_events (workspace_id, queue_id, day);
