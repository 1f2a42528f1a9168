package slo

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestEvaluateEachPairFiresOnceAndResolves runs the alert job once a minute
// with an injected clock over a burst of errors that only one pair should
// catch. Traffic is 1,000 calls a minute against 99.9 % (1 bad call a
// minute burns 1×); where noted it was 2,000 a minute more than a day
// before the burst, so the 3-day window holds more calls than three times
// the day's.
func TestEvaluateEachPairFiresOnceAndResolves(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		pair        string
		badPerMin   int64
		burst       int // minutes of errors from t0
		busyBefore  bool
		fire, clear int // minutes after t0
	}{
		// 20 bad a minute burns 20×. The 1-hour window passes 14.4× when it
		// holds more than 864 bad calls: 44 minutes (880). After the burst
		// the 5-minute window drops to 12× (3 bad minutes) at minute 62.
		{"page-1h-5m", 20, 60, false, 44, 62},
		// 8 a minute burns 8×. The 6-hour window passes 6× above 2,160 bad
		// calls: 271 minutes (at 270 it is exactly 6×, which does not
		// fire). After the burst the 30-minute window drops to 22 × 8 / 30
		// = 5.87× at minute 308.
		{"page-6h-30m", 8, 300, false, 271, 308},
		// 4 a minute burns 4×. The day passes 3× above 4,320 bad calls: 1,081
		// minutes; the 2-hour window falls to 3× 30 minutes after the burst.
		{"ticket-1d-2h", 4, 1100, true, 1081, 1130},
		// 2 a minute burns 2×. Three days pass 1× above 4,320 bad calls:
		// 2,161 minutes; the 6-hour window falls to 1× 180 minutes after.
		{"ticket-3d-6h", 2, 2200, false, 2161, 2380},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s fires at minute %d and resolves at minute %d", c.pair, c.fire, c.clear), func(t *testing.T) {
			s := rolling("api-availability", Fraction{999, 1000}, 30*day)
			start := t0.Add(-4 * day)
			n := int(4*day/time.Minute) + c.clear + 10
			data := minutes(start, n, 1000, func(i int) int64 {
				if m := i - int(4*day/time.Minute); m >= 0 && m < c.burst {
					return c.badPerMin
				}
				return 0
			})
			if c.busyBefore {
				for i := range data {
					if data[i].Start.Before(t0.Add(-day)) {
						data[i].Good, data[i].Total = 2000, 2000
					}
				}
			}
			sr := mustSeries(t, s, data, nil)
			var state State
			var got []string
			for m := 0; m <= c.clear+5; m++ {
				at := t0.Add(time.Duration(m) * time.Minute)
				next, tr := Evaluate(state, at, Assess(sr, at, Options{}))
				for _, x := range tr {
					got = append(got, fmt.Sprintf("%s %s at %d", x.Alert, x.Kind, int(x.At.Sub(t0)/time.Minute)))
					if x.Kind == Resolved && !x.Since.Equal(t0.Add(time.Duration(c.fire)*time.Minute)) {
						t.Errorf("resolution says the episode began at %v", x.Since)
					}
					if x.Reason == "" || x.SLO != "api-availability" || x.Service != "api" {
						t.Errorf("transition = %+v", x)
					}
				}
				state = next
			}
			want := fmt.Sprintf("%s fired at %d|%s resolved at %d", c.pair, c.fire, c.pair, c.clear)
			if strings.Join(got, "|") != want {
				t.Errorf("transitions %q, want %q", got, want)
			}
		})
	}
}

func TestEvaluateKeepsAnEpisodeAndItsReason(t *testing.T) {
	r := Report{Name: "a", Service: "api", BurnRates: map[string]float64{"1h": 15, "5m": 16},
		Alerts: []Alert{{Name: "page-1h-5m", Severity: Page, Reason: "first"}}}
	t1 := now
	s1, tr := Evaluate(State{}, t1, r)
	if len(tr) != 1 || tr[0].Kind != Fired || tr[0].Severity != Page || tr[0].Reason != "first" {
		t.Fatalf("first run: %+v", tr)
	}
	r.Alerts[0].Reason = "second"
	s2, tr := Evaluate(s1, t1.Add(time.Minute), r)
	if len(tr) != 0 || s2.Firing["page-1h-5m"].Since != t1 || s2.Firing["page-1h-5m"].Reason != "first" {
		t.Fatalf("second run: %+v, state %+v", tr, s2)
	}
	r.Alerts = nil
	r.BurnRates = map[string]float64{"1h": 15, "5m": 2}
	s3, tr := Evaluate(s2, t1.Add(2*time.Minute), r)
	want := "burn rate no longer above 14.4× over both windows: 15× over 1 h and 2× over 5 m"
	if len(tr) != 1 || tr[0].Kind != Resolved || tr[0].Reason != want || len(s3.Firing) != 0 {
		t.Fatalf("third run: %+v, want reason %q", tr, want)
	}
	if len(s1.Firing) != 1 {
		t.Error("Evaluate changed the state it was given")
	}
}
