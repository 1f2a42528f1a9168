package sloeval_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/sloeval"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// Three SLOs the cache must follow: a 30-day rolling one pushed by the
// minute, a 7-day rolling one of another service pushed five minutes at a
// time, and a calendar-week Timeslices one of the first service.
const cachedSLOs = availability + `---
apiVersion: openslo/v1
kind: SLO
metadata: {name: web-availability}
spec:
  service: web
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: stride}}
        total: {metricSource: {type: stride}}
  timeWindow: [{duration: 7d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: api-minutes}
spec:
  service: api
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: stride}}
        total: {metricSource: {type: stride}}
  timeWindow:
    - duration: 1w
      isRolling: false
      calendar: {startTime: "2026-01-05T00:00:00Z", timeZone: UTC}
  budgetingMethod: Timeslices
  objectives: [{target: 0.99, timeSliceTarget: 0.95, timeSliceWindow: 1m}]
`

// TestCachedEvaluationEqualsFromScratch drives the evaluation job over six
// days of an injected clock with random pushes: new minutes, late minutes
// up to three days old, repeated minutes with other counts, maintenance
// announced in time and too late, roll-ups done by the job and by a second
// replica, and restarts. After every run each report the job stored must
// be, byte for byte, the report of a from-scratch assessment of what the
// store holds (sloeval.Series, as before the cache).
func TestCachedEvaluationEqualsFromScratch(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		rng := rand.New(rand.NewPCG(7, 9))
		clock := now.Add(-6 * 24 * time.Hour)
		db.Now = func() time.Time { return clock }
		in := apply(t, db, cachedSLOs)
		defs, err := sloeval.Definitions(ctx, db, "")
		if err != nil || len(defs) != 3 {
			t.Fatalf("definitions: %d, %v", len(defs), err)
		}
		tick := func() time.Time { return clock }
		job := &sloeval.Evaluator{DB: db, Now: tick}
		replica := &sloeval.Evaluator{DB: db, Now: tick}
		pushed := map[string]map[time.Time]bool{}
		push := func(name string, start time.Time, width time.Duration) slo.Push {
			if pushed[name] == nil {
				pushed[name] = map[time.Time]bool{}
			}
			pushed[name][start] = true
			total := int64(rng.IntN(2000))
			good := total - int64(rng.IntN(int(total/20)+1))
			if rng.IntN(10) == 0 {
				good = total / 2 // a bad minute
			}
			return slo.Push{SLO: name, Start: start, End: start.Add(width), Good: good, Total: total}
		}
		// late picks a start in the last three days, after every roll-up
		// boundary, on a multiple of step.
		late := func(step time.Duration) time.Time {
			span := int64(3 * 24 * time.Hour / step)
			return clock.Truncate(step).Add(-time.Duration(1+rng.Int64N(span-1)) * step)
		}
		var rolled, restarts, replicaRuns, lateN, repeatN int
		var reused, rebuilt int
		for step := range 60 {
			last := clock.Truncate(time.Minute)
			clock = clock.Add(time.Duration(1+rng.IntN(240)) * time.Minute)
			var ps []slo.Push
			if step%3 == 0 {
				// Only minutes after the last run, of every SLO: the job
				// appends them to the series it kept, unless the front of a
				// window moved past a bucket.
				for m := last; m.Before(clock.Truncate(time.Minute)) && len(ps) < 400; m = m.Add(time.Minute) {
					ps = append(ps, push("api-availability", m, time.Minute), push("api-minutes", m, time.Minute))
				}
				m := last.Truncate(5 * time.Minute)
				if m.Before(last) {
					m = m.Add(5 * time.Minute)
				}
				for ; m.Before(clock.Truncate(time.Minute)); m = m.Add(5 * time.Minute) {
					ps = append(ps, push("web-availability", m, 5*time.Minute))
				}
			}
			for range (40 + rng.IntN(80)) * min(1, step%3) {
				switch k := rng.IntN(10); {
				case k < 5: // new minutes of the last half hour
					ps = append(ps, push("api-availability", clock.Truncate(time.Minute).Add(-time.Duration(1+rng.IntN(30))*time.Minute), time.Minute))
				case k < 7: // late minutes
					lateN++
					ps = append(ps, push("api-minutes", late(time.Minute), time.Minute))
				case k < 8 && len(pushed["api-availability"]) > 0: // a minute pushed again with other counts
					for s := range pushed["api-availability"] {
						if !s.Before(clock.Add(-3 * 24 * time.Hour)) {
							repeatN++
							ps = append(ps, push("api-availability", s, time.Minute))
							break
						}
					}
				default: // five minutes at a time, late or not
					ps = append(ps, push("web-availability", late(5*time.Minute), 5*time.Minute))
				}
			}
			if _, err := in.SLI(ctx, ps); err != nil {
				t.Fatalf("step %d: push: %v", step, err)
			}
			switch step {
			case 5: // announced 10 days ahead: left out
				db.Now = func() time.Time { return clock.Add(-10 * 24 * time.Hour) }
				if _, err := in.Maintenance(ctx, slo.Maintenance{Service: "api", From: clock.Add(-2 * time.Hour), To: clock.Add(-30 * time.Minute), Reason: "upgrade"}); err != nil {
					t.Fatal(err)
				}
				db.Now = func() time.Time { return clock }
			case 20: // announced now: shown, counted
				if _, err := in.Maintenance(ctx, slo.Maintenance{Service: "web", From: clock.Add(-5 * time.Hour), To: clock.Add(-4 * time.Hour), Reason: "late"}); err != nil {
					t.Fatal(err)
				}
			}
			if rng.IntN(6) == 0 {
				replicaRuns++
				if err := replica.Run(ctx); err != nil {
					t.Fatalf("step %d: replica: %v", step, err)
				}
			}
			if rng.IntN(10) == 0 {
				restarts++
				r, b := job.SeriesRuns()
				reused, rebuilt = reused+r, rebuilt+b
				job = &sloeval.Evaluator{DB: db, Now: tick}
			}
			if err := job.Run(ctx); err != nil {
				t.Fatalf("step %d: run: %v", step, err)
			}
			stored, err := sloeval.Reports(ctx, db, "")
			if err != nil || len(stored) != len(defs) {
				t.Fatalf("step %d: %d reports, %v", step, len(stored), err)
			}
			at := clock.UTC().Truncate(time.Minute)
			for i, s := range defs {
				sr, err := sloeval.Series(ctx, db, s, time.Time{}, at)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := json.Marshal(slo.Assess(sr, at, slo.Options{}))
				got, _ := json.Marshal(stored[i])
				if !bytes.Equal(got, want) {
					t.Fatalf("step %d at %s, %s:\ncached       %s\nfrom scratch %s", step, at.Format(time.RFC3339), s.Name, got, want)
				}
			}
			if hours, _ := db.SLIBuckets(ctx, "api-availability", time.Time{}, at); len(hours) > 0 && hours[0].Width == time.Hour {
				rolled++
			}
		}
		// The run must have gone through what it is meant to test.
		r, b := job.SeriesRuns()
		reused, rebuilt = reused+r, rebuilt+b
		if rolled == 0 || restarts == 0 || replicaRuns == 0 || lateN == 0 || repeatN == 0 || reused == 0 || rebuilt == 0 {
			t.Errorf("roll-ups seen in %d runs, %d restarts, %d replica runs, %d late and %d repeated pushes, %d series kept and %d prepared again: each should be more than 0",
				rolled, restarts, replicaRuns, lateN, repeatN, reused, rebuilt)
		}
		t.Logf("%d series kept from the run before, %d prepared again", reused, rebuilt)
	})
}

