package dora

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Figure names, as the API and the CLI accept them in "explain".
const (
	FigureDeploymentFrequency = "deployment_frequency"
	FigureLeadTime            = "lead_time"
	FigureChangeFailureRate   = "change_failure_rate"
	FigureTimeToRestore       = "time_to_restore"
	FigureRecoveryTime        = "recovery_time"
	FigureReworkRate          = "rework_rate"
)

// Figures returns the figure names Explain accepts, in report order, for
// help texts and for validating a request before doing any work.
func Figures() []string {
	return []string{FigureDeploymentFrequency, FigureLeadTime, FigureChangeFailureRate,
		FigureTimeToRestore, FigureRecoveryTime, FigureReworkRate}
}

// Explanation is the list of records behind one figure of a report, each
// with whether it was counted and why, so that anyone who doubts a number can
// check it record by record (docs/metrics.md: every figure can be expanded).
type Explanation struct {
	Figure  string    `json:"figure"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Service string    `json:"service,omitempty"`
	Team    string    `json:"team,omitempty"`
	// Value is the figure exactly as Compute reports it.
	Value any `json:"value"`
	// Weeks and DeploymentDaysPerMonth show what the deployment frequency
	// tier read: the weekly deployment days and the monthly rate.
	Weeks                  []WeekDays         `json:"weeks,omitempty"`
	DeploymentDaysPerMonth *float64           `json:"deployment_days_per_month,omitempty"`
	Deployments            []DeploymentRecord `json:"deployments,omitempty"`
	Incidents              []IncidentRecord   `json:"incidents,omitempty"`
	// UnmatchedChanges are shipments naming a deployment the input lacks.
	UnmatchedChanges []ChangeRecord `json:"unmatched_changes,omitempty"`
	// Warnings are sentences about the data the explanation was read from
	// (omitted when there are none).
	Warnings []string `json:"warnings,omitempty"`
}

// WeekDays is one ISO week of the period and its deployment days inside it.
type WeekDays struct {
	Start          time.Time `json:"start"`
	DeploymentDays int       `json:"deployment_days"`
}

// DeploymentRecord is one deployment behind a figure.
type DeploymentRecord struct {
	Service     string                    `json:"service"`
	Environment string                    `json:"environment"`
	ID          string                    `json:"id"`
	Status      delivery.DeploymentStatus `json:"status"`
	FinishedAt  *time.Time                `json:"finished_at"`
	Counted     bool                      `json:"counted"`
	Reason      string                    `json:"reason"`
	// Changes are the deployment's shipped changes (lead time only).
	Changes []ChangeRecord `json:"changes,omitempty"`
	// Incidents are the incidents linked to the deployment.
	Incidents []string `json:"incidents,omitempty"`
	// RecoverySeconds and RecoveredBy say how a failing deployment was
	// recovered from (recovery time only).
	RecoverySeconds *float64 `json:"recovery_seconds,omitempty"`
	RecoveredBy     string   `json:"recovered_by,omitempty"`
}

// ChangeRecord is one shipped change and its lead time.
type ChangeRecord struct {
	Deployment      string    `json:"deployment,omitempty"`
	Repository      string    `json:"repository"`
	SHA             string    `json:"sha"`
	CommitTime      time.Time `json:"commit_time"`
	LeadTimeSeconds *float64  `json:"lead_time_seconds"`
	Incident        string    `json:"incident,omitempty"`
	Counted         bool      `json:"counted"`
	Reason          string    `json:"reason"`
}

// IncidentRecord is one incident behind a figure, with the deployment it is
// linked to and how the link was made.
type IncidentRecord struct {
	Service    string     `json:"service"`
	ID         string     `json:"id"`
	OpenedAt   time.Time  `json:"opened_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
	Deployment string     `json:"deployment,omitempty"`
	// Link is "explicit" (the source named the cause), "inferred" (the
	// latest successful deployment before it opened) or "none".
	Link string `json:"link"`
	// Rule says in words which rule linked it, or why none did.
	Rule string `json:"rule"`
	// CandidateCauses are the flagged deployments shortly before it,
	// with their evidence (IncidentLink.Candidates).
	CandidateCauses []CandidateRecord `json:"candidate_causes,omitempty"`
	RestoreSeconds  *float64          `json:"restore_seconds,omitempty"`
	Counted         bool              `json:"counted"`
	Reason          string            `json:"reason"`
}

// CandidateRecord is a candidate cause of an incident as explained.
type CandidateRecord struct {
	Deployment string `json:"deployment"`
	Evidence   string `json:"evidence"`
}

