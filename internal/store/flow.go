package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// ScopeRepositories returns the repositories of the services in scope: the
// ones configured for them and the ones their deployments name.
func (db *DB) ScopeRepositories(ctx context.Context, services []string) ([]string, error) {
	if len(services) == 0 {
		return nil, nil
	}
	list, args := inList(services)
	seen := map[string]bool{}
	var out []string
	add := func(r string) {
		if r != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT repositories FROM services WHERE name IN `+list), args...)
	if err != nil {
		return nil, fmt.Errorf("read repositories: %w", err)
	}
	repos, err := collect(rows, func(s interface{ Scan(...any) error }) (string, error) {
		var r string
		return r, s.Scan(&r)
	})
	if err != nil {
		return nil, fmt.Errorf("read repositories: %w", err)
	}
	for _, r := range repos {
		for _, f := range strings.Fields(r) {
			add(f)
		}
	}
	rows, err = db.read.QueryContext(ctx, db.q(`SELECT DISTINCT repository FROM deployments WHERE service IN `+list), args...)
	if err != nil {
		return nil, fmt.Errorf("read repositories: %w", err)
	}
	repos, err = collect(rows, func(s interface{ Scan(...any) error }) (string, error) {
		var r string
		return r, s.Scan(&r)
	})
	if err != nil {
		return nil, fmt.Errorf("read repositories: %w", err)
	}
	for _, r := range repos {
		add(r)
	}
	return out, nil
}

// MergedPullRequests returns the pull requests that merged in [from, to) in
// repositories (in every repository when none is given).
func (db *DB) MergedPullRequests(ctx context.Context, from, to time.Time, repositories ...string) ([]delivery.PullRequest, error) {
	q := `SELECT data FROM pull_requests WHERE merged_at >= ? AND merged_at < ?`
	args := []any{from.UnixMicro(), to.UnixMicro()}
	if len(repositories) > 0 {
		list, rargs := inList(repositories)
		q += ` AND repository IN ` + list
		args = append(args, rargs...)
	}
	rows, err := db.read.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("read pull requests: %w", err)
	}
	out, err := collect(rows, func(s interface{ Scan(...any) error }) (delivery.PullRequest, error) {
		var data string
		var pr delivery.PullRequest
		if err := s.Scan(&data); err != nil {
			return pr, err
		}
		return pr, json.Unmarshal([]byte(data), &pr)
	})
	if err != nil {
		return nil, fmt.Errorf("read pull requests: %w", err)
	}
	return out, nil
}

// CommitRef names a commit; shas are unique only within a repository.
type CommitRef struct {
	Repository string
	SHA        string
}

// FirstShipment is the earliest production deployment that shipped a
// commit, and when it finished.
type FirstShipment struct {
	Deployment delivery.DeploymentKey
	FinishedAt time.Time
}

// firstShipmentChunk bounds the (repository, sha) pairs of one query, well
// inside both databases' limits on bound parameters.
const firstShipmentChunk = 500

// FirstShipments returns, for each of commits that was shipped, the
// earliest deployment that shipped it (of two finished at the same instant,
// the first by service and id). Commits never shipped are absent. Shipments
// are keyed by service first, so it asks each service deployed from a
// commit's repository (service_repositories, which holds every pair a
// shipment can have) for up to 500 of the repository's commits at a time,
// through the key: its cost is that of the commits asked, where matching
// (repository, sha) alone scanned every shipment.
func (db *DB) FirstShipments(ctx context.Context, commits []CommitRef) (map[CommitRef]FirstShipment, error) {
	out := map[CommitRef]FirstShipment{}
	byRepo := map[string][]string{}
	seen := map[CommitRef]bool{}
	for _, c := range commits {
		if c.SHA != "" && !seen[c] {
			seen[c] = true
			byRepo[c.Repository] = append(byRepo[c.Repository], c.SHA)
		}
	}
	for _, repo := range slices.Sorted(maps.Keys(byRepo)) {
		services, err := stringsOf(ctx, db.read, db.q(`SELECT service FROM service_repositories WHERE repository = ?`), repo)
		if err != nil {
			return nil, fmt.Errorf("find services of %s: %w", repo, err)
		}
		for _, service := range services {
			for chunk := range slices.Chunk(byRepo[repo], firstShipmentChunk) {
				list, args := inList(chunk)
				rows, err := db.read.QueryContext(ctx, db.q(`SELECT sha, environment, deployment_id, finished_at FROM shipments
					WHERE service = ? AND repository = ? AND sha IN `+list), append([]any{service, repo}, args...)...)
				if err != nil {
					return nil, fmt.Errorf("find deployments of %d commits: %w", len(chunk), err)
				}
				for rows.Next() {
					c := CommitRef{Repository: repo}
					f := FirstShipment{Deployment: delivery.DeploymentKey{Service: service}}
					var finished int64
					if err := rows.Scan(&c.SHA, &f.Deployment.Environment, &f.Deployment.ID, &finished); err != nil {
						rows.Close()
						return nil, fmt.Errorf("find deployments of %d commits: %w", len(chunk), err)
					}
					f.FinishedAt = time.UnixMicro(finished).UTC()
					if cur, ok := out[c]; !ok || earlierShipment(f, cur) {
						out[c] = f
					}
				}
				if err := rows.Close(); err != nil {
					return nil, fmt.Errorf("find deployments of %d commits: %w", len(chunk), err)
				}
			}
		}
	}
	return out, nil
}

func earlierShipment(a, b FirstShipment) bool {
	if c := a.FinishedAt.Compare(b.FinishedAt); c != 0 {
		return c < 0
	}
	if a.Deployment.Service != b.Deployment.Service {
		return a.Deployment.Service < b.Deployment.Service
	}
	return a.Deployment.ID < b.Deployment.ID
}

// WorkItems returns a team's work items (every team's when team is empty)
// resolved before t or still open.
func (db *DB) WorkItems(ctx context.Context, team string, t time.Time) ([]delivery.WorkItem, error) {
	q := `SELECT data FROM work_items WHERE (resolved_at IS NULL OR resolved_at < ?)`
	args := []any{t.UnixMicro()}
	if team != "" {
		q += ` AND team = ?`
		args = append(args, team)
	}
	rows, err := db.read.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("read work items: %w", err)
	}
	out, err := collect(rows, func(s interface{ Scan(...any) error }) (delivery.WorkItem, error) {
		var data string
		var w delivery.WorkItem
		if err := s.Scan(&data); err != nil {
			return w, err
		}
		return w, json.Unmarshal([]byte(data), &w)
	})
	if err != nil {
		return nil, fmt.Errorf("read work items: %w", err)
	}
	return out, nil
}

// OpenWorkItems returns the work items of a service that are not done (nor
// resolved, nor deleted) now, of any of the given types (every type when
// types is empty); types match without regard to case.
func (db *DB) OpenWorkItems(ctx context.Context, service string, types []string) ([]delivery.WorkItem, error) {
	q := `SELECT data FROM work_items WHERE category <> 'done' AND resolved_at IS NULL AND services LIKE ? ESCAPE '\'`
	args := []any{"% " + likeEscape(service) + " %"}
	if len(types) > 0 {
		q += ` AND LOWER(item_type) IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(types)), ", ") + `)`
		for _, t := range types {
			args = append(args, strings.ToLower(t))
		}
	}
	q += ` ORDER BY tracker, key`
	rows, err := db.read.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("read open work items of %s: %w", service, err)
	}
	items, err := collect(rows, func(s interface{ Scan(...any) error }) (delivery.WorkItem, error) {
		var data string
		var w delivery.WorkItem
		if err := s.Scan(&data); err != nil {
			return w, err
		}
		return w, json.Unmarshal([]byte(data), &w)
	})
	if err != nil {
		return nil, fmt.Errorf("read open work items of %s: %w", service, err)
	}
	out := items[:0]
	for _, w := range items {
		if !w.Deleted {
			out = append(out, w)
		}
	}
	return out, nil
}

// likeEscape makes s match itself in a LIKE pattern escaped by '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
