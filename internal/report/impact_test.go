package report_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/impact"
	"github.com/stride-oss/stride/internal/impacteval"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

const appSLO = `apiVersion: openslo/v1
kind: SLO
metadata: {name: app-availability}
spec:
  service: app
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: stride}}
        total: {metricSource: {type: stride}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
`

// impactHistory: app deploys d1 at 10:00, which takes the error rate from
// 0 % to 5 % for the 30 minutes after it, and d2 at 13:00, after which
// nothing fails; d3 at 15:00 is not assessed yet. Incident i1 opens at
// 12:00, i2 at 14:00.
func impactHistory(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	in := intake.New(db, nil)
	in.ApdexT = map[string]time.Duration{"app": 300 * time.Millisecond}
	defs, err := slo.ParseOpenSLO(strings.NewReader(appSLO))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.SLOs(ctx, defs); err != nil {
		t.Fatal(err)
	}
	var pushes []slo.Push
	minute := func(at time.Time, good, total int64) {
		pushes = append(pushes, slo.Push{Service: "app", Start: at, End: at.Add(time.Minute), Good: good, Total: total})
	}
	d1, d2 := t0.Add(time.Hour), t0.Add(4*time.Hour)
	for i := range 30 {
		m := time.Duration(i) * time.Minute
		minute(d1.Add(-30*time.Minute+m), 100, 100)
		minute(d1.Add(m), 95, 100)
		minute(d2.Add(-30*time.Minute+m), 100, 100)
		minute(d2.Add(m), 100, 100)
	}
	if _, err := in.SLI(ctx, pushes); err != nil {
		t.Fatal(err)
	}
	ingest(t, db, deploy("d1", "a", 1), deploy("d2", "b", 4), deploy("d3", "c", 6),
		delivery.Event{Key: "i:1", Kind: delivery.KindIncident, Incident: &delivery.Incident{Service: "app", ID: "i1", OpenedAt: t0.Add(3 * time.Hour), ResolvedAt: t0.Add(3*time.Hour + 30*time.Minute)}},
		delivery.Event{Key: "i:2", Kind: delivery.KindIncident, Incident: &delivery.Incident{Service: "app", ID: "i2", OpenedAt: t0.Add(5 * time.Hour), ResolvedAt: t0.Add(5*time.Hour + 30*time.Minute)}})
	job := &impacteval.Job{DB: db, Now: func() time.Time { return t0.Add(6 * time.Hour) }}
	if err := job.Run(ctx); err != nil {
		t.Fatal(err)
	}
	// Apdex of app, T = 300 ms: (800 + 150/2) / 1000 and (90 + 0) / 100,
	// summed: (890 + 75) / 1100.
	if _, err := in.Apdex(ctx, []impact.ApdexPush{
		{Service: "app", Start: t0, End: t0.Add(time.Minute), Satisfied: 800, Tolerating: 150, Total: 1000},
		{Service: "app", Start: t0.Add(time.Minute), End: t0.Add(2 * time.Minute), Threshold: 300 * time.Millisecond, Satisfied: 90, Total: 100},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Apdex(ctx, []impact.ApdexPush{{Service: "app", Start: t0, End: t0.Add(time.Minute), Threshold: time.Second, Total: 1}}); delivery.ErrorCode(err) != delivery.EINVALID {
		t.Errorf("a push against another T: %v, want EINVALID", err)
	}
}

func TestImpactReport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		impactHistory(t, db)
		r := &report.Reader{Store: db, CauseWindow: delivery.DefaultCauseWindow}
		rep, err := r.Impact(context.Background(), store.Scope{Service: "app"}, period, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Deployments) != 2 || rep.Flagged != 1 || rep.Deployments[0].Deployment != "d1" || !rep.Deployments[0].Flagged || rep.Deployments[1].Flagged {
			t.Fatalf("deployments %+v, flagged %d; want d1 flagged and d2 not", rep.Deployments, rep.Flagged)
		}
		// d1: 0 of 3,000 before, 150 of 3,000 after.
		if d := rep.Deployments[0]; d.After.Failed != 150 || d.Before.Calls != 3000 || d.Minutes != nil {
			t.Errorf("d1 = %+v, want 150 of 3000 failed after and no minutes without explain", d)
		}
		if len(rep.Warnings) != 1 || !strings.HasPrefix(rep.Warnings[0], "1 successful production deployments in the period are not assessed: ") {
			t.Errorf("warnings %q, want d3 pending", rep.Warnings)
		}
		if len(rep.Apdex) != 1 || rep.Apdex[0].Total != 1100 || rep.Apdex[0].Score == nil || math.Abs(*rep.Apdex[0].Score-965.0/1100) > 1e-12 || rep.Apdex[0].TSeconds != 0.3 {
			t.Errorf("apdex %+v, want 965/1100 at T = 0.3 s", rep.Apdex)
		}
		ex, err := r.Impact(context.Background(), store.Scope{Service: "app"}, period, true)
		if err != nil || len(ex.Deployments[0].Minutes) != 60 {
			t.Errorf("explain: %v, %d minutes, want 60", err, len(ex.Deployments[0].Minutes))
		}
		if other, _ := r.Impact(context.Background(), store.Scope{Service: "web"}, period, false); len(other.Deployments) != 0 {
			t.Errorf("web: %+v", other.Deployments)
		}
	})
}

// TestFlaggedDeploymentIsACandidateCause: i1 (12:00) is linked to d1,
// the latest deployment, and d1's flag is its evidence; i2 (14:00) is
// linked to d2, which was not flagged, and d1, flagged four hours before
// within the 24-hour window, is named beside it.
func TestFlaggedDeploymentIsACandidateCause(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		impactHistory(t, db)
		r := &report.Reader{Store: db, CauseWindow: delivery.DefaultCauseWindow}
		e, err := r.DORAExplain(context.Background(), store.Scope{Service: "app"}, period, dora.FigureChangeFailureRate)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]dora.IncidentRecord{}
		for _, i := range e.Incidents {
			byID[i.ID] = i
		}
		want := "deployment d1 of app, finished 2026-03-02T10:00:00Z, was flagged: error rate rose from 0 % to 5 % (150 of 3000 calls failed in the 30 min after, 0 of 3000 in the 30 min before), above the +1 percentage points and ×2 thresholds"
		for _, id := range []string{"i1", "i2"} {
			c := byID[id].CandidateCauses
			if len(c) != 1 || c[0].Deployment != "app/production/d1" || c[0].Evidence != want {
				t.Errorf("%s candidates %+v, want d1 with %q", id, c, want)
			}
		}
		if byID["i2"].Deployment != "app/production/d2" {
			t.Errorf("i2 linked to %s: the candidates must not change the rule's link", byID["i2"].Deployment)
		}
		// With a 3-hour window, d1 is too early for i2.
		r.CauseWindow = 3 * time.Hour
		e, _ = r.DORAExplain(context.Background(), store.Scope{Service: "app"}, period, dora.FigureChangeFailureRate)
		for _, i := range e.Incidents {
			if i.ID == "i2" && len(i.CandidateCauses) != 0 {
				t.Errorf("i2 with a 3 h window: %+v, want no candidate", i.CandidateCauses)
			}
		}
	})
}
