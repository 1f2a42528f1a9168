package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
)

// Reported is what the sources of some services ever reported, over all
// time: whether a figure without records in a period is a zero or a gap.
type Reported struct {
	// Deployments: some production deployment was reported.
	Deployments bool
	// Failures: some incident, or some failed or rolled-back production
	// deployment, was reported.
	Failures bool
}

// ReportedFacts says what the sources of services ever reported. It asks
// its three questions in one statement, each reading at most one row
// through the tables' primary keys.
func (db *DB) ReportedFacts(ctx context.Context, services []string) (Reported, error) {
	var r Reported
	if len(services) == 0 {
		return r, nil
	}
	list, svcArgs := inList(services)
	args := append(append([]any{}, svcArgs...), delivery.EnvironmentProduction)
	args = append(args, svcArgs...)
	args = append(append(args, svcArgs...), delivery.EnvironmentProduction, string(delivery.DeploymentFailure), string(delivery.DeploymentRolledBack))
	var deployments, incidents, failed int
	err := db.read.QueryRowContext(ctx, db.q(`SELECT
		CASE WHEN EXISTS (SELECT 1 FROM deployments WHERE service IN `+list+` AND environment = ?) THEN 1 ELSE 0 END,
		CASE WHEN EXISTS (SELECT 1 FROM incidents WHERE service IN `+list+`) THEN 1 ELSE 0 END,
		CASE WHEN EXISTS (SELECT 1 FROM deployments WHERE service IN `+list+` AND environment = ? AND status IN (?, ?)) THEN 1 ELSE 0 END`),
		args...).Scan(&deployments, &incidents, &failed)
	if err != nil {
		return r, fmt.Errorf("read what was reported: %w", err)
	}
	r.Deployments, r.Failures = deployments == 1, incidents == 1 || failed == 1
	return r, nil
}

// MissingCommit is a successful production deployment whose commit the
// last shipment refresh did not find among the changes of its repository:
// it ships nothing, and its lead time is unknown.
type MissingCommit struct {
	Deployment delivery.DeploymentKey
	Repository string
	SHA        string
	// Configured are the service's repositories when the deployment named
	// none of them (it was sent without a repository) and none of them
	// holds the commit either.
	Configured []string
}

// MissingCommits returns the deployments of services whose commit is
// unknown, as the last refresh of each service found them, ordered by
// service and deployment.
func (db *DB) MissingCommits(ctx context.Context, services []string) ([]MissingCommit, error) {
	if len(services) == 0 {
		return nil, nil
	}
	list, args := inList(services)
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT service, environment, deployment_id, repository, sha, configured
		FROM missing_commits WHERE service IN `+list+` ORDER BY service, environment, deployment_id`), args...)
	if err != nil {
		return nil, fmt.Errorf("read deployments of unknown commits: %w", err)
	}
	out, err := collect(rows, func(s interface{ Scan(...any) error }) (MissingCommit, error) {
		var m MissingCommit
		var configured string
		err := s.Scan(&m.Deployment.Service, &m.Deployment.Environment, &m.Deployment.ID, &m.Repository, &m.SHA, &configured)
		m.Configured = strings.Fields(configured)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("read deployments of unknown commits: %w", err)
	}
	return out, nil
}

// writeMissingCommits adds deployments of unknown commits to their
// services' lists, inside the refresh's transaction.
func (db *DB) writeMissingCommits(ctx context.Context, tx *sql.Tx, missing []MissingCommit) error {
	const cols, batch = 6, 500
	for start := 0; start < len(missing); start += batch {
		part := missing[start:min(start+batch, len(missing))]
		args := make([]any, 0, len(part)*cols)
		for _, m := range part {
			args = append(args, m.Deployment.Service, m.Deployment.Environment, m.Deployment.ID, m.Repository, m.SHA, strings.Join(m.Configured, " "))
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO missing_commits (service, environment, deployment_id, repository, sha, configured) VALUES `+
			placeholders(len(part), cols)), args...); err != nil {
			return fmt.Errorf("write unknown commits: %w", err)
		}
	}
	return nil
}

// homeDeployments finds each deployment's repository and lists the
// deployments whose commit no repository holds. A deployment sent without a
// repository names its service's (the domain's default); when the service
// is configured with repositories and that default is not one of them, the
// deployment belongs to the configured repository holding its commit. One
// whose commit none holds is returned with the repositories tried.
func homeDeployments(deployments []delivery.Deployment, service string, configured []string, holds func(repo, sha string) (bool, error)) ([]MissingCommit, error) {
	var unknown []MissingCommit
	for i := range deployments {
		d := &deployments[i]
		if d.Repository != service || len(configured) == 0 || slices.Contains(configured, d.Repository) {
			continue
		}
		found := false
		for _, repo := range configured {
			ok, err := holds(repo, d.SHA)
			if err != nil {
				return nil, err
			}
			if ok {
				d.Repository, found = repo, true
				break
			}
		}
		if !found {
			unknown = append(unknown, MissingCommit{Deployment: d.Key(), Repository: d.Repository, SHA: d.SHA, Configured: configured})
		}
	}
	return unknown, nil
}
