-- Stride's first schema. Times are integer microseconds since the Unix epoch
-- (UTC), NULL when unknown, so both dialects compare and index them alike.
CREATE TABLE services (
    name         TEXT PRIMARY KEY,
    team         TEXT NOT NULL DEFAULT '',
    repositories TEXT NOT NULL DEFAULT '',
    base         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX services_team ON services (team);

-- One row per accepted event: the idempotency record.
CREATE TABLE events (
    key         TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE TABLE changes (
    repository  TEXT NOT NULL,
    sha         TEXT NOT NULL,
    parents     TEXT NOT NULL DEFAULT '',
    author      TEXT NOT NULL DEFAULT '',
    author_time BIGINT,
    commit_time BIGINT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    incident    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (repository, sha)
);

CREATE TABLE deployments (
    service     TEXT NOT NULL,
    environment TEXT NOT NULL,
    id          TEXT NOT NULL,
    status      TEXT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    sha         TEXT NOT NULL DEFAULT '',
    repository  TEXT NOT NULL DEFAULT '',
    ring        TEXT NOT NULL DEFAULT '',
    hotfix      INTEGER NOT NULL DEFAULT 0,
    rollback    INTEGER NOT NULL DEFAULT 0,
    updated_at  BIGINT,
    PRIMARY KEY (service, environment, id)
);
CREATE INDEX deployments_finished ON deployments (service, environment, finished_at);
CREATE INDEX deployments_repository ON deployments (repository);

CREATE TABLE incidents (
    service          TEXT NOT NULL,
    id               TEXT NOT NULL,
    title            TEXT NOT NULL DEFAULT '',
    severity         INTEGER NOT NULL,
    opened_at        BIGINT NOT NULL,
    acknowledged_at  BIGINT,
    resolved_at      BIGINT,
    cause_deployment TEXT NOT NULL DEFAULT '',
    updated_at       BIGINT,
    PRIMARY KEY (service, id)
);
CREATE INDEX incidents_opened ON incidents (service, opened_at);
CREATE INDEX incidents_resolved ON incidents (service, resolved_at);

-- Entities read whole: kept as JSON beside the columns queries filter on.
CREATE TABLE pull_requests (
    repository TEXT NOT NULL,
    number     INTEGER NOT NULL,
    merged_at  BIGINT,
    merge_sha  TEXT NOT NULL DEFAULT '',
    data       TEXT NOT NULL,
    PRIMARY KEY (repository, number)
);
CREATE INDEX pull_requests_merged ON pull_requests (merged_at);

CREATE TABLE work_items (
    tracker     TEXT NOT NULL,
    key         TEXT NOT NULL,
    team        TEXT NOT NULL DEFAULT '',
    resolved_at BIGINT,
    data        TEXT NOT NULL,
    PRIMARY KEY (tracker, key)
);
CREATE INDEX work_items_resolved ON work_items (resolved_at);

CREATE TABLE builds (
    repository  TEXT NOT NULL,
    id          TEXT NOT NULL,
    sha         TEXT NOT NULL DEFAULT '',
    finished_at BIGINT,
    data        TEXT NOT NULL,
    PRIMARY KEY (repository, id)
);

-- The changes each deployment shipped, derived from changes and deployments
-- by delivery.ShipChanges; rebuilt per service when its inputs change.
CREATE TABLE shipments (
    service       TEXT NOT NULL,
    environment   TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    repository    TEXT NOT NULL,
    sha           TEXT NOT NULL,
    commit_time   BIGINT NOT NULL,
    finished_at   BIGINT NOT NULL,
    incident      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (service, repository, sha)
);
CREATE INDEX shipments_finished ON shipments (service, finished_at);
CREATE INDEX shipments_deployment ON shipments (service, environment, deployment_id);
CREATE INDEX shipments_incident ON shipments (service, finished_at) WHERE incident <> '';

-- One row per deployment: the commit times of the changes it shipped (not
-- linked to an incident), packed as 8-byte little-endian microseconds, so a
-- report over 200,000 changes reads 10,000 rows. Rebuilt with shipments.
CREATE TABLE deployment_changes (
    service       TEXT NOT NULL,
    environment   TEXT NOT NULL,
    deployment_id TEXT NOT NULL,
    finished_at   BIGINT NOT NULL,
    commit_times  BLOB NOT NULL,
    PRIMARY KEY (service, environment, deployment_id)
);
CREATE INDEX deployment_changes_finished ON deployment_changes (service, finished_at);

-- Services whose shipments are stale.
CREATE TABLE shipping_state (
    service     TEXT PRIMARY KEY,
    dirty       INTEGER NOT NULL DEFAULT 1,
    computed_at BIGINT,
    missing     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    scope      TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- Webhook deliveries as received, so a mapping change can be replayed.
CREATE TABLE raw_deliveries (
    source      TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    event_type  TEXT NOT NULL DEFAULT '',
    headers     TEXT NOT NULL DEFAULT '',
    body        BLOB NOT NULL,
    outcome     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (source, delivery_id)
);
