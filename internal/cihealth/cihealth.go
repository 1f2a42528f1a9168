// Package cihealth computes two reports from stored facts: CI health
// (build duration per pipeline, the time a repository's default branch
// stays red, the re-run rate, commit-to-production time against a target)
// and work-hours deploys (production deployments by hour and weekday in
// each team's time zone, and the share outside working hours). Both are
// pure functions of an Input; internal/report gathers it.
// docs/metrics.md defines every figure.
package cihealth

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// RedLookback is how long before the period builds are read to know
// whether a default branch was already red when the period began. A red
// stretch that began earlier is counted from the period's start and named
// in a warning.
const RedLookback = 30 * 24 * time.Hour

// DefaultTarget is the commit-to-production target when a team sets none:
// "code check-in to production in less than 15 minutes".
const DefaultTarget = 15 * time.Minute

// Branch is the default branch of a repository and how it is known.
type Branch struct {
	Name string `json:"name"`
	// Source is "configured" (stride.yaml), "reported" (a build's source
	// said it) or "assumed" (main or master, from the branches built).
	Source string `json:"source"`
}

// Branch sources.
const (
	BranchConfigured = "configured"
	BranchReported   = "reported"
	BranchAssumed    = "assumed"
)

// WorkWeek is when a team works: the days and the local hours [Start, End)
// in Location.
type WorkWeek struct {
	Team     string
	Location *time.Location
	// Days holds the working days, indexed by time.Weekday (Sunday 0).
	Days [7]bool
	// Start and End are offsets from local midnight.
	Start, End time.Duration
	// ZoneAssumed is true when the team set no time zone (UTC is used).
	ZoneAssumed bool
}

// DefaultWorkWeek is Monday to Friday, 09:00 to 18:00, in UTC.
func DefaultWorkWeek(team string) WorkWeek {
	w := WorkWeek{Team: team, Location: time.UTC, Start: 9 * time.Hour, End: 18 * time.Hour, ZoneAssumed: true}
	for d := time.Monday; d <= time.Friday; d++ {
		w.Days[d] = true
	}
	return w
}

// Within reports whether t falls in working hours.
func (w WorkWeek) Within(t time.Time) bool {
	l := t.In(w.location())
	if !w.Days[l.Weekday()] {
		return false
	}
	since := time.Duration(l.Hour())*time.Hour + time.Duration(l.Minute())*time.Minute + time.Duration(l.Second())*time.Second
	return since >= w.Start && since < w.End
}

func (w WorkWeek) location() *time.Location {
	if w.Location == nil {
		return time.UTC
	}
	return w.Location
}

// Input is what the report reads.
type Input struct {
	Period delivery.Period
	// Builds are the builds of the repositories in scope that finished
	// from RedLookback before the period to its end.
	Builds []delivery.Build
	// DefaultBranches holds the default branch of every repository of
	// Builds (Resolve fills it from what is known).
	DefaultBranches map[string]Branch
	// Deployments are the terminal production deployments finished in the
	// period, and Shipments the changes they shipped.
	Deployments []delivery.Deployment
	Shipments   []delivery.Shipment
	// Targets is the commit-to-production target of each service;
	// DefaultTarget for a service absent. TargetSet says which services'
	// teams set one.
	Targets   map[string]time.Duration
	TargetSet map[string]bool
	// Weeks is the work week of each service (its team's);
	// DefaultWorkWeek("") for a service absent.
	Weeks map[string]WorkWeek
}

// Report is the CI health and work-hours report.
type Report struct {
	From               time.Time          `json:"from"`
	To                 time.Time          `json:"to"`
	Pipelines          []Pipeline         `json:"pipelines"`
	Branches           []RedBranch        `json:"default_branches"`
	Reruns             Reruns             `json:"reruns"`
	CommitToProduction CommitToProduction `json:"commit_to_production"`
	Warnings           []Warning          `json:"warnings"`
}

// HoursReport is the work-hours deploys report: production deployments by
// local hour and weekday, and the share outside working hours.
type HoursReport struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	DeployHours
	Warnings []Warning `json:"warnings"`
}

