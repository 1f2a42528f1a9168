package sloeval_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/sloeval"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

var (
	ctx = context.Background()
	now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
)

const availability = `apiVersion: openslo/v1
kind: SLO
metadata: {name: api-availability}
spec:
  service: api
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: stride}}
        total: {metricSource: {type: stride}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
`

func apply(t *testing.T, db *store.DB, yaml string) *intake.Intake {
	t.Helper()
	defs, err := slo.ParseOpenSLO(strings.NewReader(yaml))
	if err != nil {
		t.Fatal(err)
	}
	in := intake.New(db, nil)
	if _, err := in.SLOs(ctx, defs); err != nil {
		t.Fatal(err)
	}
	return in
}

// minutes pushes n minutes from start at 1,000 calls, good of them good.
func minutes(t *testing.T, in *intake.Intake, name string, start time.Time, n int, good int64) {
	t.Helper()
	var ps []slo.Push
	for i := range n {
		s := start.Add(time.Duration(i) * time.Minute)
		ps = append(ps, slo.Push{SLO: name, Start: s, End: s.Add(time.Minute), Good: good, Total: 1000})
	}
	if _, err := in.SLI(ctx, ps); err != nil {
		t.Fatal(err)
	}
}

func kinds(as []store.SLOAlert) map[string]int {
	out := map[string]int{}
	for _, a := range as {
		out[a.Kind+" "+a.Alert]++
	}
	return out
}

// TestEvaluationJob runs the job at three moments of an injected clock:
// a burn starts, goes on, and its short window recovers.
func TestEvaluationJob(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		db.Now = func() time.Time { return now.Add(-13 * 24 * time.Hour) }
		in := apply(t, db, availability)
		// An hour 5 days ago, inside maintenance announced 13 days ago, 8 days ahead
		// (scheduled): rolled up into an hour and left out of the SLI.
		old := now.Add(-5 * 24 * time.Hour)
		if _, err := in.Maintenance(ctx, slo.Maintenance{Service: "api", From: old, To: old.Add(time.Hour), Reason: "upgrade"}); err != nil {
			t.Fatal(err)
		}
		minutes(t, in, "api-availability", old, 60, 0)
		// Two hours of 1,000 calls a minute; the last hour loses 2 %.
		minutes(t, in, "api-availability", now.Add(-2*time.Hour), 60, 1000)
		minutes(t, in, "api-availability", now.Add(-time.Hour), 60, 980)

		clock := now
		e := &sloeval.Evaluator{DB: db, Now: func() time.Time { return clock }}
		var handed []slo.Transition
		e.OnAlert = func(ts []slo.Transition) { handed = append(handed, ts...) }
		if err := e.Run(ctx); err != nil {
			t.Fatal(err)
		}
		// 1,200 bad of 120,000 calls: 1 % against a 0.1 % budget burns 10×
		// over every window of 6 h or more, 20× over 1 h and shorter: all
		// four pairs fire. The budget is 120 calls; 1,200 spent it ten
		// times over: 1 − 1200/120 = −9, frozen.
		as, err := db.SLOAlerts(ctx, "api", time.Time{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"fired page-1h-5m": 1, "fired page-6h-30m": 1, "fired ticket-1d-2h": 1, "fired ticket-3d-6h": 1}
		if got := kinds(as); !equal(got, want) {
			t.Fatalf("after the first run alerts %v, want %v", got, want)
		}
		if len(handed) != 4 {
			t.Errorf("%d transitions handed to the notifier, want 4", len(handed))
		}
		rs, err := sloeval.Reports(ctx, db, "api")
		if err != nil || len(rs) != 1 {
			t.Fatalf("reports %v, %v", rs, err)
		}
		r := rs[0]
		if r.Good != 118800 || r.Total != 120000 || r.BudgetRemaining != -9 || !r.Frozen || len(r.Alerts) != 4 {
			t.Errorf("report %d/%d remaining %v frozen %v alerts %d; want 118800/120000, -9, frozen, 4", r.Good, r.Total, r.BudgetRemaining, r.Frozen, len(r.Alerts))
		}
		if len(r.Maintenance) != 1 || !r.Maintenance[0].Scheduled {
			t.Errorf("maintenance in the report %+v, want the scheduled window", r.Maintenance)
		}
		// The old hour is rolled up: one hourly bucket, its calls left out.
		bs, _ := db.SLIBuckets(ctx, "api-availability", old, old.Add(time.Hour))
		if len(bs) != 1 || bs[0].Width != time.Hour || bs[0].Total != 0 || bs[0].LeftTotal != 60000 {
			t.Errorf("rolled-up hour %+v, want one hour with 60,000 calls left out", bs)
		}
		f, err := sloeval.Freeze(ctx, db, "api")
		if err != nil || !f.Known || !f.Frozen || len(f.SLOs) != 1 {
			t.Errorf("freeze %+v, %v", f, err)
		}

		// A minute later, nothing new: every alert keeps firing, none fires
		// again.
		clock = now.Add(time.Minute)
		if err := e.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if as, _ := db.SLOAlerts(ctx, "api", time.Time{}, 100); len(as) != 4 {
			t.Errorf("after a second run %d alerts, want still 4: %v", len(as), kinds(as))
		}

		// Ten good minutes: the 5-minute window is clean, so the 1 h pair
		// resolves; the 30-minute window still burns 400/30,000 = 13.3× > 6.
		minutes(t, in, "api-availability", now, 10, 1000)
		clock = now.Add(10 * time.Minute)
		if err := e.Run(ctx); err != nil {
			t.Fatal(err)
		}
		as, _ = db.SLOAlerts(ctx, "api", now.Add(time.Minute), 100)
		if len(as) != 1 || as[0].Kind != slo.Resolved || as[0].Alert != "page-1h-5m" || !as[0].Since.Equal(now) || !as[0].At.Equal(now.Add(10*time.Minute)) {
			t.Errorf("after recovery %+v, want page-1h-5m resolved at 12:10, since 12:00", as)
		}
		if len(handed) != 5 {
			t.Errorf("%d transitions handed to the notifier, want 5", len(handed))
		}
	})
}

