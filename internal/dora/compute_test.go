package dora

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

const (
	success    = delivery.DeploymentSuccess
	failure    = delivery.DeploymentFailure
	rolledBack = delivery.DeploymentRolledBack
)

func TestMedianP90(t *testing.T) {
	tests := []struct {
		name        string
		values      []int64
		median, p90 float64
	}{
		// n=1: the only value is both; rank ⌈0.9⌉ = 1.
		{"one value is its own median and p90", []int64{7}, 7, 7},
		// n=3: middle is the 2nd; p90 rank ⌈2.7⌉ = 3.
		{"an odd count takes the middle value", []int64{3, 1, 2}, 2, 3},
		// n=4: (2+3)/2 = 2.5; p90 rank ⌈3.6⌉ = 4.
		{"an even count takes the mean of the two middle values", []int64{4, 1, 3, 2}, 2.5, 4},
		// n=10: (5+6)/2; p90 rank ⌈9.0⌉ = 9 exactly, not 10.
		{"ten values put p90 on the ninth", []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 5.5, 9},
		// n=11: the 6th; p90 rank ⌈9.9⌉ = 10.
		{"eleven values put p90 on the tenth", []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 6, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			med, p90, ok := medianP90(slices.Clone(tt.values))
			if !ok || med != tt.median || p90 != tt.p90 {
				t.Errorf("medianP90(%v) = %v, %v, %v; want %v, %v, true", tt.values, med, p90, ok, tt.median, tt.p90)
			}
		})
	}
	t.Run("no values have no median rather than a median of zero", func(t *testing.T) {
		if _, _, ok := medianP90(nil); ok {
			t.Error("medianP90(nil) reported a value")
		}
	})
}

func TestComputeOfAnEmptyPeriodIsNullNotZero(t *testing.T) {
	r := Compute(Input{Period: period(0, week)})
	got := string(mustJSON(t, r))
	for _, want := range []string{
		`"per_week": null`, `"median_deployment_days_per_week": null`,
		`"median_seconds": null`, `"p90_seconds": null`, `"ratio": null`,
		`"tier": null`, `"warnings": []`, `"count": 0`, `"weeks": 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, `"tier": "`) {
		t.Errorf("an empty period got a tier:\n%s", got)
	}
}