// Hours computes the work-hours deploys report; it reads only
// Deployments and Weeks of in.
func Hours(in Input) HoursReport {
	rep := HoursReport{From: in.Period.From, To: in.Period.To}
	rep.DeployHours, rep.Warnings = deployHours(in)
	if rep.Warnings == nil {
		rep.Warnings = []Warning{}
	}
	return rep
}

// Warning says in words what is missing or assumed, and what to do.
type Warning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Pipeline is one build name of one repository.
type Pipeline struct {
	Repository string `json:"repository"`
	Name       string `json:"name"`
	// Builds counts the successful and failed builds finished in the
	// period; Timed those of them whose duration is read (first
	// attempts with both times).
	Builds   int `json:"builds"`
	Failures int `json:"failures"`
	Timed    int `json:"timed"`
	// Durations in seconds; nil when no build is timed.
	MedianSeconds *float64 `json:"median_seconds"`
	P90Seconds    *float64 `json:"p90_seconds"`
}

// RedBranch is how long a repository's default branch was red.
type RedBranch struct {
	Repository string `json:"repository"`
	Branch     Branch `json:"branch"`
	// Builds counts the default-branch builds finished in the period.
	Builds int `json:"builds"`
	// RedSeconds is the time in the period some pipeline's latest
	// finished build on the branch had failed; RedShare its part of the
	// period.
	RedSeconds float64 `json:"red_seconds"`
	RedShare   float64 `json:"red_share"`
	// Stretches counts the red stretches that overlap the period;
	// LongestSeconds is the longest, within the period.
	Stretches      int     `json:"stretches"`
	LongestSeconds float64 `json:"longest_seconds"`
	// RedAtEnd is true when the branch was still red at the period's end.
	RedAtEnd bool `json:"red_at_end"`
}

// Reruns is the re-run rate of the builds finished in the period.
type Reruns struct {
	Builds int `json:"builds"`
	// Known counts the builds whose source said their attempt; Reruns
	// those of them with an attempt above 1.
	Known  int `json:"known"`
	Reruns int `json:"reruns"`
	// Rate is Reruns / Known; nil when no attempt is known.
	Rate *float64 `json:"rate"`
}

// CommitToProduction is the time from commit to the production deployment
// that shipped it, against each service's target.
type CommitToProduction struct {
	Changes       int      `json:"changes"`
	WithinTarget  int      `json:"within_target"`
	Share         *float64 `json:"share_within_target"`
	MedianSeconds *float64 `json:"median_seconds"`
	// Services gives the same per service, with its target.
	Services []ServiceCommitToProduction `json:"services"`
}

// ServiceCommitToProduction is commit-to-production time of one service.
type ServiceCommitToProduction struct {
	Service       string   `json:"service"`
	TargetSeconds float64  `json:"target_seconds"`
	Changes       int      `json:"changes"`
	WithinTarget  int      `json:"within_target"`
	Share         *float64 `json:"share_within_target"`
	MedianSeconds *float64 `json:"median_seconds"`
}

// DeployHours counts production deployments by local weekday and hour.
type DeployHours struct {
	Deployments int `json:"deployments"`
	// OutsideWorkingHours counts those that finished outside their team's
	// working days and hours; Share its part (nil without deployments).
	OutsideWorkingHours int      `json:"outside_working_hours"`
	Share               *float64 `json:"share_outside_working_hours"`
	// ByWeekdayHour[d][h] counts deployments finished on local weekday d
	// (Monday 0 … Sunday 6) in local hour h.
	ByWeekdayHour [7][24]int `json:"by_weekday_hour"`
	// Teams names the time zone and hours each team was read in.
	Teams []TeamClock `json:"teams"`
}

// TeamClock is the working time one team's deployments were judged by.
type TeamClock struct {
	Team        string   `json:"team"`
	TimeZone    string   `json:"time_zone"`
	Days        []string `json:"working_days"`
	Hours       string   `json:"working_hours"`
	Deployments int      `json:"deployments"`
	Outside     int      `json:"outside_working_hours"`
}

// weekdayIndex is Monday 0 … Sunday 6.
func weekdayIndex(d time.Weekday) int { return (int(d) + 6) % 7 }

