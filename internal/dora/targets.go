package dora

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Targets are a team's or a service's own goals for the four keys ("deploy
// daily", "lead time under a day"), kept beside the tier thresholds rather
// than replacing them: a tier compares a team with the industry, a target
// with what the team set out to do. A nil field sets no target for its key.
// The YAML names are those of stride.yaml's targets: block, so configuration
// can embed the type as is; the JSON form (MarshalJSON) gives durations in
// seconds, as the API does everywhere.
type Targets struct {
	// DeploymentDaysPerWeek is a minimum of the median weekly deployment
	// days, the figure the deployment frequency tier reads; 5 is "daily".
	DeploymentDaysPerWeek *float64 `yaml:"deployment_days_per_week"`
	// LeadTime is a maximum (≤) of the median change lead time.
	LeadTime *time.Duration `yaml:"lead_time"`
	// ChangeFailureRate is a maximum (≤) of the change failure ratio, 0–1.
	ChangeFailureRate *float64 `yaml:"change_failure_rate"`
	// TimeToRestore is a maximum (≤) of the median time to restore.
	TimeToRestore *time.Duration `yaml:"time_to_restore"`
	// CommitToProduction is the time a change may take from commit to
	// production (cihealth.DefaultTarget, 15 minutes, when unset); the CI
	// health report judges each change by it, the DORA judgement does not.
	CommitToProduction *time.Duration `yaml:"commit_to_production"`
}

// targetsJSON is the API form of Targets: durations in seconds, as every
// duration of the API is, under names that say so.
type targetsJSON struct {
	DeploymentDaysPerWeek *float64 `json:"deployment_days_per_week,omitempty"`
	LeadTimeSeconds       *float64 `json:"lead_time_seconds,omitempty"`
	ChangeFailureRate     *float64 `json:"change_failure_rate,omitempty"`
	TimeToRestoreSeconds  *float64 `json:"time_to_restore_seconds,omitempty"`
	CommitToProduction    *float64 `json:"commit_to_production_seconds,omitempty"`
}

func secondsOf(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	s := d.Seconds()
	return &s
}

func durationOf(s *float64) *time.Duration {
	if s == nil {
		return nil
	}
	d := time.Duration(*s * float64(time.Second))
	return &d
}

// MarshalJSON writes the targets with durations in seconds
// (lead_time_seconds, time_to_restore_seconds), not Go's nanoseconds.
func (t Targets) MarshalJSON() ([]byte, error) {
	return json.Marshal(targetsJSON{t.DeploymentDaysPerWeek, secondsOf(t.LeadTime), t.ChangeFailureRate, secondsOf(t.TimeToRestore), secondsOf(t.CommitToProduction)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (t *Targets) UnmarshalJSON(b []byte) error {
	var j targetsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("targets: %w", err)
	}
	*t = Targets{DeploymentDaysPerWeek: j.DeploymentDaysPerWeek, LeadTime: durationOf(j.LeadTimeSeconds),
		ChangeFailureRate: j.ChangeFailureRate, TimeToRestore: durationOf(j.TimeToRestoreSeconds), CommitToProduction: durationOf(j.CommitToProduction)}
	return nil
}

// Validate checks that every target set is one a team could meet: days a
// week from 0 to 7, a ratio from 0 to 1, positive durations. Errors name
// the field under targets so configuration can report it as is.
func (t Targets) Validate() error {
	switch {
	case t.DeploymentDaysPerWeek != nil && (*t.DeploymentDaysPerWeek < 0 || *t.DeploymentDaysPerWeek > 7):
		return delivery.FieldError("targets.deployment_days_per_week", "%v is not a number of days from 0 to 7", *t.DeploymentDaysPerWeek)
	case t.LeadTime != nil && *t.LeadTime <= 0:
		return delivery.FieldError("targets.lead_time", "%v is not a positive duration", *t.LeadTime)
	case t.ChangeFailureRate != nil && (*t.ChangeFailureRate < 0 || *t.ChangeFailureRate > 1):
		return delivery.FieldError("targets.change_failure_rate", "%v is not a ratio from 0 to 1", *t.ChangeFailureRate)
	case t.TimeToRestore != nil && *t.TimeToRestore <= 0:
		return delivery.FieldError("targets.time_to_restore", "%v is not a positive duration", *t.TimeToRestore)
	case t.CommitToProduction != nil && *t.CommitToProduction <= 0:
		return delivery.FieldError("targets.commit_to_production", "%v is not a positive duration", *t.CommitToProduction)
	}
	return nil
}

// Empty reports whether none of the four DORA targets is set, so a page
// can leave out the targets panel instead of showing four "no target"
// lines; CommitToProduction belongs to the CI report, not that panel.
func (t Targets) Empty() bool {
	return t.DeploymentDaysPerWeek == nil && t.LeadTime == nil && t.ChangeFailureRate == nil && t.TimeToRestore == nil
}

// Met is the answer to "is the target met": yes, no, or unknown when the
// report has no figure to judge (no deployments, no resolved incident).
// Unknown is not no: a service without an incident source has not failed
// its time-to-restore target.
type Met string

// The three answers of a target.
const (
	MetYes     Met = "yes"
	MetNo      Met = "no"
	MetUnknown Met = "unknown"
)

// TargetResult is one key judged against its target. Target and Actual are
// in the API's units (deployment days a week, seconds, a ratio); Actual is
// nil when the report has no figure. Sentence is what the dashboard and the
// CLI show, e.g. "Deploying daily? No: 3.0 deployment days a week, target 5".
type TargetResult struct {
	Key      string   `json:"key"`
	Target   float64  `json:"target"`
	Actual   *float64 `json:"actual"`
	Met      Met      `json:"met"`
	Sentence string   `json:"sentence"`
}

// JudgeTargets judges r against t, one result per target set, in report
// order (deployment frequency, lead time, change failure rate, time to
// restore), keyed by the figure names Explain accepts so that a page can
// link each answer to the records behind it. A target is met when the
// figure is at or past it: at least the days a week, at most the rest.
func JudgeTargets(r Report, t Targets) []TargetResult {
	var out []TargetResult
	if t.DeploymentDaysPerWeek != nil {
		target, actual := *t.DeploymentDaysPerWeek, r.DeploymentFrequency.MedianDeploymentDaysPerWeek
		q := "Deploying daily?"
		if target < 5 {
			q = fmt.Sprintf("Deploying on %s days a week?", short(target))
		}
		res := TargetResult{Key: FigureDeploymentFrequency, Target: target, Actual: actual}
		if actual == nil {
			res.Met = MetUnknown
			res.Sentence = fmt.Sprintf("%s Unknown: no successful deployment in the period, target %s", q, short(target))
		} else {
			res.Met = metIf(*actual >= target)
			res.Sentence = fmt.Sprintf("%s %s: %s deployment days a week, target %s", q, answer(res.Met),
				strconv.FormatFloat(*actual, 'f', 1, 64), short(target))
		}
		out = append(out, res)
	}
	if t.LeadTime != nil {
		lt := r.LeadTime
		out = append(out, judgeDuration(FigureLeadTime, "Lead time within "+durationText(*t.LeadTime)+"?",
			*t.LeadTime, lt.MedianSeconds, "over "+plural(lt.Count, "change"), "no change shipped in the period"))
	}
	if t.ChangeFailureRate != nil {
		target, c := *t.ChangeFailureRate, r.ChangeFailureRate
		q := "Change failure rate at most " + percentText(target) + "?"
		res := TargetResult{Key: FigureChangeFailureRate, Target: target, Actual: c.Ratio}
		if c.Ratio == nil {
			res.Met = MetUnknown
			res.Sentence = fmt.Sprintf("%s Unknown: no deployment in the period, target %s", q, percentText(target))
		} else {
			res.Met = metIf(*c.Ratio <= target)
			res.Sentence = fmt.Sprintf("%s %s: %s (%d of %d deployments), target %s", q, answer(res.Met),
				percentText(*c.Ratio), c.Failed, c.Deployments, percentText(target))
		}
		out = append(out, res)
	}
	if t.TimeToRestore != nil {
		ttr := r.TimeToRestore
		out = append(out, judgeDuration(FigureTimeToRestore, "Restoring within "+durationText(*t.TimeToRestore)+"?",
			*t.TimeToRestore, ttr.MedianSeconds, "over "+plural(ttr.Count, "incident"), "no incident resolved in the period"))
	}
	return out
}

// WriteTargets writes judged targets for the CLI, one line each with the
// answer first so a column of yes/no reads at a glance, after the report
// table: "no       Deploying daily? No: 3.0 deployment days a week, target 5".
func WriteTargets(w io.Writer, results []TargetResult) error {
	sw := &stickyWriter{w: w}
	for _, r := range results {
		fmt.Fprintf(sw, "target %-8s %s\n", r.Met, r.Sentence)
	}
	if sw.err != nil {
		return fmt.Errorf("write targets: %w", sw.err)
	}
	return nil
}

// judgeDuration judges a median against a maximum.
func judgeDuration(key, question string, target time.Duration, median *float64, over, missing string) TargetResult {
	res := TargetResult{Key: key, Target: target.Seconds(), Actual: median}
	if median == nil {
		res.Met = MetUnknown
		res.Sentence = fmt.Sprintf("%s Unknown: %s, target %s", question, missing, durationText(target))
		return res
	}
	res.Met = metIf(*median <= target.Seconds())
	res.Sentence = fmt.Sprintf("%s %s: median %s %s, target %s", question, answer(res.Met), dur(median), over, durationText(target))
	return res
}

// plural counts things in words: 1 change, 2 changes.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

func metIf(ok bool) Met {
	if ok {
		return MetYes
	}
	return MetNo
}

func answer(m Met) string {
	switch m {
	case MetYes:
		return "Yes"
	case MetNo:
		return "No"
	}
	return "Unknown"
}

// short prints a target number without a needless ".0" (5, 2.5).
func short(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// percentText prints a ratio as a percentage with at most one decimal.
func percentText(v float64) string {
	return strconv.FormatFloat(v*100, 'f', 1, 64) + " %"
}

// durationText prints a target duration as stride.yaml spells it (24h,
// 1h30m, 45m), not as Go's 24h0m0s.
func durationText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
