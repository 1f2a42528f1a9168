package slo

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// minutes returns n minute buckets from start with total calls each, bad(i)
// of which failed.
func minutes(start time.Time, n int, total int64, bad func(i int) int64) []Bucket {
	out := make([]Bucket, n)
	for i := range out {
		var b int64
		if bad != nil {
			b = bad(i)
		}
		out[i] = Bucket{Start: start.Add(time.Duration(i) * time.Minute), Width: time.Minute, Good: total - b, Total: total}
	}
	return out
}

func rolling(name string, target Fraction, d time.Duration) SLO {
	return SLO{Name: name, Service: "api", Objective: target, Window: Window{Rolling: d}, Method: Occurrences}
}

func mustSeries(t *testing.T, s SLO, b []Bucket, m []Maintenance) *Series {
	t.Helper()
	sr, err := NewSeries(s, b, m)
	if err != nil {
		t.Fatal(err)
	}
	return sr
}

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func TestAssessBudgetArithmetic(t *testing.T) {
	// 30 days of 1,000 calls a minute: 43,200,000 calls; 99.9 % allows
	// exactly 43,200 bad calls, 43.2 minutes of full outage.
	lastHour := func(bad int64) func(int) int64 {
		return func(i int) int64 {
			if i >= 43200-60 {
				return bad
			}
			return 0
		}
	}
	// at spreads bad calls over consecutive minutes of 100 calls from
	// minute on.
	at := func(minute int, bad int64) func(int) int64 {
		return func(i int) int64 {
			if i < minute {
				return 0
			}
			return min(100, max(0, bad-int64(i-minute)*100))
		}
	}
	t.Run("99.9 % with half the budget spent in the last hour burns 360× and exhausts in an hour", func(t *testing.T) {
		s := rolling("a", Fraction{999, 1000}, 30*day)
		r := Assess(mustSeries(t, s, minutes(now.Add(-30*day), 43200, 1000, lastHour(360)), nil), now, Options{})
		if r.Total != 43_200_000 || r.Good != 43_200_000-21_600 {
			t.Fatalf("good/total = %d/%d", r.Good, r.Total)
		}
		if r.BudgetTotal != 0.001 || r.BudgetTotalMinutes != 43.2 || r.BudgetRemaining != 0.5 || r.BudgetRemainingMinutes != 21.6 {
			t.Errorf("budget total %v (%v min), remaining %v (%v min); want 0.001 (43.2), 0.5 (21.6)",
				r.BudgetTotal, r.BudgetTotalMinutes, r.BudgetRemaining, r.BudgetRemainingMinutes)
		}
		if *r.SLI != 0.9995 {
			t.Errorf("SLI = %v, want 0.9995", *r.SLI)
		}
		// 21,600 bad of 60,000 in the hour: 0.36 / 0.001 = 360; over 2 h
		// 180, 6 h 60, 1 d 15, 3 d 5.
		want := map[string]float64{"5m": 360, "30m": 360, "1h": 360, "2h": 180, "6h": 60, "1d": 15, "3d": 5}
		for w, rate := range want {
			if r.BurnRates[w] != rate {
				t.Errorf("burn rate over %s = %v, want %v", w, r.BurnRates[w], rate)
			}
		}
		if len(r.Alerts) != 4 {
			t.Fatalf("alerts = %+v, want all four pairs", r.Alerts)
		}
		wantReason := "50 % of the 30-day budget spent in the last hour; burn rate 360× over 1 h and 360× over 5 m (14.4× fires)"
		if r.Alerts[0].Name != "page-1h-5m" || r.Alerts[0].Reason != wantReason {
			t.Errorf("first alert = %+v, want reason %q", r.Alerts[0], wantReason)
		}
		// 0.5 of a 720-hour budget at 360× lasts 720 h × 0.5 / 360 = 1 h.
		if r.ExhaustsAt == nil || !r.ExhaustsAt.Equal(now.Add(time.Hour)) || r.Frozen {
			t.Errorf("exhausts at %v, frozen %v; want %v, not frozen", r.ExhaustsAt, r.Frozen, now.Add(time.Hour))
		}
	})
	t.Run("99.9 % with exactly 43,200 bad calls has exactly nothing left and freezes", func(t *testing.T) {
		s := rolling("a", Fraction{999, 1000}, 30*day)
		r := Assess(mustSeries(t, s, minutes(now.Add(-30*day), 43200, 1000, lastHour(720)), nil), now, Options{})
		if r.BudgetRemaining != 0 || r.BudgetRemainingMinutes != 0 || !r.Frozen || r.ExhaustsAt != nil {
			t.Errorf("remaining %v (%v min), frozen %v, exhausts %v; want 0, 0, frozen, none", r.BudgetRemaining, r.BudgetRemainingMinutes, r.Frozen, r.ExhaustsAt)
		}
		// Assuming calls go on at 1,000 a minute and all succeed, the
		// budget holds again once the first bad minute (the hour before
		// now) has left the window: 30 days after it ended.
		if want := now.Add(-59 * time.Minute).Add(30 * day); r.FrozenUntil == nil || !r.FrozenUntil.Equal(want) {
			t.Errorf("frozen until %v, want %v", r.FrozenUntil, want)
		}
	})
	t.Run("99.99 % with 431 of 432 allowed bad calls is not frozen", func(t *testing.T) {
		s := rolling("b", Fraction{9999, 10000}, 30*day)
		r := Assess(mustSeries(t, s, minutes(now.Add(-30*day), 43200, 100, at(43200-10*1440, 431)), nil), now, Options{})
		if r.BudgetTotal != 0.0001 || r.BudgetTotalMinutes != 4.32 || r.BudgetRemaining != 1.0/432 || r.Frozen {
			t.Errorf("budget %v (%v min), remaining %v, frozen %v; want 0.0001 (4.32), 1/432, not frozen", r.BudgetTotal, r.BudgetTotalMinutes, r.BudgetRemaining, r.Frozen)
		}
	})
	t.Run("99.99 % with 432 bad calls ten days ago is frozen until their first minute leaves the window", func(t *testing.T) {
		s := rolling("b", Fraction{9999, 10000}, 30*day)
		r := Assess(mustSeries(t, s, minutes(now.Add(-30*day), 43200, 100, at(43200-10*1440, 432)), nil), now, Options{})
		if r.BudgetRemaining != 0 || !r.Frozen {
			t.Errorf("remaining %v, frozen %v; want 0, frozen", r.BudgetRemaining, r.Frozen)
		}
		if want := now.Add(20*day + time.Minute); r.FrozenUntil == nil || !r.FrozenUntil.Equal(want) {
			t.Errorf("frozen until %v, want %v", r.FrozenUntil, want)
		}
		if r.BurnRates["3d"] != 0 || len(r.Alerts) != 0 {
			t.Errorf("old errors burn now: %v, alerts %v", r.BurnRates, r.Alerts)
		}
	})
	t.Run("an empty window keeps the whole budget and says the SLI is unknown", func(t *testing.T) {
		s := rolling("c", Fraction{999, 1000}, 28*day)
		r := Assess(mustSeries(t, s, nil, nil), now, Options{})
		if r.SLI != nil || r.Total != 0 || r.BudgetRemaining != 1 || r.BudgetRemainingMinutes != 40.32 || r.Frozen || r.ExhaustsAt != nil || len(r.Alerts) != 0 {
			t.Errorf("report = %+v", r)
		}
		if !hasWarning(r, "no calls in the 28-day window") {
			t.Errorf("warnings = %q", r.Warnings)
		}
	})
}