func TestEvaluationOfAnSLOWithoutData(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		apply(t, db, availability)
		if err := sloeval.Task(db, func() time.Time { return now }).Run(ctx); err != nil {
			t.Fatal(err)
		}
		rs, _ := sloeval.Reports(ctx, db, "")
		// No calls: the SLI is unknown, the budget counted as full.
		if len(rs) != 1 || rs[0].SLI != nil || rs[0].BudgetRemaining != 1 || rs[0].Frozen || len(rs[0].Alerts) != 0 {
			t.Fatalf("reports %+v", rs)
		}
		if f := slo.FreezeOf("api", rs); !f.Known || f.Frozen {
			t.Errorf("freeze %+v, want known and not frozen", f)
		}
	})
}

func equal(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestMaintenanceAnnouncedLateStillCounts: a window announced less than 7
// days ahead is reported, with a warning, but its calls count; one
// announced 8 days ahead is left out.
func TestMaintenanceAnnouncedLateStillCounts(t *testing.T) {
	tests := []struct {
		name      string
		ahead     time.Duration
		scheduled bool
		total     int64
	}{
		{"a day ahead: counts", 24 * time.Hour, false, 120000},
		{"8 days ahead: left out", 8 * 24 * time.Hour, true, 60000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				window := now.Add(-time.Hour)
				db.Now = func() time.Time { return window.Add(-tt.ahead) }
				in := apply(t, db, availability)
				if _, err := in.Maintenance(ctx, slo.Maintenance{Service: "api", From: window, To: now, Reason: "failover drill"}); err != nil {
					t.Fatal(err)
				}
				minutes(t, in, "api-availability", now.Add(-2*time.Hour), 60, 1000)
				minutes(t, in, "api-availability", window, 60, 0) // the drill fails every call
				if err := sloeval.Task(db, func() time.Time { return now }).Run(ctx); err != nil {
					t.Fatal(err)
				}
				rs, _ := sloeval.Reports(ctx, db, "api")
				if len(rs) != 1 {
					t.Fatalf("reports %+v", rs)
				}
				r := rs[0]
				if r.Total != tt.total || len(r.Maintenance) != 1 || r.Maintenance[0].Scheduled != tt.scheduled || r.Frozen == tt.scheduled {
					t.Errorf("total %d, maintenance %+v, frozen %v; want total %d, scheduled %v", r.Total, r.Maintenance, r.Frozen, tt.total, tt.scheduled)
				}
				warned := false
				for _, w := range r.Warnings {
					warned = warned || strings.Contains(w, "less than 7 days")
				}
				if warned == tt.scheduled {
					t.Errorf("warnings %q; want a late-announcement warning only when not scheduled", r.Warnings)
				}
			})
		})
	}
}