func TestLeadTime(t *testing.T) {
	tests := []struct {
		name         string
		deps         []delivery.Deployment
		ships        []Shipment
		median, p90  *float64
		count, deps_ int
		tier         *Tier
		warn         string
	}{{
		// Lead times 1h, 2h, 6h: median 2h, p90 rank ⌈2.7⌉ = 3 → 6h.
		name:   "an odd number of changes takes the middle lead time",
		deps:   []delivery.Deployment{dep("d1", success, 48*hour)},
		ships:  []Shipment{ship("d1", "a", 47*hour), ship("d1", "b", 46*hour), ship("d1", "c", 42*hour)},
		median: secs(2 * hour), p90: secs(6 * hour), count: 3, deps_: 1, tier: ptr(TierElite),
	}, {
		// d1 ships 1h and 3h, d2 ships 5h and 7h: median (3h+5h)/2 = 4h,
		// p90 rank ⌈3.6⌉ = 4 → 7h.
		name:   "an even number of changes takes the mean of the middle two",
		deps:   []delivery.Deployment{dep("d1", success, 48*hour), dep("d2", success, 96*hour)},
		ships:  []Shipment{ship("d1", "a", 47*hour), ship("d1", "b", 45*hour), ship("d2", "c", 91*hour), ship("d2", "d", 89*hour)},
		median: secs(4 * hour), p90: secs(7 * hour), count: 4, deps_: 2, tier: ptr(TierElite),
	}, {
		// "a" was committed an hour after the deployment finished: −1h is
		// left out, so only "b" (2h) remains.
		name:   "a change committed after its deployment is a warning, not a negative lead time",
		deps:   []delivery.Deployment{dep("d1", success, 48*hour)},
		ships:  []Shipment{ship("d1", "a", 49*hour), ship("d1", "b", 46*hour)},
		median: secs(2 * hour), p90: secs(2 * hour), count: 1, deps_: 1, tier: ptr(TierElite), warn: "negative_lead_time",
	}, {
		// Only "a" (10h) counts: d2 failed and d3 finished after the period.
		name:   "changes of failed deployments and of deployments after the period are left out",
		deps:   []delivery.Deployment{dep("d1", success, 48*hour), dep("d2", failure, 72*hour), dep("d3", success, week+hour)},
		ships:  []Shipment{ship("d1", "a", 38*hour), ship("d2", "b", 71*hour), ship("d3", "c", week)},
		median: secs(10 * hour), p90: secs(10 * hour), count: 1, deps_: 1, tier: ptr(TierElite),
	}, {
		name: "a deployment without changes gives no lead time rather than zero",
		deps: []delivery.Deployment{dep("d1", success, 48*hour)},
	}, {
		// Exactly 24h is not below one day, so high.
		name:   "a median of exactly one day is high, not elite",
		deps:   []delivery.Deployment{dep("d1", success, 48*hour)},
		ships:  []Shipment{ship("d1", "a", 24*hour)},
		median: secs(day), p90: secs(day), count: 1, deps_: 1, tier: ptr(TierHigh),
	}, {
		name:  "a change of a deployment missing from the input is a warning",
		deps:  []delivery.Deployment{dep("d1", success, 48*hour)},
		ships: []Shipment{ship("ghost", "a", 24*hour)},
		warn:  "unknown_deployment",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compute(Input{Period: period(0, week), Deployments: tt.deps, Shipments: tt.ships})
			lt := r.LeadTime
			if !eqPtr(lt.MedianSeconds, tt.median) || !eqPtr(lt.P90Seconds, tt.p90) || lt.Count != tt.count || lt.Deployments != tt.deps_ || !eqPtr(lt.Tier, tt.tier) {
				t.Errorf("lead time = median %v p90 %v count %d deployments %d tier %v; want %v %v %d %d %v",
					deref(lt.MedianSeconds), deref(lt.P90Seconds), lt.Count, lt.Deployments, deref(lt.Tier),
					deref(tt.median), deref(tt.p90), tt.count, tt.deps_, deref(tt.tier))
			}
			if tt.warn != "" && warningCount(r, tt.warn) != 1 {
				t.Errorf("warnings = %+v; want one %s", r.Warnings, tt.warn)
			}
		})
	}
}