// TestKeptSeriesLetsOldBucketsLeave runs the job twice over a 7-day SLO
// whose oldest minute leaves the window between the runs, with only a
// new minute pushed between them: the series the first run kept cannot
// simply be appended to. The second report says the data starts at the
// minute after the gap, as a from-scratch assessment does.
func TestKeptSeriesLetsOldBucketsLeave(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		t0 := now.Add(-7 * 24 * time.Hour)
		clock := now.Add(-10 * time.Minute) // the window starts at t0 − 10 min
		db.Now = func() time.Time { return clock }
		in := apply(t, db, cachedSLOs)
		minutes(t, in, "web-availability", t0, 1, 990)
		minutes(t, in, "web-availability", t0.Add(2*time.Hour), 60, 995)
		job := &sloeval.Evaluator{DB: db, Now: func() time.Time { return clock }}
		if err := job.Run(ctx); err != nil {
			t.Fatal(err)
		}
		minutes(t, in, "web-availability", clock, 1, 1000)
		clock = now.Add(10 * time.Minute) // t0 has left the window
		if err := job.Run(ctx); err != nil {
			t.Fatal(err)
		}
		rs, err := sloeval.Reports(ctx, db, "web")
		if err != nil || len(rs) != 1 {
			t.Fatalf("reports: %v, %v", rs, err)
		}
		// Hand-worked: 60 minutes of 995 good and one of 1,000, of 1,000 each.
		if rs[0].Good != 60*995+1000 || rs[0].Total != 61*1000 {
			t.Errorf("good %d of %d, want %d of %d", rs[0].Good, rs[0].Total, 60*995+1000, 61*1000)
		}
		want := "data starts at " + t0.Add(2*time.Hour).Format(time.RFC3339)
		if !slices.ContainsFunc(rs[0].Warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
			t.Errorf("warnings %q, want one starting %q", rs[0].Warnings, want)
		}
		def, _ := sloeval.Definition(ctx, db, "web-availability")
		sr, _ := sloeval.Series(ctx, db, def, time.Time{}, clock)
		got, _ := json.Marshal(rs[0])
		fresh, _ := json.Marshal(slo.Assess(sr, clock, slo.Options{}))
		if !bytes.Equal(got, fresh) {
			t.Errorf("kept series\n%s\nfrom scratch\n%s", got, fresh)
		}
	})
}

