-- A digest of each event's canonical content beside its idempotency key,
-- so a key sent again with different content is refused (409) instead of
-- being counted a duplicate and dropped. Events stored before have no
-- digest and match any content.
ALTER TABLE events ADD COLUMN digest TEXT;

-- The row /readyz writes to prove a write can succeed.
CREATE TABLE readiness (
    id         INTEGER PRIMARY KEY,
    checked_at BIGINT NOT NULL
);
