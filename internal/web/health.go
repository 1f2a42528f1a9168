package web

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/cihealth"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/impact"
	"github.com/stride-oss/stride/internal/sprint"
)

// HealthData is what a Data implements to show the sprint, CI,
// deploy-hours and deployment-impact panels. Each method answers what its
// JSON API answers for the same scope (GET /api/v1/sprints, /api/v1/ci,
// /api/v1/deploy-hours, /api/v1/deployments/impact); a Data without it shows the
// panels as not available on this server.
type HealthData interface {
	// Sprint is the sprint and team health of s.Team.
	Sprint(ctx context.Context, s Scope) (sprint.Report, error)
	// CI is the CI health of the scope.
	CI(ctx context.Context, s Scope) (cihealth.Report, error)
	// DeployHours is the work-hours deploys report of the scope.
	DeployHours(ctx context.Context, s Scope) (cihealth.HoursReport, error)
	// Impact is the stored deployment impact and Apdex of the scope.
	Impact(ctx context.Context, s Scope) (Impact, error)
}

// Impact is the deployment impact of a scope: each production deployment
// the impact job assessed, the Apdex of its services, and warnings.
type Impact struct {
	Deployments []impact.Result
	Apdex       []impact.Apdex
	Warnings    []string
}

// panel is one health panel of the team page: its figures, tables and
// charts, its warnings in words, the JSON API of its figures, and, when
// the scope has no data for it, what is missing and how to get it.
type panel struct {
	Figures  []Figure
	Tables   []Table
	Charts   []Chart
	Warnings []string
	API      string
	Missing  string
}

// apiLink is an API path with the page's scope and period.
func apiLink(path string, s Scope, kv ...string) string {
	q := url.Values{}
	if s.Team != "" {
		q.Set("team", s.Team)
	}
	if s.Service != "" {
		q.Set("service", s.Service)
	}
	q.Set("from", s.From.UTC().Format(time.RFC3339))
	q.Set("to", s.To.UTC().Format(time.RFC3339))
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return path + "?" + q.Encode()
}

const unavailable = "This server does not serve this report."

func warningTexts(ws []cihealth.Warning) []string {
	out := make([]string, 0, len(ws))
	for _, w := range ws {
		out = append(out, w.Message)
	}
	return out
}

