package store

import (
	"context"
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
func (db *DB) Builds(ctx context.Context, from, to time.Time, repositories ...string) ([]delivery.Build, error) {
	q := `SELECT data FROM builds WHERE finished_at >= ? AND finished_at < ?`
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
		var data []byte
		var b delivery.Build
		if err := s.Scan(&data); err != nil {
			return b, err
		}
		return b, json.Unmarshal(data, &b)
	})
	if err != nil {
		return nil, fmt.Errorf("read builds: %w", err)
	}
	return out, nil
}
