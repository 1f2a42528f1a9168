package dora

import (
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// The rules below decide, record by record, whether a record counts in a
// figure and why not. Compute and Explain both call them, which is what
// keeps a figure and its explanation in agreement. Each rule also counts
// the data-quality warning its record raises.

type leadReason int

const (
	leadCounted leadReason = iota
	leadNotInPeriod
	leadNotSuccessful
	leadMissingCommitTime
	leadNegative
)

var leadReasons = [...]string{
	leadCounted:           "counted: shipped by a successful production deployment finished in the period",
	leadNotInPeriod:       "excluded: its deployment did not finish in the period",
	leadNotSuccessful:     "excluded: its deployment did not succeed",
	leadMissingCommitTime: "excluded: no commit time",
	leadNegative:          "excluded: committed after the deployment finished (clock skew)",
}

// changeLeadTime is the lead time of change s shipped by the deployment at j.
func (x *index) changeLeadTime(j int, s *Shipment) (time.Duration, leadReason) {
	if reason := x.shipsLeadTime(j); reason != leadCounted {
		return 0, reason
	}
	if s.CommitTime.IsZero() {
		x.warn.add(warnMissingCommitTime)
		return 0, leadMissingCommitTime
	}
	lt := x.deps[j].FinishedAt.Sub(s.CommitTime)
	if lt < 0 {
		x.warn.add(warnNegativeLeadTime)
		return lt, leadNegative
	}
	return lt, leadCounted
}

// shipsLeadTime is the part of changeLeadTime that depends on the
// deployment at j alone: leadCounted when the changes it shipped count.
func (x *index) shipsLeadTime(j int) leadReason {
	switch {
	case x.flag[j]&fInPeriod == 0:
		return leadNotInPeriod
	case x.deps[j].Status != delivery.DeploymentSuccess:
		return leadNotSuccessful
	}
	return leadCounted
}

// zeroMicros is the zero time.Time in Unix microseconds: a summary's
// commit time that is missing.
var zeroMicros = time.Time{}.UnixMicro()

// maxExactMicros bounds the microseconds that summaryLeadTimes subtracts
// as integers: about 285 years, within a Duration's ±292 in nanoseconds.
const maxExactMicros = 9_000_000_000_000_000

// summaryLeadTimes appends to durs the lead times of the changes whose
// commit times (Unix microseconds) are micros, shipped by the deployment at
// j, by changeLeadTime's rules and with its warnings, as if each were a
// Shipment. A long history is 200,000 of them, so where both times are
// whole microseconds in range it subtracts integers, which gives the
// nanoseconds time.Time.Sub would; elsewhere it calls Sub.
func (x *index) summaryLeadTimes(j int, micros []int64, durs []int64) []int64 {
	if x.shipsLeadTime(j) != leadCounted {
		return durs
	}
	finished := x.deps[j].FinishedAt
	fs, fn := finished.Unix(), int64(finished.Nanosecond())
	exact := fn%1000 == 0 && fs > -maxExactMicros/1e6 && fs < maxExactMicros/1e6
	fus := fs*1e6 + fn/1000
	for _, us := range micros {
		if us == zeroMicros {
			x.warn.add(warnMissingCommitTime)
			continue
		}
		var lt time.Duration
		if d := fus - us; exact && us > -maxExactMicros && us < maxExactMicros && d > -maxExactMicros && d < maxExactMicros {
			lt = time.Duration(d) * time.Microsecond
		} else {
			lt = finished.Sub(time.UnixMicro(us))
		}
		if lt < 0 {
			x.warn.add(warnNegativeLeadTime)
			continue
		}
		durs = append(durs, int64(lt))
	}
	return durs
}

type restoreReason int

const (
	restoreCounted restoreReason = iota
	restoreUnresolved
	restoreNotInPeriod
	restoreNegative
)

var restoreReasons = [...]string{
	restoreCounted:     "counted: resolved in the period",
	restoreUnresolved:  "excluded: not resolved",
	restoreNotInPeriod: "excluded: resolved outside the period",
	restoreNegative:    "excluded: resolved before it opened (clock skew)",
}

// restoreTime is resolved − opened of an incident resolved in the period.
func (x *index) restoreTime(inc *delivery.Incident) (time.Duration, restoreReason) {
	switch {
	case inc.ResolvedAt.IsZero():
		return 0, restoreUnresolved
	case !x.in.Period.Contains(inc.ResolvedAt):
		return 0, restoreNotInPeriod
	}
	d := inc.ResolvedAt.Sub(inc.OpenedAt)
	if d < 0 {
		x.warn.add(warnNegativeRestoreTime)
		return d, restoreNegative
	}
	return d, restoreCounted
}

type recoveryReason int

const (
	recoveryCounted recoveryReason = iota
	recoveryNone
	recoveryNegative
)

var recoveryReasons = [...]string{
	recoveryCounted:  "counted",
	recoveryNone:     "excluded: not recovered yet (no later successful deployment, incidents unresolved)",
	recoveryNegative: "excluded: recovered before it finished (clock skew)",
}

// recoveryOf is the failed deployment recovery time of the failing
// deployment at j, which may end after the period: the fix is looked for in
// every deployment of the input.
func (x *index) recoveryOf(j int) (time.Duration, recovery, recoveryReason) {
	r := x.recover(j)
	if !r.ok {
		return 0, r, recoveryNone
	}
	d := r.end.Sub(x.deps[j].FinishedAt)
	if d < 0 {
		x.warn.add(warnNegativeRecoveryTime)
		return d, r, recoveryNegative
	}
	return d, r, recoveryCounted
}
