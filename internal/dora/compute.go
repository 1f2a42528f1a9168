package dora

import (
	"slices"

	"github.com/stride-oss/stride/internal/delivery"
)

// Compute returns the DORA report of in, as docs/metrics.md defines each figure.
// It is a pure function: it does not modify in, and the same input (in any
// order of its slices) gives the same report. It never fails; problems with
// the data are counted in Report.Warnings, and figures without data are null.
func Compute(in Input) Report {
	x := newIndex(in)
	r := Report{From: in.Period.From, To: in.Period.To}

	x.deploymentFrequency(&r.DeploymentFrequency)
	x.leadTime(&r.LeadTime) // also marks fShipsFix, which rework reads
	x.changeFailureRate(&r.ChangeFailureRate)
	x.timeToRestore(&r.TimeToRestore)
	x.recoveryTime(&r.RecoveryTime)
	x.reworkRate(&r.ReworkRate)

	r.TierMissing = []string{}
	for _, k := range []struct {
		key string
		t   *Tier
	}{
		{"deployment_frequency", r.DeploymentFrequency.Tier}, {"lead_time", r.LeadTime.Tier},
		{"change_failure_rate", r.ChangeFailureRate.Tier}, {"time_to_restore", r.TimeToRestore.Tier},
	} {
		if k.t == nil {
			r.TierMissing = append(r.TierMissing, k.key)
			continue
		}
		if r.Tier == nil || k.t.rank() < r.Tier.rank() {
			r.Tier = ptr(*k.t)
		}
	}
	r.TierPartial = r.Tier != nil && len(r.TierMissing) > 0
	r.Warnings = x.warn.list()
	return r
}

// frequency is the arithmetic of deployment frequency, kept apart from the
// report so that Explain can show the weekly counts it came from.
type frequency struct {
	count, days int
	// weekDays are the deployment days of each ISO week overlapping the
	// period, from firstWeek on.
	weekDays  []int
	firstWeek int64
	// periodDays is the length of the period in days (fractional).
	periodDays float64
}

func (x *index) frequency() frequency {
	p := x.in.Period
	var f frequency
	if !p.From.Before(p.To) {
		return f
	}
	f.periodDays = p.To.Sub(p.From).Hours() / 24
	f.firstWeek = isoWeek(unixDay(p.From))
	last := isoWeek(unixDay(p.To.Add(-1))) // To is excluded
	f.weekDays = make([]int, last-f.firstWeek+1)

	var days []int64
	for j := range x.deps {
		if x.flag[j]&fInPeriod != 0 && x.deps[j].Status == delivery.DeploymentSuccess {
			f.count++
			days = append(days, unixDay(x.deps[j].FinishedAt))
		}
	}
	slices.Sort(days)
	days = slices.Compact(days)
	f.days = len(days)
	for _, d := range days {
		f.weekDays[isoWeek(d)-f.firstWeek]++
	}
	return f
}

// daysPerMonth is the medium tier's figure: deployment days per
// average month of the period.
func (f frequency) daysPerMonth() float64 {
	return float64(f.days) / (f.periodDays / daysPerMonth)
}

func (f frequency) medianWeekDays() float64 {
	w := slices.Clone(f.weekDays)
	slices.Sort(w)
	return medianSorted(w)
}

func (x *index) deploymentFrequency(out *DeploymentFrequency) {
	f := x.frequency()
	out.Count, out.DeploymentDays, out.Weeks = f.count, f.days, len(f.weekDays)
	if f.count == 0 {
		switch {
		case x.in.Reported == nil || !x.in.Period.From.Before(x.in.Period.To):
		case x.in.Reported.Deployments:
			// Not deploying in a period is a fact about a service that deploys.
			out.PerWeek, out.MedianDeploymentDaysPerWeek, out.Tier = ptr(0.0), ptr(0.0), ptr(TierLow)
		default:
			x.warn.add(warnNoDeploymentSource)
		}
		return
	}
	med := f.medianWeekDays()
	out.PerWeek = ptr(float64(f.count) / (f.periodDays / 7))
	out.MedianDeploymentDaysPerWeek = ptr(med)
	out.Tier = ptr(x.th.deploymentFrequencyTier(med, f.daysPerMonth()))
}

