package report_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

func warningOf(r dora.Report, code string) (dora.Warning, bool) {
	for _, w := range r.Warnings {
		if w.Code == code {
			return w, true
		}
	}
	return dora.Warning{}, false
}

// apiHistory is service api, configured with repository acme/api:
//
//	acme/api: c1 (0h) ← c2 (1h)
//	d1 at 3h, sent without a repository, of c2: ships c2 (the first
//	deployment ships its own commit only)
//	d2 at 4h, of acme/api's zzz, a commit never reported
//	d3 at 5h, sent without a repository, of yyy, in no repository
//
// No incident and no failed deployment was ever reported.
func apiHistory(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	if err := db.SetService(ctx, delivery.Service{Name: "api", Repositories: []string{"acme/api"}}, nil); err != nil {
		t.Fatal(err)
	}
	change := func(sha string, h int, parents ...string) delivery.Event {
		return delivery.Event{Key: "c:" + sha, Kind: delivery.KindChange,
			Change: &delivery.Change{Repository: "acme/api", SHA: sha, Parents: parents, CommitTime: t0.Add(time.Duration(h) * time.Hour)}}
	}
	deploy := func(id, repo, sha string, h int) delivery.Event {
		return delivery.Event{Key: "d:" + id, Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
			Service: "api", ID: id, SHA: sha, Repository: repo, Status: delivery.DeploymentSuccess, FinishedAt: t0.Add(time.Duration(h) * time.Hour)}}
	}
	ingest(t, db, change("c1", 0), change("c2", 1, "c1"),
		deploy("d1", "", "c2", 3), deploy("d2", "acme/api", "zzz", 4), deploy("d3", "", "yyy", 5))
}

func TestDeploymentsOfUnknownCommitsAreNamed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		apiHistory(t, db)
		r := &report.Reader{Store: db, Fresh: storetest.Fresh(db)}
		rep, err := r.DORA(ctx, store.Scope{Service: "api"}, period, nil)
		if err != nil {
			t.Fatal(err)
		}
		// d1 ships c2 (1h → 3h: 2h) through acme/api although it was sent
		// without a repository (as repository api it would ship nothing).
		if rep.LeadTime.Count != 1 || rep.LeadTime.Deployments != 1 || rep.LeadTime.MedianSeconds == nil || *rep.LeadTime.MedianSeconds != 2*3600 {
			t.Errorf("lead time %+v; want c2 shipped by d1, 2h", rep.LeadTime)
		}
		if rep.DeploymentFrequency.Count != 3 {
			t.Errorf("deployments %d, want 3", rep.DeploymentFrequency.Count)
		}
		w, ok := warningOf(rep, report.UnknownCommitCode)
		if !ok || w.Count != 2 {
			t.Fatalf("warnings %+v; want unknown_commit for d2 and d3", rep.Warnings)
		}
		for _, want := range []string{
			"deployment api/production/d2 (commit zzz of acme/api) ships nothing and has no lead time, because Stride was never told of its commit",
			"import the repository with `stride import git`, add its branch to `release_branches`, or enable the collector",
			"deployment api/production/d3 (commit yyy of api) was sent without a repository, and none of the service's repositories (acme/api) holds its commit",
		} {
			if !strings.Contains(w.Message, want) {
				t.Errorf("warning %q lacks %q", w.Message, want)
			}
		}
		if strings.Contains(w.Message, "d1") {
			t.Errorf("warning %q names d1, whose commit is known", w.Message)
		}
		e, err := r.DORAExplain(ctx, store.Scope{Service: "api"}, period, "lead_time")
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Warnings) != 1 || e.Warnings[0] != w.Message {
			t.Errorf("explain warnings %q; want the report's %q", e.Warnings, w.Message)
		}

		// Once zzz (2h) is reported as a child of c2, d2 (4h) ships it, lead
		// times are 2h and 2h, and only d3 is left named.
		ingest(t, db, delivery.Event{Key: "c:zzz", Kind: delivery.KindChange,
			Change: &delivery.Change{Repository: "acme/api", SHA: "zzz", Parents: []string{"c2"}, CommitTime: t0.Add(2 * time.Hour)}})
		if rep, err = r.DORA(ctx, store.Scope{Service: "api"}, period, nil); err != nil {
			t.Fatal(err)
		}
		if w, ok := warningOf(rep, report.UnknownCommitCode); !ok || w.Count != 1 || strings.Contains(w.Message, "d2") {
			t.Errorf("after zzz arrived: %+v; want d3 alone", rep.Warnings)
		}
		if rep.LeadTime.Count != 2 || *rep.LeadTime.MedianSeconds != 2*3600 {
			t.Errorf("after zzz arrived: lead time %+v; want c2 and zzz, 2h each", rep.LeadTime)
		}
	})
}

