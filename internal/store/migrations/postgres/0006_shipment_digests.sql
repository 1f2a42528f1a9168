-- A digest of each deployment's shipped changes, so a refresh compares
-- 10,000 digests instead of reading back 200,000 shipments. Every deployment
-- that shipped anything now has a summary row (its commit_times may be
-- empty when all its changes are linked to incidents). Shipments and
-- summaries are derived data: they are cleared here and rebuilt by the next
-- refresh of every service.
ALTER TABLE deployment_changes ADD COLUMN digest TEXT NOT NULL DEFAULT '';
DELETE FROM deployment_changes;
DELETE FROM shipments;
UPDATE shipping_state SET dirty = dirty + 1;
INSERT INTO shipping_state (service, dirty)
    SELECT DISTINCT service, 1 FROM deployments
    WHERE service NOT IN (SELECT service FROM shipping_state);
