package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
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

// terminalStatuses returns "(?, ?, ?)" and the arguments for the statuses
// of a finished deployment, as the domain lists them.
func terminalStatuses() (string, []any) {
	var names []string
	for _, s := range delivery.TerminalStatuses() {
		names = append(names, string(s))
	}
	return inList(names)
}

// StaleServices returns those of services whose shipments are out of date
// (their inputs changed since the last refresh), sorted; every stale
// service when services is empty. It only reads: bringing them up to date
// is RefreshShipments, which the caller decides when to run.
func (db *DB) StaleServices(ctx context.Context, services ...string) ([]string, error) {
	q := `SELECT service FROM shipping_state WHERE dirty > 0`
	var args []any
	if len(services) > 0 {
		list, svcArgs := inList(services)
		q += ` AND service IN ` + list
		args = svcArgs
	}
	rows, err := db.read.QueryContext(ctx, db.q(q+` ORDER BY service`), args...)
	if err != nil {
		return nil, fmt.Errorf("find stale services: %w", err)
	}
	out, err := collect(rows, scanString)
	if err != nil {
		return nil, fmt.Errorf("find stale services: %w", err)
	}
	return out, nil
}

// ShippingGapsOf returns the gaps the last refresh of each of services
// found, as ShippingGaps does for one (none for a service never
// refreshed), in one query: a team's report asks about all its services.
func (db *DB) ShippingGapsOf(ctx context.Context, services []string) (map[string]ShippingGaps, error) {
	out := make(map[string]ShippingGaps, len(services))
	if len(services) == 0 {
		return out, nil
	}
	list, args := inList(services)
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT service, unknown_ancestry, unknown_commit FROM shipping_state WHERE service IN `+list), args...)
	if err != nil {
		return nil, fmt.Errorf("read shipping gaps: %w", err)
	}
	defer rows.Close()
	lines := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	for rows.Next() {
		var service, ancestry, commit string
		if err := rows.Scan(&service, &ancestry, &commit); err != nil {
			return nil, fmt.Errorf("read shipping gaps: %w", err)
		}
		out[service] = ShippingGaps{UnknownAncestry: lines(ancestry), UnknownCommit: lines(commit)}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read shipping gaps: %w", err)
	}
	return out, nil
}

// TerminalDeployments returns the production deployments of services with a
// terminal status that finished in period, whole.
func (db *DB) TerminalDeployments(ctx context.Context, services []string, period delivery.Period) ([]delivery.Deployment, error) {
	if len(services) == 0 {
		return nil, nil
	}
	list, args := inList(services)
	statuses, statusArgs := terminalStatuses()
	args = append(append(args, delivery.EnvironmentProduction), statusArgs...)
	args = append(args, period.From.UnixMicro(), period.To.UnixMicro())
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT `+deploymentColumns+` FROM deployments
		WHERE service IN `+list+` AND environment = ? AND status IN `+statuses+`
		AND finished_at >= ? AND finished_at < ?`), args...)
	if err != nil {
		return nil, fmt.Errorf("read deployments: %w", err)
	}
	out, err := collect(rows, scanDeployment)
	if err != nil {
		return nil, fmt.Errorf("read deployments: %w", err)
	}
	return out, nil
}

// Shipments returns the changes shipped by the deployments of services that
// finished in period; linkedOnly keeps only the changes linked to an
// incident (fixes).
func (db *DB) Shipments(ctx context.Context, services []string, period delivery.Period, linkedOnly bool) ([]delivery.Shipment, error) {
	if len(services) == 0 {
		return nil, nil
	}
	list, args := inList(services)
	where := `service IN ` + list + ` AND finished_at >= ? AND finished_at < ?`
	if linkedOnly {
		where += ` AND incident <> ''`
	}
	return db.shipments(ctx, where, append(args, period.From.UnixMicro(), period.To.UnixMicro()))
}