// sprintPanel shows work completed by type, each sprint's carry-over,
// throughput per week and work in progress.
func sprintPanel(team string, s Scope, rep sprint.Report) panel {
	p := panel{API: apiLink("/api/v1/sprints", Scope{Team: team, From: s.From, To: s.To}), Warnings: rep.Warnings}
	done := 0
	for _, w := range rep.Throughput {
		done += w.Done
	}
	wip := 0
	if len(rep.WIP) > 0 {
		wip = rep.WIP[len(rep.WIP)-1].Team
	}
	if done == 0 && len(rep.Sprints) == 0 && len(rep.Completed) == 0 && wip == 0 {
		p.Missing = "No work item of team " + team + " was done, in progress or in a sprint in the period: connect Jira (sources.jira in stride.yaml, with its sprint_field and story_points_field) or the issues of GitHub or GitLab, and give the team's issues its project or label."
		return p
	}
	points := func(c sprint.Count) string {
		out := plural(c.Items, "item")
		if c.Points > 0 || c.Unestimated < c.Items {
			out += ", " + strconv.FormatFloat(c.Points, 'f', -1, 64) + " points"
		}
		return out
	}
	wipFig := Figure{Key: "wip", Name: "Work in progress", Value: plural(wip, "item")}
	if len(rep.WIP) > 0 {
		last := rep.WIP[len(rep.WIP)-1]
		var people []string
		for name, c := range last.ByPerson {
			people = append(people, fmt.Sprintf("%s %d", cmpName(name), c))
		}
		slices.Sort(people)
		wipFig.Detail = "at " + timeText(last.At) + "; " + strings.Join(people, ", ")
	}
	blocked := Figure{Key: "blocked", Name: "Time blocked", Value: pct(rep.Blocked.Ratio),
		Detail: fmt.Sprintf("%s blocked of %s in progress, over %s", dur(rep.Blocked.BlockedSeconds), dur(rep.Blocked.InProgressSeconds), plural(rep.Blocked.Items, "item"))}
	p.Figures = []Figure{
		{Key: "throughput", Name: "Throughput", Value: plural(done, "item") + " done", Detail: fmt.Sprintf("over %s", plural(len(rep.Throughput), "week"))},
		wipFig, blocked,
	}
	byType := Table{ID: "work-by-type", Caption: "Work completed by type", Columns: []string{"type", "items", "story points", "unestimated"},
		Empty: "No work item was done in the period."}
	for _, c := range rep.Completed {
		byType.Rows = append(byType.Rows, Row{Cells: []Cell{{Text: strings.ReplaceAll(c.Type, "_", " ")}, {Text: strconv.Itoa(c.Items)},
			{Text: strconv.FormatFloat(c.Points, 'f', -1, 64)}, {Text: strconv.Itoa(c.Unestimated)}}})
	}
	carry := Table{ID: "carry-over", Caption: "Sprints: committed, completed and carried over", Columns: []string{"sprint", "state", "ended", "committed", "added", "completed", "carried over", "carry-over"},
		Empty: "No sprint ended or ran in the period: sprints come from Jira's sprint_field."}
	for _, sp := range rep.Sprints {
		over, ratio := "running", none
		if sp.CarriedOver != nil {
			over, ratio = points(*sp.CarriedOver), pct(sp.CarryOverRatio)
		}
		c := Cell{Text: points(sp.Committed)}
		if sp.AssumedCommitted > 0 {
			c.Warn = fmt.Sprintf("%s without a changelog counted as committed", plural(sp.AssumedCommitted, "item"))
		}
		carry.Rows = append(carry.Rows, Row{Cells: []Cell{{Text: sp.Name}, {Text: sp.State}, {Text: timeText(sp.End)}, c,
			{Text: points(sp.Added)}, {Text: points(sp.Completed)}, {Text: over}, {Text: ratio}}})
	}
	for i := range p.Figures {
		p.Figures[i].Href = p.API
	}
	p.Tables = []Table{byType, carry}
	tp := StackedBarChart{ID: "throughput", Title: "Throughput of " + team, Desc: "work items done in each week (Monday to Sunday, UTC)",
		Unit: "items done", Format: func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }}
	series := BarSeries{Name: "done"}
	for _, w := range rep.Throughput {
		tp.Categories = append(tp.Categories, w.Start.Format("Jan 2"))
		d := float64(w.Done)
		series.Values = append(series.Values, &d)
	}
	tp.Series = []BarSeries{series}
	if len(rep.Sprints) > 0 {
		p.Charts = append(p.Charts, completedBySprint(team, rep.Sprints))
	}
	p.Charts = append(p.Charts, StackedBar(tp))
	return p
}

// completedBySprint stacks each sprint's completed items by type of work.
func completedBySprint(team string, sprints []sprint.Sprint) Chart {
	var types []string
	for _, sp := range sprints {
		for _, c := range sp.CompletedType {
			if !slices.Contains(types, c.Type) {
				types = append(types, c.Type)
			}
		}
	}
	c := StackedBarChart{ID: "sprint-work", Title: "Work completed per sprint of " + team, Desc: "items completed in each sprint, stacked by type of work",
		Unit: "items", Format: func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }}
	for _, sp := range sprints {
		c.Categories = append(c.Categories, sp.Name)
	}
	for _, ty := range types {
		s := BarSeries{Name: strings.ReplaceAll(ty, "_", " ")}
		for _, sp := range sprints {
			var v *float64
			for _, tc := range sp.CompletedType {
				if tc.Type == ty {
					x := float64(tc.Items)
					v = &x
				}
			}
			s.Values = append(s.Values, v)
		}
		c.Series = append(c.Series, s)
	}
	ch := StackedBar(c)
	ch.Table.Columns[0] = "sprint"
	return ch
}

func cmpName(person string) string {
	if person == "" {
		return "unassigned"
	}
	return person
}

