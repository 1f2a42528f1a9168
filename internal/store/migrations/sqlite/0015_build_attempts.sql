-- A build's re-run attempt (delivery.Build.Attempt: 1 for the first, 0
-- when its source did not say) beside its JSON, so the re-runs of a
-- repository can be counted in SQL; rows written before it read 0, as
-- their JSON does. The CI health report reads a repository's builds by
-- the time they finished, which the index serves.
ALTER TABLE builds ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
CREATE INDEX builds_by_finish ON builds (repository, finished_at);