func TestFailureAndDeploymentSourcesDecideZeroOrUnknown(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		apiHistory(t, db)
		// Service quiet exists (configured) but never reported anything.
		if err := db.SetService(ctx, delivery.Service{Name: "quiet", Repositories: []string{"acme/quiet"}}, nil); err != nil {
			t.Fatal(err)
		}
		r := &report.Reader{Store: db, Fresh: storetest.Fresh(db)}

		// api in its day: 3 of 3 succeeded, no failure source, so 0 %
		// without a tier, and the overall tier is partial.
		rep, err := r.DORA(ctx, store.Scope{Service: "api"}, period, nil)
		if err != nil {
			t.Fatal(err)
		}
		cfr := rep.ChangeFailureRate
		if cfr.Ratio == nil || *cfr.Ratio != 0 || cfr.Deployments != 3 || cfr.Tier != nil {
			t.Errorf("change failure rate %+v; want 0 of 3 without a tier", cfr)
		}
		if _, ok := warningOf(rep, "no_failure_data"); !ok || !rep.TierPartial {
			t.Errorf("warnings %+v, partial %v; want no_failure_data and a partial tier", rep.Warnings, rep.TierPartial)
		}

		// The next week, api deployed nothing: a fact, 0 and low.
		next := delivery.Period{From: t0.Add(7 * 24 * time.Hour), To: t0.Add(14 * 24 * time.Hour)}
		rep, err = r.DORA(ctx, store.Scope{Service: "api"}, next, nil)
		if err != nil {
			t.Fatal(err)
		}
		df := rep.DeploymentFrequency
		if df.Count != 0 || df.PerWeek == nil || *df.PerWeek != 0 || df.Tier == nil || *df.Tier != dora.TierLow {
			t.Errorf("a week without deployments: %+v; want 0 a week, low", df)
		}

		// quiet never reported a deployment: null, and a warning says why.
		rep, err = r.DORA(ctx, store.Scope{Service: "quiet"}, period, nil)
		if err != nil {
			t.Fatal(err)
		}
		if df := rep.DeploymentFrequency; df.PerWeek != nil || df.Tier != nil {
			t.Errorf("a service without a deployment source: %+v; want null", df)
		}
		if _, ok := warningOf(rep, "no_deployment_source"); !ok {
			t.Errorf("warnings %+v; want no_deployment_source", rep.Warnings)
		}

		// A failed deployment, once reported, is failure data: api's day
		// now has 1 of 4 failed, and a tier (25 % is low).
		ingest(t, db, delivery.Event{Key: "d:f1", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
			Service: "api", ID: "f1", Status: delivery.DeploymentFailure, FinishedAt: t0.Add(6 * time.Hour)}})
		if rep, err = r.DORA(ctx, store.Scope{Service: "api"}, period, nil); err != nil {
			t.Fatal(err)
		}
		if cfr := rep.ChangeFailureRate; cfr.Failed != 1 || cfr.Deployments != 4 || cfr.Tier == nil || *cfr.Tier != dora.TierLow {
			t.Errorf("after a failure: %+v; want 1 of 4, low", cfr)
		}
	})
}