// counted reports whether a build finished with a verdict: success or
// failure. Cancelled and running builds say nothing of the code.
func counted(b delivery.Build) bool {
	return !b.FinishedAt.IsZero() && (b.Status == delivery.BuildSuccess || b.Status == delivery.BuildFailure)
}

// timed reports whether a build's duration is read: a first attempt (or
// one of unknown attempt) with both times. A re-run keeps its run's first
// start, so its span holds the wait before someone re-ran it.
func timed(b delivery.Build) bool {
	return counted(b) && b.Attempt <= 1 && !b.StartedAt.IsZero() && !b.FinishedAt.Before(b.StartedAt)
}

// Compute computes the report.
func Compute(in Input) Report {
	rep := Report{From: in.Period.From, To: in.Period.To}
	rep.Pipelines = pipelines(in)
	var warn []Warning
	rep.Branches, warn = redBranches(in)
	rep.Warnings = append(rep.Warnings, warn...)
	var w *Warning
	rep.Reruns, w = reruns(in)
	if w != nil {
		rep.Warnings = append(rep.Warnings, *w)
	}
	rep.CommitToProduction, warn = commitToProduction(in)
	rep.Warnings = append(rep.Warnings, warn...)
	if rep.Warnings == nil {
		rep.Warnings = []Warning{}
	}
	return rep
}

type pipelineKey struct{ repo, name string }