func TestDeploymentFrequency(t *testing.T) {
	// weekdays returns successful deployments at noon on the given days.
	weekdays := func(days ...int) []delivery.Deployment {
		var ds []delivery.Deployment
		for _, d := range days {
			ds = append(ds, dep("d"+string(rune('a'+len(ds))), success, time.Duration(d)*day+12*hour))
		}
		return ds
	}
	tests := []struct {
		name   string
		period delivery.Period
		deps   []delivery.Deployment
		want   DeploymentFrequency
	}{{
		// The period runs Wed 3 Jan to Wed 17 Jan (14 days), overlapping
		// ISO weeks W01 (1–7 Jan), W02 (8–14) and W03 (15–21). Counted:
		// two on Wed 3 Jan (one day), Sun 7 Jan 23:59:59 (W01), Mon 8 Jan
		// 00:00 (W02), Tue 16 Jan (W03). Not counted: 2 Jan (before), 17 Jan
		// 00:00 (To is excluded), the failure. Count 5, days 4, weekly days
		// W01=2, W02=1, W03=1 → median 1 (high); 5 ÷ (14/7) = 2.5 a week.
		name:   "deployments either side of Monday midnight fall in different ISO weeks",
		period: period(2*day, 16*day),
		deps: []delivery.Deployment{
			dep("a", success, 2*day+10*hour), dep("b", success, 2*day+15*hour),
			dep("c", success, 7*day-time.Second), dep("d", success, 7*day),
			dep("e", success, 15*day+12*hour), dep("f", success, 16*day),
			dep("g", success, day), dep("h", failure, 9*day),
		},
		want: DeploymentFrequency{Count: 5, PerWeek: ptr(2.5), DeploymentDays: 4, MedianDeploymentDaysPerWeek: ptr(1.0), Weeks: 3, Tier: ptr(TierHigh)},
	}, {
		// Mon–Fri of each of four whole weeks: 20 days, median 5 (elite).
		name:   "deploying every weekday is elite at exactly five days a week",
		period: period(0, 4*week),
		deps:   weekdays(0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 21, 22, 23, 24, 25),
		want:   DeploymentFrequency{Count: 20, PerWeek: ptr(5.0), DeploymentDays: 20, MedianDeploymentDaysPerWeek: ptr(5.0), Weeks: 4, Tier: ptr(TierElite)},
	}, {
		// Two weeks with 5 and 4 deployment days: median 4.5, below 5.
		name:   "a median of four and a half days a week is high",
		period: period(0, 2*week),
		deps:   weekdays(0, 1, 2, 3, 4, 7, 8, 9, 10),
		want:   DeploymentFrequency{Count: 9, PerWeek: ptr(4.5), DeploymentDays: 9, MedianDeploymentDaysPerWeek: ptr(4.5), Weeks: 2, Tier: ptr(TierHigh)},
	}, {
		// 90 days from a Monday overlap 13 ISO weeks (day 89 is in the
		// 13th); 3 deployment days in week one → weekly median 0. Per month:
		// 3 ÷ (90 ÷ 30.436875) = 1.0146 ≥ 1 → medium. 3 ÷ (90/7) a week.
		name:   "three deployment days in ninety days are at least one a month, medium",
		period: period(0, 90*day),
		deps:   weekdays(0, 1, 2),
		want:   DeploymentFrequency{Count: 3, PerWeek: ptr(3.0 / (90.0 / 7)), DeploymentDays: 3, MedianDeploymentDaysPerWeek: ptr(0.0), Weeks: 13, Tier: ptr(TierMedium)},
	}, {
		// 2 ÷ (90 ÷ 30.436875) = 0.676 < 1 → low.
		name:   "two deployment days in ninety days are low",
		period: period(0, 90*day),
		deps:   weekdays(0, 1),
		want:   DeploymentFrequency{Count: 2, PerWeek: ptr(2.0 / (90.0 / 7)), DeploymentDays: 2, MedianDeploymentDaysPerWeek: ptr(0.0), Weeks: 13, Tier: ptr(TierLow)},
	}, {
		// Nothing succeeded; the period still spans one ISO week.
		name:   "a period with only failed deployments has no frequency figures",
		period: period(0, week),
		deps:   []delivery.Deployment{dep("a", failure, day)},
		want:   DeploymentFrequency{Count: 0, Weeks: 1},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compute(Input{Period: tt.period, Deployments: tt.deps}).DeploymentFrequency
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("deployment frequency =\n%s\nwant\n%s", mustJSON(t, got), mustJSON(t, tt.want))
			}
		})
	}
}