func TestIncidentCauseWindowPerServiceAndAnExplicitNone(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
		deploy := func(service, id string, h int) delivery.Event {
			return delivery.Event{Key: "d:" + service + id, Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
				Service: service, ID: id, SHA: "s" + id, Status: delivery.DeploymentSuccess, FinishedAt: at(h)}}
		}
		incident := func(service, id string, h int, cause string) delivery.Event {
			return delivery.Event{Key: "i:" + service + id, Kind: delivery.KindIncident, Incident: &delivery.Incident{
				Service: service, ID: id, Severity: 2, OpenedAt: at(h), ResolvedAt: at(h + 1), CauseDeployment: cause}}
		}
		// api (window 24h, the default): d1 at 0h, d2 at 10h.
		//   A opens at 12h: d2 finished 2h before → inferred.
		//   B opens at 40h: d2 finished 30h before → beyond 24h, none.
		//   C opens at 11h, its source says "none" → none, though d2 is 1h before.
		// batch (window 72h): e1 at 0h; D opens at 30h → inferred from e1.
		ingest(t, db, deploy("api", "1", 0), deploy("api", "2", 10), deploy("batch", "1", 0),
			incident("api", "A", 12, ""), incident("api", "B", 40, ""), incident("api", "C", 11, delivery.NoCause), incident("batch", "D", 30, ""))
		r := &report.Reader{Store: db, Fresh: storetest.Fresh(db), CauseWindow: delivery.DefaultCauseWindow,
			CauseWindows: map[string]time.Duration{"batch": 72 * time.Hour}}
		week := delivery.Period{From: t0, To: t0.Add(7 * 24 * time.Hour)}

		e, err := r.DORAExplain(ctx, store.Scope{Service: "api"}, week, "change_failure_rate")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]struct{ link, rule, dep string }{
			"A": {"inferred", "inferred: the latest successful production deployment before it opened, within the 24h incident cause window", "api/production/2"},
			"B": {"none", "none: the latest deployment before it finished 1d 6h before it opened, beyond the 24h incident cause window", ""},
			"C": {"none", "none: the source said no deployment caused it", ""},
		}
		if len(e.Incidents) != 3 {
			t.Fatalf("incidents %+v, want A, B and C", e.Incidents)
		}
		for _, i := range e.Incidents {
			w := want[i.ID]
			if i.Link != w.link || i.Rule != w.rule || i.Deployment != w.dep {
				t.Errorf("incident %s: link %q rule %q deployment %q; want %q %q %q", i.ID, i.Link, i.Rule, i.Deployment, w.link, w.rule, w.dep)
			}
		}
		// Only d2 failed (A): 1 of 2. B raises the window warning; C none.
		rep, err := r.DORA(ctx, store.Scope{Service: "api"}, week, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfr := rep.ChangeFailureRate; cfr.Failed != 1 || cfr.Deployments != 2 {
			t.Errorf("change failure rate %+v, want 1 of 2", cfr)
		}
		if w, ok := warningOf(rep, "incident_outside_cause_window"); !ok || w.Count != 1 || !strings.Contains(w.Message, "incident_cause_window") {
			t.Errorf("warnings %+v; want one incident outside the cause window, saying what to do", rep.Warnings)
		}
		if _, ok := warningOf(rep, "unlinked_incident"); ok {
			t.Errorf("warnings %+v: an incident the source said no deployment caused is not a data problem", rep.Warnings)
		}

		e, err = r.DORAExplain(ctx, store.Scope{Service: "batch"}, week, "change_failure_rate")
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Incidents) != 1 || e.Incidents[0].Link != "inferred" || !strings.Contains(e.Incidents[0].Rule, "within the 72h incident cause window") {
			t.Errorf("batch incidents %+v; want D inferred within 72h", e.Incidents)
		}
	})
}

// TestACommitArrivingInAConfiguredRepositoryRefreshesItsService: web's only
// deployment w1 was sent without a repository, of commit w (unknown at
// first); once w is reported in acme/web, web's shipments are recomputed and
// w1 ships it (its own commit: the first deployment), so the warning goes.
func TestACommitArrivingInAConfiguredRepositoryRefreshesItsService(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if err := db.SetService(ctx, delivery.Service{Name: "web", Repositories: []string{"acme/web"}}, nil); err != nil {
			t.Fatal(err)
		}
		ingest(t, db, delivery.Event{Key: "d:w1", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
			Service: "web", ID: "w1", SHA: "w", Status: delivery.DeploymentSuccess, FinishedAt: t0.Add(3 * time.Hour)}})
		r := &report.Reader{Store: db, Fresh: storetest.Fresh(db)}
		rep, err := r.DORA(ctx, store.Scope{Service: "web"}, period, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := warningOf(rep, report.UnknownCommitCode); !ok || rep.LeadTime.Count != 0 {
			t.Fatalf("before w: warnings %+v, lead time %+v; want w1 named and no change", rep.Warnings, rep.LeadTime)
		}
		ingest(t, db, delivery.Event{Key: "c:w", Kind: delivery.KindChange,
			Change: &delivery.Change{Repository: "acme/web", SHA: "w", CommitTime: t0.Add(time.Hour)}})
		if rep, err = r.DORA(ctx, store.Scope{Service: "web"}, period, nil); err != nil {
			t.Fatal(err)
		}
		// w at 1h, w1 at 3h: one change of 2h.
		if _, ok := warningOf(rep, report.UnknownCommitCode); ok || rep.LeadTime.Count != 1 || *rep.LeadTime.MedianSeconds != 2*3600 {
			t.Errorf("after w: warnings %+v, lead time %+v; want no warning and one change of 2h", rep.Warnings, rep.LeadTime)
		}
	})
}

// TestProductionAliasesCountAsProduction: deployments sent to production,
// prod and PRODUCTION are three production deployments (the case
// counted one), with the default aliases.
func TestProductionAliasesCountAsProduction(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i, env := range []string{"production", "prod", "PRODUCTION", "staging"} {
			ingest(t, db, delivery.Event{Key: "d:" + env, Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
				Service: "app", ID: env, SHA: "a", Environment: env, Status: delivery.DeploymentSuccess, FinishedAt: t0.Add(time.Duration(i) * time.Hour)}})
		}
		r := &report.Reader{Store: db, Fresh: storetest.Fresh(db)}
		rep, err := r.DORA(ctx, store.Scope{Service: "app"}, period, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.DeploymentFrequency.Count != 3 {
			t.Errorf("deployment frequency count %d, want 3 (staging is not production)", rep.DeploymentFrequency.Count)
		}
	})
}
