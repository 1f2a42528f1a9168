// Package report is Stride's one read path: it reads stored facts, builds
// the input of the pure metric packages and computes the report, so the
// command line, the HTTP API and any dashboard give the same answer by the
// same path. Nothing here writes: derived data that is out of date is
// either brought up to date by the Fresh hook the caller wires, or reported
// as a warning.
package report

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/flow"
	"github.com/stride-oss/stride/internal/sprint"
	"github.com/stride-oss/stride/internal/store"
)

// Reader computes reports from a store.
type Reader struct {
	Store *store.DB
	// Fresh, when set, brings stale derived data (shipments) up to date
	// and returns once it is; a report calls it before reading when a
	// service in its scope is stale. The binary wires it to the runner's
	// shipment job (run now and wait). When nil, a report reads what is stored and says in its
	// warnings which services are stale.
	Fresh func(ctx context.Context) error
	// CauseWindow bounds how long before an incident opened a deployment
	// may have finished to be inferred as its cause (0: no bound).
	CauseWindow time.Duration
	// CauseWindows overrides CauseWindow per service, as stride.yaml's
	// incident_cause_window of each service says.
	CauseWindows map[string]time.Duration
	// CISettings is what stride.yaml says for the CI health report.
	CISettings CISettings
	// Sprint is stride.yaml's sprint: section, for the sprint report.
	SprintConfig sprint.Config
}

// causeWindow is the incident cause window of service.
func (r *Reader) causeWindow(service string) time.Duration {
	if w, ok := r.CauseWindows[service]; ok {
		return w
	}
	return r.CauseWindow
}

// StaleCode is the code of the DORA report warning that shipments were
// out of date.
const StaleCode = "stale_shipments"

// services returns the services in scope and, when some of them are stale
// and no Fresh hook brings them up to date, their names.
func (r *Reader) services(ctx context.Context, scope store.Scope) (services, stale []string, err error) {
	services, err = r.Store.ScopeServices(ctx, scope)
	if err != nil || len(services) == 0 {
		return services, nil, err
	}
	if stale, err = r.Store.StaleServices(ctx, services...); err != nil || len(stale) == 0 {
		return services, nil, err
	}
	if r.Fresh == nil {
		return services, stale, nil
	}
	if err := r.Fresh(ctx); err != nil {
		return nil, nil, fmt.Errorf("bring shipments up to date: %w", err)
	}
	return services, nil, nil
}

// staleWarning says in words which services are stale, what may be
// missing because of it, and what brings the data up to date.
func staleWarning(stale []string, missing string) string {
	which := "service " + stale[0] + " has"
	if len(stale) > 1 {
		which = "services " + strings.Join(stale[:len(stale)-1], ", ") + " and " + stale[len(stale)-1] + " have"
	}
	return fmt.Sprintf("%s received commits, deployments or configuration since their shipments were last computed, so %s; "+
		"a running `stride serve` brings them up to date within seconds", which, missing)
}

const (
	doraMissing = "changes shipped since then may be missing from lead time and rework rate, or counted under the wrong deployment"
	flowMissing = "pull requests shipped since then may show as not yet deployed, missing from deploy time and cycle time"
)

// DORA computes the DORA report of scope over period.
func (r *Reader) DORA(ctx context.Context, scope store.Scope, period delivery.Period, th *dora.Thresholds) (dora.Report, error) {
	services, stale, err := r.services(ctx, scope)
	if err != nil {
		return dora.Report{}, err
	}
	in, err := r.doraInput(ctx, services, period, false)
	if err != nil {
		return dora.Report{}, err
	}
	in.Thresholds = th
	rep := dora.Compute(in)
	rep.Service, rep.Team = scope.Service, scope.Team
	if len(stale) > 0 {
		rep.Warnings = append(rep.Warnings, dora.Warning{Code: StaleCode, Count: len(stale), Message: staleWarning(stale, doraMissing)})
	}
	missing, err := r.Store.MissingCommits(ctx, services)
	if err != nil {
		return dora.Report{}, err
	}
	if msg := unknownCommitWarning(missing); msg != "" {
		rep.Warnings = append(rep.Warnings, dora.Warning{Code: UnknownCommitCode, Count: len(missing), Message: msg})
	}
	msg, n, err := r.unknownAncestry(ctx, services)
	if err != nil {
		return dora.Report{}, err
	}
	if n > 0 {
		rep.Warnings = append(rep.Warnings, dora.Warning{Code: UnknownAncestryCode, Count: n, Message: msg})
	}
	return rep, nil
}

