package store

import (
	"context"
	"fmt"

	"github.com/stride-oss/stride/internal/delivery"
)

// ServiceTeam is a stored service and the team that owns it ("" when none
// is known): events may create services stride.yaml does not list, and the
// dashboard shows those too.
type ServiceTeam struct {
	Name string
	Team string
}

// ServiceTeams returns every stored service with its team, by name.
func (db *DB) ServiceTeams(ctx context.Context) ([]ServiceTeam, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT name, team FROM services ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	out, err := collect(rows, func(s interface{ Scan(...any) error }) (ServiceTeam, error) {
		var st ServiceTeam
		err := s.Scan(&st.Name, &st.Team)
		return st, err
	})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	return out, nil
}

// TeamOf indexes services by name: the team of each ("" when none), for
// the incident policies and routes, which are chosen per team.
func TeamOf(services []ServiceTeam) map[string]string {
	out := make(map[string]string, len(services))
	for _, st := range services {
		out[st.Name] = st.Team
	}
	return out
}

// IncidentServices returns the services with at least one stored
// incident, sorted: some source reports their incidents, so a change
// failure rate of zero for them means none failed, not "nobody said".
func (db *DB) IncidentServices(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT DISTINCT service FROM incidents ORDER BY service`)
	if err != nil {
		return nil, fmt.Errorf("list services with incidents: %w", err)
	}
	out, err := collect(rows, scanString)
	if err != nil {
		return nil, fmt.Errorf("list services with incidents: %w", err)
	}
	return out, nil
}

// PeriodDeployments returns the deployments of services in every
// environment, ring and status that finished in period, oldest first: the
// service page's timeline, where a staging failure or a canary rollback
// matters as much as production.
func (db *DB) PeriodDeployments(ctx context.Context, services []string, period delivery.Period) ([]delivery.Deployment, error) {
	if len(services) == 0 {
		return nil, nil
	}
	list, args := inList(services)
	args = append(args, period.From.UnixMicro(), period.To.UnixMicro())
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT `+deploymentColumns+` FROM deployments
		WHERE service IN `+list+` AND finished_at >= ? AND finished_at < ?
		ORDER BY finished_at, service, environment, id`), args...)
	if err != nil {
		return nil, fmt.Errorf("read deployments of the period: %w", err)
	}
	out, err := collect(rows, scanDeployment)
	if err != nil {
		return nil, fmt.Errorf("read deployments of the period: %w", err)
	}
	return out, nil
}

// PeriodIncidents returns the incidents of services that were open at the
// period's end or opened in the period, oldest first.
func (db *DB) PeriodIncidents(ctx context.Context, services []string, period delivery.Period) ([]delivery.Incident, error) {
	if len(services) == 0 {
		return nil, nil
	}
	list, args := inList(services)
	from, to := period.From.UnixMicro(), period.To.UnixMicro()
	args = append(args, from, to, to, to)
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT `+incidentColumns+` FROM incidents
		WHERE service IN `+list+` AND ((opened_at >= ? AND opened_at < ?)
		OR (opened_at < ? AND (resolved_at IS NULL OR resolved_at >= ?)))
		ORDER BY opened_at, service, id`), args...)
	if err != nil {
		return nil, fmt.Errorf("read incidents of the period: %w", err)
	}
	out, err := collect(rows, scanIncident)
	if err != nil {
		return nil, fmt.Errorf("read incidents of the period: %w", err)
	}
	return out, nil
}

// RecentCommits returns the shas of a service's most recently deployed
// commits, in any environment, newest deployment first, at most limit.
func (db *DB) RecentCommits(ctx context.Context, service string, limit int) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT sha FROM deployments
		WHERE service = ? AND sha <> '' AND finished_at IS NOT NULL
		GROUP BY sha ORDER BY MAX(finished_at) DESC, sha LIMIT ?`), service, limit)
	if err != nil {
		return nil, fmt.Errorf("read recent commits of %s: %w", service, err)
	}
	out, err := collect(rows, scanString)
	if err != nil {
		return nil, fmt.Errorf("read recent commits of %s: %w", service, err)
	}
	return out, nil
}
