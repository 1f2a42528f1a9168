-- SLOs, their SLI counts, maintenance windows and burn-rate alerts. Times
-- are integer microseconds, as in 0001; widths are seconds.

-- One row per SLO: the parsed OpenSLO definition as JSON, and the time
-- zone of a calendar window by name (JSON keeps only its offset).
CREATE TABLE slos (
    name        TEXT PRIMARY KEY,
    service     TEXT NOT NULL,
    source      TEXT NOT NULL,
    definition  TEXT NOT NULL,
    zone        TEXT NOT NULL DEFAULT 'UTC',
    updated_at  BIGINT NOT NULL
);
CREATE INDEX slos_service ON slos (service);

-- Good and total calls per SLO and window start: a minute, or a push of a
-- few minutes. A push of the same start replaces its row, so a repeated
-- push is idempotent.
CREATE TABLE sli_buckets (
    slo    TEXT NOT NULL,
    start  BIGINT NOT NULL,
    width  INTEGER NOT NULL,
    good   BIGINT NOT NULL,
    total  BIGINT NOT NULL,
    PRIMARY KEY (slo, start)
);

-- Hourly roll-ups of buckets older than the longest alert window. The
-- left_ columns are calls left out for scheduled maintenance.
CREATE TABLE sli_hours (
    slo         TEXT NOT NULL,
    start       BIGINT NOT NULL,
    good        BIGINT NOT NULL,
    total       BIGINT NOT NULL,
    left_good   BIGINT NOT NULL DEFAULT 0,
    left_total  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (slo, start)
);

-- Maintenance windows, with when the server heard of them: only a window
-- announced at least 7 days ahead is left out of the SLI.
CREATE TABLE maintenance (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service      TEXT NOT NULL,
    from_at      BIGINT NOT NULL,
    to_at        BIGINT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    announced_at BIGINT NOT NULL
);
CREATE INDEX maintenance_service ON maintenance (service, from_at);

-- The evaluation job's state per SLO: the alert episodes firing and the
-- latest report, as JSON.
CREATE TABLE slo_state (
    slo          TEXT PRIMARY KEY,
    state        TEXT NOT NULL,
    report       TEXT NOT NULL,
    evaluated_at BIGINT NOT NULL
);

-- Every alert that fired or resolved, with its reason in words.
CREATE TABLE slo_alerts (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slo       TEXT NOT NULL,
    service   TEXT NOT NULL,
    alert     TEXT NOT NULL,
    severity  TEXT NOT NULL,
    kind      TEXT NOT NULL,
    since     BIGINT NOT NULL,
    at        BIGINT NOT NULL,
    reason    TEXT NOT NULL
);
CREATE INDEX slo_alerts_at ON slo_alerts (at);
