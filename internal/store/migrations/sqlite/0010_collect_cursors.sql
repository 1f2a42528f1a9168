-- Where each API collector stopped, per (source, scope, resource): the
-- newest updated_at it committed, or the newest id, and the ETag of the last
-- answer, so the next run asks only for what changed and a run killed
-- midway resumes after the last page whose events were committed.
CREATE TABLE collect_cursors (
    source     TEXT NOT NULL,
    scope      TEXT NOT NULL,
    resource   TEXT NOT NULL,
    since      BIGINT,
    last_id    TEXT NOT NULL DEFAULT '',
    etag       TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (source, scope, resource)
);