func TestChangeFailureRate(t *testing.T) {
	// Six deployments finished in the period: d1 and d6 are clean; d2
	// failed, d3 was rolled back, d4 caused I1 (explicit) and d5 caused I2
	// (inferred). d0 caused I3 but finished before the period, and the
	// pending deployment has not finished. 4 ÷ 6 fail → low.
	in := Input{
		Period: period(0, week),
		Deployments: []delivery.Deployment{
			dep("d0", success, -day),
			dep("d1", success, 0), dep("d2", failure, day), dep("d3", rolledBack, 2*day),
			dep("d4", success, 3*day), dep("d5", success, 4*day), dep("d6", success, 5*day),
			{Service: "api", Environment: "production", ID: "d7", Status: delivery.DeploymentPending},
		},
		Incidents: []IncidentLink{
			incident("I1", 3*day+hour, 3*day+2*hour, "d4", false),
			incident("I2", 4*day+hour, 4*day+2*hour, "d5", true),
			incident("I3", -day+hour, -day+2*hour, "d0", true),
		},
	}
	got := Compute(in).ChangeFailureRate
	want := ChangeFailureRate{Ratio: ptr(4.0 / 6), Failed: 4, Deployments: 6, Tier: ptr(TierLow)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("change failure rate =\n%s\nwant\n%s", mustJSON(t, got), mustJSON(t, want))
	}

	for _, tt := range []struct {
		name   string
		failed int
		tier   Tier
	}{
		{"one failure in twenty (exactly 5 %) is elite", 1, TierElite},
		{"two in twenty (exactly 10 %) is high", 2, TierHigh},
		{"three in twenty (exactly 15 %) is medium", 3, TierMedium},
		{"four in twenty (20 %) is low", 4, TierLow},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ds []delivery.Deployment
			for i := range 20 {
				s := success
				if i < tt.failed {
					s = failure
				}
				ds = append(ds, dep(string(rune('a'+i)), s, time.Duration(i)*hour))
			}
			got := Compute(Input{Period: period(0, week), Deployments: ds}).ChangeFailureRate
			if got.Failed != tt.failed || got.Deployments != 20 || got.Tier == nil || *got.Tier != tt.tier {
				t.Errorf("got %s; want %d/20 %s", mustJSON(t, got), tt.failed, tt.tier)
			}
		})
	}
}

func TestTimeToRestore(t *testing.T) {
	// Counted: I1 2h, I2 4h, I4 opened before the period and resolved in it,
	// 2d+6h = 54h. Sorted 2h, 4h, 54h → median 4h (high: under a day), p90
	// rank ⌈2.7⌉ = 3 → 54h. I3 resolved an hour before it opened (skew), I5
	// after the period, I6 never. None has a deployment: six unlinked.
	in := Input{
		Period: period(0, week),
		Incidents: []IncidentLink{
			incident("I1", 0, 2*hour, "", false),
			incident("I2", day, day+4*hour, "", false),
			incident("I3", 2*day, 2*day-hour, "", false),
			incident("I4", -2*day, 6*hour, "", false),
			incident("I5", 6*day, week+hour, "", false),
			incident("I6", 6*day, unresolved, "", false),
		},
	}
	r := Compute(in)
	want := TimeToRestore{MedianSeconds: secs(4 * hour), P90Seconds: secs(54 * hour), Count: 3, Tier: ptr(TierHigh)}
	if !reflect.DeepEqual(r.TimeToRestore, want) {
		t.Errorf("time to restore =\n%s\nwant\n%s", mustJSON(t, r.TimeToRestore), mustJSON(t, want))
	}
	if n := warningCount(r, "negative_restore_time"); n != 1 {
		t.Errorf("negative_restore_time warnings = %d; want 1", n)
	}
	if n := warningCount(r, "unlinked_incident"); n != 6 {
		t.Errorf("unlinked_incident warnings = %d; want 6", n)
	}
	// Only restore has data, so it alone sets the overall tier.
	if r.Tier == nil || *r.Tier != TierHigh {
		t.Errorf("overall tier = %v; want high", deref(r.Tier))
	}
}

func TestAnIncidentBeforeAnyDeploymentCountsInRestoreButInNoFailure(t *testing.T) {
	// I1 opened on day 0 before d1 (day 1) existed, so nothing could be
	// inferred: restore 3h counts, d1 stays a clean deployment (0 ÷ 1).
	r := Compute(Input{
		Period:      period(0, week),
		Deployments: []delivery.Deployment{dep("d1", success, day)},
		Incidents:   []IncidentLink{incident("I1", 0, 3*hour, "", false)},
	})
	if r.TimeToRestore.Count != 1 || !eqPtr(r.TimeToRestore.MedianSeconds, secs(3*hour)) {
		t.Errorf("time to restore = %s; want one of 3h", mustJSON(t, r.TimeToRestore))
	}
	if r.ChangeFailureRate.Failed != 0 || r.ChangeFailureRate.Deployments != 1 {
		t.Errorf("change failure rate = %s; want 0/1", mustJSON(t, r.ChangeFailureRate))
	}
	if warningCount(r, "unlinked_incident") != 1 {
		t.Errorf("warnings = %+v; want one unlinked_incident", r.Warnings)
	}
}