// FirstSuccessesFrom returns, for each of services that has one, its first
// successful production deployment finished at or after t: after a period,
// the fix that may end a failure near its end.
func (db *DB) FirstSuccessesFrom(ctx context.Context, services []string, t time.Time) ([]delivery.Deployment, error) {
	if len(services) == 0 {
		return nil, nil
	}
	// One statement for all of them, each service its own index seek: a
	// team's report asked once per service, and SQLite prepares every
	// statement anew, so a UNION ALL of one query per service cost more
	// to parse than to run.
	list, svcArgs := inList(services)
	cols := "d." + strings.ReplaceAll(deploymentColumns, ", ", ", d.")
	args := append([]any{delivery.EnvironmentProduction, delivery.EnvironmentProduction, string(delivery.DeploymentSuccess), t.UnixMicro()}, svcArgs...)
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT `+cols+` FROM services s
		JOIN deployments d ON d.service = s.name AND d.environment = ? AND d.id = (
			SELECT e.id FROM deployments e WHERE e.service = s.name AND e.environment = ? AND e.status = ? AND e.finished_at >= ?
			ORDER BY e.finished_at LIMIT 1)
		WHERE s.name IN `+list+` ORDER BY s.name`), args...)
	if err != nil {
		return nil, fmt.Errorf("read next deployments: %w", err)
	}
	out, err := collect(rows, scanDeployment)
	if err != nil {
		return nil, fmt.Errorf("read next deployments: %w", err)
	}
	return out, nil
}

// IncidentFact is a stored incident with the latest successful production
// deployment of its service that finished before it opened (nil when there
// is none, or when the source named the cause itself). Which deployment the
// incident is blamed on is the domain's rule (delivery.CauseOf).
type IncidentFact struct {
	Incident delivery.Incident
	// Before holds only the service, environment, id and finish time.
	Before *delivery.Deployment
}

// IncidentsSince returns the incidents of services that opened or were
// resolved at or after t, each with its preceding successful production
// deployment, in one query.
func (db *DB) IncidentsSince(ctx context.Context, services []string, t time.Time) ([]IncidentFact, error) {
	if len(services) == 0 {
		return nil, nil
	}
	list, svcArgs := inList(services)
	cols := "i." + strings.ReplaceAll(incidentColumns, ", ", ", i.")
	args := []any{delivery.EnvironmentProduction, delivery.EnvironmentProduction, string(delivery.DeploymentSuccess)}
	args = append(append(args, svcArgs...), t.UnixMicro(), t.UnixMicro())
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT `+cols+`, c.id, c.finished_at FROM incidents i
		LEFT JOIN deployments c ON i.cause_deployment = '' AND c.service = i.service AND c.environment = ? AND c.id = (
			SELECT d.id FROM deployments d WHERE d.service = i.service AND d.environment = ? AND d.status = ? AND d.finished_at < i.opened_at
			ORDER BY d.finished_at DESC, d.id DESC LIMIT 1)
		WHERE i.service IN `+list+` AND (i.opened_at >= ? OR i.resolved_at >= ?)`), args...)
	if err != nil {
		return nil, fmt.Errorf("read incidents: %w", err)
	}
	out, err := collect(rows, func(s interface{ Scan(...any) error }) (IncidentFact, error) {
		var id sql.NullString
		var finished sql.NullInt64
		inc, err := scanIncident(extraScan{s, []any{&id, &finished}})
		f := IncidentFact{Incident: inc}
		if err == nil && id.Valid {
			f.Before = &delivery.Deployment{Service: inc.Service, Environment: delivery.EnvironmentProduction, ID: id.String,
				Status: delivery.DeploymentSuccess, FinishedAt: fromMicros(finished)}
		}
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("read incidents: %w", err)
	}
	return out, nil
}

// extraScan scans a row's leading columns with the wrapped scanner's
// destinations and its trailing ones into extra, so a row scanner shared
// with other queries reads a row that has more columns.
type extraScan struct {
	s     interface{ Scan(...any) error }
	extra []any
}

func (x extraScan) Scan(dest ...any) error { return x.s.Scan(append(dest, x.extra...)...) }