func hasWarning(r Report, part string) bool {
	for _, w := range r.Warnings {
		if strings.Contains(w, part) {
			return true
		}
	}
	return false
}

func TestAssessMaintenance(t *testing.T) {
	s := rolling("m", Fraction{99, 100}, day)
	// A day of 1,000 calls a minute, 500 of them failing.
	data := minutes(now.Add(-day), 1440, 1000, func(int) int64 { return 500 })
	whole := Maintenance{Service: "api", From: now.Add(-day), To: now, Reason: "database upgrade", AnnouncedAt: now.Add(-8 * day)}

	t.Run("a window wholly in scheduled maintenance leaves no calls and the whole budget", func(t *testing.T) {
		r := Assess(mustSeries(t, s, data, []Maintenance{whole}), now, Options{})
		if r.Total != 0 || r.SLI != nil || r.BudgetRemaining != 1 || r.Frozen {
			t.Errorf("total %d, SLI %v, remaining %v, frozen %v", r.Total, r.SLI, r.BudgetRemaining, r.Frozen)
		}
		if len(r.Maintenance) != 1 || !r.Maintenance[0].Scheduled || r.Maintenance[0].LeftTotal != 1_440_000 || r.Maintenance[0].LeftGood != 720_000 {
			t.Errorf("maintenance = %+v", r.Maintenance)
		}
	})
	t.Run("a maintenance announced three days ahead is shown but its calls count", func(t *testing.T) {
		late := whole
		late.AnnouncedAt = whole.From.Add(-3 * day)
		r := Assess(mustSeries(t, s, data, []Maintenance{late}), now, Options{})
		if r.Total != 1_440_000 || *r.SLI != 0.5 || !r.Frozen {
			t.Errorf("total %d, SLI %v, frozen %v; want 1,440,000, 0.5, frozen", r.Total, *r.SLI, r.Frozen)
		}
		if len(r.Maintenance) != 1 || r.Maintenance[0].Scheduled || r.Maintenance[0].LeftTotal != 0 {
			t.Errorf("maintenance = %+v", r.Maintenance)
		}
		if !hasWarning(r, "announced 3 days ahead, less than 7 days: its calls count") {
			t.Errorf("warnings = %q", r.Warnings)
		}
	})
	t.Run("two scheduled hours leave out 120 minutes; another service's window changes nothing", func(t *testing.T) {
		two := Maintenance{Service: "api", From: now.Add(-3 * time.Hour), To: now.Add(-time.Hour), AnnouncedAt: now.Add(-7*day - 3*time.Hour)}
		other := whole
		other.Service = "web"
		r := Assess(mustSeries(t, s, data, []Maintenance{two, other}), now, Options{})
		if r.Total != 1320*1000 || len(r.Maintenance) != 1 || r.Maintenance[0].LeftTotal != 120_000 {
			t.Errorf("total %d, maintenance %+v; want 1,320,000 and 120,000 left out", r.Total, r.Maintenance)
		}
	})
}