func TestRecoveryTime(t *testing.T) {
	tests := []struct {
		name        string
		deps        []delivery.Deployment
		incs        []IncidentLink
		median, p90 *float64
		count       int
		warn        string
	}{{
		// d1 fails on day 1, d2 succeeds 3h later: 3h.
		name:   "a failure is recovered by the next successful deployment",
		deps:   []delivery.Deployment{dep("d1", failure, day), dep("d2", success, day+3*hour)},
		median: secs(3 * hour), p90: secs(3 * hour), count: 1,
	}, {
		// d1 rolled back on day 6; the fix d2 lands on day 8, after the
		// period ends on day 7: 2 days, still counted.
		name:   "a recovery found after the period end still counts",
		deps:   []delivery.Deployment{dep("d1", rolledBack, 6*day), dep("d2", success, 8*day)},
		median: secs(2 * day), p90: secs(2 * day), count: 1,
	}, {
		// d1 caused I1, resolved 2h after d1 finished; the next deployment
		// d2 came a day later. The earlier, 2h, is the recovery.
		name:   "an incident resolved before the next deployment ends the recovery",
		deps:   []delivery.Deployment{dep("d1", success, day), dep("d2", success, 2*day)},
		incs:   []IncidentLink{incident("I1", day+hour, day+2*hour, "d1", false)},
		median: secs(2 * hour), p90: secs(2 * hour), count: 1,
	}, {
		// I1 resolved at +1h but I2 is still open, so only d2 at +5h
		// restores the service.
		name: "an unresolved incident leaves the next deployment as the recovery",
		deps: []delivery.Deployment{dep("d1", success, day), dep("d2", success, day+5*hour)},
		incs: []IncidentLink{
			incident("I1", day+10*time.Minute, day+hour, "d1", true),
			incident("I2", day+20*time.Minute, unresolved, "d1", false),
		},
		median: secs(5 * hour), p90: secs(5 * hour), count: 1,
	}, {
		// Four failures recovered in 3h (d1 by d2), 2h (d3 by I1, before d4
		// a day later), 48h (d5 on day 6 by d6 on day 8) and 36h (d7 on day
		// 6½ by d6). Sorted 2h, 3h, 36h, 48h: median (3h+36h)/2 = 19.5h, p90
		// rank ⌈3.6⌉ = 4 → 48h.
		name: "recovery times take the median and p90 of every failure",
		deps: []delivery.Deployment{
			dep("d1", failure, day), dep("d2", success, day+3*hour),
			dep("d3", success, 2*day), dep("d4", success, 3*day),
			dep("d5", rolledBack, 6*day), dep("d7", failure, 6*day+12*hour), dep("d6", success, 8*day),
		},
		incs:   []IncidentLink{incident("I1", 2*day+hour, 2*day+2*hour, "d3", false)},
		median: secs(19*hour + 30*time.Minute), p90: secs(48 * hour), count: 4,
	}, {
		name: "a failure with no fix yet has no recovery time",
		deps: []delivery.Deployment{dep("d1", failure, day)},
	}, {
		// I1 was explicitly tied to d1 but resolved an hour before d1
		// finished; with no later deployment, the −1h recovery is skew.
		name: "a recovery before the failure finished is a warning",
		deps: []delivery.Deployment{dep("d1", success, day)},
		incs: []IncidentLink{incident("I1", 0, day-hour, "d1", false)},
		warn: "negative_recovery_time",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compute(Input{Period: period(0, week), Deployments: tt.deps, Incidents: tt.incs})
			got := r.RecoveryTime
			if !eqPtr(got.MedianSeconds, tt.median) || !eqPtr(got.P90Seconds, tt.p90) || got.Count != tt.count {
				t.Errorf("recovery time = %s; want median %v p90 %v count %d", mustJSON(t, got), deref(tt.median), deref(tt.p90), tt.count)
			}
			if tt.warn != "" && warningCount(r, tt.warn) != 1 {
				t.Errorf("warnings = %+v; want one %s", r.Warnings, tt.warn)
			}
		})
	}
}