// ciPanel shows build duration per pipeline, red time of the default
// branches, the re-run rate and commit-to-production time against target.
func ciPanel(s Scope, rep cihealth.Report) panel {
	p := panel{API: apiLink("/api/v1/ci", s), Warnings: warningTexts(rep.Warnings)}
	if len(rep.Pipelines) == 0 && len(rep.Branches) == 0 && rep.CommitToProduction.Changes == 0 {
		p.Missing = "No build finished and no change reached production in the period: builds come from GitHub workflow runs, GitLab pipelines or CDEvents (their webhooks, as Getting data in lists them), changes from the deployments that ship them."
		return p
	}
	ctp := rep.CommitToProduction
	p.Figures = []Figure{
		{Key: "rerun_rate", Name: "Re-run rate", Value: pct(rep.Reruns.Rate),
			Detail: fmt.Sprintf("%d re-runs of %s whose attempt is known", rep.Reruns.Reruns, plural(rep.Reruns.Known, "build"))},
		{Key: "commit_to_production", Name: "Commit to production within target", Value: pct(ctp.Share),
			Detail: fmt.Sprintf("%d of %s; median %s", ctp.WithinTarget, plural(ctp.Changes, "change"), durP(ctp.MedianSeconds))},
	}
	for i := range p.Figures {
		p.Figures[i].Href = apiLink("/api/v1/ci/explain", s, "figure", p.Figures[i].Key)
	}
	pipes := Table{ID: "pipelines", Caption: "Build duration per pipeline", Columns: []string{"pipeline", "builds", "failures", "median", "p90"},
		Empty: "No build finished in the period."}
	for _, pl := range rep.Pipelines {
		pipes.Rows = append(pipes.Rows, Row{Cells: []Cell{{Text: pl.Repository + " · " + pl.Name}, {Text: strconv.Itoa(pl.Builds)},
			{Text: strconv.Itoa(pl.Failures)}, {Text: durP(pl.MedianSeconds)}, {Text: durP(pl.P90Seconds)}}})
	}
	red := Table{ID: "red-branches", Caption: "Time the default branch was red", Columns: []string{"repository", "branch", "red", "share of period", "stretches", "longest", "red at end"},
		Empty: "No build ran on a default branch in the period."}
	for _, b := range rep.Branches {
		share := b.RedShare
		row := Row{Cells: []Cell{{Text: b.Repository}, {Text: b.Branch.Name}, {Text: dur(b.RedSeconds)}, {Text: pct(&share)},
			{Text: strconv.Itoa(b.Stretches)}, {Text: dur(b.LongestSeconds)}, {Text: yesNo(b.RedAtEnd)}}}
		if b.RedAtEnd {
			row.Class = "fail"
		}
		red.Rows = append(red.Rows, row)
	}
	svc := Table{ID: "commit-to-production", Caption: "Commit to production per service", Columns: []string{"service", "target", "changes", "within target", "share", "median"},
		Empty: "No change reached production in the period."}
	for _, c := range ctp.Services {
		svc.Rows = append(svc.Rows, Row{Cells: []Cell{{Text: c.Service}, {Text: dur(c.TargetSeconds)}, {Text: strconv.Itoa(c.Changes)},
			{Text: strconv.Itoa(c.WithinTarget)}, {Text: pct(c.Share)}, {Text: durP(c.MedianSeconds)}}})
	}
	p.Tables = []Table{pipes, red, svc}
	return p
}

var weekdays = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// hoursPanel shows production deployments by local weekday and hour and
// the share outside working hours.
func hoursPanel(s Scope, rep cihealth.HoursReport) panel {
	p := panel{API: apiLink("/api/v1/deploy-hours", s), Warnings: warningTexts(rep.Warnings)}
	if rep.Deployments == 0 {
		p.Missing = "No production deployment finished in the period: deployments come from GitHub or GitLab deployments, Argo CD, CDEvents or `stride import git --deploy-tags`."
		return p
	}
	var clocks []string
	for _, tc := range rep.Teams {
		clocks = append(clocks, fmt.Sprintf("%s: %s %s, %s", tc.Team, strings.Join(tc.Days, " "), tc.Hours, tc.TimeZone))
	}
	p.Figures = []Figure{{Key: "deploy_hours", Name: "Deployments outside working hours", Value: pct(rep.Share),
		Detail: fmt.Sprintf("%d of %s; working hours %s", rep.OutsideWorkingHours, plural(rep.Deployments, "production deployment"), strings.Join(clocks, "; "))}}
	p.Figures[0].Href = apiLink("/api/v1/deploy-hours/explain", s)
	hours := make([]string, 24)
	for h := range hours {
		hours[h] = fmt.Sprintf("%02d", h)
	}
	counts := make([][]int, 7)
	for d := range counts {
		counts[d] = rep.ByWeekdayHour[d][:]
	}
	p.Charts = []Chart{HeatGrid(HeatGridChart{ID: "deploy-hours", Title: "Production deployments by weekday and local hour",
		Desc: "number of production deployments finished in each hour of each weekday, in the team's time zone; darker is more",
		Rows: weekdays, Columns: hours, Counts: counts, Unit: "deployments"})}
	return p
}

