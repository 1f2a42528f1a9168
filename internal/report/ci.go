package report

import (
	"context"
	"time"

	"github.com/stride-oss/stride/internal/cihealth"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
)

// CISettings is what stride.yaml says for the CI health report: the
// default branch of repositories, the commit-to-production target of
// teams and services, and each team's working week.
type CISettings struct {
	// DefaultBranches names a repository's default branch when its
	// builds' sources do not (or say wrong).
	DefaultBranches map[string]string
	// TeamTargets and ServiceTargets are commit-to-production targets; a
	// service's own wins over its team's.
	TeamTargets    map[string]time.Duration
	ServiceTargets map[string]time.Duration
	// Weeks is each team's working week; a team absent works
	// cihealth.DefaultWorkWeek.
	Weeks map[string]cihealth.WorkWeek
}

const ciMissing = "changes shipped since then may be missing from commit-to-production time"

// CI computes the CI health and work-hours report of scope over period.
func (r *Reader) CI(ctx context.Context, scope store.Scope, period delivery.Period) (cihealth.Report, error) {
	in, stale, err := r.ciInput(ctx, scope, period)
	if err != nil {
		return cihealth.Report{}, err
	}
	rep := cihealth.Compute(in)
	if len(stale) > 0 {
		rep.Warnings = append(rep.Warnings, cihealth.Warning{Code: StaleCode, Message: staleWarning(stale, ciMissing)})
	}
	return rep, nil
}

// CIExplain lists the builds, changes or deployments behind one CI figure.
func (r *Reader) CIExplain(ctx context.Context, scope store.Scope, period delivery.Period, figure string) (cihealth.Explanation, error) {
	in, stale, err := r.ciInput(ctx, scope, period)
	if err != nil {
		return cihealth.Explanation{}, err
	}
	e, err := cihealth.Explain(in, figure)
	if err != nil {
		return e, err
	}
	if len(stale) > 0 {
		e.Warnings = append(e.Warnings, staleWarning(stale, ciMissing))
	}
	return e, nil
}

// CIInput gathers what the CI report of scope over period reads.
func (r *Reader) CIInput(ctx context.Context, scope store.Scope, period delivery.Period) (cihealth.Input, error) {
	in, _, err := r.ciInput(ctx, scope, period)
	return in, err
}

// DeployHours computes the work-hours deploys report of scope over period.
// It reads deployments only, so stale shipments do not touch it.
func (r *Reader) DeployHours(ctx context.Context, scope store.Scope, period delivery.Period) (cihealth.HoursReport, error) {
	in, err := r.hoursInput(ctx, scope, period)
	if err != nil {
		return cihealth.HoursReport{}, err
	}
	return cihealth.Hours(in), nil
}

// DeployHoursExplain lists the deployments behind the work-hours report,
// each at its local time.
func (r *Reader) DeployHoursExplain(ctx context.Context, scope store.Scope, period delivery.Period) (cihealth.Explanation, error) {
	in, err := r.hoursInput(ctx, scope, period)
	if err != nil {
		return cihealth.Explanation{}, err
	}
	return cihealth.Explain(in, "deploy_hours")
}

func (r *Reader) hoursInput(ctx context.Context, scope store.Scope, period delivery.Period) (cihealth.Input, error) {
	in := cihealth.Input{Period: period}
	services, err := r.Store.ScopeServices(ctx, scope)
	if err != nil {
		return in, err
	}
	if in.Deployments, err = r.Store.TerminalDeployments(ctx, services, period); err != nil {
		return in, err
	}
	return in, r.settle(ctx, services, &in)
}

// ciInput reads the builds of the scope's repositories that finished from
// cihealth.RedLookback before the period to its end (every repository's
// when the scope is everything), and the production deployments of its
// services with the changes they shipped.
func (r *Reader) ciInput(ctx context.Context, scope store.Scope, period delivery.Period) (cihealth.Input, []string, error) {
	in := cihealth.Input{Period: period}
	services, stale, err := r.services(ctx, scope)
	if err != nil {
		return in, nil, err
	}
	var repos []string
	if scope.Service != "" || scope.Team != "" {
		if repos, err = r.Store.ScopeRepositories(ctx, services); err != nil {
			return in, nil, err
		}
	}
	if len(repos) > 0 || (scope.Service == "" && scope.Team == "") {
		if in.Builds, err = r.Store.Builds(ctx, period.From.Add(-cihealth.RedLookback), period.To, repos...); err != nil {
			return in, nil, err
		}
	}
	in.DefaultBranches = cihealth.ResolveBranches(in.Builds, r.CISettings.DefaultBranches)
	if in.Deployments, err = r.Store.TerminalDeployments(ctx, services, period); err != nil {
		return in, nil, err
	}
	if in.Shipments, err = r.Store.Shipments(ctx, services, period, false); err != nil {
		return in, nil, err
	}
	return in, stale, r.settle(ctx, services, &in)
}

// settle sets each service's commit-to-production target and working
// week from its team's, as stride.yaml says.
func (r *Reader) settle(ctx context.Context, services []string, in *cihealth.Input) error {
	all, err := r.Store.ServiceTeams(ctx)
	if err != nil {
		return err
	}
	teams := store.TeamOf(all)
	in.Targets, in.TargetSet, in.Weeks = map[string]time.Duration{}, map[string]bool{}, map[string]cihealth.WorkWeek{}
	for _, s := range services {
		team := teams[s]
		if t, ok := r.CISettings.ServiceTargets[s]; ok {
			in.Targets[s], in.TargetSet[s] = t, true
		} else if t, ok := r.CISettings.TeamTargets[team]; ok && team != "" {
			in.Targets[s], in.TargetSet[s] = t, true
		}
		w, ok := r.CISettings.Weeks[team]
		if !ok || team == "" {
			w = cihealth.DefaultWorkWeek(team)
		}
		in.Weeks[s] = w
	}
	return nil
}