func TestReworkRate(t *testing.T) {
	// In the period: d1 planned, d2 hotfix, d3 a rollback, d4 ships a fix
	// for INC-1, d5 a plain failure. d6 is a hotfix after the period. 3 ÷ 5.
	d2, d3, d6 := dep("d2", success, 2*hour), dep("d3", success, 3*hour), dep("d6", success, week+hour)
	d2.Hotfix, d3.Rollback, d6.Hotfix = true, true, true
	fix := ship("d4", "f", 3*hour)
	fix.Incident = "INC-1"
	got := Compute(Input{
		Period:      period(0, week),
		Deployments: []delivery.Deployment{dep("d1", success, hour), d2, d3, dep("d4", success, 4*hour), dep("d5", failure, 5*hour), d6},
		Shipments:   []Shipment{ship("d1", "a", 0), fix},
	}).ReworkRate
	want := ReworkRate{Ratio: ptr(3.0 / 5), Unplanned: 3, Deployments: 5}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rework rate = %s; want %s", mustJSON(t, got), mustJSON(t, want))
	}
}

func TestOverallTier(t *testing.T) {
	// Frequency: Mon–Fri → median 5, elite. Lead time: one change of 2
	// days → high. Failure: d1 failed, 1 ÷ 6 = 16.7 % → low. Restore: no
	// incidents, no tier. The lowest of elite, high, low is low.
	ds := []delivery.Deployment{dep("d1", failure, 10*hour)}
	for i := range 5 {
		ds = append(ds, dep(string(rune('a'+i)), success, time.Duration(i)*day+12*hour))
	}
	r := Compute(Input{Period: period(0, week), Deployments: ds, Shipments: []Shipment{ship("a", "x", 12*hour-2*day)}})
	tiers := []*Tier{r.DeploymentFrequency.Tier, r.LeadTime.Tier, r.ChangeFailureRate.Tier, r.TimeToRestore.Tier, r.Tier}
	want := []*Tier{ptr(TierElite), ptr(TierHigh), ptr(TierLow), nil, ptr(TierLow)}
	for i := range want {
		if !eqPtr(tiers[i], want[i]) {
			t.Errorf("tier %d = %v; want %v", i, deref(tiers[i]), deref(want[i]))
		}
	}
}

func TestTierBoundaries(t *testing.T) {
	th := DefaultThresholds()
	tests := []struct {
		name string
		got  Tier
		want Tier
	}{
		{"lead time just under a day is elite", th.LeadTime.below(float64(day - 1)), TierElite},
		{"lead time of exactly a day is high", th.LeadTime.below(float64(day)), TierHigh},
		{"lead time of exactly a week is medium", th.LeadTime.below(float64(week)), TierMedium},
		{"lead time of exactly thirty days is low", th.LeadTime.below(float64(30 * day)), TierLow},
		{"restore just under an hour is elite", th.TimeToRestore.below(float64(hour - 1)), TierElite},
		{"restore of exactly an hour is high", th.TimeToRestore.below(float64(hour)), TierHigh},
		{"restore of exactly a day is medium", th.TimeToRestore.below(float64(day)), TierMedium},
		{"restore of exactly a week is low", th.TimeToRestore.below(float64(week)), TierLow},
		{"a failure rate of exactly 5 % is elite", th.ChangeFailureRate.atMost(0.05), TierElite},
		{"a failure rate just over 5 % is high", th.ChangeFailureRate.atMost(0.0501), TierHigh},
		{"a failure rate of exactly 15 % is medium", th.ChangeFailureRate.atMost(0.15), TierMedium},
		{"a failure rate just over 15 % is low", th.ChangeFailureRate.atMost(0.1501), TierLow},
		{"exactly five deployment days a week is elite", th.deploymentFrequencyTier(5, 20), TierElite},
		{"exactly one deployment day a week is high", th.deploymentFrequencyTier(1, 4), TierHigh},
		{"exactly one deployment day a month is medium", th.deploymentFrequencyTier(0, 1), TierMedium},
		{"less than one deployment day a month is low", th.deploymentFrequencyTier(0, 0.99), TierLow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("tier = %s; want %s", tt.got, tt.want)
			}
		})
	}
	t.Run("overridden thresholds replace the defaults", func(t *testing.T) {
		// A team holding itself to a 1h lead time: 2h is no longer elite.
		custom := DefaultThresholds()
		custom.LeadTime.Elite = hour
		r := Compute(Input{
			Period: period(0, week), Thresholds: &custom,
			Deployments: []delivery.Deployment{dep("d1", success, 48*hour)},
			Shipments:   []Shipment{ship("d1", "a", 46*hour)},
		})
		if !eqPtr(r.LeadTime.Tier, ptr(TierHigh)) {
			t.Errorf("lead time tier = %v; want high", deref(r.LeadTime.Tier))
		}
	})
}

