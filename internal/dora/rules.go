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
	d := &x.deps[j]
	switch {
	case x.flag[j]&fInPeriod == 0:
		return 0, leadNotInPeriod
	case d.Status != delivery.DeploymentSuccess:
		return 0, leadNotSuccessful
	case s.CommitTime.IsZero():
		x.warn.add(warnMissingCommitTime)
		return 0, leadMissingCommitTime
	}
	lt := d.FinishedAt.Sub(s.CommitTime)
	if lt < 0 {
		x.warn.add(warnNegativeLeadTime)
		return lt, leadNegative
	}
	return lt, leadCounted
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
