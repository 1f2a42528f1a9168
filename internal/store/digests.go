package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// SentDigest is a weekly team digest that was put in the outbox.
type SentDigest struct {
	Team string
	// Week is the ISO week ("2026-W49") of the digest's scheduled time in
	// the team's time zone: the digest's key with Team.
	Week        string
	ScheduledAt time.Time
	CreatedAt   time.Time
	// Digest is the digest as sent, as JSON.
	Digest json.RawMessage
}

// DigestSent reports whether the digest of team for week is recorded, so
// the digest job can skip building one that was sent.
func (db *DB) DigestSent(ctx context.Context, team, week string) (bool, error) {
	var n int
	err := db.read.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM team_digests WHERE team = ? AND week = ?`), team, week).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("digest of %s for %s: %w", team, week, err)
	}
	return n > 0, nil
}

// RecordDigest records the digest d and writes its outbox rows in one
// transaction, unless the digest of d.Team for d.Week is recorded already
// (by an earlier run, or by another replica racing this one): then nothing
// is written and it returns false. A digest is thus enqueued at most once
// per team and week, and never recorded without its notifications.
func (db *DB) RecordDigest(ctx context.Context, d SentDigest, rows []delivery.Notification) (bool, error) {
	if d.Team == "" || d.Week == "" {
		return false, delivery.Errorf(delivery.EINVALID, "a digest needs a team and a week")
	}
	body := string(d.Digest)
	if body == "" {
		body = "{}"
	}
	inserted := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`INSERT INTO team_digests (team, week, scheduled_at, created_at, digest)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (team, week) DO NOTHING`), d.Team, d.Week, d.ScheduledAt.UnixMicro(), db.Now().UnixMicro(), body)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		inserted = true
		_, err = db.enqueue(ctx, tx, rows)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record digest of %s for %s: %w", d.Team, d.Week, err)
	}
	return inserted, nil
}

// Digests lists the recorded digests of team, newest week first, at most
// limit.
func (db *DB) Digests(ctx context.Context, team string, limit int) ([]SentDigest, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT team, week, scheduled_at, created_at, digest FROM team_digests
		WHERE team = ? ORDER BY scheduled_at DESC LIMIT ?`), team, limit)
	if err != nil {
		return nil, fmt.Errorf("list digests of %s: %w", team, err)
	}
	out, err := collect(rows, func(s interface{ Scan(...any) error }) (SentDigest, error) {
		var d SentDigest
		var scheduled, created int64
		var body string
		if err := s.Scan(&d.Team, &d.Week, &scheduled, &created, &body); err != nil {
			return d, err
		}
		d.ScheduledAt, d.CreatedAt, d.Digest = time.UnixMicro(scheduled).UTC(), time.UnixMicro(created).UTC(), json.RawMessage(body)
		return d, nil
	})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("list digests of %s: %w", team, err)
	}
	return out, nil
}