func TestComputeDoesNotDependOnInputOrder(t *testing.T) {
	in := fullInput()
	want := Compute(in)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		shuffled := Input{Period: in.Period,
			Deployments: slices.Clone(in.Deployments), Shipments: slices.Clone(in.Shipments), Incidents: slices.Clone(in.Incidents)}
		rng.Shuffle(len(shuffled.Deployments), reflect.Swapper(shuffled.Deployments))
		rng.Shuffle(len(shuffled.Shipments), reflect.Swapper(shuffled.Shipments))
		rng.Shuffle(len(shuffled.Incidents), reflect.Swapper(shuffled.Incidents))
		if got := Compute(shuffled); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffle %d changed the report:\n%s\nwant\n%s", i, mustJSON(t, got), mustJSON(t, want))
		}
	}
}

func TestDuplicateDeploymentsAreMergedAndCountedOnce(t *testing.T) {
	// The same deployment reported twice, as failed and a minute later as
	// successful: the later report wins, so one successful deployment, one
	// warning, and the caller's slice left as it was.
	a := dep("d1", failure, day)
	a.UpdatedAt = at(day)
	b := dep("d1", success, day)
	b.UpdatedAt = at(day + time.Minute)
	ds := []delivery.Deployment{a, b}
	r := Compute(Input{Period: period(0, week), Deployments: ds})
	if r.DeploymentFrequency.Count != 1 || r.ChangeFailureRate.Deployments != 1 || r.ChangeFailureRate.Failed != 0 {
		t.Errorf("got frequency %s, failure %s; want one successful deployment", mustJSON(t, r.DeploymentFrequency), mustJSON(t, r.ChangeFailureRate))
	}
	if warningCount(r, "duplicate_deployment") != 1 {
		t.Errorf("warnings = %+v; want one duplicate_deployment", r.Warnings)
	}
	if ds[0].Status != failure {
		t.Error("Compute modified its input")
	}
}

func TestMedianP90AgreesWithSorting(t *testing.T) {
	// Selection must give what sorting gives, for every size around the
	// insertion-sort cut-off and for inputs full of equal values.
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 1; n <= 300; n++ {
		for _, spread := range []int64{3, 1 << 40} {
			v := make([]int64, n)
			for i := range v {
				v[i] = rng.Int64N(spread)
			}
			sorted := slices.Clone(v)
			slices.Sort(sorted)
			wantP90 := float64(sorted[p90Rank(n)-1])
			med, p90, _ := medianP90(v)
			if med != medianSorted(sorted) || p90 != wantP90 {
				t.Fatalf("n=%d spread=%d: got %v, %v; want %v, %v", n, spread, med, p90, medianSorted(sorted), wantP90)
			}
		}
	}
}
