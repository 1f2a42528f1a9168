// Package digest makes the weekly team digest: a team's DORA figures of the
// last four weeks against its targets, their trend over the last twelve
// weeks, and what changed most (the week's biggest lead-time contributors,
// the incidents still open past their SLA, the state of each SLO's error
// budget), its first line answering "Are you now deploying daily?".
//
// Build is a pure function of an Input that Reader gathers through the read
// path (package report, the incident report, the stored SLO evaluations);
// Text, HTML and Chat render one Digest for e-mail, the dashboard and chat;
// Job sends it through the durable outbox once per team and week, at the
// time stride.yaml sets. docs/digest.md defines every figure.
package digest

import (
	"cmp"
	"fmt"
	"github.com/stride-oss/stride/internal/weekly"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/slo"
)

// Weeks are how many ISO weeks the trend spans, the covered week last (the
// dashboard's 12-week trends).
const Weeks = 12

// FigureWeeks are how many ISO weeks the figures and targets read: the
// dashboard's default period, long enough that one quiet week does not
// turn "deploying daily" into "no".
const FigureWeeks = 4

// DailyDays is the median deployment days a week that count as deploying
// daily: every working day (docs/metrics.md, deployment frequency).
const DailyDays = 5.0

// Contributors is how many changes the digest lists as the week's biggest
// lead-time contributors.
const Contributors = 5

// Input is what a digest is built from. Reader gathers it; a test writes it
// by hand.
type Input struct {
	Team string
	// At is when the digest is as of: its scheduled time. The covered week
	// is the last full ISO week (UTC) that ended at or before At.
	At time.Time
	// Week is the digest's key: the ISO week of At in the team's time zone.
	Week    string
	Targets dora.Targets
	// Report is the DORA report of the FigureWeeks weeks ending with the
	// covered week.
	Report dora.Report
	// Weekly are the DORA reports of the Weeks weeks ending with the covered
	// week, oldest first, one per ISO week.
	Weekly []dora.Report
	// LeadTime is the lead-time explanation of the covered week.
	LeadTime dora.Explanation
	// Incidents are the incident report's rows as of At.
	Incidents []incident.IncidentRow
	// SLOs are the latest evaluations of the team's SLOs.
	SLOs []slo.Report
	// Link is the digest's page on the dashboard, when the base URL is known.
	Link string
}

// Digest is one team's weekly digest. Its JSON names are the API's.
type Digest struct {
	Team string    `json:"team"`
	Week string    `json:"week"`
	At   time.Time `json:"at"`
	// From and To bound the figures (the last FigureWeeks weeks).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// WeekFrom and WeekTo bound the covered week.
	WeekFrom time.Time `json:"week_from"`
	WeekTo   time.Time `json:"week_to"`
	// Headline is the first line: "Are you now deploying daily? Yes: …".
	Headline string `json:"headline"`
	// DeployingDaily is yes, no or unknown (no deployment ever reported).
	DeployingDaily        dora.Met            `json:"deploying_daily"`
	DeploymentDaysPerWeek *float64            `json:"deployment_days_per_week"`
	Figures               Figures             `json:"figures"`
	Targets               []dora.TargetResult `json:"targets"`
	Trend                 []TrendWeek         `json:"trend"`
	// Changes are the four keys' moves in the covered week against the
	// median of the weeks before it, largest first.
	Changes              []Change      `json:"changes"`
	LeadTimeContributors []Contributor `json:"lead_time_contributors"`
	OpenBreaches         []Breach      `json:"open_breaches"`
	Budgets              []Budget      `json:"slo_budgets"`
	Warnings             []string      `json:"warnings"`
	Link                 string        `json:"link,omitempty"`
}

// Figures are the four keys over the figures' period.
type Figures struct {
	Deployments              int      `json:"deployments"`
	DeploymentDaysPerWeek    *float64 `json:"deployment_days_per_week"`
	LeadTimeMedianSeconds    *float64 `json:"lead_time_median_seconds"`
	ChangeFailureRate        *float64 `json:"change_failure_rate"`
	FailedDeployments        int      `json:"failed_deployments"`
	TimeToRestoreMedianSecs  *float64 `json:"time_to_restore_median_seconds"`
	Tier                     string   `json:"tier,omitempty"`
	IncidentsResolved        int      `json:"incidents_resolved"`
	ChangesShipped           int      `json:"changes_shipped"`
	DeploymentsWithLeadTimes int      `json:"deployments_with_lead_times"`
}