// Explain returns the records behind one figure of Compute(in). An unknown
// figure is a *delivery.Error with code EINVALID, which the server maps to a
// 400 and the CLI prints as is.
func Explain(in Input, figure string) (Explanation, error) {
	if !slices.Contains(Figures(), figure) {
		return Explanation{}, fmt.Errorf("explain: %w", delivery.FieldError("figure",
			"unknown figure %q (want one of %s)", figure, strings.Join(Figures(), ", ")))
	}
	r := Compute(in)
	x := newIndex(withSummariesNamed(in))
	x.markFixes()
	e := Explanation{Figure: figure, From: in.Period.From, To: in.Period.To}
	switch figure {
	case FigureDeploymentFrequency:
		e.Value = r.DeploymentFrequency
		x.explainFrequency(&e)
	case FigureLeadTime:
		e.Value = r.LeadTime
		x.explainLeadTime(&e)
	case FigureChangeFailureRate:
		e.Value = r.ChangeFailureRate
		x.explainFailures(&e)
	case FigureTimeToRestore:
		e.Value = r.TimeToRestore
		e.Incidents = x.incidentRecords(true)
	case FigureRecoveryTime:
		e.Value = r.RecoveryTime
		x.explainRecovery(&e)
	case FigureReworkRate:
		e.Value = r.ReworkRate
		x.explainRework(&e)
	}
	// The report's warnings about the data this figure reads say, beside
	// its records, why the figure may be wrong and what to do.
	for _, w := range r.Warnings {
		if slices.Contains(figureWarnings[w.Code], figure) {
			e.Warnings = append(e.Warnings, w.Message)
		}
	}
	return e, nil
}

// figureWarnings lists, per warning code, the figures whose explanation
// repeats it: those whose value the problem bends or leaves untiered.
var figureWarnings = map[string][]string{
	warningTable[warnNoDeploymentSource].code: {FigureDeploymentFrequency},
	warningTable[warnNoFailureData].code:      {FigureChangeFailureRate},
	warningTable[warnOutsideCauseWindow].code: {FigureChangeFailureRate},
	warningTable[warnUnlinkedIncident].code:   {FigureChangeFailureRate},
}

// order returns the positions of all deployments sorted by finish time
// (unfinished last), then service and ID, so explanations read as a timeline
// whatever order the input came in.
func (x *index) order() []int {
	o := make([]int, len(x.deps))
	for i := range o {
		o[i] = i
	}
	slices.SortStableFunc(o, func(a, b int) int {
		da, db := &x.deps[a], &x.deps[b]
		if za, zb := da.FinishedAt.IsZero(), db.FinishedAt.IsZero(); za != zb {
			if za {
				return 1
			}
			return -1
		}
		if c := da.FinishedAt.Compare(db.FinishedAt); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(da.Service, db.Service), cmp.Compare(da.ID, db.ID))
	})
	return o
}

// record starts a deployment record. When the deployment is not usable or
// not in the period, it says why and ok is false; callers fill in the rest.
func (x *index) record(j int) (rec DeploymentRecord, ok bool) {
	d := &x.deps[j]
	rec = DeploymentRecord{Service: d.Service, Environment: d.Environment, ID: d.ID, Status: d.Status}
	if !d.FinishedAt.IsZero() {
		rec.FinishedAt = ptr(d.FinishedAt)
	}
	switch {
	case !d.Status.Terminal():
		rec.Reason = fmt.Sprintf("excluded: not finished (%s)", d.Status)
	case d.FinishedAt.IsZero():
		rec.Reason = "excluded: no finish time"
	case x.flag[j]&fUsable == 0:
		rec.Reason = "excluded: a repeated report of a deployment listed elsewhere (merged)"
	case d.FinishedAt.Before(x.in.Period.From):
		rec.Reason = "excluded: finished before the period"
	case !d.FinishedAt.Before(x.in.Period.To):
		rec.Reason = "excluded: finished after the period"
	default:
		ok = true
	}
	for _, i := range x.incidentsOf[j] {
		rec.Incidents = append(rec.Incidents, x.in.Incidents[i].Incident.ID)
	}
	return rec, ok
}

func (x *index) explainFrequency(e *Explanation) {
	f := x.frequency()
	for w, n := range f.weekDays {
		e.Weeks = append(e.Weeks, WeekDays{Start: weekStart(f.firstWeek + int64(w)), DeploymentDays: n})
	}
	if f.periodDays > 0 {
		e.DeploymentDaysPerMonth = ptr(f.daysPerMonth())
	}
	for _, j := range x.order() {
		rec, ok := x.record(j)
		if ok {
			if x.deps[j].Status == delivery.DeploymentSuccess {
				rec.Counted = true
				rec.Reason = "counted: successful, deployment day " + x.deps[j].FinishedAt.UTC().Format(time.DateOnly)
			} else {
				rec.Reason = fmt.Sprintf("excluded: %s; only successful deployments count", x.deps[j].Status)
			}
		}
		e.Deployments = append(e.Deployments, rec)
	}
}

