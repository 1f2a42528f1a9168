-- The weekly team digests sent: one row per team and week (the ISO week,
-- in the team's time zone, of the digest's scheduled time), written in the
-- transaction that puts the digest's notifications in the outbox, so that
-- a restart or a second replica finds the week done and does not send it
-- again, and a digest is never marked sent without its outbox rows.
CREATE TABLE team_digests (
    team         TEXT NOT NULL,
    week         TEXT NOT NULL,
    scheduled_at BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    digest       TEXT NOT NULL,
    PRIMARY KEY (team, week)
);