func TestAssessCalendarMonthStartingMidData(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	s := SLO{Name: "monthly", Service: "api", Objective: Fraction{999, 1000}, Method: Occurrences,
		Window: Window{Calendar: Month, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, berlin)}}
	// March in Berlin is [28 Feb 23:00Z, 31 Mar 22:00Z): 743 hours, since
	// summer time starts on 29 March; its budget is 44,580 min × 0.001.
	marchStart := time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)
	at := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	// From 25 February every call fails until March starts; then 2,910
	// bad calls in one minute of 97 hours × 60 × 1,000 = 5,820,000.
	start := time.Date(2026, 2, 25, 0, 0, 0, 0, time.UTC)
	n := int(at.Sub(start) / time.Minute)
	spike := int(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC).Sub(start) / time.Minute)
	data := minutes(start, n, 1000, func(i int) int64 {
		switch {
		case start.Add(time.Duration(i) * time.Minute).Before(marchStart):
			return 1000
		case i == spike:
			return 2910
		}
		return 0
	})
	// A spike of 2,910 needs 2,910 calls in its minute.
	data[spike].Total, data[spike].Good = 2910, 0
	r := Assess(mustSeries(t, s, data, nil), at, Options{})
	if !r.Window.From.Equal(marchStart) || !r.Window.To.Equal(time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("window = %v", r.Window)
	}
	if r.Total != 5_820_000-1000+2910 || r.Good != 5_820_000-1000 {
		t.Errorf("good/total = %d/%d", r.Good, r.Total)
	}
	// 2,910 bad of 5,821,910: spent 2910/(5821910 × 0.001).
	wantRemaining := 1 - 2910.0/5821.91
	if d := r.BudgetRemaining - wantRemaining; d > 1e-12 || d < -1e-12 || r.BudgetTotalMinutes != 44.58 {
		t.Errorf("remaining %v, budget minutes %v; want %v, 44.58", r.BudgetRemaining, r.BudgetTotalMinutes, wantRemaining)
	}
	if r.Frozen || len(r.Warnings) != 0 {
		t.Errorf("frozen %v, warnings %q", r.Frozen, r.Warnings)
	}
}

