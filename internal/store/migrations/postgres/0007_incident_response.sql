-- Incident response: who raised an incident and who acknowledged it, the
-- history of its transitions, the SLA state the breach job keeps, RCA
-- follow-ups and reviews, and the durable outbox of notifications.
ALTER TABLE incidents ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN origin TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';

-- One row per open, acknowledge, resolve, reopen or severity change made
-- through the CLI or the API: who and when.
CREATE TABLE incident_transitions (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service  TEXT NOT NULL,
    incident TEXT NOT NULL,
    action   TEXT NOT NULL,
    at       BIGINT NOT NULL,
    by_whom  TEXT NOT NULL DEFAULT '',
    severity INTEGER NOT NULL DEFAULT 0,
    note     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incident_transitions_incident ON incident_transitions (service, incident, at);

-- What the breach-and-escalation job did for an incident. settled marks an
-- incident answered within its SLA, which the job no longer reads; announced
-- one whose opening was notified (by the API or the CLI, or by the job for
-- an incident a connector reported).
CREATE TABLE incident_sla (
    service     TEXT NOT NULL,
    incident    TEXT NOT NULL,
    due_at      BIGINT,
    breached_at BIGINT,
    sent        INTEGER NOT NULL DEFAULT 0,
    settled     INTEGER NOT NULL DEFAULT 0,
    announced   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (service, incident)
);

CREATE TABLE incident_followups (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service    TEXT NOT NULL,
    incident   TEXT NOT NULL,
    title      TEXT NOT NULL,
    tracker    TEXT NOT NULL DEFAULT '',
    issue_key  TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    due_at     BIGINT,
    done_at    BIGINT
);
CREATE INDEX incident_followups_incident ON incident_followups (service, incident);
CREATE INDEX incident_followups_issue ON incident_followups (tracker, issue_key);

-- A blameless review: no column names a person.
CREATE TABLE incident_reviews (
    service  TEXT NOT NULL,
    incident TEXT NOT NULL,
    held_at  BIGINT NOT NULL,
    document TEXT NOT NULL DEFAULT '',
    summary  TEXT NOT NULL DEFAULT '',
    factors  TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (service, incident)
);

-- The durable outbox: a row is written in the transaction of the change
-- that causes it and delivered by the outbox job.
CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    route           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    delivered_at    BIGINT,
    gave_up_at      BIGINT,
    history         TEXT NOT NULL DEFAULT '[]',
    created_at      BIGINT NOT NULL
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND gave_up_at IS NULL;
