-- A change counter for SLI counts, so the evaluation job can keep every
-- SLO's counts in memory and read, each minute, only the rows written since
-- its last run (late and repeated pushes and roll-ups included) instead of
-- 30 days of rows per SLO.
--
-- Every transaction that writes sli_buckets or sli_hours takes the next
-- value of sli_version.n and stamps its rows with it. Taking it updates the
-- one row, which locks it until commit, so versions are handed out in
-- commit order: a reader that has seen version v has seen every row of
-- every version up to v, on PostgreSQL as on SQLite.
CREATE TABLE sli_version (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   BIGINT NOT NULL
);
INSERT INTO sli_version (id, n) VALUES (1, 1);

-- Rows stored before this migration are version 1, what a full load reads.
ALTER TABLE sli_buckets ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE sli_hours ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
CREATE INDEX sli_buckets_version ON sli_buckets (version);
CREATE INDEX sli_hours_version ON sli_hours (version);
