package impacteval_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/impact"
	"github.com/stride-oss/stride/internal/impacteval"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

var ctx = context.Background()

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

const apiSLO = `apiVersion: openslo/v1
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

func deploy(t *testing.T, in *intake.Intake, service, id string, finished time.Time) {
	t.Helper()
	ev := delivery.Event{Key: "d:" + service + ":" + id, Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
		Service: service, Environment: "production", ID: id, Status: delivery.DeploymentSuccess, SHA: "abc" + id,
		StartedAt: finished.Add(-5 * time.Minute), FinishedAt: finished}}
	if _, err := in.Events(ctx, "api", []delivery.Event{ev}); err != nil {
		t.Fatal(err)
	}
}

// push stores n minutes of the api service's SLI from start, good of total.
func push(t *testing.T, in *intake.Intake, start time.Time, n int, good, total int64) {
	t.Helper()
	ps := make([]slo.Push, n)
	for i := range ps {
		s := start.Add(time.Duration(i) * time.Minute)
		ps[i] = slo.Push{Service: "api", Start: s, End: s.Add(time.Minute), Good: good, Total: total}
	}
	if _, err := in.SLI(ctx, ps); err != nil {
		t.Fatal(err)
	}
}

func results(t *testing.T, db *store.DB) map[string]impact.Result {
	t.Helper()
	stored, err := db.DeploymentImpacts(ctx, "", time.Unix(0, 0), time.Now().Add(24*time.Hour), false)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]impact.Result{}
	for _, s := range stored {
		var r impact.Result
		if err := json.Unmarshal(s.Result, &r); err != nil {
			t.Fatal(err)
		}
		if r.Flagged != s.Flagged {
			t.Errorf("%s: stored flag %v, result %v", s.Deployment, s.Flagged, r.Flagged)
		}
		out[s.Deployment.Service+"/"+s.Deployment.ID] = r
	}
	return out
}

func rate(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// TestJobFromSLIMinutes assesses deployments from pushed SLI minutes on
// both databases, and checks the job waits for the window after a
// deployment, reassesses it while late minutes may come, and then stops.
func TestJobFromSLIMinutes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		in := intake.New(db, nil)
		defs, err := slo.ParseOpenSLO(strings.NewReader(apiSLO))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := in.SLOs(ctx, defs); err != nil {
			t.Fatal(err)
		}
		// api d1 finishes at 12:00. Before (11:30–12:00): 30 minutes of
		// 999 good of 1,000, 30 of 30,000 failed (0.1 %). After
		// (12:00–12:30): 970 of 1,000, 900 of 30,000 failed (3 %).
		push(t, in, t0.Add(-30*time.Minute), 30, 999, 1000)
		push(t, in, t0, 30, 970, 1000)
		deploy(t, in, "api", "d1", t0)
		// web w1 has no SLO: assessed, with nothing to judge.
		deploy(t, in, "web", "w1", t0.Add(-time.Hour))
		// api d2 finishes at 12:20; its window ends at 12:50.
		deploy(t, in, "api", "d2", t0.Add(20*time.Minute))

		clock := t0.Add(40 * time.Minute)
		job := &impacteval.Job{DB: db, Now: func() time.Time { return clock }}
		if err := job.Run(ctx); err != nil {
			t.Fatal(err)
		}
		got := results(t, db)
		if len(got) != 2 {
			t.Fatalf("%d results, want d1 and w1 (d2's window is not over): %v", len(got), got)
		}
		d1 := got["api/d1"]
		if !d1.Flagged || d1.Source != impact.SourceSLI || d1.Before.Calls != 30000 || d1.Before.Failed != 30 || d1.After.Failed != 900 ||
			math.Abs(rate(d1.Before.ErrorRate)-0.001) > 1e-12 || math.Abs(rate(d1.After.ErrorRate)-0.03) > 1e-12 || len(d1.Minutes) != 60 {
			t.Errorf("d1 = %+v", d1)
		}
		w1 := got["web/w1"]
		if w1.Flagged || len(w1.Notes) == 0 || w1.Before.ErrorRate != nil {
			t.Errorf("w1 = %+v, want not flagged with a note", w1)
		}

		// A late correction of 12:00–12:30 (all good) arrives within the
		// settle hour: the next run reassesses d1.
		if _, err := in.SLI(ctx, lateMinutes(t0, 30, 1000, 1000)); err != nil {
			t.Fatal(err)
		}
		clock = t0.Add(50 * time.Minute)
		if err := job.Run(ctx); err != nil {
			t.Fatal(err)
		}
		got = results(t, db)
		if got["api/d1"].Flagged || len(got) != 3 {
			t.Errorf("after the correction: d1 %+v, %d results; want d1 not flagged and d2 assessed", got["api/d1"], len(got))
		}
		// d2 (12:20): before 12:(−10)…12:20 holds 10 minutes of 0.1 %
		// and 20 minutes of 0 %: 10 of 30,000. After 12:20–12:50: 10
		// minutes stored, all good.
		if d2 := got["api/d2"]; d2.Before.Failed != 10 || d2.Before.Calls != 30000 || d2.After.Calls != 10000 {
			t.Errorf("d2 = %+v", d2)
		}

		// An hour after d1's window ended it is settled: a later change
		// of its minutes is not taken in.
		clock = t0.Add(91 * time.Minute)
		if err := job.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := in.SLI(ctx, lateMinutes(t0, 30, 0, 1000)); err != nil {
			t.Fatal(err)
		}
		clock = t0.Add(92 * time.Minute)
		if err := job.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if got = results(t, db); got["api/d1"].Flagged {
			t.Errorf("a settled deployment was reassessed: %+v", got["api/d1"])
		}
	})
}

func lateMinutes(start time.Time, n int, good, total int64) []slo.Push {
	ps := make([]slo.Push, n)
	for i := range ps {
		s := start.Add(time.Duration(i) * time.Minute)
		ps[i] = slo.Push{Service: "api", Start: s, End: s.Add(time.Minute), Good: good, Total: total}
	}
	return ps
}

// TestJobOptionsPerService: a service's own window and minimum apply to
// it alone.
func TestJobOptionsPerService(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		in := intake.New(db, nil)
		defs, _ := slo.ParseOpenSLO(strings.NewReader(apiSLO))
		if _, err := in.SLOs(ctx, defs); err != nil {
			t.Fatal(err)
		}
		// 5 minutes each side of 12:00, 20 calls a minute: 100 calls,
		// 0 failed before and 10 after.
		push(t, in, t0.Add(-5*time.Minute), 5, 20, 20)
		push(t, in, t0, 5, 18, 20)
		deploy(t, in, "api", "d1", t0)
		job := &impacteval.Job{DB: db, Now: func() time.Time { return t0.Add(time.Hour) }}
		if err := job.Run(ctx); err != nil {
			t.Fatal(err)
		}
		// The default 30-minute window holds the same 100 calls each
		// side; flagged at the default minimum of 100.
		if r := results(t, db)["api/d1"]; !r.Flagged {
			t.Errorf("default options: %+v, want flagged", r)
		}
		job.Services = map[string]impacteval.Service{"api": {Options: impact.Options{MinCalls: 101, Before: 5 * time.Minute, After: 5 * time.Minute}}}
		r, err := job.Assess(ctx, "api", []store.ImpactCandidate{{Deployment: delivery.Deployment{Service: "api", Environment: "production", ID: "d1", FinishedAt: t0}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r) != 1 || r[0].Flagged || r[0].Before.From != t0.Add(-5*time.Minute) || len(r[0].Notes) == 0 {
			t.Errorf("a minimum of 101: %+v, want not judged", r)
		}
	})
}
