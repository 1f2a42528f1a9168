-- The report reads every terminal production deployment of a period: with
-- the columns it reads in the index, SQLite answers from the index alone
-- instead of looking up each of 10,000 rows in the table.
CREATE INDEX deployments_report ON deployments (service, environment, finished_at, status, id, hotfix, rollback);