func (x *index) explainLeadTime(e *Explanation) {
	// Group the shipments by deployment position without a map: sort the
	// shipment indices by position.
	type ref struct{ dep, ship int }
	refs := make([]ref, 0, len(x.in.Shipments))
	for i := range x.in.Shipments {
		s := &x.in.Shipments[i]
		j := x.lookup(s.Deployment)
		if j < 0 {
			e.UnmatchedChanges = append(e.UnmatchedChanges, ChangeRecord{Deployment: s.Deployment.String(),
				Repository: s.Repository, SHA: s.SHA, CommitTime: s.CommitTime, Incident: s.Incident,
				Reason: "excluded: its deployment is not in the input"})
			continue
		}
		refs = append(refs, ref{j, i})
	}
	slices.SortStableFunc(refs, func(a, b ref) int { return cmp.Compare(a.dep, b.dep) })
	for _, j := range x.order() {
		rec, ok := x.record(j)
		lo, _ := slices.BinarySearchFunc(refs, j, func(r ref, j int) int { return cmp.Compare(r.dep, j) })
		counted := 0
		for k := lo; ok && k < len(refs) && refs[k].dep == j; k++ {
			s := &x.in.Shipments[refs[k].ship]
			d, reason := x.changeLeadTime(j, s)
			c := ChangeRecord{Repository: s.Repository, SHA: s.SHA, CommitTime: s.CommitTime, Incident: s.Incident,
				Counted: reason == leadCounted, Reason: leadReasons[reason]}
			if reason == leadCounted || reason == leadNegative {
				c.LeadTimeSeconds = ptr(d.Seconds())
			}
			if c.Counted {
				counted++
			}
			rec.Changes = append(rec.Changes, c)
		}
		switch {
		case !ok:
		case x.deps[j].Status != delivery.DeploymentSuccess:
			rec.Reason = fmt.Sprintf("excluded: %s; only successful deployments ship changes", x.deps[j].Status)
		case counted == 0:
			rec.Reason = "excluded: no change with a lead time"
		default:
			rec.Counted = true
			rec.Reason = fmt.Sprintf("counted: %d of its %d changes", counted, len(rec.Changes))
		}
		e.Deployments = append(e.Deployments, rec)
	}
}

// withSummariesNamed returns in with its summaries turned into Shipments
// without repository or sha, so that Explain lists every change Compute
// counted. An explanation names the changes, so it reads Shipments anyway;
// this keeps one given summaries in agreement with the report.
func withSummariesNamed(in Input) Input {
	if len(in.Summaries) == 0 {
		return in
	}
	ships := slices.Clone(in.Shipments)
	for _, s := range in.Summaries {
		for _, us := range s.CommitMicros {
			ships = append(ships, Shipment{Deployment: s.Deployment, CommitTime: time.UnixMicro(us).UTC()})
		}
	}
	in.Shipments, in.Summaries = ships, nil
	return in
}

// failureReason says why the in-period deployment at j is a change failure,
// or "" when it is not.
func (x *index) failureReason(j int) string {
	d := &x.deps[j]
	var why []string
	if d.Status.Failed() {
		why = append(why, string(d.Status))
	}
	for _, i := range x.incidentsOf[j] {
		l := &x.in.Incidents[i]
		why = append(why, fmt.Sprintf("caused %s (%s)", l.Incident.ID, linkKind(l)))
	}
	return strings.Join(why, ", ")
}

func linkKind(l *IncidentLink) string {
	switch {
	case l.Deployment == nil:
		return "none"
	case l.Inferred:
		return "inferred"
	}
	return "explicit"
}

// ruleText says in words which rule linked an incident, or why none did.
func ruleText(l *IncidentLink) string {
	switch {
	case l.Rule == delivery.CauseSaidNone:
		return "none: the source said no deployment caused it"
	case l.Rule == delivery.CauseOutsideWindow:
		return "none: the latest deployment before it finished " + dur(ptr(l.Gap.Seconds())) + " before it opened, beyond the " +
			durationText(l.Window) + " incident cause window"
	case l.Deployment == nil:
		return "none: no successful production deployment finished before it opened"
	case l.Inferred && l.Window > 0:
		return "inferred: the latest successful production deployment before it opened, within the " + durationText(l.Window) + " incident cause window"
	case l.Inferred:
		return "inferred: the latest successful production deployment before it opened (no incident cause window bounds it)"
	}
	return "explicit: the source named the deployment"
}

