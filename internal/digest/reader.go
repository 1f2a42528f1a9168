package digest

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/sloeval"
	"github.com/stride-oss/stride/internal/store"
)

// Reader gathers a digest's input through the read path, so that the
// digest says what GET /api/v1/dora, the incident report and
// GET /api/v1/slos say for the same team and weeks.
type Reader struct {
	Reports *report.Reader
	// Thresholds are the tier boundaries (nil: the defaults).
	Thresholds *dora.Thresholds
	// Policies judge the acknowledgement SLAs, as the breach job does.
	Policies incident.Policies
	// Targets returns a team's targets (nil: none).
	Targets func(team string) dora.Targets
	// BaseURL is how users reach Stride, for the link to the digest's
	// page; empty leaves the link out.
	BaseURL string
}

// Input gathers the input of team's digest as of at, keyed by week.
func (r *Reader) Input(ctx context.Context, team, week string, at time.Time) (Input, error) {
	in := Input{Team: team, At: at.UTC(), Week: week}
	if week == "" {
		in.Week = ISOWeek(at)
	}
	if r.Targets != nil {
		in.Targets = r.Targets(team)
	}
	if r.BaseURL != "" {
		in.Link = strings.TrimRight(r.BaseURL, "/") + "/teams/" + url.PathEscape(team) + "/digest"
	}
	scope := store.Scope{Team: team}
	covered := CoveredWeek(at)
	end := covered.AddDate(0, 0, 7)
	var err error
	if in.Report, err = r.Reports.DORA(ctx, scope, delivery.Period{From: end.AddDate(0, 0, -7*FigureWeeks), To: end}, r.Thresholds); err != nil {
		return in, fmt.Errorf("digest of %s: figures: %w", team, err)
	}
	// The trend's weeks are computed from one read of the twelve weeks:
	// what a week's report reads is a subset of the twelve weeks' input
	// (dora.Compute counts only what falls in its period), so each week
	// is GET /api/v1/dora's answer for it without twelve round trips.
	first := end.AddDate(0, 0, -7*Weeks)
	all, err := r.Reports.DORASummaryInput(ctx, scope, delivery.Period{From: first, To: end})
	if err != nil {
		return in, fmt.Errorf("digest of %s: trend: %w", team, err)
	}
	all.Thresholds = r.Thresholds
	for i := range Weeks {
		start := first.AddDate(0, 0, 7*i)
		week := all
		week.Period = delivery.Period{From: start, To: start.AddDate(0, 0, 7)}
		rep := dora.Compute(week)
		rep.Team = team
		in.Weekly = append(in.Weekly, rep)
	}
	if in.LeadTime, err = r.Reports.DORAExplain(ctx, scope, delivery.Period{From: covered, To: end}, dora.FigureLeadTime); err != nil {
		return in, fmt.Errorf("digest of %s: lead-time contributors: %w", team, err)
	}
	if in.Incidents, err = r.openIncidents(ctx, scope, at); err != nil {
		return in, fmt.Errorf("digest of %s: incidents: %w", team, err)
	}
	if in.SLOs, err = r.slos(ctx, scope); err != nil {
		return in, fmt.Errorf("digest of %s: SLOs: %w", team, err)
	}
	return in, nil
}

// openIncidents are the scope's incidents open at at (opened by then and
// not resolved by then), each judged against its SLA as of at.
func (r *Reader) openIncidents(ctx context.Context, scope store.Scope, at time.Time) ([]incident.IncidentRow, error) {
	facts, err := r.Reports.Store.IncidentReportInput(ctx, scope, delivery.Period{From: at, To: at})
	if err != nil {
		return nil, err
	}
	teams := map[string]string{}
	for _, s := range facts.Services {
		teams[s.Name] = s.Team
	}
	var out []incident.IncidentRow
	for _, inc := range facts.Incidents {
		if inc.OpenedAt.After(at) || (!inc.ResolvedAt.IsZero() && !inc.ResolvedAt.After(at)) {
			continue
		}
		p := r.Policies.For(inc.Service, teams[inc.Service])
		sev := inc.SeverityOrDefault()
		row := incident.IncidentRow{ID: inc.ID, Service: inc.Service, Team: teams[inc.Service], Title: inc.Title, Severity: sev,
			OpenedAt: inc.OpenedAt, SLADueAt: p.DueAt(inc.OpenedAt, sev), Breached: p.Breached(inc, at)}
		if !inc.AcknowledgedAt.IsZero() && !inc.AcknowledgedAt.After(at) {
			ack := inc.AcknowledgedAt
			row.AcknowledgedAt = &ack
		}
		out = append(out, row)
	}
	return out, nil
}

// slos are the latest evaluations of the SLOs of the scope's services.
func (r *Reader) slos(ctx context.Context, scope store.Scope) ([]slo.Report, error) {
	services, err := r.Reports.Store.ScopeServices(ctx, scope)
	if err != nil {
		return nil, err
	}
	var out []slo.Report
	for _, s := range services {
		reps, err := sloeval.Reports(ctx, r.Reports.Store, s)
		if err != nil {
			return nil, err
		}
		out = append(out, reps...)
	}
	return out, nil
}

// Digest builds team's digest as of at: what the page, the API and the
// CLI show, and what the job sends.
func (r *Reader) Digest(ctx context.Context, team, week string, at time.Time) (Digest, error) {
	in, err := r.Input(ctx, team, week, at)
	if err != nil {
		return Digest{}, err
	}
	return Build(in), nil
}
