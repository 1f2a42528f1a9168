-- Deployment impact and Apdex. Times are integer microseconds, as in 0001;
-- widths are seconds.

-- Minute series a service's Prometheus queries return, pulled by the
-- impact job: metric is calls, errors (counts of the minute) or latency
-- (seconds). A minute pulled again replaces its row.
CREATE TABLE impact_minutes (
    service  TEXT NOT NULL,
    metric   TEXT NOT NULL,
    start    BIGINT NOT NULL,
    value    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (service, metric, start)
);

-- Apdex counts per service and minute as pushed: calls answered within T
-- (satisfied), within 4T (tolerating) and all calls. threshold_ms is the T
-- the counts were taken against. A push of the same start replaces it.
CREATE TABLE apdex_buckets (
    service      TEXT NOT NULL,
    start        BIGINT NOT NULL,
    width        INTEGER NOT NULL,
    threshold_ms BIGINT NOT NULL,
    satisfied    BIGINT NOT NULL,
    tolerating   BIGINT NOT NULL,
    total        BIGINT NOT NULL,
    PRIMARY KEY (service, start)
);

-- The impact job's assessment of each production deployment: the error
-- rate and latency before and after it, as JSON, and whether it passed the
-- thresholds. Requests read it; only the job writes it.
CREATE TABLE deployment_impact (
    service      TEXT NOT NULL,
    environment  TEXT NOT NULL,
    deployment   TEXT NOT NULL,
    finished_at  BIGINT NOT NULL,
    flagged      INTEGER NOT NULL,
    result       TEXT NOT NULL,
    computed_at  BIGINT NOT NULL,
    PRIMARY KEY (service, environment, deployment)
);
CREATE INDEX deployment_impact_finished ON deployment_impact (service, finished_at);
