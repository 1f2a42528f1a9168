-- Sign-off votes on a commit's promotion to a ring (stride approve, POST
-- /api/v1/approvals). Every vote is kept, so the history shows who said
-- what and when; the latest vote of a commit and ring decides, by arrival
-- order (id), so a "no" blocks until a later "yes". Times are integer
-- microseconds, as in 0001.
CREATE TABLE approvals (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service    TEXT NOT NULL,
    sha        TEXT NOT NULL,
    ring       TEXT NOT NULL,
    voter      TEXT NOT NULL,
    vote       TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    token      TEXT NOT NULL DEFAULT '',
    voted_at   BIGINT NOT NULL
);
CREATE INDEX approvals_commit ON approvals (service, sha, ring);
