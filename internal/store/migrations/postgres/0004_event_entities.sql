-- The entity each event reported, as kind and natural key, so reprocessing a
-- source can rebuild the entities only that source reported instead of
-- leaving what an old mapping derived beside what the new one derives.
ALTER TABLE events ADD COLUMN entity TEXT NOT NULL DEFAULT '';
CREATE INDEX events_source ON events (source);
CREATE INDEX events_entity ON events (entity);
