// Package report assembles Stride's reports from the store and the pure
// metric packages, so the command line and the HTTP API give the same
// answer by the same path.
package report

import (
	"context"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/flow"
	"github.com/stride-oss/stride/internal/store"
)

// DORA computes the DORA report of scope over period.
func DORA(ctx context.Context, db *store.DB, scope store.Scope, period delivery.Period, th *dora.Thresholds) (dora.Report, error) {
	in, err := db.DORASummaryInput(ctx, scope, period)
	if err != nil {
		return dora.Report{}, err
	}
	in.Thresholds = th
	r := dora.Compute(in)
	r.Service, r.Team = scope.Service, scope.Team
	return r, nil
}

// DORAExplain lists the records behind one DORA figure.
func DORAExplain(ctx context.Context, db *store.DB, scope store.Scope, period delivery.Period, figure string) (dora.Explanation, error) {
	in, err := db.DORAInput(ctx, scope, period)
	if err != nil {
		return dora.Explanation{}, err
	}
	e, err := dora.Explain(in, figure)
	if err != nil {
		return e, err
	}
	e.Service, e.Team = scope.Service, scope.Team
	return e, nil
}

// Flow computes the pull-request flow report of scope over period.
func Flow(ctx context.Context, db *store.DB, scope store.Scope, period delivery.Period) (flow.Report, error) {
	in, err := db.FlowInput(ctx, scope, period)
	if err != nil {
		return flow.Report{}, err
	}
	return flow.Compute(in), nil
}

// FlowExplain lists the pull requests behind one flow figure.
func FlowExplain(ctx context.Context, db *store.DB, scope store.Scope, period delivery.Period, figure string) (flow.Explanation, error) {
	in, err := db.FlowInput(ctx, scope, period)
	if err != nil {
		return flow.Explanation{}, err
	}
	return flow.Explain(in, figure)
}

// Planning computes the planning report of a team (all teams when empty).
func Planning(ctx context.Context, db *store.DB, team string, period delivery.Period, sprints int) (flow.PlanningReport, error) {
	in, err := db.PlanningInput(ctx, team, period, sprints)
	if err != nil {
		return flow.PlanningReport{}, err
	}
	return flow.Plan(in), nil
}
