package impact_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/impact"
)

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// minutes returns n minutes of calls from start, each total calls of
// which failed failed.
func minutes(start time.Time, n int, total, failed int64) []impact.Calls {
	out := make([]impact.Calls, n)
	for i := range out {
		out[i] = impact.Calls{Start: start.Add(time.Duration(i) * time.Minute), Total: total, Failed: failed}
	}
	return out
}

func latencies(start time.Time, n int, seconds float64) []impact.Latency {
	out := make([]impact.Latency, n)
	for i := range out {
		out[i] = impact.Latency{Start: start.Add(time.Duration(i) * time.Minute), Seconds: seconds}
	}
	return out
}

func join[T any](parts ...[]T) []T {
	var out []T
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func near(a *float64, want float64) bool { return a != nil && math.Abs(*a-want) < 1e-9 }

func TestAssess(t *testing.T) {
	// The deployment finishes at 12:00:30: the before window is
	// 11:30–12:00, the after window 12:01–12:31; the minute 12:00 is
	// left out, half old and half new.
	dep := delivery.Deployment{Service: "api", Environment: "production", ID: "d1", FinishedAt: t0.Add(30 * time.Second)}
	before := t0.Add(-30 * time.Minute)
	after := t0.Add(time.Minute)
	mixed := []impact.Calls{{Start: t0, Total: 1000, Failed: 1000}}
	tests := []struct {
		name        string
		calls       []impact.Calls
		latency     []impact.Latency
		o           impact.Options
		flagged     bool
		beforeRate  float64
		afterRate   float64
		beforeCalls int64
		note        string // a note the result must carry
		reason      string // a reason the result must carry
	}{{
		// 150 of 30,000 (0.5 %) before, 900 of 30,000 (3 %) after: +2.5
		// points ≥ +1 and 3 % ≥ 0.5 % × 2.
		name:    "error rate rises past both thresholds",
		calls:   join(minutes(before, 30, 1000, 5), mixed, minutes(after, 30, 1000, 30)),
		flagged: true, beforeRate: 0.005, afterRate: 0.03, beforeCalls: 30000,
		reason: "error rate rose from 0.5 % to 3 % (900 of 30000 calls failed in the 30 min after, 150 of 30000 in the 30 min before), above the +1 percentage points and ×2 thresholds",
	}, {
		// 40 % → 42 %: +2 points, but 42 % < 40 % × 2.
		name:       "absolute rise without the relative one",
		calls:      join(minutes(before, 30, 100, 40), minutes(after, 30, 100, 42)),
		beforeRate: 0.4, afterRate: 0.42, beforeCalls: 3000,
	}, {
		// 0.01 % → 0.05 %: ×5, but only +0.04 points.
		name:       "relative rise without the absolute one",
		calls:      join(minutes(before, 10, 1000, 0), minutes(before.Add(10*time.Minute), 1, 1000, 1), minutes(after, 10, 1000, 0), minutes(after.Add(10*time.Minute), 5, 1000, 1)),
		beforeRate: 1.0 / 11000, afterRate: 5.0 / 15000, beforeCalls: 11000,
	}, {
		// Nothing failed before; 2 % after: the relative test passes.
		name:    "from no errors",
		calls:   join(minutes(before, 30, 100, 0), minutes(after, 30, 100, 2)),
		flagged: true, beforeRate: 0, afterRate: 0.02, beforeCalls: 3000,
	}, {
		// 10 % after, but 50 calls each side: noise, not judged.
		name:       "too few calls",
		calls:      join(minutes(before, 5, 10, 0), minutes(after, 5, 10, 1)),
		beforeRate: 0, afterRate: 0.1, beforeCalls: 50,
		note: "error rate not judged: 50 calls before and 50 after, fewer than the 100 each side needs",
	}, {
		name:    "a lower minimum judges them",
		calls:   join(minutes(before, 5, 10, 0), minutes(after, 5, 10, 1)),
		o:       impact.Options{MinCalls: 50},
		flagged: true, beforeRate: 0, afterRate: 0.1, beforeCalls: 50,
	}, {
		// Minutes outside the windows are left out: 11:29 and 12:31.
		name:       "outside the windows",
		calls:      join(minutes(before.Add(-time.Minute), 1, 1000, 1000), minutes(before, 30, 100, 0), minutes(after, 30, 100, 0), minutes(after.Add(30*time.Minute), 1, 1000, 1000)),
		beforeRate: 0, afterRate: 0, beforeCalls: 3000,
	}, {
		name:       "no calls after",
		calls:      minutes(before, 30, 100, 0),
		beforeRate: 0, afterRate: math.NaN(), beforeCalls: 3000,
		note: "error rate not judged: no calls recorded after the deployment",
	}, {
		// 200 ms → 350 ms: +150 ms ≥ +100 ms and 350 ≥ 200 × 1.5.
		name:    "latency rises",
		calls:   join(minutes(before, 30, 100, 0), minutes(after, 30, 100, 0)),
		latency: join(latencies(before, 30, 0.2), latencies(after, 30, 0.35)),
		flagged: true, beforeRate: 0, afterRate: 0, beforeCalls: 3000,
		reason: "latency rose from 200ms to 350ms, above the +100ms and ×1.5 thresholds",
	}, {
		// 1 s → 1.2 s: +200 ms, but 1.2 < 1 × 1.5.
		name:       "slow service, small relative rise",
		calls:      join(minutes(before, 30, 100, 0), minutes(after, 30, 100, 0)),
		latency:    join(latencies(before, 30, 1), latencies(after, 30, 1.2)),
		beforeRate: 0, afterRate: 0, beforeCalls: 3000,
	}, {
		// Latency only, three minutes each side: too few to judge.
		name:       "latency without calls, few minutes",
		latency:    join(latencies(before, 3, 0.1), latencies(after, 3, 1)),
		beforeRate: math.NaN(), afterRate: math.NaN(),
		note: "latency not judged: 3 minutes before and 3 after, fewer than the 5 each side needs without call counts",
	}, {
		name:    "latency without calls, enough minutes",
		latency: join(latencies(before, 10, 0.1), latencies(after, 10, 1)),
		flagged: true, beforeRate: math.NaN(), afterRate: math.NaN(),
	}, {
		// A 10-minute window: the rise after 12:11 is not seen.
		name:       "window option",
		calls:      join(minutes(before, 30, 100, 0), minutes(after, 10, 100, 0), minutes(after.Add(10*time.Minute), 20, 100, 50)),
		o:          impact.Options{Before: 10 * time.Minute, After: 10 * time.Minute},
		beforeRate: 0, afterRate: 0, beforeCalls: 1000,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := impact.Assess(dep, impact.SourceSLI, tc.calls, tc.latency, tc.o)
			if r.Flagged != tc.flagged {
				t.Errorf("flagged %v, want %v: %+v", r.Flagged, tc.flagged, r)
			}
			check := func(side string, got *float64, want float64) {
				if math.IsNaN(want) {
					if got != nil {
						t.Errorf("%s error rate %v, want none", side, *got)
					}
				} else if !near(got, want) {
					t.Errorf("%s error rate %v, want %v", side, got, want)
				}
			}
			check("before", r.Before.ErrorRate, tc.beforeRate)
			check("after", r.After.ErrorRate, tc.afterRate)
			if r.Before.Calls != tc.beforeCalls {
				t.Errorf("%d calls before, want %d", r.Before.Calls, tc.beforeCalls)
			}
			if tc.note != "" && !contains(r.Notes, tc.note) {
				t.Errorf("notes %q, want %q", r.Notes, tc.note)
			}
			if tc.reason != "" && !contains(r.Reasons, tc.reason) {
				t.Errorf("reasons %q, want %q", r.Reasons, tc.reason)
			}
			if r.Flagged != (len(r.Reasons) > 0) {
				t.Errorf("flagged %v with reasons %q", r.Flagged, r.Reasons)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if strings.HasPrefix(l, s) {
			return true
		}
	}
	return false
}

func TestWindows(t *testing.T) {
	// On a whole minute no minute is left out.
	b, a := impact.Windows(t0, impact.Options{})
	if !b[0].Equal(t0.Add(-30*time.Minute)) || !b[1].Equal(t0) || !a[0].Equal(t0) || !a[1].Equal(t0.Add(30*time.Minute)) {
		t.Errorf("windows %v %v", b, a)
	}
	b, a = impact.Windows(t0.Add(59*time.Second), impact.Options{Before: 5 * time.Minute, After: time.Hour})
	if !b[0].Equal(t0.Add(-5*time.Minute)) || !b[1].Equal(t0) || !a[0].Equal(t0.Add(time.Minute)) || !a[1].Equal(t0.Add(61*time.Minute)) {
		t.Errorf("windows %v %v", b, a)
	}
}

func TestAssessMinutes(t *testing.T) {
	dep := delivery.Deployment{Service: "api", Environment: "production", ID: "d1", FinishedAt: t0}
	calls := []impact.Calls{{Start: t0.Add(-time.Minute), Total: 200, Failed: 1}, {Start: t0, Total: 100, Failed: 10}}
	// The latency of 12:00 comes in another zone: the same minute.
	lat := []impact.Latency{{Start: t0.In(time.FixedZone("CET", 3600)), Seconds: 0.25}, {Start: t0.Add(-2 * time.Minute), Seconds: 0.2}}
	r := impact.Assess(dep, impact.SourcePrometheus, calls, lat, impact.Options{})
	if len(r.Minutes) != 3 {
		t.Fatalf("%d minutes, want 3: %+v", len(r.Minutes), r.Minutes)
	}
	m := r.Minutes
	if !m[0].Start.Equal(t0.Add(-2*time.Minute)) || m[0].Side != "before" || m[0].Calls != 0 || !near(m[0].LatencySeconds, 0.2) {
		t.Errorf("minute 0 = %+v", m[0])
	}
	if !m[1].Start.Equal(t0.Add(-time.Minute)) || !near(m[1].ErrorRate, 0.005) || m[1].LatencySeconds != nil {
		t.Errorf("minute 1 = %+v", m[1])
	}
	if !m[2].Start.Equal(t0) || m[2].Side != "after" || !near(m[2].ErrorRate, 0.1) || !near(m[2].LatencySeconds, 0.25) {
		t.Errorf("minute 2 = %+v", m[2])
	}
	// 1 of 200 before (0.5 %), 10 of 100 after (10 %).
	if !strings.Contains(r.Summary(), "finished 2026-03-10T12:00:00Z, was flagged: error rate rose from 0.5 % to 10 %") {
		t.Errorf("summary %q", r.Summary())
	}
}

func TestApdex(t *testing.T) {
	tests := []struct {
		name   string
		c      impact.ApdexCounts
		score  float64
		rating string
	}{
		// (800 + 150/2) / 1000 = 0.875.
		{"good", impact.ApdexCounts{Satisfied: 800, Tolerating: 150, Total: 1000}, 0.875, "good"},
		{"all satisfied", impact.ApdexCounts{Satisfied: 10, Total: 10}, 1, "excellent"},
		// (0 + 100/2) / 200 = 0.25: the frustrated half counts zero.
		{"tolerating and frustrated", impact.ApdexCounts{Tolerating: 100, Total: 200}, 0.25, "unacceptable"},
		// (60 + 20/2) / 100 = 0.7: the boundary of fair.
		{"fair boundary", impact.ApdexCounts{Satisfied: 60, Tolerating: 20, Total: 100}, 0.7, "fair"},
	}
	for _, tc := range tests {
		a := impact.NewApdex("api", 300*time.Millisecond, tc.c)
		if !near(a.Score, tc.score) || a.Rating != tc.rating || a.TSeconds != 0.3 {
			t.Errorf("%s: %+v, want %v %s", tc.name, a, tc.score, tc.rating)
		}
	}
	if a := impact.NewApdex("api", time.Second, impact.ApdexCounts{}); a.Score != nil || a.Note == "" {
		t.Errorf("no calls: %+v, want no score and a note", a)
	}
}

func TestApdexPushValidate(t *testing.T) {
	ok := impact.ApdexPush{Service: "api", Start: t0, End: t0.Add(time.Minute), Threshold: time.Second, Satisfied: 5, Tolerating: 3, Total: 10}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(p *impact.ApdexPush){
		"no service":        func(p *impact.ApdexPush) { p.Service = "" },
		"not whole minutes": func(p *impact.ApdexPush) { p.Start = t0.Add(time.Second) },
		"end before start":  func(p *impact.ApdexPush) { p.End = t0 },
		"over an hour":      func(p *impact.ApdexPush) { p.End = t0.Add(61 * time.Minute) },
		"no T":              func(p *impact.ApdexPush) { p.Threshold = 0 },
		"counts overflow":   func(p *impact.ApdexPush) { p.Satisfied = 8 },
		"negative":          func(p *impact.ApdexPush) { p.Tolerating = -1 },
	}
	for name, f := range bad {
		p := ok
		f(&p)
		if err := p.Validate(); delivery.ErrorCode(err) != delivery.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}
