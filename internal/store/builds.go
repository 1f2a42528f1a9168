package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Builds returns the builds of repositories (every repository when none
// is named) that finished in [from, to), whole, in no particular order
// (the CI report orders what it reads itself, so the database need not
// sort 100,000 rows). Builds still running, or whose source never said
// they finished, are left out: no CI figure reads them.
//
// It reads the columns beside each build's JSON; a row written before
// they existed (its status is NULL) is read from its JSON instead.
func (db *DB) Builds(ctx context.Context, from, to time.Time, repositories ...string) ([]delivery.Build, error) {
	q := `SELECT repository, id, name, sha, branch, status, attempt, started_at, finished_at, updated_at, default_branch,
		CASE WHEN status IS NULL THEN data END
		FROM builds WHERE finished_at >= ? AND finished_at < ?`
	args := []any{from.UnixMicro(), to.UnixMicro()}
	if len(repositories) > 0 {
		list, rargs := inList(repositories)
		q += ` AND repository IN ` + list
		args = append(args, rargs...)
	}
	rows, err := db.read.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("read builds: %w", err)
	}
	out, err := collect(rows, func(s interface{ Scan(...any) error }) (delivery.Build, error) {
		var b delivery.Build
		var name, branch, status, defaultBranch, data sql.NullString
		var started, finished, updated sql.NullInt64
		if err := s.Scan(&b.Repository, &b.ID, &name, &b.SHA, &branch, &status, &b.Attempt, &started, &finished, &updated, &defaultBranch, &data); err != nil {
			return b, err
		}
		if data.Valid {
			var old delivery.Build
			return old, json.Unmarshal([]byte(data.String), &old)
		}
		b.Name, b.Branch, b.Status, b.DefaultBranch = name.String, branch.String, delivery.BuildStatus(status.String), defaultBranch.String
		b.StartedAt, b.FinishedAt, b.UpdatedAt = fromMicros(started), fromMicros(finished), fromMicros(updated)
		return b, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read builds: %w", err)
	}
	return out, nil
}