func pipelines(in Input) []Pipeline {
	durations := map[pipelineKey][]int64{}
	byKey := map[pipelineKey]*Pipeline{}
	for _, b := range in.Builds {
		if !counted(b) || !in.Period.Contains(b.FinishedAt) {
			continue
		}
		k := pipelineKey{b.Repository, b.Name}
		p := byKey[k]
		if p == nil {
			p = &Pipeline{Repository: b.Repository, Name: b.Name}
			byKey[k] = p
		}
		p.Builds++
		if b.Status == delivery.BuildFailure {
			p.Failures++
		}
		if timed(b) {
			p.Timed++
			durations[k] = append(durations[k], int64(b.FinishedAt.Sub(b.StartedAt)))
		}
	}
	out := make([]Pipeline, 0, len(byKey))
	for k, p := range byKey {
		if d := durations[k]; len(d) > 0 {
			slices.Sort(d)
			m, p9 := median(d)/1e9, float64(p90(d))/1e9
			p.MedianSeconds, p.P90Seconds = &m, &p9
		}
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Pipeline) int {
		return cmp.Or(cmp.Compare(a.Repository, b.Repository), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// interval is a red stretch [from, to); open when the branch was still
// red at the period's end.
type interval struct {
	from, to time.Time
	open     bool
}

// defaultBranchBuilds returns, per repository, its counted builds on its
// default branch, ordered by finish (then ID, so ties read the same
// whatever order the store returned them in).
func defaultBranchBuilds(in Input) map[string][]delivery.Build {
	out := map[string][]delivery.Build{}
	for _, b := range in.Builds {
		br, ok := in.DefaultBranches[b.Repository]
		if !ok || b.Branch != br.Name || !counted(b) || !b.FinishedAt.Before(in.Period.To) {
			continue
		}
		out[b.Repository] = append(out[b.Repository], b)
	}
	for _, bs := range out {
		slices.SortFunc(bs, func(a, b delivery.Build) int {
			return cmp.Or(a.FinishedAt.Compare(b.FinishedAt), cmp.Compare(a.ID, b.ID))
		})
	}
	return out
}

// redStretches returns the red stretches of one repository's default
// branch: per pipeline, from its first failed build to its next
// successful one, united over pipelines (the branch is red while any of
// its pipelines is).
func redStretches(builds []delivery.Build, end time.Time) (stretches []interval) {
	var all []interval
	redSince := map[string]time.Time{}
	for _, b := range builds {
		since, red := redSince[b.Name]
		switch {
		case b.Status == delivery.BuildFailure && !red:
			redSince[b.Name] = b.FinishedAt
		case b.Status == delivery.BuildSuccess && red:
			all = append(all, interval{from: since, to: b.FinishedAt})
			delete(redSince, b.Name)
		}
	}
	for _, since := range redSince {
		all = append(all, interval{from: since, to: end, open: true})
	}
	slices.SortFunc(all, func(a, b interval) int { return a.from.Compare(b.from) })
	for _, iv := range all {
		if n := len(stretches); n > 0 && !iv.from.After(stretches[n-1].to) {
			last := &stretches[n-1]
			if iv.to.After(last.to) || (iv.to.Equal(last.to) && iv.open) {
				last.to = iv.to
				last.open = last.open || iv.open
			}
			continue
		}
		stretches = append(stretches, iv)
	}
	return stretches
}

func redBranches(in Input) ([]RedBranch, []Warning) {
	perRepo := defaultBranchBuilds(in)
	repos := make([]string, 0, len(in.DefaultBranches))
	for r := range in.DefaultBranches {
		repos = append(repos, r)
	}
	slices.Sort(repos)
	length := in.Period.To.Sub(in.Period.From)
	var out []RedBranch
	var assumed, before []string
	for _, repo := range repos {
		br := in.DefaultBranches[repo]
		rb := RedBranch{Repository: repo, Branch: br}
		if br.Source == BranchAssumed {
			assumed = append(assumed, fmt.Sprintf("%s (%s)", repo, br.Name))
		}
		stretches := redStretches(perRepo[repo], in.Period.To)
		for _, b := range perRepo[repo] {
			if in.Period.Contains(b.FinishedAt) {
				rb.Builds++
			}
		}
		for _, s := range stretches {
			// A stretch that ended by the period's start is not in it;
			// one still open runs to the period's end.
			if !s.to.After(in.Period.From) {
				continue
			}
			d := s.to.Sub(later(s.from, in.Period.From))
			rb.Stretches++
			rb.RedSeconds += d.Seconds()
			rb.LongestSeconds = max(rb.LongestSeconds, d.Seconds())
			rb.RedAtEnd = rb.RedAtEnd || s.open
			if s.from.Before(in.Period.From) && firstIsFailure(perRepo[repo], s.from) {
				before = append(before, repo)
			}
		}
		if length > 0 {
			rb.RedShare = rb.RedSeconds / length.Seconds()
		}
		out = append(out, rb)
	}
	if out == nil {
		out = []RedBranch{}
	}
	var warn []Warning
	if len(assumed) > 0 {
		warn = append(warn, Warning{Code: "default_branch_assumed", Message: fmt.Sprintf(
			"the default branch of %s is assumed from the branches built, since no build's source said it and stride.yaml does not set it; "+
				"set it under ci.default_branches in stride.yaml if it is another", list(assumed))})
	}
	if len(before) > 0 {
		warn = append(warn, Warning{Code: "red_before_lookback", Message: fmt.Sprintf(
			"the default branch of %s was red from the first build Stride read of it (up to 30 days before the period), so it may have turned red earlier; "+
				"its red time in the period is counted in full, but the stretch's start is not known", list(before))})
	}
	return out, warn
}

// firstIsFailure reports whether the stretch starting at from starts at
// the first build read, a failure, so it may have begun before the
// lookback.
func firstIsFailure(builds []delivery.Build, from time.Time) bool {
	return len(builds) > 0 && builds[0].FinishedAt.Equal(from) && builds[0].Status == delivery.BuildFailure
}

func reruns(in Input) (Reruns, *Warning) {
	var r Reruns
	for _, b := range in.Builds {
		if !counted(b) || !in.Period.Contains(b.FinishedAt) {
			continue
		}
		r.Builds++
		if b.Attempt == 0 {
			continue
		}
		r.Known++
		if b.Attempt > 1 {
			r.Reruns++
		}
	}
	if r.Known > 0 {
		rate := float64(r.Reruns) / float64(r.Known)
		r.Rate = &rate
	}
	if unknown := r.Builds - r.Known; unknown > 0 {
		return r, &Warning{Code: "attempt_unknown", Message: fmt.Sprintf(
			"the sources of %d of %d builds do not say whether they were re-run (GitLab pipeline events and CDEvents without customData.attempt do not), so the re-run rate counts only the %d whose attempt is known",
			unknown, r.Builds, r.Known)}
	}
	return r, nil
}

func (in Input) target(service string) time.Duration {
	if t, ok := in.Targets[service]; ok {
		return t
	}
	return DefaultTarget
}

// productionChange is one change shipped by a successful production
// deployment, with its commit-to-production time.
type productionChange struct {
	ship       delivery.Shipment
	deployedAt time.Time
	took       time.Duration
	target     time.Duration
}

func productionChanges(in Input) []productionChange {
	finished := map[delivery.DeploymentKey]time.Time{}
	for _, d := range in.Deployments {
		if d.Status == delivery.DeploymentSuccess && in.Period.Contains(d.FinishedAt) {
			finished[d.Key()] = d.FinishedAt
		}
	}
	var out []productionChange
	for _, s := range in.Shipments {
		at, ok := finished[s.Deployment]
		if !ok || s.CommitTime.IsZero() {
			continue
		}
		out = append(out, productionChange{ship: s, deployedAt: at, took: max(at.Sub(s.CommitTime), 0), target: in.target(s.Deployment.Service)})
	}
	slices.SortFunc(out, func(a, b productionChange) int {
		return cmp.Or(a.deployedAt.Compare(b.deployedAt), cmp.Compare(a.ship.Deployment.String(), b.ship.Deployment.String()),
			cmp.Compare(a.ship.Repository, b.ship.Repository), cmp.Compare(a.ship.SHA, b.ship.SHA))
	})
	return out
}

func commitToProduction(in Input) (CommitToProduction, []Warning) {
	changes := productionChanges(in)
	var c CommitToProduction
	var all []int64
	per := map[string][]int64{}
	within := map[string]int{}
	for _, ch := range changes {
		svc := ch.ship.Deployment.Service
		all = append(all, int64(ch.took))
		per[svc] = append(per[svc], int64(ch.took))
		if ch.took <= ch.target {
			within[svc]++
			c.WithinTarget++
		}
	}
	c.Changes = len(changes)
	c.Share, c.MedianSeconds = share(c.WithinTarget, c.Changes), medianSeconds(all)
	services := make([]string, 0, len(per))
	for s := range per {
		services = append(services, s)
	}
	slices.Sort(services)
	var defaulted []string
	for _, s := range services {
		c.Services = append(c.Services, ServiceCommitToProduction{Service: s, TargetSeconds: in.target(s).Seconds(),
			Changes: len(per[s]), WithinTarget: within[s], Share: share(within[s], len(per[s])), MedianSeconds: medianSeconds(per[s])})
		if !in.TargetSet[s] {
			defaulted = append(defaulted, s)
		}
	}
	if c.Services == nil {
		c.Services = []ServiceCommitToProduction{}
	}
	var warn []Warning
	if len(defaulted) > 0 {
		warn = append(warn, Warning{Code: "target_default", Message: fmt.Sprintf(
			"%s set no commit-to-production target, so changes are judged against the default of 15 minutes; set targets.commit_to_production for the team in stride.yaml",
			list(defaulted))})
	}
	return c, warn
}

func (in Input) week(service string) WorkWeek {
	if w, ok := in.Weeks[service]; ok {
		return w
	}
	return DefaultWorkWeek("")
}

func deployHours(in Input) (DeployHours, []Warning) {
	var h DeployHours
	teams := map[string]*TeamClock{}
	var assumed []string
	for _, d := range productionDeployments(in) {
		w := in.week(d.Service)
		local := d.FinishedAt.In(w.location())
		h.Deployments++
		h.ByWeekdayHour[weekdayIndex(local.Weekday())][local.Hour()]++
		tc := teams[w.Team]
		if tc == nil {
			tc = &TeamClock{Team: w.Team, TimeZone: w.location().String(), Days: dayNames(w), Hours: hours(w)}
			teams[w.Team] = tc
			if w.ZoneAssumed {
				assumed = append(assumed, w.Team)
			}
		}
		tc.Deployments++
		if !w.Within(d.FinishedAt) {
			h.OutsideWorkingHours++
			tc.Outside++
		}
	}
	h.Share = share(h.OutsideWorkingHours, h.Deployments)
	h.Teams = []TeamClock{}
	for _, tc := range teams {
		h.Teams = append(h.Teams, *tc)
	}
	slices.SortFunc(h.Teams, func(a, b TeamClock) int { return cmp.Compare(a.Team, b.Team) })
	slices.Sort(assumed)
	var warn []Warning
	if len(assumed) > 0 {
		var parts []string
		if assumed[0] == "" {
			parts = append(parts, "services without a team")
			assumed = assumed[1:]
		}
		if len(assumed) > 0 {
			parts = append(parts, "team "+list(assumed))
		}
		warn = append(warn, Warning{Code: "time_zone_assumed", Message: fmt.Sprintf(
			"the deployments of %s are placed in the hours and weekdays of UTC, since no time zone is set for them; "+
				"set working_hours.timezone of the team in stride.yaml (e.g. Europe/Berlin), and give every service a team",
			strings.Join(parts, " and of "))})
	}
	return h, warn
}

// productionDeployments are the terminal production deployments finished
// in the period, in finish order: a failed deployment at night was still
// a deployment at night.
func productionDeployments(in Input) []delivery.Deployment {
	var out []delivery.Deployment
	for _, d := range in.Deployments {
		if d.Status.Terminal() && in.Period.Contains(d.FinishedAt) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b delivery.Deployment) int {
		return cmp.Or(a.FinishedAt.Compare(b.FinishedAt), cmp.Compare(a.Key().String(), b.Key().String()))
	})
	return out
}

func dayNames(w WorkWeek) []string {
	var out []string
	for i := range 7 {
		d := time.Weekday((i + 1) % 7)
		if w.Days[d] {
			out = append(out, strings.ToLower(d.String()[:3]))
		}
	}
	return out
}

func hours(w WorkWeek) string {
	return clock(w.Start) + "–" + clock(w.End)
}

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

func share(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	v := float64(n) / float64(of)
	return &v
}

func medianSeconds(v []int64) *float64 {
	if len(v) == 0 {
		return nil
	}
	slices.Sort(v)
	m := median(v) / 1e9
	return &m
}

// median of the sorted v: the middle value, or the mean of the two middle
// ones, as internal/flow computes it.
func median(v []int64) float64 {
	n := len(v)
	if n%2 == 1 {
		return float64(v[n/2])
	}
	a, b := v[n/2-1], v[n/2]
	return float64(a+(b-a)/2) + float64((b-a)%2)/2
}

// p90 is the nearest-rank 90th percentile of the sorted v: its ⌈0.9·n⌉-th
// smallest value, computed in integers.
func p90(v []int64) int64 {
	return v[(9*len(v)+9)/10-1]
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// list names up to five things and says how many more there are.
func list(all []string) string {
	shown := all[:min(len(all), 5)]
	s := strings.Join(shown, ", ")
	if rest := len(all) - len(shown); rest > 0 {
		s += fmt.Sprintf(" and %d more", rest)
	}
	return s
}

// ResolveBranches returns the default branch of each repository of
// builds: the one stride.yaml configures; else the one the latest build
// that said reported; else main, or master when only master was built
// (assumed, so the report warns).
func ResolveBranches(builds []delivery.Build, configured map[string]string) map[string]Branch {
	type seen struct {
		reported   string
		reportedAt time.Time
		main       bool
		master     bool
	}
	repos := map[string]*seen{}
	for _, b := range builds {
		s := repos[b.Repository]
		if s == nil {
			s = &seen{}
			repos[b.Repository] = s
		}
		if at := b.UpdatedAt; b.DefaultBranch != "" && (s.reported == "" || at.After(s.reportedAt) || (at.Equal(s.reportedAt) && b.DefaultBranch > s.reported)) {
			s.reported, s.reportedAt = b.DefaultBranch, at
		}
		s.main = s.main || b.Branch == "main"
		s.master = s.master || b.Branch == "master"
	}
	out := make(map[string]Branch, len(repos))
	for repo, s := range repos {
		switch {
		case configured[repo] != "":
			out[repo] = Branch{Name: configured[repo], Source: BranchConfigured}
		case s.reported != "":
			out[repo] = Branch{Name: s.reported, Source: BranchReported}
		case s.master && !s.main:
			out[repo] = Branch{Name: "master", Source: BranchAssumed}
		default:
			out[repo] = Branch{Name: "main", Source: BranchAssumed}
		}
	}
	return out
}