// TrendWeek is one ISO week of the trend.
type TrendWeek struct {
	Start                   time.Time `json:"start"`
	Week                    string    `json:"week"`
	Deployments             int       `json:"deployments"`
	DeploymentDays          int       `json:"deployment_days"`
	LeadTimeMedianSeconds   *float64  `json:"lead_time_median_seconds"`
	ChangeFailureRate       *float64  `json:"change_failure_rate"`
	TimeToRestoreMedianSecs *float64  `json:"time_to_restore_median_seconds"`
}

// Change is one key's move: the covered week's value against the median of
// the trend's earlier weeks that have one. Rise is (Now − Before) ÷ Before,
// null when Before is 0; Better says whether the move is an improvement.
type Change struct {
	Key      string   `json:"key"`
	Before   float64  `json:"before"`
	Now      float64  `json:"now"`
	Rise     *float64 `json:"rise"`
	Better   bool     `json:"better"`
	Sentence string   `json:"sentence"`
}

// Contributor is one of the covered week's changes with the longest lead
// time, with its share of the week's summed lead time.
type Contributor struct {
	Service         string  `json:"service"`
	Deployment      string  `json:"deployment"`
	Repository      string  `json:"repository"`
	SHA             string  `json:"sha"`
	LeadTimeSeconds float64 `json:"lead_time_seconds"`
	Share           float64 `json:"share"`
}

// Breach is an incident still open (not resolved) at At whose
// acknowledgement SLA was breached.
type Breach struct {
	Service  string    `json:"service"`
	ID       string    `json:"id"`
	Title    string    `json:"title,omitempty"`
	Severity int       `json:"severity"`
	OpenedAt time.Time `json:"opened_at"`
	SLADueAt time.Time `json:"sla_due_at"`
	// Acknowledged says whether it was acknowledged (late) or still waits.
	Acknowledged bool `json:"acknowledged"`
}

// Budget is the error-budget state of one SLO: ok, burning (an alert
// fires), exhausted (nothing left) or frozen (exhausted, deployments held).
type Budget struct {
	Name            string     `json:"name"`
	Service         string     `json:"service"`
	Objective       float64    `json:"objective"`
	BudgetRemaining float64    `json:"budget_remaining"`
	State           string     `json:"state"`
	ExhaustsAt      *time.Time `json:"exhausts_at,omitempty"`
	Sentence        string     `json:"sentence"`
}

// Budget states.
const (
	BudgetOK        = "ok"
	BudgetBurning   = "burning"
	BudgetExhausted = "exhausted"
	BudgetFrozen    = "frozen"
)

// CoveredWeek returns the start (Monday 00:00 UTC) of the last full ISO week
// that ended at or before at.
func CoveredWeek(at time.Time) time.Time {
	return weekStart(at).AddDate(0, 0, -7)
}

// weekStart is the Monday 00:00 UTC that starts the ISO week of at.
func weekStart(at time.Time) time.Time {
	at = at.UTC()
	day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}

// ISOWeek names the ISO week of t in its location: "2026-W49".
func ISOWeek(t time.Time) string { return weekly.ISOWeek(t) }

// Build makes the digest of in.
func Build(in Input) Digest {
	week := CoveredWeek(in.At)
	end := week.AddDate(0, 0, 7)
	d := Digest{
		Team: in.Team, Week: in.Week, At: in.At.UTC(),
		From: end.AddDate(0, 0, -7*FigureWeeks), To: end, WeekFrom: week, WeekTo: end,
		Targets: dora.JudgeTargets(in.Report, in.Targets), Trend: []TrendWeek{}, Changes: []Change{},
		LeadTimeContributors: []Contributor{}, OpenBreaches: []Breach{}, Budgets: []Budget{}, Warnings: []string{},
		Link: in.Link,
	}
	if d.Week == "" {
		d.Week = ISOWeek(in.At)
	}
	if d.Targets == nil {
		d.Targets = []dora.TargetResult{}
	}
	r := in.Report
	d.Figures = Figures{
		Deployments: r.DeploymentFrequency.Count, DeploymentDaysPerWeek: r.DeploymentFrequency.MedianDeploymentDaysPerWeek,
		LeadTimeMedianSeconds: r.LeadTime.MedianSeconds, ChangeFailureRate: r.ChangeFailureRate.Ratio,
		FailedDeployments: r.ChangeFailureRate.Failed, TimeToRestoreMedianSecs: r.TimeToRestore.MedianSeconds,
		IncidentsResolved: r.TimeToRestore.Count, ChangesShipped: r.LeadTime.Count, DeploymentsWithLeadTimes: r.LeadTime.Deployments,
	}
	if r.Tier != nil {
		d.Figures.Tier = string(*r.Tier)
	}
	d.DeploymentDaysPerWeek = r.DeploymentFrequency.MedianDeploymentDaysPerWeek
	d.DeployingDaily, d.Headline = headline(d.DeploymentDaysPerWeek, in.Team)
	for _, w := range r.Warnings {
		d.Warnings = append(d.Warnings, w.Message)
	}
	for _, w := range in.Weekly {
		d.Trend = append(d.Trend, TrendWeek{
			Start: w.From.UTC(), Week: ISOWeek(w.From.UTC()), Deployments: w.DeploymentFrequency.Count,
			DeploymentDays: w.DeploymentFrequency.DeploymentDays, LeadTimeMedianSeconds: w.LeadTime.MedianSeconds,
			ChangeFailureRate: w.ChangeFailureRate.Ratio, TimeToRestoreMedianSecs: w.TimeToRestore.MedianSeconds,
		})
	}
	d.Changes = changes(d.Trend)
	d.LeadTimeContributors = contributors(in.LeadTime)
	d.OpenBreaches = breaches(in.Incidents)
	d.Budgets = budgets(in.SLOs)
	return d
}

