-- Quality gates and ring-by-ring promotion. Times are integer microseconds,
-- as in 0001. The id is the arrival order, which decides the latest result
-- of a gate when two arrive within one clock tick.

-- One row per gate result a CI job posted (POST /api/v1/gates). name tells
-- apart the gates of one commit (unit tests, load test): it is derived from
-- the criteria the run judged, so a re-run of the same gate supersedes the
-- earlier result and a different gate does not.
CREATE TABLE gate_results (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service     TEXT NOT NULL,
    sha         TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL,
    verdict     TEXT NOT NULL,
    fix         INTEGER NOT NULL DEFAULT 0,
    criteria    TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX gate_results_commit ON gate_results (service, sha);

-- One row per promotion decision that was not a dry run, allowed or
-- refused, so the history shows who asked for what and why it was refused.
CREATE TABLE promotions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service      TEXT NOT NULL,
    sha          TEXT NOT NULL,
    from_ring    TEXT NOT NULL DEFAULT '',
    to_ring      TEXT NOT NULL,
    allowed      INTEGER NOT NULL,
    fix          INTEGER NOT NULL DEFAULT 0,
    conditions   TEXT NOT NULL,
    requested_by TEXT NOT NULL DEFAULT '',
    decided_at   BIGINT NOT NULL
);
CREATE INDEX promotions_commit ON promotions (service, sha);

-- A promotion reads every deployment of one commit.
CREATE INDEX deployments_commit ON deployments (service, sha);
