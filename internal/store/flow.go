package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/flow"
)

// FlowLookback is how long before a period a pull request may have merged
// and still be deployed inside it (deploy time and cycle time count pull
// requests by their deployment).
const FlowLookback = 90 * 24 * time.Hour

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

// FlowInput gathers the pull requests of the scope's repositories that
// merged between FlowLookback before the period and its end, with the first
// production deployment that shipped each one's merge sha or commits.
func (db *DB) FlowInput(ctx context.Context, scope Scope, period delivery.Period) (flow.Input, error) {
	in := flow.Input{Period: period, Deployed: map[flow.CommitKey]flow.Deployed{}}
	services, err := db.ScopeServices(ctx, scope)
	if err != nil {
		return in, err
	}
	if _, err := db.RefreshShipments(ctx, services...); err != nil {
		return in, err
	}
	q := `SELECT data FROM pull_requests WHERE merged_at >= ? AND merged_at < ?`
	args := []any{period.From.Add(-FlowLookback).UnixMicro(), period.To.UnixMicro()}
	if scope.Service != "" || scope.Team != "" {
		repos, err := db.ScopeRepositories(ctx, services)
		if err != nil {
			return in, err
		}
		if len(repos) == 0 {
			return in, nil
		}
		list, rargs := inList(repos)
		q += ` AND repository IN ` + list
		args = append(args, rargs...)
	}
	rows, err := db.read.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return in, fmt.Errorf("read pull requests: %w", err)
	}
	in.PullRequests, err = collect(rows, func(s interface{ Scan(...any) error }) (delivery.PullRequest, error) {
		var data string
		var pr delivery.PullRequest
		if err := s.Scan(&data); err != nil {
			return pr, err
		}
		return pr, json.Unmarshal([]byte(data), &pr)
	})
	if err != nil {
		return in, fmt.Errorf("read pull requests: %w", err)
	}
	for _, pr := range in.PullRequests {
		shas := append([]string{pr.MergeSHA}, pr.Commits...)
		for _, sha := range shas {
			if sha == "" {
				continue
			}
			if err := db.firstShipment(ctx, pr.Repository, sha, in.Deployed); err != nil {
				return in, err
			}
		}
	}
	return in, nil
}

// firstShipment records in deployed the earliest production deployment that
// shipped repository@sha, if any did.
func (db *DB) firstShipment(ctx context.Context, repository, sha string, deployed map[flow.CommitKey]flow.Deployed) error {
	key := flow.CommitKey{Repository: repository, SHA: sha}
	if _, ok := deployed[key]; ok {
		return nil
	}
	var d flow.Deployed
	var finished int64
	err := db.read.QueryRowContext(ctx, db.q(`SELECT service, environment, deployment_id, finished_at FROM shipments
		WHERE repository = ? AND sha = ? ORDER BY finished_at LIMIT 1`), repository, sha).
		Scan(&d.Deployment.Service, &d.Deployment.Environment, &d.Deployment.ID, &finished)
	if err == sql.ErrNoRows {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find deployment of %s@%s: %w", repository, sha, err)
	}
	d.FinishedAt = time.UnixMicro(finished).UTC()
	deployed[key] = d
	return nil
}

// PlanningInput gathers a team's work items (every team's when team is
// empty) resolved before the period's end or still open; velocity reaches
// back over earlier sprints.
func (db *DB) PlanningInput(ctx context.Context, team string, period delivery.Period, sprints int) (flow.PlanningInput, error) {
	in := flow.PlanningInput{Period: period, Sprints: sprints}
	q := `SELECT data FROM work_items WHERE (resolved_at IS NULL OR resolved_at < ?)`
	args := []any{period.To.UnixMicro()}
	if team != "" {
		q += ` AND team = ?`
		args = append(args, team)
	}
	rows, err := db.read.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return in, fmt.Errorf("read work items: %w", err)
	}
	in.Items, err = collect(rows, func(s interface{ Scan(...any) error }) (delivery.WorkItem, error) {
		var data string
		var w delivery.WorkItem
		if err := s.Scan(&data); err != nil {
			return w, err
		}
		return w, json.Unmarshal([]byte(data), &w)
	})
	if err != nil {
		return in, fmt.Errorf("read work items: %w", err)
	}
	return in, nil
}
