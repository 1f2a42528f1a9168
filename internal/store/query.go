package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
)

// Scope selects the services a report covers: one service, a team's
// services, or (both empty) every service.
type Scope struct {
	Service string
	Team    string
}

// ScopeServices returns the names of the services in scope. A named service
// or team that has nothing stored is a not-found error, so a typo does not
// read as "no deployments".
func (db *DB) ScopeServices(ctx context.Context, s Scope) ([]string, error) {
	var rows *sql.Rows
	var err error
	switch {
	case s.Service != "":
		var n int
		if err := db.read.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM services WHERE name = ?`), s.Service).Scan(&n); err != nil {
			return nil, fmt.Errorf("find service %s: %w", s.Service, err)
		}
		if n == 0 {
			return nil, notFound("no service named %q has any data", s.Service)
		}
		return []string{s.Service}, nil
	case s.Team != "":
		rows, err = db.read.QueryContext(ctx, db.q(`SELECT name FROM services WHERE team = ? ORDER BY name`), s.Team)
	default:
		rows, err = db.read.QueryContext(ctx, `SELECT name FROM services ORDER BY name`)
	}
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("list services: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	if s.Team != "" && len(out) == 0 {
		return nil, notFound("team %q has no services", s.Team)
	}
	return out, nil
}

// inList returns "(?, ?, ?)" and the arguments for a list of strings.
func inList(vals []string) (string, []any) {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ") + ")", args
}

// DORAInput gathers what a DORA report over scope and period reads, with
// every shipped change named (what Explain lists). It first brings stale
// shipments up to date.
func (db *DB) DORAInput(ctx context.Context, scope Scope, period delivery.Period) (dora.Input, error) {
	return db.doraInput(ctx, scope, period, true)
}

// DORASummaryInput is DORAInput for dora.Compute, which needs of each
// shipped change only its deployment, commit time and incident link: the
// commit times come aggregated per deployment, so a history of 200,000
// changes is read as 10,000 rows, not 200,000. Changes linked to an incident
// are listed in full.
func (db *DB) DORASummaryInput(ctx context.Context, scope Scope, period delivery.Period) (dora.Input, error) {
	return db.doraInput(ctx, scope, period, false)
}

func (db *DB) doraInput(ctx context.Context, scope Scope, period delivery.Period, detail bool) (dora.Input, error) {
	in := dora.Input{Period: period}
	services, err := db.ScopeServices(ctx, scope)
	if err != nil || len(services) == 0 {
		return in, err
	}
	if _, err := db.RefreshShipments(ctx, services...); err != nil {
		return in, err
	}
	list, svcArgs := inList(services)
	from, to := period.From.UnixMicro(), period.To.UnixMicro()

	// Terminal production deployments finished in the period, and the
	// changes each shipped.
	if detail {
		args := append(append([]any{}, svcArgs...), delivery.EnvironmentProduction, from, to)
		rows, err := db.read.QueryContext(ctx, db.q(`SELECT `+deploymentColumns+` FROM deployments
			WHERE service IN `+list+` AND environment = ? AND status IN ('success', 'failure', 'rolled_back')
			AND finished_at >= ? AND finished_at < ?`), args...)
		if err != nil {
			return in, fmt.Errorf("read deployments: %w", err)
		}
		if in.Deployments, err = collect(rows, scanDeployment); err != nil {
			return in, fmt.Errorf("read deployments: %w", err)
		}
		in.Shipments, err = db.shipments(ctx, `service IN `+list+` AND finished_at >= ? AND finished_at < ?`, append(append([]any{}, svcArgs...), from, to))
		if err != nil {
			return in, err
		}
	} else {
		for _, s := range services {
			if err := db.deploymentSummaries(ctx, s, from, to, &in); err != nil {
				return in, err
			}
		}
		linked, err := db.shipments(ctx, `service IN `+list+` AND finished_at >= ? AND finished_at < ? AND incident <> ''`, append(append([]any{}, svcArgs...), from, to))
		if err != nil {
			return in, err
		}
		in.Shipments = append(in.Shipments, linked...)
	}
	// The first success after the period, per service: the fix that ends a
	// failure near the period's end.
	for _, s := range services {
		d, err := scanDeployment(db.read.QueryRowContext(ctx, db.q(`SELECT `+deploymentColumns+` FROM deployments
			WHERE service = ? AND environment = ? AND status = ? AND finished_at >= ? ORDER BY finished_at LIMIT 1`),
			s, delivery.EnvironmentProduction, string(delivery.DeploymentSuccess), to))
		switch {
		case err == nil:
			in.Deployments = append(in.Deployments, d)
		case !errors.Is(err, sql.ErrNoRows):
			return in, fmt.Errorf("read next deployment of %s: %w", s, err)
		}
	}

	// Incidents that opened or were resolved from the period's start on:
	// one opened after the period may still be caused by a deployment in it.
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT `+incidentColumns+` FROM incidents
		WHERE service IN `+list+` AND (opened_at >= ? OR resolved_at >= ?)`), append(append([]any{}, svcArgs...), from, from)...)
	if err != nil {
		return in, fmt.Errorf("read incidents: %w", err)
	}
	incidents, err := collect(rows, scanIncident)
	if err != nil {
		return in, fmt.Errorf("read incidents: %w", err)
	}
	for _, inc := range incidents {
		link, err := db.linkIncident(ctx, inc)
		if err != nil {
			return in, err
		}
		in.Incidents = append(in.Incidents, link)
	}
	return in, nil
}