func TestAssessMinCalls(t *testing.T) {
	// One call a minute, every one failing: burn 1000× everywhere, but the
	// 5-minute and 30-minute windows hold 5 and 30 calls, so only the
	// ticket pairs (short windows of 120 and 360 calls) may fire.
	s := rolling("thin", Fraction{999, 1000}, 30*day)
	sr := mustSeries(t, s, minutes(now.Add(-4*day), 4*1440, 1, func(int) int64 { return 1 }), nil)
	cases := []struct {
		min  int64
		want []string
	}{
		{0, []string{"ticket-1d-2h", "ticket-3d-6h"}},
		{200, []string{"ticket-3d-6h"}},
		{400, nil},
	}
	for _, c := range cases {
		r := Assess(sr, now, Options{MinCalls: c.min})
		var got []string
		for _, a := range r.Alerts {
			got = append(got, a.Name)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("min calls %d: alerts %v, want %v", c.min, got, c.want)
		}
		if !hasWarning(r, "calls over 5m (5), 30m (30)") {
			t.Errorf("min calls %d: warnings %q", c.min, r.Warnings)
		}
	}
}

func TestTimeslices(t *testing.T) {
	s := SLO{Name: "slices", Service: "api", Objective: Fraction{99, 100}, Method: Timeslices,
		SliceTarget: Fraction{95, 100}, SliceWindow: time.Minute,
		Window: Window{Calendar: Week, Start: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)}}
	monday := time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)
	t.Run("a minute slice is good at exactly its target; an empty slice does not count", func(t *testing.T) {
		data := minutes(monday, 100, 100, func(i int) int64 {
			switch i {
			case 0, 1, 2:
				return 10 // 90 % < 95 %
			case 3:
				return 5 // exactly 95 %
			}
			return 0
		})
		data[4].Good, data[4].Total = 0, 0
		r := Assess(mustSeries(t, s, data, nil), monday.Add(100*time.Minute), Options{})
		if r.Good != 96 || r.Total != 99 || r.Calls != 9900 {
			t.Fatalf("slices %d/%d, calls %d; want 96/99 over 9,900 calls", r.Good, r.Total, r.Calls)
		}
		// 3 bad slices of 99 against a 1 % budget: remaining 1 − 300/99.
		if r.BudgetRemaining != 1-300.0/99 || !r.Frozen || r.FrozenUntil == nil || !r.FrozenUntil.Equal(monday.AddDate(0, 0, 7)) {
			t.Errorf("remaining %v, frozen %v until %v; want %v, frozen until next Monday", r.BudgetRemaining, r.Frozen, r.FrozenUntil, 1-300.0/99)
		}
	})
	t.Run("five-minute slices add up their minutes; an hourly roll-up counts as twelve slices", func(t *testing.T) {
		s5 := s
		s5.SliceWindow = 5 * time.Minute
		data := minutes(monday, 10, 100, func(i int) int64 {
			switch i {
			case 2:
				return 20 // slice 0: 480/500 = 96 %, good
			case 7:
				return 30 // slice 1: 470/500 = 94 %, bad
			}
			return 0
		})
		data = append(data, Bucket{Start: monday.Add(time.Hour), Width: time.Hour, Good: 5990, Total: 6000})
		sr := mustSeries(t, s5, data, nil)
		if c := sr.Sum(monday, monday.Add(time.Hour)); c.Good != 1 || c.Total != 2 || c.Calls != 1000 {
			t.Errorf("first hour = %+v, want 1 good of 2 slices, 1,000 calls", c)
		}
		if c := sr.Sum(monday, monday.Add(2*time.Hour)); c.Good != 13 || c.Total != 14 {
			t.Errorf("two hours = %+v, want 13 good of 14 slices", c)
		}
	})
}

