-- Which services are deployed from which repository, as data of its own, so
-- that a batch holding commits finds the services whose shipments it may
-- change by reading their few rows instead of every deployment of the
-- repository (which made each delivery slower as history grew). A pair is
-- added when a deployment names its repository or a service's configured
-- repositories are written, and never removed: a pair left by a deployment
-- since deleted only costs a service an extra refresh.
CREATE TABLE service_repositories (
    repository TEXT NOT NULL,
    service    TEXT NOT NULL,
    PRIMARY KEY (repository, service)
);
INSERT INTO service_repositories (repository, service)
    SELECT DISTINCT repository, service FROM deployments WHERE repository <> '';
-- The configured repositories, a space-separated list, one pair each.
WITH RECURSIVE split (service, rest, repository) AS (
    SELECT name, repositories || ' ', '' FROM services
    UNION ALL
    SELECT service, substr(rest, instr(rest, ' ') + 1), substr(rest, 1, instr(rest, ' ') - 1)
    FROM split WHERE rest <> ''
)
INSERT INTO service_repositories (repository, service)
    SELECT DISTINCT repository, service FROM split WHERE repository <> ''
    ON CONFLICT (repository, service) DO NOTHING;
-- Its one reader was the search this table replaces; every deployment
-- written paid for it.
DROP INDEX deployments_repository;
