package dora

import (
	"cmp"
	"slices"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Per-deployment flags of an index.
const (
	// fUsable marks a deployment the metrics read: terminal, with a finish
	// time, and not a duplicate merged into an earlier entry.
	fUsable uint8 = 1 << iota
	// fInPeriod marks a usable deployment finished in the period.
	fInPeriod
	// fShipsFix marks a deployment shipping a change linked to an incident.
	fShipsFix
	// fLinked marks a deployment some incident is linked to, so that the
	// per-deployment walks ask incidentsOf only about those.
	fLinked
)

// index is the view of one Input that Compute and Explain share, so that
// the figures and the records behind them cannot drift apart. It is built
// in O(deployments + incidents) with one map; shipments are walked by the
// callers.
type index struct {
	in   Input
	th   Thresholds
	deps []delivery.Deployment // in.Deployments, or a copy when duplicates were merged
	pos  map[delivery.DeploymentKey]int
	flag []uint8
	// incidentsOf lists, per deployment position, the incidents linked to it.
	// Incidents are few next to changes, so a map costs little here.
	incidentsOf map[int][]int
	// succ holds the positions of usable successful deployments sorted by
	// service, then finish time, for finding the fix after a failure.
	succ []int
	warn warnings
}

func newIndex(in Input) *index {
	x := &index{in: in, deps: in.Deployments}
	if in.Thresholds != nil {
		x.th = *in.Thresholds
	} else {
		x.th = DefaultThresholds()
	}
	if !in.Period.From.Before(in.Period.To) {
		x.warn.add(warnInvalidPeriod)
	}
	x.pos = make(map[delivery.DeploymentKey]int, len(in.Deployments))
	x.flag = make([]uint8, len(in.Deployments))
	cloned := false
	for i := range x.deps {
		d := &x.deps[i]
		if !d.Status.Terminal() {
			continue
		}
		if d.FinishedAt.IsZero() {
			x.warn.add(warnMissingFinishTime)
			continue
		}
		k := d.Key()
		if j, dup := x.pos[k]; dup {
			// Merge is order-independent, so which copy comes first does
			// not matter; the input slice is the caller's and stays intact.
			x.warn.add(warnDuplicateDeployment)
			if !cloned {
				x.deps = slices.Clone(x.deps)
				cloned = true
			}
			x.deps[j] = delivery.MergeDeployment(x.deps[j], x.deps[i])
			x.flag[j] &^= fInPeriod
			if in.Period.Contains(x.deps[j].FinishedAt) {
				x.flag[j] |= fInPeriod
			}
			continue
		}
		x.pos[k] = i
		x.flag[i] = fUsable
		if in.Period.Contains(d.FinishedAt) {
			x.flag[i] |= fInPeriod
		}
	}
	for i := range in.Incidents {
		l := &in.Incidents[i]
		if l.Deployment == nil {
			switch l.Rule {
			case delivery.CauseSaidNone:
				// The source said so: nothing is missing.
			case delivery.CauseOutsideWindow:
				x.warn.add(warnOutsideCauseWindow)
			default:
				x.warn.add(warnUnlinkedIncident)
			}
			continue
		}
		if j, ok := x.pos[*l.Deployment]; ok {
			if x.incidentsOf == nil {
				x.incidentsOf = make(map[int][]int)
			}
			x.incidentsOf[j] = append(x.incidentsOf[j], i)
			x.flag[j] |= fLinked
		}
	}
	return x
}

// lookup returns the position of a usable deployment, or -1.
func (x *index) lookup(k delivery.DeploymentKey) int {
	if j, ok := x.pos[k]; ok {
		return j
	}
	return -1
}

// lookupFrom is lookup, trying guess first: a usable deployment's key is
// unique among the usable ones (duplicates are merged into the first), so
// when the one at guess has key k, guess is its position.
func (x *index) lookupFrom(k delivery.DeploymentKey, guess int) int {
	if guess < len(x.deps) && x.flag[guess]&fUsable != 0 && x.deps[guess].Key() == k {
		return guess
	}
	return x.lookup(k)
}

// failing reports whether the deployment at j counts as a change failure:
// it failed, was rolled back, or an incident is linked to it.
func (x *index) failing(j int) bool {
	return x.deps[j].Status.Failed() || x.flag[j]&fLinked != 0
}

// unplanned reports whether the deployment at j is rework.
func (x *index) unplanned(j int) bool {
	d := &x.deps[j]
	return d.Hotfix || d.Rollback || x.flag[j]&fShipsFix != 0
}

// markFixes sets fShipsFix from the shipments. Compute folds this into its
// lead-time walk; Explain of rework calls it on its own.
func (x *index) markFixes() {
	last, j := delivery.DeploymentKey{}, -1
	for i := range x.in.Shipments {
		s := &x.in.Shipments[i]
		if i == 0 || s.Deployment != last {
			last, j = s.Deployment, x.lookup(s.Deployment)
		}
		if j >= 0 && s.Incident != "" {
			x.flag[j] |= fShipsFix
		}
	}
}

// recovery is how one failing deployment was recovered from.
type recovery struct {
	end time.Time
	// by is the fixing deployment's position, or -1 when an incident's
	// resolution came first.
	by int
	// incident is the position of the incident resolved last, when the
	// recovery came through incidents.
	incident int
	ok       bool
}

// recover finds the recovery of the failing deployment at j: the finish of
// the next successful deployment of the same service, or the resolution of
// its incidents when that comes first. With several incidents the service is
// restored when the last is resolved, and an unresolved one means no
// recovery by resolution yet.
func (x *index) recover(j int) recovery {
	if x.succ == nil {
		x.buildSucc()
	}
	d := &x.deps[j]
	r := recovery{by: -1, incident: -1}
	k, _ := slices.BinarySearchFunc(x.succ, d, func(p int, d *delivery.Deployment) int {
		e := &x.deps[p]
		if c := cmp.Compare(e.Service, d.Service); c != 0 {
			return c
		}
		if e.FinishedAt.After(d.FinishedAt) {
			return 1
		}
		return -1 // equal finish times are not "next"
	})
	if k < len(x.succ) && x.deps[x.succ[k]].Service == d.Service {
		r = recovery{end: x.deps[x.succ[k]].FinishedAt, by: x.succ[k], incident: -1, ok: true}
	}
	if incs := x.incidentsOf[j]; x.flag[j]&fLinked != 0 {
		var last time.Time
		lastInc := -1
		for _, i := range incs {
			res := x.in.Incidents[i].Incident.ResolvedAt
			if res.IsZero() {
				lastInc = -1
				break
			}
			if lastInc < 0 || res.After(last) {
				last, lastInc = res, i
			}
		}
		if lastInc >= 0 && (!r.ok || last.Before(r.end)) {
			r = recovery{end: last, by: -1, incident: lastInc, ok: true}
		}
	}
	return r
}

func (x *index) buildSucc() {
	x.succ = make([]int, 0, len(x.deps))
	for j := range x.deps {
		if x.flag[j]&fUsable != 0 && x.deps[j].Status == delivery.DeploymentSuccess {
			x.succ = append(x.succ, j)
		}
	}
	slices.SortFunc(x.succ, func(a, b int) int {
		da, db := &x.deps[a], &x.deps[b]
		if c := cmp.Compare(da.Service, db.Service); c != 0 {
			return c
		}
		return da.FinishedAt.Compare(db.FinishedAt)
	})
}

// unixDay is the number of whole UTC days since 1970-01-01, floored so that
// earlier dates get their own day numbers too.
func unixDay(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// isoWeek numbers the week (Monday 00:00 UTC onwards) containing a unix
// day. 1970-01-01 was a Thursday, so day −3 is the Monday of week 0.
func isoWeek(day int64) int64 {
	w := day + 3
	q := w / 7
	if w%7 < 0 {
		q--
	}
	return q
}

// weekStart is the Monday 00:00 UTC that starts a week of isoWeek.
func weekStart(week int64) time.Time {
	return time.Unix((week*7-3)*86400, 0).UTC()
}
