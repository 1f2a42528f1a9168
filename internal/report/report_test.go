package report_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday

// period covers the whole of staleHistory.
var period = delivery.Period{From: t0, To: t0.Add(24 * time.Hour)}

func ingest(t *testing.T, db *store.DB, events ...delivery.Event) {
	t.Helper()
	if _, err := intake.New(db, nil).Events(context.Background(), "api", events); err != nil {
		t.Fatalf("ingest: %v", err)
	}
}

func change(sha string, h int, parents ...string) delivery.Event {
	return delivery.Event{Key: "c:" + sha, Kind: delivery.KindChange,
		Change: &delivery.Change{Repository: "app", SHA: sha, Parents: parents, CommitTime: t0.Add(time.Duration(h) * time.Hour)}}
}

func deploy(id, sha string, h int) delivery.Event {
	return delivery.Event{Key: "d:" + id, Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
		Service: "app", ID: id, SHA: sha, Repository: "app", Status: delivery.DeploymentSuccess, FinishedAt: t0.Add(time.Duration(h) * time.Hour)}}
}

// staleHistory stores, through a normal handle, a service app of team core
// whose shipments were computed after its first deployment and not since:
//
//	c1 (0h) ← c2 (1h) ← c3 (3h)
//	d1 ships c1 at 2h (refreshed); d2 ships c2 and c3 at 4h (stale)
//
// with pull request #1 merged at 3h as c3, an incident opened at 5h that
// no report gave a severity, resolved at 6h, and a story resolved at 7h.
func staleHistory(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	if err := db.SetService(ctx, delivery.Service{Name: "app", Team: "core", Repositories: []string{"app"}}, nil); err != nil {
		t.Fatal(err)
	}
	ingest(t, db, change("c1", 0), change("c2", 1, "c1"), deploy("d1", "c1", 2))
	if _, err := db.RefreshShipments(ctx); err != nil {
		t.Fatal(err)
	}
	points := 3.0
	ingest(t, db, change("c3", 3, "c2"), deploy("d2", "c3", 4),
		delivery.Event{Key: "pr:1", Kind: delivery.KindPullRequest, PullRequest: &delivery.PullRequest{
			Repository: "app", Number: 1, Title: "feature", Author: "ana", State: delivery.PullRequestMerged,
			CreatedAt: t0.Add(90 * time.Minute), MergedAt: t0.Add(3 * time.Hour), MergeSHA: "c3", Commits: []string{"c2"}}},
		delivery.Event{Key: "i:1", Kind: delivery.KindIncident, Incident: &delivery.Incident{
			Service: "app", ID: "INC-1", Severity: delivery.SeverityUnknown, OpenedAt: t0.Add(5 * time.Hour), ResolvedAt: t0.Add(6 * time.Hour)}},
		delivery.Event{Key: "w:1", Kind: delivery.KindWorkItem, WorkItem: &delivery.WorkItem{
			Tracker: "jira", Key: "CORE-1", Team: "core", Type: "story", Category: delivery.CategoryDone, StoryPoints: &points,
			CreatedAt: t0, ResolvedAt: t0.Add(7 * time.Hour)}},
	)
}