func TestNewSeriesRejectsOverlapsAndImpossibleCounts(t *testing.T) {
	s := rolling("x", Fraction{99, 100}, day)
	for name, b := range map[string][]Bucket{
		"overlapping buckets":   {{Start: now, Width: time.Hour, Total: 1}, {Start: now.Add(time.Minute), Width: time.Minute, Total: 1}},
		"more good than total":  {{Start: now, Width: time.Minute, Good: 2, Total: 1}},
		"a bucket of no width":  {{Start: now, Total: 1}},
		"negative total counts": {{Start: now, Width: time.Minute, Total: -1}},
	} {
		if _, err := NewSeries(s, b, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestReportJSONNamesItsFields(t *testing.T) {
	s := rolling("api-availability", Fraction{999, 1000}, 30*day)
	// Hourly roll-ups up to an hour ago, so the short windows are approximate.
	var data []Bucket
	for h := 48; h >= 1; h-- {
		data = append(data, Bucket{Start: now.Add(-time.Duration(h) * time.Hour), Width: time.Hour, Good: 59_000, Total: 60_000})
	}
	r := Assess(mustSeries(t, s, data, nil), now, Options{})
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"name", "service", "objective", "sli", "good", "total", "budget_remaining", "budget_remaining_minutes",
		"burn_rates", "alerts", "exhausts_at", "frozen", "maintenance", "warnings"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report JSON lacks %q: %s", k, raw)
		}
	}
	if rates, _ := m["burn_rates"].(map[string]any); len(rates) != 7 || rates["5m"] != 0.0 || rates["1h"] != 1000.0/60 {
		t.Errorf("burn_rates = %v", m["burn_rates"])
	}
	if !hasWarning(r, "roll-ups coarser than a minute reach into the last 3 days (until "+now.Format(time.RFC3339)+")") {
		t.Errorf("warnings = %q", r.Warnings)
	}
}

func TestFreezeOf(t *testing.T) {
	lift := now.Add(48 * time.Hour)
	later := now.Add(72 * time.Hour)
	reports := []Report{
		{Name: "a", Service: "api", WindowName: "30-day", BudgetRemaining: 0.4},
		{Name: "b", Service: "api", WindowName: "30-day", Frozen: true, BudgetRemaining: -0.25, FrozenUntil: &lift},
		{Name: "c", Service: "api", WindowName: "monthly", Frozen: true, BudgetRemaining: 0, FrozenUntil: &later},
		{Name: "d", Service: "web", WindowName: "30-day", Frozen: true},
	}
	f := FreezeOf("api", reports)
	want := "frozen for feature deployments: b has -25 % of its 30-day budget left, projected to lift at 2026-03-12T12:00:00Z; " +
		"c has 0 % of its monthly budget left, projected to lift at 2026-03-13T12:00:00Z"
	if !f.Known || !f.Frozen || strings.Join(f.SLOs, ",") != "b,c" || f.Until == nil || !f.Until.Equal(later) || f.Reason != want {
		t.Errorf("freeze = %+v", f)
	}
	if f := FreezeOf("api", reports[:1]); !f.Known || f.Frozen || f.Until != nil {
		t.Errorf("unfrozen = %+v", f)
	}
	if f := FreezeOf("db", reports); f.Known || f.Frozen || f.Reason != "no SLOs configured for db" {
		t.Errorf("unknown = %+v", f)
	}
	reports[2].FrozenUntil = nil
	if f := FreezeOf("api", reports); f.Until != nil {
		t.Errorf("a freeze that cannot be projected still has an end: %v", f.Until)
	}
}

func TestRollupLeavesScheduledMaintenanceOutExactly(t *testing.T) {
	// Two hours of 1,000 calls a minute, 10 failing; a scheduled window
	// covers the 30 minutes from 00:15 of the first hour, announced a week
	// ahead, and a late one the first 10 minutes of the second hour.
	s := rolling("r", Fraction{99, 100}, day)
	h0 := now.Add(-2 * time.Hour)
	data := minutes(h0, 120, 1000, func(int) int64 { return 10 })
	sched := Maintenance{Service: "api", From: h0.Add(15 * time.Minute), To: h0.Add(45 * time.Minute), Reason: "upgrade", AnnouncedAt: h0.Add(-8 * day)}
	late := Maintenance{Service: "api", From: h0.Add(time.Hour), To: h0.Add(70 * time.Minute), Reason: "hotfix", AnnouncedAt: h0}
	hours := Rollup(s, data, []Maintenance{sched, late}, time.Hour)
	want := []Bucket{
		{Start: h0, Width: time.Hour, Good: 30 * 990, Total: 30_000, LeftGood: 30 * 990, LeftTotal: 30_000},
		{Start: h0.Add(time.Hour), Width: time.Hour, Good: 60 * 990, Total: 60_000},
	}
	if len(hours) != 2 || hours[0] != want[0] || hours[1] != want[1] {
		t.Fatalf("roll-up = %+v, want %+v", hours, want)
	}
	r := Assess(mustSeries(t, s, hours, []Maintenance{sched, late}), now, Options{})
	if r.Total != 90_000 || len(r.Maintenance) != 2 || r.Maintenance[0].LeftTotal != 30_000 || r.Maintenance[0].LeftGood != 29_700 || r.Maintenance[1].LeftTotal != 0 {
		t.Errorf("total %d, maintenance %+v", r.Total, r.Maintenance)
	}
	if hasWarning(r, "only partly inside") {
		t.Errorf("warnings = %q", r.Warnings)
	}
}
