-- Reopened incidents: the status the latest report gave (open, resolved;
-- empty when none did) and when that report was made, so a reopening clears
-- the resolution and a still later report resolves it again. Rows from
-- before had a status only through resolved_at.
ALTER TABLE incidents ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN status_at BIGINT;
UPDATE incidents SET status = 'resolved', status_at = updated_at WHERE resolved_at IS NOT NULL;

-- Unknown severities: severity_at is the time of the report the severity came
-- from, NULL when no report gave one (then severity holds the default, 2), so
-- any reported severity replaces the default whatever the order.
ALTER TABLE incidents ADD COLUMN severity_at BIGINT;
UPDATE incidents SET severity_at = updated_at;

-- Monorepos: the files each commit touched, as a JSON array (NULL when the
-- source did not say), and each service's path prefixes, one per line; a
-- service with prefixes ships only the changes that touch one of them.
ALTER TABLE changes ADD COLUMN paths TEXT;
ALTER TABLE services ADD COLUMN paths TEXT NOT NULL DEFAULT '';
