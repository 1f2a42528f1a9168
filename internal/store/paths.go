package store

import (
	"context"
	"fmt"
	"strings"
)

// pathsChunk bounds the SHAs one query asks for, well within every
// dialect's limit on bound parameters.
const pathsChunk = 500

// ChangesWithPaths reads which of the commits shas of repository are stored
// with the files they touched known (Paths not nil), so a collector asks
// the API for the files of the others only.
func (db *DB) ChangesWithPaths(ctx context.Context, repository string, shas []string) (map[string]bool, error) {
	out := map[string]bool{}
	for len(shas) > 0 {
		chunk := shas[:min(len(shas), pathsChunk)]
		shas = shas[len(chunk):]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, repository)
		for _, s := range chunk {
			args = append(args, s)
		}
		rows, err := db.read.QueryContext(ctx, db.q(`SELECT sha FROM changes WHERE repository = ? AND paths IS NOT NULL AND sha IN (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("read the changes of %s with paths: %w", repository, err)
		}
		found, err := collect(rows, func(s interface{ Scan(...any) error }) (string, error) {
			var sha string
			return sha, s.Scan(&sha)
		})
		if err != nil {
			return nil, fmt.Errorf("read the changes of %s with paths: %w", repository, err)
		}
		for _, s := range found {
			out[s] = true
		}
	}
	return out, nil
}
