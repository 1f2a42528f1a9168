-- What a shipment refresh needs to continue from where the last one
-- stopped instead of reading the whole commit graph again: a new
-- deployment's changes are the commits reachable from it up to commits
-- already covered, so the refresh walks only the new commits.
--
-- recompute says the next refresh must start over from the whole history:
-- an input it already used changed (a known commit's parents, time or
-- paths, a counted deployment, the service's configuration), a commit it
-- missed arrived, or a deployment finished before the last one it counted.
-- Ingest sets it in the statement that marks the service stale.
-- last_finished and last_id are the last counted deployment (by finish
-- time, then id): later ones are what the next refresh continues with.
ALTER TABLE shipping_state ADD COLUMN recompute INTEGER NOT NULL DEFAULT 1;
ALTER TABLE shipping_state ADD COLUMN last_finished BIGINT;
ALTER TABLE shipping_state ADD COLUMN last_id TEXT NOT NULL DEFAULT '';

-- The commits a service's walk covered without shipping them: the history
-- behind its base or its first deployment, and, for a path-scoped service,
-- the commits that touch none of its paths. With its shipments they are
-- where a later walk stops.
CREATE TABLE shipping_covered (
    service    TEXT NOT NULL,
    repository TEXT NOT NULL,
    sha        TEXT NOT NULL,
    PRIMARY KEY (service, repository, sha)
);

-- The commits a service's walk needed and Stride was not told of (a
-- deployed commit, or a parent): when one arrives, the service is
-- recomputed. Looked up by sha alone, since a deployment that names no
-- repository may find its commit in any configured one.
CREATE TABLE shipping_missing (
    service    TEXT NOT NULL,
    repository TEXT NOT NULL,
    sha        TEXT NOT NULL,
    PRIMARY KEY (service, repository, sha)
);
CREATE INDEX shipping_missing_sha ON shipping_missing (sha);

-- Every service is recomputed once, which fills the new tables in.
UPDATE shipping_state SET dirty = dirty + 1, recompute = 1;
