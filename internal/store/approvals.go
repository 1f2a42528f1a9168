package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// Approval is one sign-off vote on a service's commit for a ring, as
// stored: who voted (Voter, the name they gave), what (Vote, "yes" or
// "no", which the write path has checked), why (Note), with which token
// (Token, "" in development mode), and when (VotedAt, the store's clock).
type Approval struct {
	ID      string
	Service string
	SHA     string
	Ring    string
	Voter   string
	Vote    string
	Note    string
	Token   string
	VotedAt time.Time
}

// RecordApproval stores one vote and returns it with its id and time. The
// time is the store's clock, never the caller's, so a vote cannot be
// backdated before a later one.
func (db *DB) RecordApproval(ctx context.Context, a Approval) (Approval, error) {
	for _, f := range []struct{ name, v string }{
		{"service", a.Service}, {"sha", a.SHA}, {"ring", a.Ring}, {"by", a.Voter}, {"vote", a.Vote}} {
		if err := requiredField(f.name, f.v); err != nil {
			return a, err
		}
	}
	a.VotedAt = db.Now().UTC().Truncate(time.Microsecond)
	var id int64
	err := db.write.QueryRowContext(ctx, db.q(`INSERT INTO approvals (service, sha, ring, voter, vote, note, token, voted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		a.Service, a.SHA, a.Ring, a.Voter, a.Vote, a.Note, a.Token, a.VotedAt.UnixMicro()).Scan(&id)
	if err != nil {
		return a, fmt.Errorf("record approval of %s @ %s for %s: %w", a.Service, a.SHA, a.Ring, err)
	}
	a.ID = strconv.FormatInt(id, 10)
	return a, nil
}

// Approvals returns a service's votes, oldest first (arrival order, which
// decides the latest vote when two share a clock tick): those of one
// commit when sha is given, and of one ring when ring is given.
func (db *DB) Approvals(ctx context.Context, service, sha, ring string) ([]Approval, error) {
	query := `SELECT id, service, sha, ring, voter, vote, note, token, voted_at FROM approvals WHERE service = ?`
	args := []any{service}
	if sha != "" {
		query += ` AND sha = ?`
		args = append(args, sha)
	}
	if ring != "" {
		query += ` AND ring = ?`
		args = append(args, ring)
	}
	rows, err := db.read.QueryContext(ctx, db.q(query+` ORDER BY id`), args...)
	if err != nil {
		return nil, fmt.Errorf("read approvals of %s: %w", service, err)
	}
	out, err := collect(rows, func(s interface{ Scan(...any) error }) (Approval, error) {
		var a Approval
		var id, at int64
		err := s.Scan(&id, &a.Service, &a.SHA, &a.Ring, &a.Voter, &a.Vote, &a.Note, &a.Token, &at)
		a.ID = strconv.FormatInt(id, 10)
		a.VotedAt = fromMicros(sql.NullInt64{Int64: at, Valid: true})
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("read approvals of %s: %w", service, err)
	}
	return out, nil
}