// TestReportsReadWithoutWriting runs every report on a read-only handle
// over stale data with no Fresh hook: each succeeds (a write, such as a
// refresh, would fail on that handle), leaves the data stale, and says so.
func TestReportsReadWithoutWriting(t *testing.T) {
	ctx := context.Background()
	for name, url := range storetest.URLs(t) {
		t.Run(name, func(t *testing.T) {
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			staleHistory(t, db)
			ro, err := store.OpenReadOnly(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			// The handle really refuses writes.
			if _, err := ro.RefreshShipments(ctx); err == nil {
				t.Fatal("a refresh through the read-only handle succeeded")
			}
			if err := ro.SetService(ctx, delivery.Service{Name: "app", Team: "other"}, nil); err == nil {
				t.Fatal("a write through the read-only handle succeeded")
			}

			r := &report.Reader{Store: ro}
			scope := store.Scope{Service: "app"}
			stale := func(t *testing.T, what string, warnings []string) {
				t.Helper()
				if len(warnings) != 1 || !strings.Contains(warnings[0], "service app has") || !strings.Contains(warnings[0], "stride serve") {
					t.Errorf("%s warnings %q, want one naming app as stale and what refreshes it", what, warnings)
				}
			}

			d, err := r.DORA(ctx, scope, period, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Read as stored: d2 is counted as a deployment, but what it
			// shipped is not yet assigned, so lead time has c1 only (2h).
			if d.DeploymentFrequency.Count != 2 || d.LeadTime.Count != 1 || d.LeadTime.MedianSeconds == nil || *d.LeadTime.MedianSeconds != 7200 {
				t.Errorf("stale DORA: %d deployments, lead time %+v; want 2 and one change of 2h", d.DeploymentFrequency.Count, d.LeadTime)
			}
			var messages []string
			for _, w := range d.Warnings {
				if w.Code == report.StaleCode {
					messages = append(messages, w.Message)
				}
			}
			stale(t, "DORA", messages)

			e, err := r.DORAExplain(ctx, scope, period, "time_to_restore")
			if err != nil {
				t.Fatal(err)
			}
			stale(t, "DORA explain", e.Warnings)
			// The cause is inferred from deployments, which are facts, not
			// derived data: d2, the latest success before 5h.
			if len(e.Incidents) != 1 || e.Incidents[0].Deployment != "app/production/d2" || e.Incidents[0].Link != "inferred" {
				t.Errorf("incidents %+v, want INC-1 inferred from d2", e.Incidents)
			}

			f, err := r.Flow(ctx, scope, period)
			if err != nil {
				t.Fatal(err)
			}
			if f.DeployTime != nil {
				t.Errorf("stale flow: deploy time %+v, want none (c3 not yet assigned to d2)", f.DeployTime)
			}
			messages = nil
			for _, w := range f.Warnings {
				if w.Figure == "" {
					messages = append(messages, w.Message)
				}
			}
			stale(t, "flow", messages)

			fe, err := r.FlowExplain(ctx, scope, period, "cycle_time_to_merge")
			if err != nil {
				t.Fatal(err)
			}
			stale(t, "flow explain", fe.Warnings)

			// Planning reads work items only: stale shipments cannot touch
			// it, so it has nothing to warn of.
			p, err := r.Planning(ctx, "core", period, 0)
			if err != nil {
				t.Fatal(err)
			}
			if p.StoryPointCoverage.Resolved != 1 || p.StoryPointCoverage.Estimated != 1 || len(p.Warnings) != 0 {
				t.Errorf("planning %+v, want the one estimated story and no warning", p)
			}

			if s, err := ro.StaleServices(ctx); err != nil || !slices.Equal(s, []string{"app"}) {
				t.Errorf("after the reports, stale services %v, %v; want still [app]", s, err)
			}
		})
	}
}

// TestReportsCallFreshWhenStale shows the hook is called only when a
// service in scope is stale, and that the report reads what it brought up
// to date.
func TestReportsCallFreshWhenStale(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		staleHistory(t, db)
		calls := 0
		r := &report.Reader{Store: db, Fresh: func(ctx context.Context) error {
			calls++
			return storetest.Fresh(db)(ctx)
		}}
		d, err := r.DORA(ctx, store.Scope{Team: "core"}, period, nil)
		if err != nil {
			t.Fatal(err)
		}
		// c1 2h, c2 3h, c3 1h: the median is 2h.
		if calls != 1 || d.LeadTime.Count != 3 || d.LeadTime.MedianSeconds == nil || *d.LeadTime.MedianSeconds != 7200 {
			t.Errorf("%d calls, lead time %+v; want 1 call and three changes, median 2h", calls, d.LeadTime)
		}
		for _, w := range d.Warnings {
			if w.Code == report.StaleCode {
				t.Errorf("warning %+v after the refresh", w)
			}
		}
		f, err := r.Flow(ctx, store.Scope{Service: "app"}, period)
		if err != nil {
			t.Fatal(err)
		}
		// Merged at 3h, shipped by d2 at 4h; nothing stale any more.
		if calls != 1 || f.DeployTime == nil || f.DeployTime.Count != 1 || f.DeployTime.MedianSeconds != 3600 {
			t.Errorf("%d calls, deploy time %+v; want still 1 call and one pull request of 1h", calls, f.DeployTime)
		}
	})
}

