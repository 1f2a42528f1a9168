package store

import (
	"context"
	"database/sql"
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
	// pull_request_commits names the candidates by key; the decoded pull
	// request decides, since an index row may be left from a merge sha
	// that changed since.
	// CROSS JOIN keeps SQLite's planner from scanning pull_requests and
	// probing the index per row (it takes the left table as the outer
	// loop); PostgreSQL plans it as the inner join it is.
	q := `SELECT p.data FROM pull_request_commits c CROSS JOIN pull_requests p
		WHERE p.repository = c.repository AND p.number = c.number AND c.sha = ?`
	args := []any{sha}
	if len(repos) > 0 {
		list, rargs := inList(repos)
		q += ` AND c.repository IN ` + list
		args = append(args, rargs...)
	}
	rows, err := db.read.QueryContext(ctx, db.q(q+` ORDER BY p.repository, p.number`), args...)
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

// withCommitIndex adds to the pull requests' writer the rows of
// pull_request_commits for each report's merge sha and commits, in the
// same transaction. A report adds rows only (merging never drops a
// commit of a pull request; a changed merge sha leaves a row the reader
// checks away).
func withCommitIndex(t entityTable) entityTable {
	write := t.write
	t.write = func(ctx context.Context, db *DB, tx *sql.Tx, events []delivery.Event, inputs *shipInputs) error {
		if err := write(ctx, db, tx, events, inputs); err != nil {
			return err
		}
		for _, e := range events {
			pr := e.PullRequest
			var args []any
			for _, sha := range append([]string{pr.MergeSHA}, pr.Commits...) {
				if sha != "" {
					args = append(args, sha, pr.Repository, pr.Number)
				}
			}
			if len(args) == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO pull_request_commits (sha, repository, number) VALUES `+
				placeholders(len(args)/3, 3)+` ON CONFLICT (sha, repository, number) DO NOTHING`), args...); err != nil {
				return fmt.Errorf("index commits of pull request %s#%d: %w", pr.Repository, pr.Number, err)
			}
		}
		return nil
	}
	return t
}
