// Package web serves Stride's dashboard: the organisation, team, service
// and explain pages, rendered on the server from html/template files
// embedded in the binary, with charts drawn as SVG (chart.go). The pages
// work without JavaScript; one small script of our own only adds
// conveniences. The package reads nothing itself: every figure comes
// through Data, which the caller implements on top of the one read path,
// so a page shows exactly what the API answers for the same scope.
package web

import (
	"context"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/flow"
	"github.com/stride-oss/stride/internal/rings"
)

// Scope is what a page asks the data for: a service, a team (all its
// services), or the organisation when both are empty, over the half-open
// period [From, To).
type Scope struct {
	Service string
	Team    string
	From    time.Time
	To      time.Time
}

// Data is everything the pages read. Errors that are *delivery.Error keep
// their code (ENOTFOUND gives a 404 page); any other error is a 500.
type Data interface {
	// Catalog lists the teams and services as configured, the webhook
	// sources that are set up, and the tier thresholds in force.
	Catalog(ctx context.Context) (Catalog, error)
	// DORA is the report GET /api/v1/dora answers for the scope.
	DORA(ctx context.Context, s Scope) (dora.Report, error)
	// DORAExplain is the records behind one figure of DORA(s).
	DORAExplain(ctx context.Context, s Scope, figure string) (dora.Explanation, error)
	// Flow is the pull-request flow report of the scope.
	Flow(ctx context.Context, s Scope) (flow.Report, error)
	// FlowExplain is the pull requests behind one figure of Flow(s).
	FlowExplain(ctx context.Context, s Scope, figure string) (flow.Explanation, error)
	// Planning is the planning report of a team (s.Team is set).
	Planning(ctx context.Context, s Scope) (flow.PlanningReport, error)
	// Weekly returns the reports of the weeks ISO weeks ending with the one
	// that contains s.To − 1ns, oldest first, for the trends. They are read
	// from weekly roll-ups a background job keeps, not computed per view.
	Weekly(ctx context.Context, s Scope, weeks int) ([]Week, error)
	// Deployments are the scope's deployments (every environment and ring)
	// finished in the period, for the service timeline.
	Deployments(ctx context.Context, s Scope) ([]delivery.Deployment, error)
	// Incidents are the scope's incidents open at s.To or opened in the
	// period.
	Incidents(ctx context.Context, s Scope) ([]delivery.Incident, error)
	// Rollouts are, for the service's most recently deployed commits, each
	// commit's position across its rings, its gate runs and its promotion
	// history, newest commit first.
	Rollouts(ctx context.Context, service string, limit int) ([]Rollout, error)
}

// Week is one ISO week's roll-up of a scope.
type Week struct {
	Start time.Time
	DORA  dora.Report
	Flow  flow.Report
}

// Catalog is the configuration the pages need to lay themselves out.
type Catalog struct {
	Teams []Team
	// Sources are the webhook sources configured in stride.yaml (github,
	// gitlab, …); an empty list makes the pages explain how to add one.
	Sources []string
	// Thresholds are the tier boundaries in force; Configured says they
	// come from stride.yaml rather than the 2023 DORA clusters.
	Thresholds dora.Thresholds
	Configured bool
	// SLOs and IncidentPages say whether those pages' data sources exist;
	// until they do, the navigation marks them "not configured".
	SLOs          bool
	IncidentPages bool
}

// Team is a team and the services it owns, with its targets.
type Team struct {
	Name     string
	Targets  dora.Targets
	Services []Service
}

// Service is one service as configured.
type Service struct {
	Name    string
	Team    string
	Targets dora.Targets
	// IncidentSource is true when some configured source reports the
	// service's incidents; without one, a change failure rate or time to
	// restore cannot be judged and the page says so instead of "elite".
	IncidentSource bool
}

// Rollout is one commit of a service on its way through the rings.
type Rollout struct {
	Position   rings.Position
	Gates      []rings.GateRun
	Promotions []Promotion
}

// Promotion is one recorded promotion decision.
type Promotion struct {
	Decision    rings.Decision
	Fix         bool
	RequestedBy string
	DecidedAt   time.Time
}

// team returns the team of the catalog by name.
func (c Catalog) team(name string) (Team, bool) {
	for _, t := range c.Teams {
		if t.Name == name {
			return t, true
		}
	}
	return Team{}, false
}

// service returns the service of the catalog by name.
func (c Catalog) service(name string) (Service, bool) {
	for _, t := range c.Teams {
		for _, s := range t.Services {
			if s.Name == name {
				if s.Team == "" {
					s.Team = t.Name
				}
				return s, true
			}
		}
	}
	return Service{}, false
}

// incidentSource reports whether any of the team's services has one.
func (t Team) incidentSource() bool {
	for _, s := range t.Services {
		if s.IncidentSource {
			return true
		}
	}
	return false
}