func (x *index) explainFailures(e *Explanation) {
	for _, j := range x.order() {
		rec, ok := x.record(j)
		if ok {
			rec.Counted = true // in the denominator either way
			if why := x.failureReason(j); why != "" {
				rec.Reason = "failed: " + why
			} else {
				rec.Reason = "counted, not failed"
			}
		}
		e.Deployments = append(e.Deployments, rec)
	}
	e.Incidents = x.incidentRecords(false)
}

// incidentRecords lists every incident with its link. With restore set, the
// reason is about time to restore; otherwise about the failure it marks.
func (x *index) incidentRecords(restore bool) []IncidentRecord {
	o := make([]int, len(x.in.Incidents))
	for i := range o {
		o[i] = i
	}
	slices.SortStableFunc(o, func(a, b int) int {
		ia, ib := &x.in.Incidents[a].Incident, &x.in.Incidents[b].Incident
		return cmp.Or(ia.OpenedAt.Compare(ib.OpenedAt), cmp.Compare(ia.Service, ib.Service), cmp.Compare(ia.ID, ib.ID))
	})
	recs := make([]IncidentRecord, 0, len(o))
	for _, i := range o {
		l := &x.in.Incidents[i]
		rec := IncidentRecord{Service: l.Incident.Service, ID: l.Incident.ID, OpenedAt: l.Incident.OpenedAt, Link: linkKind(l), Rule: ruleText(l)}
		for _, c := range l.Candidates {
			rec.CandidateCauses = append(rec.CandidateCauses, CandidateRecord{Deployment: c.Deployment.String(), Evidence: c.Evidence})
		}
		if !l.Incident.ResolvedAt.IsZero() {
			rec.ResolvedAt = ptr(l.Incident.ResolvedAt)
		}
		j := -1
		if l.Deployment != nil {
			rec.Deployment = l.Deployment.String()
			j = x.lookup(*l.Deployment)
		}
		if restore {
			d, reason := x.restoreTime(&l.Incident)
			rec.Counted, rec.Reason = reason == restoreCounted, restoreReasons[reason]
			if reason == restoreCounted || reason == restoreNegative {
				rec.RestoreSeconds = ptr(d.Seconds())
			}
		} else {
			switch {
			case l.Deployment == nil && l.Rule == delivery.CauseSaidNone:
				rec.Reason = "excluded: the source said no deployment caused it"
			case l.Deployment == nil && l.Rule == delivery.CauseOutsideWindow:
				rec.Reason = "excluded: the latest deployment before it finished outside the incident cause window"
			case l.Deployment == nil:
				rec.Reason = "excluded: no deployment to link (none finished before it opened)"
			case j < 0:
				rec.Reason = "excluded: its deployment is not in the input (finished before the period)"
			case x.flag[j]&fInPeriod == 0:
				rec.Reason = "excluded: its deployment did not finish in the period"
			default:
				rec.Counted = true
				rec.Reason = "counted: marks its deployment as a change failure"
			}
		}
		recs = append(recs, rec)
	}
	return recs
}

func (x *index) explainRecovery(e *Explanation) {
	for _, j := range x.order() {
		rec, ok := x.record(j)
		if ok {
			why := x.failureReason(j)
			if why == "" {
				rec.Reason = "excluded: did not fail"
				e.Deployments = append(e.Deployments, rec)
				continue
			}
			d, r, reason := x.recoveryOf(j)
			rec.Counted = reason == recoveryCounted
			rec.Reason = recoveryReasons[reason] + "; failed: " + why
			if r.ok {
				rec.RecoverySeconds = ptr(d.Seconds())
				if r.by >= 0 {
					rec.RecoveredBy = "deployment " + x.deps[r.by].Key().String()
				} else {
					rec.RecoveredBy = "incident " + x.in.Incidents[r.incident].Incident.ID + " resolved"
				}
			}
		}
		e.Deployments = append(e.Deployments, rec)
	}
}

func (x *index) explainRework(e *Explanation) {
	fixes := make(map[int][]string)
	for i := range x.in.Shipments {
		s := &x.in.Shipments[i]
		if s.Incident == "" {
			continue
		}
		if j := x.lookup(s.Deployment); j >= 0 {
			fixes[j] = append(fixes[j], fmt.Sprintf("ships %s, a fix for %s", s.SHA, s.Incident))
		}
	}
	for _, j := range x.order() {
		rec, ok := x.record(j)
		if ok {
			rec.Counted = true // in the denominator either way
			var why []string
			if x.deps[j].Hotfix {
				why = append(why, "hotfix")
			}
			if x.deps[j].Rollback {
				why = append(why, "rollback")
			}
			why = append(why, fixes[j]...)
			if len(why) > 0 {
				rec.Reason = "unplanned: " + strings.Join(why, ", ")
			} else {
				rec.Reason = "counted, planned"
			}
		}
		e.Deployments = append(e.Deployments, rec)
	}
}
