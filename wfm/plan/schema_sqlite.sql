-- Workforce management in the product (package wfm/plan), SQLite dialect.
-- Created idempotently by plan.Open. Times are Unix seconds (UTC); days are
-- 'YYYY-MM-DD' local dates in the queue's time zone (wfm_forecasts.time_zone).
-- wfm_contacts and wfm_presence are derived from the conversation events by the wfm engine (keyed so a replay changes nothing);
-- the other tables are the planner's and the agents' work.
CREATE TABLE IF NOT EXISTS wfm_contacts (
    workspace_id    TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    queue_id        TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    arrived_at      INTEGER NOT NULL,
    assigned_at     INTEGER NOT NULL DEFAULT 0,
    ended_at        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, conversation_id)
);
CREATE INDEX IF NOT EXISTS wfm_contacts_queue ON wfm_contacts (workspace_id, queue_id, arrived_at);
CREATE TABLE IF NOT EXISTS wfm_presence (
    workspace_id TEXT    NOT NULL,
    cursor       INTEGER NOT NULL,
    agent_id     TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    presence     TEXT    NOT NULL,
    PRIMARY KEY (workspace_id, cursor)
);
CREATE INDEX IF NOT EXISTS wfm_presence_agent ON wfm_presence (workspace_id, agent_id, at);
CREATE TABLE IF NOT EXISTS wfm_forecasts (
    workspace_id TEXT    NOT NULL,
    queue_id     TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    slot         INTEGER NOT NULL,
    contacts     REAL    NOT NULL,
    aht_seconds  REAL    NOT NULL,
    required     INTEGER NOT NULL,
    method       TEXT    NOT NULL,
    reforecast   REAL    NOT NULL DEFAULT -1,
    re_required  INTEGER NOT NULL DEFAULT -1,
    computed_at  INTEGER NOT NULL,
    time_zone    TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, queue_id, day, slot)
);
CREATE TABLE IF NOT EXISTS wfm_schedules (
    workspace_id TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    queue_id     TEXT    NOT NULL,
    week_start   TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    paid_hours   REAL    NOT NULL,
    lower_bound  REAL    NOT NULL,
    created_at   INTEGER NOT NULL,
    published_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, id)
);
CREATE TABLE IF NOT EXISTS wfm_shifts (
    workspace_id TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    schedule_id  TEXT    NOT NULL,
    queue_id     TEXT    NOT NULL,
    agent_id     TEXT    NOT NULL,
    start_at     INTEGER NOT NULL,
    end_at       INTEGER NOT NULL,
    break_start  INTEGER NOT NULL DEFAULT 0,
    break_end    INTEGER NOT NULL DEFAULT 0,
    kind         TEXT    NOT NULL,
    published    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (workspace_id, id)
);
CREATE INDEX IF NOT EXISTS wfm_shifts_agent ON wfm_shifts (workspace_id, agent_id, start_at);
CREATE INDEX IF NOT EXISTS wfm_shifts_queue ON wfm_shifts (workspace_id, queue_id, start_at);
CREATE TABLE IF NOT EXISTS wfm_slots (
    workspace_id TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    queue_id     TEXT    NOT NULL,
    start_at     INTEGER NOT NULL,
    end_at       INTEGER NOT NULL,
    break_start  INTEGER NOT NULL DEFAULT 0,
    break_end    INTEGER NOT NULL DEFAULT 0,
    status       TEXT    NOT NULL,
    agent_id     TEXT    NOT NULL DEFAULT '',
    reason       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    claimed_at   INTEGER NOT NULL DEFAULT 0,
    expires_at   INTEGER NOT NULL DEFAULT 0,
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
    start_at     INTEGER NOT NULL,
    end_at       INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    answered_at  INTEGER NOT NULL DEFAULT 0,
    expires_at   INTEGER NOT NULL DEFAULT 0,
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
    flexible       INTEGER NOT NULL DEFAULT 0,
    opted_in       INTEGER NOT NULL DEFAULT 0,
    max_week_hours REAL NOT NULL DEFAULT 0,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, agent_id)
);
-- The events calendar (calendar.go): sales, festivals and launches that
-- change demand, per queue or for every queue of the workspace (queue_id
-- ''), one row per event day; day is the local date YYYY-MM-DD.
CREATE TABLE IF NOT EXISTS wfm_events (
    workspace_id TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    queue_id     TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS wfm_events_day ON wfm_events (workspace_id, queue_id, day);