func scanString(s interface{ Scan(...any) error }) (string, error) {
	var v string
	return v, s.Scan(&v)
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
// configuration says. Every command applies the configuration at start, so
// the service is marked stale only when one of these changed: an unchanged
// configuration costs no refresh.
func (db *DB) SetService(ctx context.Context, s delivery.Service, base []string) error {
	team, repos, baseList, paths := s.Team, strings.Join(s.Repositories, " "), strings.Join(base, " "), strings.Join(s.Paths, "\n")
	var oldTeam, oldRepos, oldBase, oldPaths string
	err := db.read.QueryRowContext(ctx, db.q(`SELECT team, repositories, base, paths FROM services WHERE name = ?`), s.Name).
		Scan(&oldTeam, &oldRepos, &oldBase, &oldPaths)
	switch {
	case err == nil && oldTeam == team && oldRepos == repos && oldBase == baseList && oldPaths == paths:
		return nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("read service %s: %w", s.Name, err)
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.q(`INSERT INTO services (name, team, repositories, base, paths) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET team = excluded.team, repositories = excluded.repositories, base = excluded.base, paths = excluded.paths`),
			s.Name, team, repos, baseList, paths)
		if err != nil {
			return fmt.Errorf("set service %s: %w", s.Name, err)
		}
		for _, r := range s.Repositories {
			if err := db.recordServiceRepository(ctx, tx, s.Name, r); err != nil {
				return err
			}
		}
		// Repositories, paths and base are inputs of every deployment's
		// walk: a change of one makes the service recompute.
		in := newShipInputs()
		in.stale[s.Name] = true
		in.recompute[s.Name] = oldRepos != repos || oldBase != baseList || oldPaths != paths
		return db.mark(ctx, tx, in)
	})
}