// leadTime walks the shipments once. Shipments usually arrive grouped by
// deployment, so the last lookup is reused and the map is consulted about
// once per deployment rather than once per change; any order still works.
func (x *index) leadTime(out *LeadTime) {
	total := len(x.in.Shipments)
	for i := range x.in.Summaries {
		total += len(x.in.Summaries[i].CommitMicros)
	}
	durs := make([]int64, 0, total)
	counted := make([]bool, len(x.deps))
	last, j := delivery.DeploymentKey{}, -1
	for i := range x.in.Shipments {
		s := &x.in.Shipments[i]
		if i == 0 || s.Deployment != last {
			last, j = s.Deployment, x.lookup(s.Deployment)
		}
		if j < 0 {
			x.warn.add(warnUnknownDeployment)
			continue
		}
		if s.Incident != "" {
			x.flag[j] |= fShipsFix
		}
		d, reason := x.changeLeadTime(j, s)
		if reason != leadCounted {
			continue
		}
		durs = append(durs, int64(d))
		if !counted[j] {
			counted[j] = true
			out.Deployments++
		}
	}
	// Summaries come one per deployment, usually in the deployments'
	// order: the position after the last one's is tried before the map.
	next := 0
	for i := range x.in.Summaries {
		s := &x.in.Summaries[i]
		j := x.lookupFrom(s.Deployment, next)
		if j < 0 {
			x.warn.addN(warnUnknownDeployment, len(s.CommitMicros))
			continue
		}
		next = j + 1
		n := len(durs)
		if durs = x.summaryLeadTimes(j, s.CommitMicros, durs); len(durs) > n && !counted[j] {
			counted[j] = true
			out.Deployments++
		}
	}
	out.Count = len(durs)
	if med, p90, ok := medianP90(durs); ok {
		out.MedianSeconds, out.P90Seconds = ptr(seconds(med)), ptr(seconds(p90))
		out.Tier = ptr(x.th.LeadTime.below(med))
	}
}

func (x *index) changeFailureRate(out *ChangeFailureRate) {
	for j := range x.deps {
		if x.flag[j]&fInPeriod == 0 {
			continue
		}
		out.Deployments++
		if x.failing(j) {
			out.Failed++
		}
	}
	if out.Deployments > 0 {
		ratio := float64(out.Failed) / float64(out.Deployments)
		out.Ratio = ptr(ratio)
		if !x.failuresReported() {
			x.warn.add(warnNoFailureData)
			return
		}
		out.Tier = ptr(x.th.ChangeFailureRate.atMost(ratio))
	}
}

// failuresReported reports whether the scope has failure data at all: as
// the caller says, or, when it does not, as the input shows.
func (x *index) failuresReported() bool {
	if x.in.Reported != nil {
		return x.in.Reported.Failures
	}
	if len(x.in.Incidents) > 0 {
		return true
	}
	for j := range x.deps {
		if x.flag[j]&fUsable != 0 && x.deps[j].Status.Failed() {
			return true
		}
	}
	return false
}

func (x *index) timeToRestore(out *TimeToRestore) {
	var durs []int64
	for i := range x.in.Incidents {
		d, reason := x.restoreTime(&x.in.Incidents[i].Incident)
		if reason == restoreCounted {
			durs = append(durs, int64(d))
		}
	}
	out.Count = len(durs)
	if med, p90, ok := medianP90(durs); ok {
		out.MedianSeconds, out.P90Seconds = ptr(seconds(med)), ptr(seconds(p90))
		out.Tier = ptr(x.th.TimeToRestore.below(med))
	}
}

func (x *index) recoveryTime(out *RecoveryTime) {
	var durs []int64
	for j := range x.deps {
		if x.flag[j]&fInPeriod == 0 || !x.failing(j) {
			continue
		}
		if d, _, reason := x.recoveryOf(j); reason == recoveryCounted {
			durs = append(durs, int64(d))
		}
	}
	out.Count = len(durs)
	if med, p90, ok := medianP90(durs); ok {
		out.MedianSeconds, out.P90Seconds = ptr(seconds(med)), ptr(seconds(p90))
	}
}

func (x *index) reworkRate(out *ReworkRate) {
	for j := range x.deps {
		if x.flag[j]&fInPeriod == 0 {
			continue
		}
		out.Deployments++
		if x.unplanned(j) {
			out.Unplanned++
		}
	}
	if out.Deployments > 0 {
		out.Ratio = ptr(float64(out.Unplanned) / float64(out.Deployments))
	}
}
