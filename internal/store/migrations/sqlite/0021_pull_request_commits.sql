-- Which pull requests hold a commit: merged as it (merge_sha) or carrying
-- it among their own commits, as rows of their own, so that the fix-label
-- lookup of a gate or a promotion (store.CommitPullRequests) reads a few
-- rows by key instead of searching the JSON of every pull request. Rows
-- are added as pull requests are written and never removed: a row left by
-- a pull request since changed costs one extra read, and the reader checks
-- the pull request itself.
CREATE TABLE pull_request_commits (
    sha        TEXT NOT NULL,
    repository TEXT NOT NULL,
    number     INTEGER NOT NULL,
    PRIMARY KEY (sha, repository, number)
);
INSERT INTO pull_request_commits (sha, repository, number)
    SELECT merge_sha, repository, number FROM pull_requests WHERE merge_sha <> '';
INSERT INTO pull_request_commits (sha, repository, number)
    SELECT DISTINCT j.value, p.repository, p.number
    FROM pull_requests p, json_each(p.data, '$.Commits') j
    WHERE json_type(p.data, '$.Commits') = 'array' AND j.value <> ''
    ON CONFLICT (sha, repository, number) DO NOTHING;
