package report_test

import (
	"context"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/cihealth"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

func buildEvent(key, repo, id string, status delivery.BuildStatus, attempt int, start, end time.Duration) delivery.Event {
	b := &delivery.Build{Repository: repo, ID: id, Name: "ci", Branch: "main", Status: status, Attempt: attempt, StartedAt: t0.Add(start)}
	if end > 0 {
		b.FinishedAt = t0.Add(end)
	}
	return delivery.Event{Key: key, Kind: delivery.KindBuild, Build: b}
}

// ciHistory stores service app (team core, repository app) with:
//
//	build 100 ci main: running at 09:00, failed at 09:10 (two reports)   600 s
//	build 101 ci main: a re-run (attempt 2), green at 10:05             not timed
//	build 102 ci main: 11:00–11:20, green                               1200 s
//	build 900 ci main of repository lib (no service of app's): failed
//	c1 committed 10:00, shipped by d1 at 10:10 (600 s)
//	c2 committed 16:55, shipped by d2 at 17:00 (300 s)
//
// Red: 09:10 to 10:05, 3300 s. With core's target of 5 minutes only c2 is
// within; median 450 s. In Berlin (CET, UTC+1) d1 is 11:10, within hours,
// d2 is 18:00, outside (the day ends at 18:00).
func ciHistory(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	if err := db.SetService(ctx, delivery.Service{Name: "app", Team: "core", Repositories: []string{"app"}}, nil); err != nil {
		t.Fatal(err)
	}
	running := buildEvent("b100r", "app", "100", delivery.BuildRunning, 1, 0, 0)
	running.Build.DefaultBranch = "main"
	ingest(t, db,
		buildEvent("b100f", "app", "100", delivery.BuildFailure, 1, 0, 10*time.Minute), running,
		buildEvent("b101", "app", "101", delivery.BuildSuccess, 2, 50*time.Minute, 65*time.Minute),
		buildEvent("b102", "app", "102", delivery.BuildSuccess, 1, 2*time.Hour, 2*time.Hour+20*time.Minute),
		buildEvent("b900", "lib", "900", delivery.BuildFailure, 1, 3*time.Hour, 3*time.Hour+time.Minute),
		change("c1", 1), deploy("d1", "c1", 0),
	)
	// d1 finishes at 10:10, c2 is committed at 16:55 and d2 at 17:00.
	ingest(t, db,
		delivery.Event{Key: "d:d1:10", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{Service: "app", ID: "d1", SHA: "c1", Repository: "app",
			Status: delivery.DeploymentSuccess, FinishedAt: t0.Add(70 * time.Minute), UpdatedAt: t0.Add(70 * time.Minute)}},
		delivery.Event{Key: "c:c2", Kind: delivery.KindChange, Change: &delivery.Change{Repository: "app", SHA: "c2", Parents: []string{"c1"},
			CommitTime: t0.Add(7*time.Hour + 55*time.Minute)}},
		deploy("d2", "c2", 8),
	)
	if _, err := db.RefreshShipments(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestCIReport(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	week := cihealth.DefaultWorkWeek("core")
	week.Location, week.ZoneAssumed = berlin, false
	settings := report.CISettings{TeamTargets: map[string]time.Duration{"core": 5 * time.Minute}, Weeks: map[string]cihealth.WorkWeek{"core": week}}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ciHistory(t, db)
		r := &report.Reader{Store: db, CISettings: settings}
		rep, err := r.CI(context.Background(), store.Scope{Service: "app"}, period)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Pipelines) != 1 {
			t.Fatalf("pipelines %+v; want app's ci only", rep.Pipelines)
		}
		p := rep.Pipelines[0]
		if p.Repository != "app" || p.Builds != 3 || p.Failures != 1 || p.Timed != 2 || *p.MedianSeconds != 900 || *p.P90Seconds != 1200 {
			t.Errorf("pipeline %+v (median %v, p90 %v); want 3 builds, 1 failure, 2 timed, median 900, p90 1200", p, *p.MedianSeconds, *p.P90Seconds)
		}
		if len(rep.Branches) != 1 || rep.Branches[0].RedSeconds != 3300 || rep.Branches[0].Branch != (cihealth.Branch{Name: "main", Source: cihealth.BranchReported}) {
			t.Errorf("branches %+v; want main (reported) red 3300 s", rep.Branches)
		}
		if rr := rep.Reruns; rr.Builds != 3 || rr.Known != 3 || rr.Reruns != 1 {
			t.Errorf("reruns %+v; want 1 of 3", rr)
		}
		c := rep.CommitToProduction
		if c.Changes != 2 || c.WithinTarget != 1 || *c.MedianSeconds != 450 || len(c.Services) != 1 || c.Services[0].TargetSeconds != 300 {
			t.Errorf("commit to production %+v (median %v); want 1 of 2 within 300 s, median 450", c, *c.MedianSeconds)
		}
		hours, err := r.DeployHours(context.Background(), store.Scope{Team: "core"}, period)
		if err != nil {
			t.Fatal(err)
		}
		h := hours.DeployHours
		if len(hours.Warnings) != 0 {
			t.Errorf("deploy hours warnings %+v", hours.Warnings)
		}
		if h.Deployments != 2 || h.OutsideWorkingHours != 1 || h.ByWeekdayHour[0][11] != 1 || h.ByWeekdayHour[0][18] != 1 {
			t.Errorf("deploy hours %+v; want d1 on Monday 11h, d2 on Monday 18h, outside", h)
		}
		for _, w := range rep.Warnings {
			t.Errorf("unexpected warning %s: %s", w.Code, w.Message)
		}

		all, err := r.CI(context.Background(), store.Scope{}, period)
		if err != nil {
			t.Fatal(err)
		}
		if len(all.Pipelines) != 2 || all.Pipelines[1].Repository != "lib" {
			t.Errorf("unscoped pipelines %+v; want app's and lib's", all.Pipelines)
		}
		e, err := r.CIExplain(context.Background(), store.Scope{Service: "app"}, period, "red_time")
		if err != nil || len(e.Builds) != 3 || e.Builds[0].ID != "100" || e.Builds[0].Status != delivery.BuildFailure {
			t.Errorf("explain red_time %+v, %v", e.Builds, err)
		}
	})
}