// DORAExplain lists the records behind one DORA figure.
func (r *Reader) DORAExplain(ctx context.Context, scope store.Scope, period delivery.Period, figure string) (dora.Explanation, error) {
	services, stale, err := r.services(ctx, scope)
	if err != nil {
		return dora.Explanation{}, err
	}
	in, err := r.doraInput(ctx, services, period, true)
	if err != nil {
		return dora.Explanation{}, err
	}
	e, err := dora.Explain(in, figure)
	if err != nil {
		return e, err
	}
	e.Service, e.Team = scope.Service, scope.Team
	if len(stale) > 0 {
		e.Warnings = append(e.Warnings, staleWarning(stale, doraMissing))
	}
	missing, err := r.Store.MissingCommits(ctx, services)
	if err != nil {
		return dora.Explanation{}, err
	}
	if msg := unknownCommitWarning(missing); msg != "" {
		e.Warnings = append(e.Warnings, msg)
	}
	msg, n, err := r.unknownAncestry(ctx, services)
	if err != nil {
		return dora.Explanation{}, err
	}
	if n > 0 {
		e.Warnings = append(e.Warnings, msg)
	}
	return e, nil
}

// DORAInput gathers what a DORA explanation of scope over period reads:
// every shipped change named.
func (r *Reader) DORAInput(ctx context.Context, scope store.Scope, period delivery.Period) (dora.Input, error) {
	services, _, err := r.services(ctx, scope)
	if err != nil {
		return dora.Input{Period: period}, err
	}
	return r.doraInput(ctx, services, period, true)
}

// DORASummaryInput gathers what dora.Compute reads of scope over period:
// of each shipped change only its deployment and commit time, so a history
// of 200,000 changes is read as 10,000 rows.
func (r *Reader) DORASummaryInput(ctx context.Context, scope store.Scope, period delivery.Period) (dora.Input, error) {
	services, _, err := r.services(ctx, scope)
	if err != nil {
		return dora.Input{Period: period}, err
	}
	return r.doraInput(ctx, services, period, false)
}

// doraInput gathers what a DORA report of services over period reads.
// With detail every shipped change is named (what Explain lists);
// without, dora.Compute gets of each change only its deployment and commit
// time, packed per deployment, and the changes linked to an incident in
// full.
func (r *Reader) doraInput(ctx context.Context, services []string, period delivery.Period, detail bool) (dora.Input, error) {
	in := dora.Input{Period: period}
	if len(services) == 0 {
		return in, nil
	}
	reported, err := r.Store.ReportedFacts(ctx, services)
	if err != nil {
		return in, err
	}
	in.Reported = &dora.Reported{Deployments: reported.Deployments, Failures: reported.Failures}
	if detail {
		if in.Deployments, err = r.Store.TerminalDeployments(ctx, services, period); err != nil {
			return in, err
		}
		if in.Shipments, err = r.Store.Shipments(ctx, services, period, false); err != nil {
			return in, err
		}
	} else {
		if in.Deployments, in.Summaries, err = r.Store.ShippedSummaries(ctx, services, period); err != nil {
			return in, err
		}
		if in.Shipments, err = r.Store.Shipments(ctx, services, period, true); err != nil {
			return in, err
		}
	}
	// The first success after the period, per service: the fix that ends a
	// failure near the period's end.
	next, err := r.Store.FirstSuccessesFrom(ctx, services, period.To)
	if err != nil {
		return in, err
	}
	in.Deployments = append(in.Deployments, next...)

	// Incidents that opened or were resolved from the period's start on:
	// one opened after the period may still be caused by a deployment in it.
	facts, err := r.Store.IncidentsSince(ctx, services, period.From)
	if err != nil {
		return in, err
	}
	in.Incidents = make([]dora.IncidentLink, 0, len(facts))
	for _, f := range facts {
		cause := delivery.CauseOf(f.Incident, f.Before, r.causeWindow(f.Incident.Service))
		inc := f.Incident
		inc.Severity = inc.SeverityOrDefault()
		in.Incidents = append(in.Incidents, dora.IncidentLink{Incident: inc, Deployment: cause.Deployment, Inferred: cause.Inferred,
			Rule: cause.Rule, Window: cause.Window, Gap: cause.Gap})
	}
	if err := r.causeCandidates(ctx, in.Incidents); err != nil {
		return in, err
	}
	return in, nil
}