// headline answers "Are you now deploying daily?" from the median
// deployment days a week of the figures' period.
func headline(days *float64, team string) (dora.Met, string) {
	const q = "Are you now deploying daily?"
	if days == nil {
		return dora.MetUnknown, fmt.Sprintf("%s Unknown: no production deployment was ever reported for team %s, so its deployment frequency is not known.", q, team)
	}
	fig := fmt.Sprintf("%s deployment days a week (median of the last %d weeks)", strconv.FormatFloat(*days, 'f', 1, 64), FigureWeeks)
	if *days >= DailyDays {
		return dora.MetYes, fmt.Sprintf("%s Yes: %s.", q, fig)
	}
	return dora.MetNo, fmt.Sprintf("%s No: %s; daily is %s.", q, fig, strconv.FormatFloat(DailyDays, 'f', -1, 64))
}

// key describes one of the four keys for changes: how to read it from a
// week, whether lower is better, and how to print a value.
type key struct {
	name, label string
	value       func(TrendWeek) *float64
	lowerBetter bool
	text        func(float64) string
}

var keys = []key{
	{"deployment_days", "Deployment days", func(w TrendWeek) *float64 { v := float64(w.DeploymentDays); return &v }, false,
		func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }},
	{"lead_time", "Median lead time", func(w TrendWeek) *float64 { return w.LeadTimeMedianSeconds }, true, Duration},
	{"change_failure_rate", "Change failure rate", func(w TrendWeek) *float64 { return w.ChangeFailureRate }, true, Percent},
	{"time_to_restore", "Median time to restore", func(w TrendWeek) *float64 { return w.TimeToRestoreMedianSecs }, true, Duration},
}

