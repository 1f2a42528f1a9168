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
	// The service's repositories first, so the search below reads only
	// their rows (by the primary key's leading column).
	repos, err := db.serviceRepositories(ctx, service)
	if err != nil {
		return nil, err
	}
	// The commits live in the JSON; LIKE narrows the rows, the decoded
	// list decides, so a sha that only appears in a title does not count.
	like := `%"` + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(sha) + `"%`
	q := `SELECT data FROM pull_requests WHERE (merge_sha = ? OR data LIKE ? ESCAPE '\')`
	args := []any{sha, like}
	if len(repos) > 0 {
		list, rargs := inList(repos)
		q += ` AND repository IN ` + list
		args = append(args, rargs...)
	}
	rows, err := db.read.QueryContext(ctx, db.q(q+` ORDER BY repository, number`), args...)
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

// serviceRepositories lists the repositories a service is known to deploy
// from.
func (db *DB) serviceRepositories(ctx context.Context, service string) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT repository FROM service_repositories WHERE service = ? ORDER BY repository`), service)
	if err != nil {
		return nil, fmt.Errorf("read repositories of %s: %w", service, err)
	}
	repos, err := collect(rows, func(s interface{ Scan(...any) error }) (string, error) {
		var r string
		return r, s.Scan(&r)
	})
	if err != nil {
		return nil, fmt.Errorf("read repositories of %s: %w", service, err)
	}
	return repos, nil
}
