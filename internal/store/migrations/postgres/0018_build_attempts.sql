-- A build's re-run attempt (delivery.Build.Attempt: 1 for the first, 0
-- when its source did not say) and the other fields the CI health report
-- reads, beside the JSON, so a report over 100,000 builds scans columns
-- instead of decoding documents. Rows written before this migration have
-- a NULL status and are read from their JSON (store.Builds), which holds
-- the same; every write from now on fills the columns.
ALTER TABLE builds ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE builds ADD COLUMN name TEXT;
ALTER TABLE builds ADD COLUMN branch TEXT;
ALTER TABLE builds ADD COLUMN status TEXT;
ALTER TABLE builds ADD COLUMN started_at BIGINT;
ALTER TABLE builds ADD COLUMN updated_at BIGINT;
ALTER TABLE builds ADD COLUMN default_branch TEXT;
-- The report reads a repository's builds by the time they finished.
CREATE INDEX builds_by_finish ON builds (repository, finished_at);