// changes compares the trend's last week with the median of the weeks
// before it, per key, and orders the moves largest first (by the size of
// the relative move; a move from 0 counts as the largest).
func changes(trend []TrendWeek) []Change {
	out := []Change{}
	if len(trend) < 2 {
		return out
	}
	last := trend[len(trend)-1]
	for _, k := range keys {
		now := k.value(last)
		if now == nil {
			continue
		}
		var before []float64
		for _, w := range trend[:len(trend)-1] {
			if v := k.value(w); v != nil {
				before = append(before, *v)
			}
		}
		if len(before) == 0 {
			continue
		}
		b := median(before)
		if b == *now {
			continue
		}
		c := Change{Key: k.name, Before: b, Now: *now, Better: (*now < b) == k.lowerBetter}
		verb := "rose"
		if *now < b {
			verb = "fell"
		}
		c.Sentence = fmt.Sprintf("%s %s from %s to %s", k.label, verb, k.text(b), k.text(*now))
		if b != 0 {
			rise := (*now - b) / b
			c.Rise = &rise
			c.Sentence += fmt.Sprintf(" (%+.0f %%)", rise*100)
		}
		c.Sentence += fmt.Sprintf(" in the week of %s, against the median of the %d weeks before", last.Start.Format("2 Jan"), len(before))
		if c.Better {
			c.Sentence += ": better."
		} else {
			c.Sentence += ": worse."
		}
		out = append(out, c)
	}
	size := func(c Change) float64 {
		if c.Rise == nil {
			return math.Inf(1)
		}
		return math.Abs(*c.Rise)
	}
	slices.SortStableFunc(out, func(a, b Change) int { return cmp.Compare(size(b), size(a)) })
	return out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// contributors are the counted changes of the lead-time explanation with
// the longest lead time, longest first, each with its share of the summed
// lead time of every counted change.
func contributors(e dora.Explanation) []Contributor {
	var all []Contributor
	total := 0.0
	for _, dep := range e.Deployments {
		for _, ch := range dep.Changes {
			if !ch.Counted || ch.LeadTimeSeconds == nil {
				continue
			}
			total += *ch.LeadTimeSeconds
			all = append(all, Contributor{Service: dep.Service, Deployment: dep.ID, Repository: ch.Repository, SHA: ch.SHA, LeadTimeSeconds: *ch.LeadTimeSeconds})
		}
	}
	slices.SortFunc(all, func(a, b Contributor) int {
		return cmp.Or(cmp.Compare(b.LeadTimeSeconds, a.LeadTimeSeconds), cmp.Compare(a.Repository, b.Repository), cmp.Compare(a.SHA, b.SHA))
	})
	out := []Contributor{}
	for i := range min(len(all), Contributors) {
		c := all[i]
		if total > 0 {
			c.Share = c.LeadTimeSeconds / total
		}
		out = append(out, c)
	}
	return out
}

// breaches are the incidents not resolved that breached their SLA, the
// most severe first, then the oldest.
func breaches(rows []incident.IncidentRow) []Breach {
	out := []Breach{}
	for _, r := range rows {
		if !r.Breached || r.ResolvedAt != nil {
			continue
		}
		out = append(out, Breach{Service: r.Service, ID: r.ID, Title: r.Title, Severity: r.Severity, OpenedAt: r.OpenedAt.UTC(),
			SLADueAt: r.SLADueAt.UTC(), Acknowledged: r.AcknowledgedAt != nil})
	}
	slices.SortFunc(out, func(a, b Breach) int {
		return cmp.Or(cmp.Compare(a.Severity, b.Severity), a.OpenedAt.Compare(b.OpenedAt), cmp.Compare(a.Service, b.Service), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// budgets states each SLO's error budget, the worst first.
func budgets(reports []slo.Report) []Budget {
	out := []Budget{}
	rank := map[string]int{BudgetFrozen: 0, BudgetExhausted: 1, BudgetBurning: 2, BudgetOK: 3}
	for _, r := range reports {
		b := Budget{Name: r.Name, Service: r.Service, Objective: r.Objective, BudgetRemaining: r.BudgetRemaining, ExhaustsAt: r.ExhaustsAt}
		left := Percent(math.Max(r.BudgetRemaining, 0)) + " of the error budget left"
		switch {
		case r.Frozen:
			b.State = BudgetFrozen
			b.Sentence = fmt.Sprintf("%s (%s): budget exhausted, deployments frozen", r.Name, r.Service)
			if r.FrozenUntil != nil {
				b.Sentence += " until " + r.FrozenUntil.UTC().Format("2 Jan 15:04 MST")
			}
		case r.BudgetRemaining <= 0:
			b.State = BudgetExhausted
			b.Sentence = fmt.Sprintf("%s (%s): budget exhausted", r.Name, r.Service)
		case len(r.Alerts) > 0:
			b.State = BudgetBurning
			b.Sentence = fmt.Sprintf("%s (%s): %s, burning fast (%s firing)", r.Name, r.Service, left, plural(len(r.Alerts), "alert"))
			if r.ExhaustsAt != nil {
				b.Sentence += ", exhausted by " + r.ExhaustsAt.UTC().Format("2 Jan 15:04 MST") + " at this rate"
			}
		default:
			b.State = BudgetOK
			b.Sentence = fmt.Sprintf("%s (%s): %s", r.Name, r.Service, left)
		}
		b.Sentence += "."
		out = append(out, b)
	}
	slices.SortStableFunc(out, func(a, b Budget) int {
		return cmp.Or(cmp.Compare(rank[a.State], rank[b.State]), cmp.Compare(a.BudgetRemaining, b.BudgetRemaining), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// Duration prints seconds as the dashboard does: 2d 3h, 4h 10m, 12m 5s.
func Duration(sec float64) string {
	total := int64(sec + 0.5)
	d, h, m, s := total/86400, total%86400/3600, total%3600/60, total%60
	switch {
	case d > 0:
		return fmt.Sprintf("%dd %dh", d, h)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm %ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// Percent prints a ratio as a percentage with one decimal: 12.5 %.
func Percent(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + " %" }
