package report

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/impact"
	"github.com/stride-oss/stride/internal/store"
)

// ImpactReport is the deployment impact of a scope over a period: each
// production deployment the impact job assessed, and Apdex per service.
type ImpactReport struct {
	From        time.Time       `json:"from"`
	To          time.Time       `json:"to"`
	Deployments []impact.Result `json:"deployments"`
	Flagged     int             `json:"flagged"`
	Apdex       []impact.Apdex  `json:"apdex"`
	Warnings    []string        `json:"warnings"`
}

// Impact reads the stored impact of the production deployments of scope
// that finished in period, and the Apdex of its services over it. With
// explain, each result keeps its minute figures. It reads only: a
// deployment the job has not assessed yet is counted in a warning.
func (r *Reader) Impact(ctx context.Context, scope store.Scope, period delivery.Period, explain bool) (ImpactReport, error) {
	rep := ImpactReport{From: period.From, To: period.To, Deployments: []impact.Result{}, Apdex: []impact.Apdex{}, Warnings: []string{}}
	var in func(string) bool
	if scope.Service != "" || scope.Team != "" {
		services, err := r.Store.ScopeServices(ctx, scope)
		if err != nil {
			return rep, err
		}
		in = func(s string) bool { return slices.Contains(services, s) }
	} else {
		in = func(string) bool { return true }
	}
	stored, err := r.Store.DeploymentImpacts(ctx, scope.Service, period.From, period.To, false)
	if err != nil {
		return rep, err
	}
	for _, s := range stored {
		if !in(s.Deployment.Service) {
			continue
		}
		var res impact.Result
		if err := json.Unmarshal(s.Result, &res); err != nil {
			return rep, fmt.Errorf("impact of %s: %w", s.Deployment, err)
		}
		if !explain {
			res.Minutes = nil
		}
		if res.Flagged {
			rep.Flagged++
		}
		rep.Deployments = append(rep.Deployments, res)
	}
	cands, err := r.Store.ImpactCandidates(ctx, period.From, period.To)
	if err != nil {
		return rep, err
	}
	pending := 0
	for _, c := range cands {
		if in(c.Deployment.Service) && c.ComputedAt.IsZero() {
			pending++
		}
	}
	if pending > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d successful production deployments in the period are not assessed: "+
			"the impact job of a running `stride serve` assesses each once the window after it has passed (30 minutes by default) "+
			"and within 3 days of its finish; an older one (imported history, or one that finished while Stride was not running) "+
			"stays unassessed, since its SLI minutes are rolled up into hours after 4 days", pending))
	}
	totals, err := r.Store.ApdexTotals(ctx, scope.Service, period.From, period.To)
	if err != nil {
		return rep, err
	}
	perService := map[string]int{}
	for _, t := range totals {
		if in(t.Service) {
			perService[t.Service]++
		}
	}
	for _, t := range totals {
		if !in(t.Service) {
			continue
		}
		a := impact.NewApdex(t.Service, t.Threshold, impact.ApdexCounts{Satisfied: t.Satisfied, Tolerating: t.Tolerating, Total: t.Total})
		if perService[t.Service] > 1 {
			a.Note = fmt.Sprintf("the period's counts of %s were taken against %d different T; each is scored on its own", t.Service, perService[t.Service])
		}
		rep.Apdex = append(rep.Apdex, a)
	}
	return rep, nil
}

// causeCandidates adds to each incident the flagged deployments of its
// service that finished within its cause window before it opened, with
// their evidence in words: a deployment that raised the error rate or
// latency shortly before an incident is a suspect, whichever deployment
// the cause rule linked.
func (r *Reader) causeCandidates(ctx context.Context, links []dora.IncidentLink) error {
	if len(links) == 0 {
		return nil
	}
	from, to := links[0].Incident.OpenedAt, links[0].Incident.OpenedAt
	for _, l := range links {
		w := r.causeWindow(l.Incident.Service)
		if w <= 0 {
			w = delivery.DefaultCauseWindow
		}
		from = minTime(from, l.Incident.OpenedAt.Add(-w))
		to = maxTime(to, l.Incident.OpenedAt)
	}
	flagged, err := r.Store.DeploymentImpacts(ctx, "", from, to, true)
	if err != nil || len(flagged) == 0 {
		return err
	}
	results := make([]impact.Result, len(flagged))
	for i, f := range flagged {
		if err := json.Unmarshal(f.Result, &results[i]); err != nil {
			return fmt.Errorf("impact of %s: %w", f.Deployment, err)
		}
	}
	for i := range links {
		l := &links[i]
		w := r.causeWindow(l.Incident.Service)
		if w <= 0 {
			w = delivery.DefaultCauseWindow
		}
		for _, res := range results {
			if res.Service != l.Incident.Service || !res.FinishedAt.Before(l.Incident.OpenedAt) || l.Incident.OpenedAt.Sub(res.FinishedAt) > w {
				continue
			}
			l.Candidates = append(l.Candidates, dora.CandidateCause{Deployment: res.Key(), Evidence: res.Summary()})
		}
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// OnlyDeployment keeps the result of one deployment id in rep, and its
// count of flagged ones.
func OnlyDeployment(rep ImpactReport, id string) ImpactReport {
	var kept []impact.Result
	rep.Flagged = 0
	for _, d := range rep.Deployments {
		if d.Deployment == id {
			kept = append(kept, d)
			if d.Flagged {
				rep.Flagged++
			}
		}
	}
	rep.Deployments = append([]impact.Result{}, kept...)
	return rep
}