// shipments reads whole shipment rows matching where.
func (db *DB) shipments(ctx context.Context, where string, args []any) ([]delivery.Shipment, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT service, environment, deployment_id, repository, sha, commit_time, incident
		FROM shipments WHERE `+where), args...)
	if err != nil {
		return nil, fmt.Errorf("read shipments: %w", err)
	}
	out, err := collect(rows, func(s interface{ Scan(...any) error }) (delivery.Shipment, error) {
		var sh delivery.Shipment
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

// ShippedSummaries returns the terminal production deployments of services
// finished in period and, for each that shipped any, the commit times of
// the changes it shipped that are not linked to an incident (Shipments with
// only the deployment and the commit time), read in one pass from the
// deployments and their packed per-deployment summaries. It reads only what
// dora.Compute needs: a report over 10,000 deployments and 200,000 changes
// spends its time scanning columns, so the 200,000 are read as 10,000 rows,
// and kept as 10,000 slices of integers. A team's or the organisation's
// services are read by the same two queries, not two per service.
func (db *DB) ShippedSummaries(ctx context.Context, services []string, period delivery.Period) ([]delivery.Deployment, []delivery.ShippedTimes, error) {
	if len(services) == 0 {
		return nil, nil, nil
	}
	return db.deploymentSummaries(ctx, services, period.From.UnixMicro(), period.To.UnixMicro())
}

// summaryChunk is how many commit times deploymentSummaries allocates at
// once and hands out in slices: one allocation per 16,384 changes rather
// than one per deployment.
const summaryChunk = 1 << 14

// deploymentSummaries is ShippedSummaries over the microseconds [from, to).
func (db *DB) deploymentSummaries(ctx context.Context, services []string, from, to int64) ([]delivery.Deployment, []delivery.ShippedTimes, error) {
	// Two range scans matched here rather than a join: a join's plan
	// depends on statistics, and right after a bulk import PostgreSQL has
	// none and chose a nested loop that took 40 s over 10,000 deployments.
	// The deployments come first, so the summaries are decoded as they
	// arrive into the deployment they belong to. Both are read as the
	// driver gives them: database/sql's Scan was a fifth of the report.
	// One service's rows do not name it, which a report of one service
	// would read 20,000 times for nothing.
	what := "service " + services[0]
	list, svcArgs := inList(services)
	serviceColumn, cols := "", 0
	if len(services) > 1 {
		what = fmt.Sprintf("%d services", len(services))
		serviceColumn, cols = "service, ", 1
	}
	// Each row's service is one of services' own strings, not a copy per row.
	named := make(map[string]string, len(services))
	for _, s := range services {
		named[s] = s
	}
	serviceOf := func(v driver.Value) (string, error) {
		if cols == 0 {
			return services[0], nil
		}
		var s string
		if err := driverValues([]driver.Value{v}, &s); err != nil {
			return "", err
		}
		if n, ok := named[s]; ok {
			return n, nil
		}
		return s, nil
	}

	statuses, statusArgs := terminalStatuses()
	args := append(append(append(svcArgs, delivery.EnvironmentProduction), statusArgs...), from, to)
	// The rows are kept in a small struct and the deployments built at
	// their final size: grown by appending, 10,000 of them cost more than
	// the query.
	type deploymentRow struct {
		service, id      string
		status           delivery.DeploymentStatus
		finished         int64
		hotfix, rollback bool
	}
	// Rows are kept in blocks of 1,024 rather than one growing slice,
	// which copied 3 MB on its way to 10,000.
	const block = 1024
	var found [][]deploymentRow
	rowCount := 0
	known := delivery.TerminalStatuses()
	err := db.eachDriverRow(ctx, "read deployments of "+what, db.q(`SELECT `+serviceColumn+`id, status, finished_at, hotfix, rollback FROM deployments
		WHERE service IN `+list+` AND environment = ? AND status IN `+statuses+`
		AND finished_at >= ? AND finished_at < ?`), args, cols+5, func(v []driver.Value) error {
		var r deploymentRow
		var status string
		var hotfix, rollback int64
		var err error
		if r.service, err = serviceOf(v[0]); err != nil {
			return fmt.Errorf("read deployments of %s: %w", what, err)
		}
		if err := driverValues(v[cols:], &r.id, &status, &r.finished, &hotfix, &rollback); err != nil {
			return fmt.Errorf("read deployments of %s: %w", what, err)
		}
		r.status, r.hotfix, r.rollback = statusNamed(status, known), hotfix != 0, rollback != 0
		if rowCount%block == 0 {
			found = append(found, make([]deploymentRow, 0, block))
		}
		found[len(found)-1] = append(found[len(found)-1], r)
		rowCount++
		return nil
	})
	if err != nil || rowCount == 0 {
		return nil, nil, err
	}
	deps := make([]delivery.Deployment, 0, rowCount)
	for _, rows := range found {
		for _, r := range rows {
			deps = append(deps, delivery.Deployment{Service: r.service, Environment: delivery.EnvironmentProduction, ID: r.id, Status: r.status,
				FinishedAt: time.UnixMicro(r.finished).UTC(), Hotfix: r.hotfix, Rollback: r.rollback})
		}
	}
	sums := make([]delivery.ShippedTimes, 0, len(deps))

	// Both queries read by service and finish time, so a summary usually
	// belongs to one of the deployments just after the last one matched
	// (those between shipped nothing, as a failure does): those are tried
	// first, and the map of every deployment is built on the first miss.
	type deploymentID struct{ service, id string }
	var at map[deploymentID]int
	next := 0
	position := func(service, id string) (int, bool) {
		for j := next; j < min(next+3, len(deps)); j++ {
			if deps[j].ID == id && deps[j].Service == service {
				return j, true
			}
		}
		if at == nil {
			at = make(map[deploymentID]int, len(deps))
			for j := range deps {
				at[deploymentID{deps[j].Service, deps[j].ID}] = j
			}
		}
		j, ok := at[deploymentID{service, id}]
		return j, ok
	}

	var chunk []int64
	err = db.eachDriverRow(ctx, "read changes of "+what, db.q(`SELECT `+serviceColumn+`deployment_id, commit_times FROM deployment_changes
		WHERE service IN `+list+` AND finished_at >= ? AND finished_at < ?`), append(svcArgs, from, to), cols+2, func(v []driver.Value) error {
		var id string
		var times []byte
		service, err := serviceOf(v[0])
		if err != nil {
			return fmt.Errorf("read changes of %s: %w", what, err)
		}
		if err := driverValues(v[cols:], &id, &times); err != nil {
			return fmt.Errorf("read changes of %s: %w", what, err)
		}
		if len(times)%8 != 0 {
			return fmt.Errorf("read changes of %s/%s: summary of %d bytes is corrupt", service, id, len(times))
		}
		n := len(times) / 8
		if n == 0 {
			return nil
		}
		j, ok := position(service, id)
		if !ok {
			// A summary whose deployment is not a terminal production one
			// of the period ships nothing the report counts.
			return nil
		}
		next = j + 1
		if cap(chunk)-len(chunk) < n {
			chunk = make([]int64, 0, max(n, summaryChunk))
		}
		lo := len(chunk)
		chunk = chunk[:lo+n]
		micros := chunk[lo : lo+n : lo+n]
		for k := range micros {
			micros[k] = int64(binary.LittleEndian.Uint64(times[8*k:]))
		}
		sums = append(sums, delivery.ShippedTimes{Deployment: deps[j].Key(), CommitMicros: micros})
		return nil
	})
	return deps, sums, err
}

// statusNamed is the deployment status named s: one of known when it is
// one, so that 10,000 rows keep no string of their own for it.
func statusNamed(s string, known []delivery.DeploymentStatus) delivery.DeploymentStatus {
	for _, k := range known {
		if s == string(k) {
			return k
		}
	}
	return delivery.DeploymentStatus(s)
}
