package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
)

// CommitPullRequests returns the stored pull requests that hold a commit:
// merged as it (merge_sha) or carrying it among their own commits, in the
// repositories the service deploys from (in every repository when none is
// known for it). A fix label on any of them marks the commit a fix.
func (db *DB) CommitPullRequests(ctx context.Context, service, sha string) ([]delivery.PullRequest, error) {
	if strings.TrimSpace(sha) == "" {
		return nil, nil
	}
	// The commits live in the JSON; LIKE narrows the rows, the decoded
	// list decides, so a sha that only appears in a title does not count.
	like := `%"` + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(sha) + `"%`
	q := `SELECT data FROM pull_requests WHERE (merge_sha = ? OR data LIKE ? ESCAPE '\')
		AND (repository IN (SELECT repository FROM service_repositories WHERE service = ?)
			OR NOT EXISTS (SELECT 1 FROM service_repositories WHERE service = ?))
		ORDER BY repository, number`
	rows, err := db.read.QueryContext(ctx, db.q(q), sha, like, service, service)
	if err != nil {
		return nil, fmt.Errorf("read pull requests of %s @ %s: %w", service, sha, err)
	}
	prs, err := collect(rows, func(s interface{ Scan(...any) error }) (delivery.PullRequest, error) {
		var data string
		var pr delivery.PullRequest
		if err := s.Scan(&data); err != nil {
			return pr, err
		}
		return pr, json.Unmarshal([]byte(data), &pr)
	})
	if err != nil {
		return nil, fmt.Errorf("read pull requests of %s @ %s: %w", service, sha, err)
	}
	out := prs[:0]
	for _, pr := range prs {
		if pr.MergeSHA == sha || slices.Contains(pr.Commits, sha) {
			out = append(out, pr)
		}
	}
	return out, nil
}