// Flow computes the pull-request flow report of scope over period.
func (r *Reader) Flow(ctx context.Context, scope store.Scope, period delivery.Period) (flow.Report, error) {
	in, stale, err := r.flowInput(ctx, scope, period)
	if err != nil {
		return flow.Report{}, err
	}
	rep := flow.Compute(in)
	if len(stale) > 0 {
		rep.Warnings = append(rep.Warnings, flow.Warning{Message: staleWarning(stale, flowMissing)})
	}
	return rep, nil
}

// FlowExplain lists the pull requests behind one flow figure.
func (r *Reader) FlowExplain(ctx context.Context, scope store.Scope, period delivery.Period, figure string) (flow.Explanation, error) {
	in, stale, err := r.flowInput(ctx, scope, period)
	if err != nil {
		return flow.Explanation{}, err
	}
	e, err := flow.Explain(in, figure)
	if err != nil {
		return e, err
	}
	if len(stale) > 0 {
		e.Warnings = append(e.Warnings, staleWarning(stale, flowMissing))
	}
	return e, nil
}

// flowInput gathers the pull requests of the scope's repositories that
// merged between flow.Lookback before the period and its end, with the
// first production deployment that shipped each one's merge sha or
// commits.
func (r *Reader) flowInput(ctx context.Context, scope store.Scope, period delivery.Period) (flow.Input, []string, error) {
	in := flow.Input{Period: period, Deployed: map[flow.CommitKey]flow.Deployed{}}
	services, stale, err := r.services(ctx, scope)
	if err != nil {
		return in, nil, err
	}
	var repos []string
	if scope.Service != "" || scope.Team != "" {
		if repos, err = r.Store.ScopeRepositories(ctx, services); err != nil {
			return in, nil, err
		}
		if len(repos) == 0 {
			return in, stale, nil
		}
	}
	if in.PullRequests, err = r.Store.MergedPullRequests(ctx, period.From.Add(-flow.Lookback), period.To, repos...); err != nil {
		return in, nil, err
	}
	var commits []store.CommitRef
	for _, pr := range in.PullRequests {
		commits = append(commits, store.CommitRef{Repository: pr.Repository, SHA: pr.MergeSHA})
		for _, sha := range pr.Commits {
			commits = append(commits, store.CommitRef{Repository: pr.Repository, SHA: sha})
		}
	}
	first, err := r.Store.FirstShipments(ctx, commits)
	if err != nil {
		return in, nil, err
	}
	for c, f := range first {
		in.Deployed[flow.CommitKey{Repository: c.Repository, SHA: c.SHA}] = flow.Deployed{Deployment: f.Deployment, FinishedAt: f.FinishedAt}
	}
	return in, stale, nil
}

// Planning computes the planning report of a team (all teams when empty)
// over period, with velocity over the last sprints sprints (0: the
// default). It reads work items only, no derived data, so stale shipments
// do not touch it.
func (r *Reader) Planning(ctx context.Context, team string, period delivery.Period, sprints int) (flow.PlanningReport, error) {
	in := flow.PlanningInput{Period: period, Sprints: sprints}
	var err error
	if in.Items, err = r.Store.WorkItems(ctx, team, period.To); err != nil {
		return flow.PlanningReport{}, err
	}
	return flow.Plan(in), nil
}

// PlanningExplain lists the work items behind one figure of the planning
// report Planning returns for the same arguments.
func (r *Reader) PlanningExplain(ctx context.Context, team string, period delivery.Period, sprints int, figure string) (flow.PlanningExplanation, error) {
	in := flow.PlanningInput{Period: period, Sprints: sprints}
	var err error
	if in.Items, err = r.Store.WorkItems(ctx, team, period.To); err != nil {
		return flow.PlanningExplanation{}, err
	}
	return flow.ExplainPlanning(in, figure)
}

// Sprint computes the sprint and team health of a team (all teams when
// empty) over period; with explain, each figure lists its items. Like
// Planning, it reads work items only.
func (r *Reader) Sprint(ctx context.Context, team string, period delivery.Period, explain bool) (sprint.Report, error) {
	items, err := r.Store.WorkItems(ctx, team, period.To)
	if err != nil {
		return sprint.Report{}, err
	}
	return sprint.Compute(sprint.Input{Team: team, Period: period, Items: items, Config: r.SprintConfig, Explain: explain}), nil
}