// impactTable lists the service's production deployments with their
// impact: error rate and latency before and after, flagged with the
// reason, or not assessed yet.
func impactTable(deps []delivery.Deployment, im Impact, available bool) Table {
	t := Table{ID: "impact", Caption: "Production deployments and their impact",
		Columns: []string{"deployment", "commit", "finished", "status", "error rate before → after", "latency before → after", "impact"},
		Empty:   "No production deployment finished in the period."}
	byID := map[string]impact.Result{}
	for _, r := range im.Deployments {
		byID[r.Deployment] = r
	}
	sorted := slices.Clone(deps)
	slices.SortFunc(sorted, func(a, b delivery.Deployment) int { return b.FinishedAt.Compare(a.FinishedAt) })
	for _, d := range sorted {
		if d.Environment != delivery.EnvironmentProduction || d.FinishedAt.IsZero() || !d.Status.Terminal() {
			continue
		}
		row := Row{Cells: []Cell{{Text: d.ID}, {Text: shortSHA(d.SHA)}, {Text: timeText(d.FinishedAt)}, {Text: string(d.Status)}}}
		res, ok := byID[d.ID]
		switch {
		case ok:
			verdict := Cell{Text: "no change past the thresholds"}
			if res.Flagged {
				row.Class = "flagged"
				verdict = Cell{Text: "flagged: " + strings.Join(res.Reasons, "; ")}
			}
			if len(res.Notes) > 0 {
				verdict.Warn = strings.Join(res.Notes, "; ")
			}
			row.Cells = append(row.Cells, Cell{Text: pct(res.Before.ErrorRate) + " → " + pct(res.After.ErrorRate)},
				Cell{Text: ms(res.Before.LatencySeconds) + " → " + ms(res.After.LatencySeconds)}, verdict)
		case !available:
			row.Cells = append(row.Cells, Cell{Text: none}, Cell{Text: none}, Cell{Text: "not available on this server"})
		case d.Status != delivery.DeploymentSuccess:
			// The impact job assesses successful deployments only: a
			// failed or rolled-back one changed nothing to compare.
			row.Cells = append(row.Cells, Cell{Text: none}, Cell{Text: none}, Cell{Text: "not assessed (" + string(d.Status) + ")"})
		default:
			row.Cells = append(row.Cells, Cell{Text: none}, Cell{Text: none}, Cell{Text: "not assessed"})
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// ms shows a latency in seconds as milliseconds.
func ms(sec *float64) string {
	if sec == nil {
		return none
	}
	return strconv.FormatFloat(*sec*1000, 'f', 0, 64) + " ms"
}

// apdexFigures are the service's Apdex scores for the period.
func apdexFigures(as []impact.Apdex, href string) []Figure {
	var out []Figure
	for _, a := range as {
		f := Figure{Key: "apdex", Name: fmt.Sprintf("Apdex (T = %s)", strconv.FormatFloat(a.TSeconds, 'f', -1, 64)+"s"),
			Value: num(a.Score, 2), Tier: a.Rating, Href: href,
			Detail: strings.TrimSpace(fmt.Sprintf("%d satisfied, %d tolerating of %d calls. %s", a.Satisfied, a.Tolerating, a.Total, a.Note))}
		out = append(out, f)
	}
	return out
}

// panelView is what the panel template receives: the panel, the page's
// view for its tables' CSV links, and the name of its API.
type panelView struct {
	View  *view
	Panel panel
	Label string
}

// P wraps a panel for the panel template.
func (v *view) P(p panel, label string) panelView { return panelView{View: v, Panel: p, Label: label} }