// TestIncidentCauseWindow: the window bounds inference; the default
// infers whatever the distance.
func TestIncidentCauseWindow(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		staleHistory(t, db)
		for _, tt := range []struct {
			window time.Duration
			link   string
		}{{0, "inferred"}, {time.Hour, "inferred"}, {59 * time.Minute, "none"}} {
			r := &report.Reader{Store: db, Fresh: storetest.Fresh(db), CauseWindow: tt.window}
			e, err := r.DORAExplain(ctx, store.Scope{Service: "app"}, period, "time_to_restore")
			if err != nil {
				t.Fatal(err)
			}
			// d2 finished at 4h, the incident opened at 5h.
			if len(e.Incidents) != 1 || e.Incidents[0].Link != tt.link {
				t.Errorf("window %v: incidents %+v, want link %s", tt.window, e.Incidents, tt.link)
			}
		}
	})
}

// TestSeverityIsStoredAsReported: an incident no report gave a severity is
// stored as unknown and counts as severity 2; a reported severity, even an
// older report, outranks it.
func TestSeverityIsStoredAsReported(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		staleHistory(t, db)
		open := func() delivery.Incident {
			t.Helper()
			ingest(t, db, delivery.Event{Key: "i:open", Kind: delivery.KindIncident, Incident: &delivery.Incident{
				Service: "app", ID: "INC-2", Severity: delivery.SeverityUnknown, OpenedAt: t0.Add(8 * time.Hour), UpdatedAt: t0.Add(9 * time.Hour)}})
			in, err := db.OpenIncidents(ctx, "app")
			if err != nil || len(in) != 1 {
				t.Fatalf("open incidents %+v, %v", in, err)
			}
			return in[0]
		}
		if in := open(); in.Severity != delivery.SeverityUnknown || in.SeverityOrDefault() != 2 {
			t.Errorf("stored severity %d (counts as %d), want unknown counting as 2", in.Severity, in.SeverityOrDefault())
		}
		ingest(t, db, delivery.Event{Key: "i:sev1", Kind: delivery.KindIncident, Incident: &delivery.Incident{
			Service: "app", ID: "INC-2", Severity: 1, OpenedAt: t0.Add(8 * time.Hour), UpdatedAt: t0.Add(8 * time.Hour)}})
		if in := open(); in.Severity != 1 {
			t.Errorf("stored severity %d after a report of 1, want 1", in.Severity)
		}
	})
}

// The report's incident carries the default, as before the store kept
// unknown severities.
func TestDORAIncidentsCountUnknownSeverityAsTheDefault(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		staleHistory(t, db)
		in, err := (&report.Reader{Store: db, Fresh: storetest.Fresh(db)}).DORAInput(context.Background(), store.Scope{Service: "app"}, period)
		if err != nil {
			t.Fatal(err)
		}
		d2 := delivery.DeploymentKey{Service: "app", Environment: delivery.EnvironmentProduction, ID: "d2"}
		if len(in.Incidents) != 1 || in.Incidents[0].Incident.Severity != 2 || in.Incidents[0].Deployment == nil || *in.Incidents[0].Deployment != d2 || !in.Incidents[0].Inferred {
			t.Errorf("incidents %+v, want INC-1 of severity 2 inferred from d2", in.Incidents)
		}
	})
}