// linkIncident finds the deployment that caused an incident: the one named
// by the source, or else the latest successful production deployment of the
// service that finished before the incident opened.
func (db *DB) linkIncident(ctx context.Context, inc delivery.Incident) (dora.IncidentLink, error) {
	link := dora.IncidentLink{Incident: inc}
	if inc.CauseDeployment != "" {
		link.Deployment = &delivery.DeploymentKey{Service: inc.Service, Environment: delivery.EnvironmentProduction, ID: inc.CauseDeployment}
		return link, nil
	}
	var id string
	err := db.read.QueryRowContext(ctx, db.q(`SELECT id FROM deployments WHERE service = ? AND environment = ? AND status = ? AND finished_at < ?
		ORDER BY finished_at DESC, id DESC LIMIT 1`), inc.Service, delivery.EnvironmentProduction, string(delivery.DeploymentSuccess), inc.OpenedAt.UnixMicro()).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return link, nil
	case err != nil:
		return link, fmt.Errorf("link incident %s/%s: %w", inc.Service, inc.ID, err)
	}
	link.Deployment = &delivery.DeploymentKey{Service: inc.Service, Environment: delivery.EnvironmentProduction, ID: id}
	link.Inferred = true
	return link, nil
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// SetService records a service's team, repositories, monorepo path prefixes
// and history base (commits before the base are not counted as shipped), as
// configuration says.
func (db *DB) SetService(ctx context.Context, s delivery.Service, base []string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.q(`INSERT INTO services (name, team, repositories, base, paths) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET team = excluded.team, repositories = excluded.repositories, base = excluded.base, paths = excluded.paths`),
			s.Name, s.Team, strings.Join(s.Repositories, " "), strings.Join(base, " "), strings.Join(s.Paths, "\n"))
		if err != nil {
			return fmt.Errorf("set service %s: %w", s.Name, err)
		}
		_, err = tx.ExecContext(ctx, db.q(`INSERT INTO shipping_state (service, dirty) VALUES (?, 1)
			ON CONFLICT (service) DO UPDATE SET dirty = shipping_state.dirty + 1`), s.Name)
		if err != nil {
			return fmt.Errorf("mark %s stale: %w", s.Name, err)
		}
		return nil
	})
}

// shipments reads whole shipment rows matching where.
func (db *DB) shipments(ctx context.Context, where string, args []any) ([]dora.Shipment, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT service, environment, deployment_id, repository, sha, commit_time, incident
		FROM shipments WHERE `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("read shipments: %w", err)
	}
	out, err := collect(rows, func(s interface{ Scan(...any) error }) (dora.Shipment, error) {
		var sh dora.Shipment
		var ct int64
		err := s.Scan(&sh.Deployment.Service, &sh.Deployment.Environment, &sh.Deployment.ID, &sh.Repository, &sh.SHA, &ct, &sh.Incident)
		sh.CommitTime = time.UnixMicro(ct).UTC()
		return sh, err
	})
	if err != nil {
		return nil, fmt.Errorf("read shipments: %w", err)
	}
	return out, nil
}

// deploymentSummaries appends to in the service's terminal production
// deployments finished in [from, to) and the commit times of the changes
// each shipped (those not linked to an incident), read in one pass from the
// deployments and their packed per-deployment summaries. It reads only what
// dora.Compute needs: a report over 10,000 deployments and 200,000 changes
// spends its time scanning columns.
func (db *DB) deploymentSummaries(ctx context.Context, service string, from, to int64, in *dora.Input) error {
	// Two range scans matched here rather than a join: a join's plan
	// depends on statistics, and right after a bulk import PostgreSQL has
	// none and chose a nested loop that took 40 s over 10,000 deployments.
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT deployment_id, commit_times FROM deployment_changes
		WHERE service = ? AND finished_at >= ? AND finished_at < ?`), service, from, to)
	if err != nil {
		return fmt.Errorf("read changes of %s: %w", service, err)
	}
	packed := map[string][]byte{}
	total := 0
	for rows.Next() {
		var id string
		var times []byte
		if err := rows.Scan(&id, &times); err != nil {
			rows.Close()
			return fmt.Errorf("read changes of %s: %w", service, err)
		}
		if len(times)%8 != 0 {
			rows.Close()
			return fmt.Errorf("read changes of %s/%s: summary of %d bytes is corrupt", service, id, len(times))
		}
		packed[id] = times
		total += len(times) / 8
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read changes of %s: %w", service, err)
	}

	rows, err = db.read.QueryContext(ctx, db.q(`SELECT id, status, finished_at, hotfix, rollback FROM deployments
		WHERE service = ? AND environment = ? AND status IN ('success', 'failure', 'rolled_back')
		AND finished_at >= ? AND finished_at < ?`), service, delivery.EnvironmentProduction, from, to)
	if err != nil {
		return fmt.Errorf("read deployments of %s: %w", service, err)
	}
	defer rows.Close()
	// Size the shipments once: 200,000 of them grown by appending cost
	// more than the queries.
	in.Shipments = slices.Grow(in.Shipments, total)
	for rows.Next() {
		d := delivery.Deployment{Service: service, Environment: delivery.EnvironmentProduction}
		var status string
		var finished int64
		var hotfix, rollback int
		if err := rows.Scan(&d.ID, &status, &finished, &hotfix, &rollback); err != nil {
			return fmt.Errorf("read deployments of %s: %w", service, err)
		}
		d.Status = delivery.DeploymentStatus(status)
		d.FinishedAt = time.UnixMicro(finished).UTC()
		d.Hotfix, d.Rollback = hotfix != 0, rollback != 0
		in.Deployments = append(in.Deployments, d)
		times := packed[d.ID]
		key := d.Key()
		for j := 0; j < len(times); j += 8 {
			us := int64(binary.LittleEndian.Uint64(times[j:]))
			in.Shipments = append(in.Shipments, dora.Shipment{Deployment: key, CommitTime: time.UnixMicro(us).UTC()})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read deployments of %s: %w", service, err)
	}
	return nil
}