// TestFirstRunLoadsInFull starts the job on a store whose rows are not
// in start order per SLO (pushes of two SLOs interleaved, and minutes
// pushed late, after newer ones), on a clock that advances by step each
// time the job reads it. The first run loads every row; each stored report
// must be the from-scratch assessment at the minute the job read after
// the load (hand-worked below), and a load longer than the one-minute
// period is said in the log, once.
func TestFirstRunLoadsInFull(t *testing.T) {
	for _, tc := range []struct {
		name string
		step time.Duration
		at   time.Time // the clock after the load: start + 2 steps, to the minute
		warn bool
	}{
		{"load inside the period", 10 * time.Second, now, false},
		{"load longer than the period", 90 * time.Second, now.Add(3 * time.Minute), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				db.Now = func() time.Time { return now.Add(-time.Hour) }
				in := apply(t, db, cachedSLOs)
				// Two hours of minutes, alternating between the SLOs, then the
				// first ten minutes of the first hour pushed again late.
				from := now.Add(-2 * time.Hour)
				for i := range 120 {
					s := from.Add(time.Duration(i) * time.Minute)
					if i >= 10 || i%2 == 0 {
						minutes(t, in, "api-availability", s, 1, 1000-int64(i%7))
					}
					minutes(t, in, "web-availability", s, 1, 1000-int64(i%3))
				}
				for i := 1; i < 10; i += 2 {
					minutes(t, in, "api-availability", from.Add(time.Duration(i)*time.Minute), 1, 990)
				}
				var log bytes.Buffer
				clock := now
				job := &sloeval.Evaluator{DB: db, Logger: slog.New(slog.NewTextHandler(&log, nil)),
					Now: func() time.Time { t := clock; clock = clock.Add(tc.step); return t }}
				for run := range 2 {
					if err := job.Run(ctx); err != nil {
						t.Fatal(err)
					}
					if run == 0 {
						checkFromScratch(t, db, tc.at)
					}
				}
				if got := strings.Count(log.String(), "longer than its period"); got != map[bool]int{false: 0, true: 1}[tc.warn] {
					t.Errorf("%d warnings of a long load in two runs, want it %v once:\n%s", got, tc.warn, log.String())
				}
			})
		})
	}
}

// checkFromScratch says whether every report the job stored was made at
// at and is, byte for byte, a from-scratch assessment of the store there.
func checkFromScratch(t *testing.T, db *store.DB, at time.Time) {
	t.Helper()
	es, err := db.Evaluations(ctx, "")
	if err != nil || len(es) != 3 {
		t.Fatalf("%d evaluations, %v", len(es), err)
	}
	for _, e := range es {
		if !e.EvaluatedAt.Equal(at) {
			t.Errorf("%s evaluated at %s, want %s", e.SLO, e.EvaluatedAt.Format(time.RFC3339), at.Format(time.RFC3339))
		}
		def, err := sloeval.Definition(ctx, db, e.SLO)
		if err != nil {
			t.Fatal(err)
		}
		sr, err := sloeval.Series(ctx, db, def, time.Time{}, at)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(slo.Assess(sr, at, slo.Options{}))
		var got slo.Report
		if err := json.Unmarshal(e.Report, &got); err != nil {
			t.Fatal(err)
		}
		gotJSON, _ := json.Marshal(got)
		if !bytes.Equal(gotJSON, want) {
			t.Errorf("%s at %s:\nfirst run    %s\nfrom scratch %s", e.SLO, at.Format(time.RFC3339), gotJSON, want)
		}
	}
}
