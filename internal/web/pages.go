package web

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/flow"
)

// trendWeeks is how many weeks the trends span.
const trendWeeks = 12

// sortKeys are the organisation table's sortable columns, by query name.
var sortKeys = []string{"team", dora.FigureDeploymentFrequency, dora.FigureLeadTime, dora.FigureChangeFailureRate, dora.FigureTimeToRestore, "tier"}

// orgPage is the content of the organisation page.
type orgPage struct {
	Teams    Table
	Legend   Table
	Basis    string
	Start    *gettingStarted
	Warnings []string
}

// teamRow is one team's figures, kept as numbers for sorting.
type teamRow struct {
	team   Team
	report dora.Report
	weeks  []Week
}

// sortValue is the number a key sorts by; ok is false without data.
func sortValue(r dora.Report, key string) (float64, bool) {
	var p *float64
	switch key {
	case dora.FigureDeploymentFrequency:
		p = r.DeploymentFrequency.MedianDeploymentDaysPerWeek
	case dora.FigureLeadTime:
		p = r.LeadTime.MedianSeconds
	case dora.FigureChangeFailureRate:
		p = r.ChangeFailureRate.Ratio
	case dora.FigureTimeToRestore:
		p = r.TimeToRestore.MedianSeconds
	case "tier":
		if r.Tier == nil {
			return 0, false
		}
		return float64(slices.Index([]dora.Tier{dora.TierLow, dora.TierMedium, dora.TierHigh, dora.TierElite}, *r.Tier)), true
	}
	if p == nil {
		return 0, false
	}
	return *p, true
}

// sortRows orders rows by key; rows without data come last in either
// order, since "no data" is neither the best nor the worst.
func sortRows(rows []teamRow, key, order string) {
	desc := order == "desc"
	slices.SortStableFunc(rows, func(a, b teamRow) int {
		if key == "team" {
			c := cmp.Compare(a.team.Name, b.team.Name)
			if desc {
				c = -c
			}
			return c
		}
		va, oka := sortValue(a.report, key)
		vb, okb := sortValue(b.report, key)
		switch {
		case oka != okb:
			if oka {
				return -1
			}
			return 1
		case !oka:
			return cmp.Compare(a.team.Name, b.team.Name)
		}
		c := cmp.Compare(va, vb)
		if desc {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.team.Name, b.team.Name))
	})
}

func (h *Handler) org(r *http.Request, v *view) error {
	v.Name, v.Title = "org", "Organisation"
	ctx := r.Context()
	q := r.URL.Query()
	key, order := q.Get("sort"), q.Get("order")
	if key == "" {
		key = "team"
	}
	if !slices.Contains(sortKeys, key) {
		return delivery.FieldError("sort", "%q is not a column (sort by one of %s)", key, strings.Join(sortKeys, ", "))
	}
	if order != "" && order != "asc" && order != "desc" {
		return delivery.FieldError("order", "%q is neither asc nor desc", order)
	}
	rows := make([]teamRow, 0, len(v.Catalog.Teams))
	for _, t := range v.Catalog.Teams {
		s := Scope{Team: t.Name, From: v.Period.from, To: v.Period.to}
		rep, err := h.data.DORA(ctx, s)
		if err != nil {
			return fmt.Errorf("dora report of team %s: %w", t.Name, err)
		}
		weeks, err := h.data.Weekly(ctx, s, trendWeeks)
		if err != nil {
			return fmt.Errorf("weekly roll-up of team %s: %w", t.Name, err)
		}
		rows = append(rows, teamRow{team: t, report: rep, weeks: weeks})
	}
	sortRows(rows, key, order)

	cols := []string{"Team", "Deployment frequency", "Lead time", "Change failure rate", "Time to restore", "Overall tier"}
	t := Table{ID: "teams", Caption: "Teams, " + v.Period.Text(), Columns: cols,
		Empty: "No team is configured yet."}
	for _, k := range sortKeys {
		next := "asc"
		if k == key && order != "desc" {
			next = "desc"
		}
		t.Links = append(t.Links, v.Q("/", "sort", k, "order", next))
		sorted := ""
		if k == key {
			sorted = cmp.Or(order, "asc")
		}
		t.Sorted = append(t.Sorted, sorted)
	}
	for _, row := range rows {
		rep, name := row.report, row.team.Name
		explain := func(f string) string { return v.Q("/explain", "figure", f, "team", name) }
		panel := doraFigures(rep, row.team.incidentSource(), explain)
		trend := func(i int, f func(dora.Report) *float64, format func(float64) string, unit string) Cell {
			fig := panel.Figures[i]
			c := Cell{Text: fig.Value, Href: fig.Href, Badge: cmp.Or(fig.Tier, fig.Note), Warn: strings.Join(fig.Warnings, "; ")}
			labels, values := make([]string, len(row.weeks)), make([]*float64, len(row.weeks))
			for w, wk := range row.weeks {
				labels[w], values[w] = wk.Start.Format("Jan 2"), f(wk.DORA)
			}
			ch := Line(LineChart{ID: fmt.Sprintf("trend-%s-%s", safeName(name), fig.Key), Title: fig.Name + " of " + name + ", last 12 weeks",
				Desc: unit + " per ISO week", Unit: unit, Labels: labels, Values: values, Format: format, Sparkline: true})
			c.Chart = ch.SVG
			alt := make([]string, len(values))
			for w, val := range values {
				alt[w] = none
				if val != nil {
					alt[w] = format(*val)
				}
			}
			c.ChartAlt = "12-week trend, oldest first: " + strings.Join(alt, ", ")
			return c
		}
		hours := func(v float64) string { return dur(v * 3600) }
		toHours := func(p *float64) *float64 {
			if p == nil {
				return nil
			}
			h := *p / 3600
			return &h
		}
		toPct := func(p *float64) *float64 {
			if p == nil {
				return nil
			}
			x := *p * 100
			return &x
		}
		overall := Cell{Badge: panel.Overall}
		if panel.Overall == "" {
			overall.Text = none
		}
		if !row.team.incidentSource() {
			overall.Warn = "without change failure rate and time to restore: no incident source"
		}
		t.Rows = append(t.Rows, Row{Cells: []Cell{
			{Text: name, Href: v.Q("/teams/" + pathEscape(name))},
			trend(0, func(r dora.Report) *float64 { return r.DeploymentFrequency.MedianDeploymentDaysPerWeek },
				func(v float64) string { return fmt.Sprintf("%.1f", v) }, "deployment days a week"),
			trend(1, func(r dora.Report) *float64 { return toHours(r.LeadTime.MedianSeconds) }, hours, "median lead time, hours"),
			trend(2, func(r dora.Report) *float64 { return toPct(r.ChangeFailureRate.Ratio) },
				func(v float64) string { return fmt.Sprintf("%.1f %%", v) }, "change failure rate, %"),
			trend(3, func(r dora.Report) *float64 { return toHours(r.TimeToRestore.MedianSeconds) }, hours, "median time to restore, hours"),
			overall,
		}})
	}
	page := &orgPage{Teams: t, Legend: legend(v.Catalog.Thresholds), Basis: "the 2023 DORA clusters"}
	if v.Catalog.Configured {
		page.Basis = "thresholds configured in stride.yaml"
	}
	page.Legend.Caption = "Tier boundaries (" + page.Basis + ")"
	if len(v.Catalog.Teams) == 0 || len(v.Catalog.Sources) == 0 && allEmpty(rows) {
		page.Start = h.gettingStarted(r, v.Catalog, "")
	}
	v.Content = page
	v.register(t, page.Legend)
	return nil
}

func allEmpty(rows []teamRow) bool {
	for _, r := range rows {
		if r.report.ChangeFailureRate.Deployments > 0 || r.report.TimeToRestore.Count > 0 {
			return false
		}
	}
	return true
}

// legend is the table of tier boundaries in force.
func legend(th dora.Thresholds) Table {
	d := func(x time.Duration) string { return "< " + dur(x.Seconds()) }
	p := func(x float64) string { return "≤ " + pct(&x) }
	df := th.DeploymentFrequency
	return Table{ID: "tiers", Columns: []string{"key", "elite", "high", "medium", "low"}, Rows: []Row{
		{Cells: []Cell{{Text: "deployment frequency"}, {Text: fmt.Sprintf("median ≥ %g deployment days a week", df.EliteDaysPerWeek)},
			{Text: fmt.Sprintf("median ≥ %g a week", df.HighDaysPerWeek)}, {Text: fmt.Sprintf("≥ %g deployment days a month", df.MediumDaysPerMonth)}, {Text: "less"}}},
		{Cells: []Cell{{Text: "lead time (median)"}, {Text: d(th.LeadTime.Elite)}, {Text: d(th.LeadTime.High)}, {Text: d(th.LeadTime.Medium)}, {Text: "≥ " + dur(th.LeadTime.Medium.Seconds())}}},
		{Cells: []Cell{{Text: "change failure rate"}, {Text: p(th.ChangeFailureRate.Elite)}, {Text: p(th.ChangeFailureRate.High)}, {Text: p(th.ChangeFailureRate.Medium)}, {Text: "> " + pct(&th.ChangeFailureRate.Medium)}}},
		{Cells: []Cell{{Text: "time to restore (median)"}, {Text: d(th.TimeToRestore.Elite)}, {Text: d(th.TimeToRestore.High)}, {Text: d(th.TimeToRestore.Medium)}, {Text: "≥ " + dur(th.TimeToRestore.Medium.Seconds())}}},
	}}
}

// teamPage is the content of a team's page.
type teamPage struct {
	Team      string
	DORA      doraPanel
	Targets   Table
	NoTargets bool
	Services  Table
	Flow      []Figure
	FlowTable Table
	FlowChart Chart
	FlowData  bool
	Planning  Table
	Sprints   Table
	Velocity  Chart
	Incidents Table
	// Sprint, CI and Hours are the health panels.
	Sprint, CI, Hours panel
	Start             *gettingStarted
	// DigestHref links the team's weekly digest, when the data makes one.
	DigestHref string
}

func (h *Handler) team(r *http.Request, v *view) error {
	name := r.PathValue("team")
	team, ok := v.Catalog.team(name)
	if !ok {
		return delivery.Errorf(delivery.ENOTFOUND, "no team %q is configured", name)
	}
	v.Name, v.Title = "team", "Team "+name
	v.Crumbs = []link{{"Organisation", v.Q("/")}}
	ctx := r.Context()
	s := Scope{Team: name, From: v.Period.from, To: v.Period.to}
	rep, err := h.data.DORA(ctx, s)
	if err != nil {
		return fmt.Errorf("dora report of team %s: %w", name, err)
	}
	explain := func(f string) string { return v.Q("/explain", "figure", f, "team", name) }
	p := &teamPage{Team: name, DORA: doraFigures(rep, team.incidentSource(), explain)}
	p.Targets, p.NoTargets = targetTable("targets", rep, team.Targets, explain), team.Targets.Empty()
	if _, ok := h.data.(DigestData); ok {
		p.DigestHref = "/teams/" + pathEscape(name) + "/digest"
	}

	p.Services = Table{ID: "services", Caption: "Services of " + name, Empty: "This team owns no service yet.",
		Columns: []string{"Service", "Deployment frequency", "Lead time", "Change failure rate", "Time to restore", "Overall tier"}}
	for _, svc := range team.Services {
		sr, err := h.data.DORA(ctx, Scope{Service: svc.Name, From: v.Period.from, To: v.Period.to})
		if err != nil {
			return fmt.Errorf("dora report of service %s: %w", svc.Name, err)
		}
		sp := doraFigures(sr, svc.IncidentSource, func(f string) string { return v.Q("/explain", "figure", f, "service", svc.Name) })
		row := Row{Cells: []Cell{{Text: svc.Name, Href: v.Q("/services/" + pathEscape(svc.Name))}}}
		for _, f := range sp.Figures[:4] {
			row.Cells = append(row.Cells, Cell{Text: f.Value, Href: f.Href, Badge: cmp.Or(f.Tier, f.Note), Warn: strings.Join(f.Warnings, "; ")})
		}
		overall := Cell{Badge: sp.Overall}
		if sp.Overall == "" {
			overall.Text = none
		}
		row.Cells = append(row.Cells, overall)
		p.Services.Rows = append(p.Services.Rows, row)
	}

	fr, err := h.data.Flow(ctx, s)
	if err != nil {
		return fmt.Errorf("flow report of team %s: %w", name, err)
	}
	p.Flow = flowFigures(fr, explain)
	p.FlowTable = figureTable("flow", "Pull-request flow", p.Flow)
	weeks, err := h.data.Weekly(ctx, s, trendWeeks)
	if err != nil {
		return fmt.Errorf("weekly roll-up of team %s: %w", name, err)
	}
	p.FlowChart = flowChart(name, weeks)
	for _, w := range weeks {
		p.FlowData = p.FlowData || w.Flow.CodingTime != nil || w.Flow.PickupTime != nil || w.Flow.ReviewTime != nil || w.Flow.DeployTime != nil
	}

	pl, err := h.data.Planning(ctx, s)
	if err != nil {
		return fmt.Errorf("planning report of team %s: %w", name, err)
	}
	p.Planning, p.Sprints = planningTables(pl)
	p.Velocity = velocityChart(name, pl.Velocity)

	incs, err := h.data.Incidents(ctx, s)
	if err != nil {
		return fmt.Errorf("incidents of team %s: %w", name, err)
	}
	p.Incidents = incidentTable(incs, true, team.incidentSource(), explain(dora.FigureTimeToRestore))
	if err := h.healthPanels(r, s, p); err != nil {
		return err
	}
	if len(team.Services) == 0 || rep.ChangeFailureRate.Deployments == 0 && fr.PRsPerContributor.Merged == 0 {
		svc := ""
		if len(team.Services) > 0 {
			svc = team.Services[0].Name
		}
		p.Start = h.gettingStarted(r, v.Catalog, svc)
	}
	v.Content = p
	v.register(p.DORA.Table, p.Targets, p.Services, p.FlowTable, p.FlowChart.Table, p.Planning, p.Sprints, p.Velocity.Table, p.Incidents)
	for _, pn := range []panel{p.Sprint, p.CI, p.Hours} {
		v.register(pn.Tables...)
		for _, c := range pn.Charts {
			v.register(c.Table)
		}
	}
	return nil
}

// healthPanels fills the sprint, CI and deploy-hours panels of a team.
func (h *Handler) healthPanels(r *http.Request, s Scope, p *teamPage) error {
	hd, ok := h.data.(HealthData)
	if !ok {
		p.Sprint.Missing, p.CI.Missing, p.Hours.Missing = unavailable, unavailable, unavailable
		return nil
	}
	ctx := r.Context()
	sr, err := hd.Sprint(ctx, s)
	if err != nil {
		return fmt.Errorf("sprint report of team %s: %w", s.Team, err)
	}
	p.Sprint = sprintPanel(s.Team, s, sr)
	cr, err := hd.CI(ctx, s)
	if err != nil {
		return fmt.Errorf("ci report of team %s: %w", s.Team, err)
	}
	p.CI = ciPanel(s, cr)
	hr, err := hd.DeployHours(ctx, s)
	if err != nil {
		return fmt.Errorf("deploy hours of team %s: %w", s.Team, err)
	}
	p.Hours = hoursPanel(s, hr)
	return nil
}

// targetTable answers each target with yes, no or unknown and the figure.
func targetTable(id string, rep dora.Report, t dora.Targets, explain func(string) string) Table {
	tab := Table{ID: id, Caption: "Targets", Columns: []string{"target", "met"},
		Empty: "No targets are set. Add them under the team or service in stride.yaml, e.g. targets: {deployment_days_per_week: 5, lead_time: 24h, change_failure_rate: 0.10, time_to_restore: 1h}."}
	for _, res := range dora.JudgeTargets(rep, t) {
		tab.Rows = append(tab.Rows, Row{Class: "met-" + string(res.Met), Cells: []Cell{
			{Text: res.Sentence, Href: explain(res.Key)}, {Badge: "met-" + string(res.Met)}}})
	}
	return tab
}

// flowChart stacks each week's median coding, pickup, review and deploy
// time: the four stages a pull request spends its cycle time in.
func flowChart(team string, weeks []Week) Chart {
	c := StackedBarChart{ID: "flow-weeks", Title: "Pull-request flow of " + team + " per week",
		Desc: "median coding, pickup, review and deploy time of each ISO week, stacked, in hours", Unit: "hours (median per stage)", Scale: 3600,
		Format: dur}
	stage := func(name string, f func(flow.Report) *flow.DurationStat) BarSeries {
		s := BarSeries{Name: name}
		for _, w := range weeks {
			var v *float64
			if d := f(w.Flow); d != nil {
				x := d.MedianSeconds
				v = &x
			}
			s.Values = append(s.Values, v)
		}
		return s
	}
	for _, w := range weeks {
		c.Categories = append(c.Categories, w.Start.Format("Jan 2"))
	}
	c.Series = []BarSeries{
		stage("coding", func(r flow.Report) *flow.DurationStat { return r.CodingTime }),
		stage("pickup", func(r flow.Report) *flow.DurationStat { return r.PickupTime }),
		stage("review", func(r flow.Report) *flow.DurationStat { return r.ReviewTime }),
		stage("deploy", func(r flow.Report) *flow.DurationStat { return r.DeployTime }),
	}
	return StackedBar(c)
}

// velocityChart draws the story points of each completed sprint.
func velocityChart(team string, v flow.Velocity) Chart {
	c := StackedBarChart{ID: "velocity", Title: "Velocity of " + team, Desc: "story points completed in each completed sprint, oldest first",
		Unit: "story points", Format: func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }}
	s := BarSeries{Name: "points"}
	for _, sp := range v.Sprints {
		c.Categories = append(c.Categories, sp.Name)
		pts := sp.Points
		s.Values = append(s.Values, &pts)
	}
	c.Series = []BarSeries{s}
	ch := StackedBar(c)
	ch.Table.Columns[0] = "sprint"
	return ch
}

func planningTables(pl flow.PlanningReport) (Table, Table) {
	sp, ac, vel := pl.StoryPointCoverage, pl.AcceptanceCriteriaCoverage, pl.Velocity
	t := Table{ID: "planning", Caption: "Planning", Columns: []string{"figure", "value", "detail"}, Rows: []Row{
		{Cells: []Cell{{Text: "Story-point coverage"}, {Text: pct(sp.Ratio)}, {Text: fmt.Sprintf("%d of %s resolved carried an estimate", sp.Estimated, plural(sp.Resolved, "work item"))}}},
		{Cells: []Cell{{Text: "Acceptance-criteria coverage"}, {Text: pct(ac.Ratio)}, {Text: fmt.Sprintf("%d of %s resolved had acceptance criteria", ac.WithCriteria, plural(ac.Resolved, "work item"))}}},
		{Cells: []Cell{{Text: "Velocity"}, {Text: num(vel.AveragePoints, 1) + " points a sprint"}, {Text: "average of the last " + plural(vel.OverSprints, "completed sprint")}}},
	}}
	if vel.AveragePoints == nil {
		t.Rows[2].Cells[1].Text, t.Rows[2].Cells[2].Text = "no completed sprint", "sprints come from Jira's sprint_field"
	}
	s := Table{ID: "sprints", Caption: "Completed sprints", Columns: []string{"sprint", "ended", "points", "items", "unestimated"},
		Empty: "No completed sprint yet: connect Jira (sources.jira in stride.yaml) with its sprint_field and story_points_field."}
	for _, x := range vel.Sprints {
		s.Rows = append(s.Rows, Row{Cells: []Cell{{Text: x.Name}, {Text: timeText(x.End)}, {Text: fmt.Sprintf("%g", x.Points)},
			{Text: fmt.Sprint(x.Items)}, {Text: fmt.Sprint(x.Unestimated)}}})
	}
	return t, s
}

// incidentTable lists incidents; openOnly keeps the unresolved ones. Each
// links to href, the time-to-restore records, which list every incident
// with how it was counted.
func incidentTable(incs []delivery.Incident, openOnly, source bool, href string) Table {
	t := Table{ID: "incidents", Caption: "Incidents", Columns: []string{"incident", "service", "severity", "opened", "acknowledged", "resolved", "title"},
		Empty: "No incident in the period."}
	if openOnly {
		t.Caption, t.Empty = "Open incidents", "No open incident."
	}
	if !source {
		t.Empty = "No incident source is configured, so Stride cannot know of incidents: connect PagerDuty, Alertmanager, or incident issues of GitHub, GitLab or Jira, with their webhook URLs as Getting data in lists them."
	}
	slices.SortFunc(incs, func(a, b delivery.Incident) int { return b.OpenedAt.Compare(a.OpenedAt) })
	for _, in := range incs {
		if openOnly && !in.ResolvedAt.IsZero() {
			continue
		}
		class := ""
		if in.ResolvedAt.IsZero() {
			class = "open"
		}
		t.Rows = append(t.Rows, Row{Class: class, Cells: []Cell{{Text: in.ID, Href: href}, {Text: in.Service}, {Text: fmt.Sprintf("sev %d", in.Severity)},
			{Text: timeText(in.OpenedAt)}, {Text: timeText(in.AcknowledgedAt)}, {Text: timeText(in.ResolvedAt)}, {Text: in.Title}}})
	}
	return t
}

// servicePage is the content of a service's page.
type servicePage struct {
	Service   string
	Team      string
	TeamHref  string
	DORA      doraPanel
	Targets   Table
	NoTargets bool
	Timeline  Chart
	LeadTimes Chart
	Failures  Table
	Rollouts  Table
	History   Table
	Incidents Table
	// Impact lists the production deployments with their impact; Apdex
	// are the service's scores for the period.
	Impact         Table
	Apdex          panel
	ImpactWarnings []string
	ImpactAPI      string
	Start          *gettingStarted
}

func (h *Handler) service(r *http.Request, v *view) error {
	name := r.PathValue("service")
	svc, ok := v.Catalog.service(name)
	if !ok {
		return delivery.Errorf(delivery.ENOTFOUND, "no service %q is configured", name)
	}
	v.Name, v.Title = "service", "Service "+name
	v.Crumbs = []link{{"Organisation", v.Q("/")}, {"Team " + svc.Team, v.Q("/teams/" + pathEscape(svc.Team))}}
	ctx := r.Context()
	s := Scope{Service: name, From: v.Period.from, To: v.Period.to}
	rep, err := h.data.DORA(ctx, s)
	if err != nil {
		return fmt.Errorf("dora report of service %s: %w", name, err)
	}
	explain := func(f string) string { return v.Q("/explain", "figure", f, "service", name) }
	p := &servicePage{Service: name, Team: svc.Team, TeamHref: v.Q("/teams/" + pathEscape(svc.Team)),
		DORA: doraFigures(rep, svc.IncidentSource, explain)}
	p.Targets, p.NoTargets = targetTable("targets", rep, svc.Targets, explain), svc.Targets.Empty()

	deps, err := h.data.Deployments(ctx, s)
	if err != nil {
		return fmt.Errorf("deployments of service %s: %w", name, err)
	}
	rollouts, err := h.data.Rollouts(ctx, name, 20)
	if err != nil {
		return fmt.Errorf("rollouts of service %s: %w", name, err)
	}
	p.Timeline = timeline(name, v.Period, deps, rollouts)
	p.ImpactAPI = apiLink("/api/v1/deployments/impact", s)
	var im Impact
	hd, available := h.data.(HealthData)
	if available {
		if im, err = hd.Impact(ctx, s); err != nil {
			return fmt.Errorf("deployment impact of service %s: %w", name, err)
		}
	}
	p.Impact, p.Apdex, p.ImpactWarnings = impactTable(deps, im, available), panel{Figures: apdexFigures(im.Apdex, p.ImpactAPI)}, im.Warnings

	lt, err := h.data.DORAExplain(ctx, s, dora.FigureLeadTime)
	if err != nil {
		return fmt.Errorf("lead time of service %s: %w", name, err)
	}
	p.LeadTimes = leadTimeHistogram(name, lt)
	rt, err := h.data.DORAExplain(ctx, s, dora.FigureRecoveryTime)
	if err != nil {
		return fmt.Errorf("recovery time of service %s: %w", name, err)
	}
	p.Failures = failureTable(rt, explain(dora.FigureRecoveryTime))
	p.Rollouts, p.History = rolloutTables(rollouts)

	incs, err := h.data.Incidents(ctx, s)
	if err != nil {
		return fmt.Errorf("incidents of service %s: %w", name, err)
	}
	p.Incidents = incidentTable(incs, false, svc.IncidentSource, explain(dora.FigureTimeToRestore))
	if len(deps) == 0 && rep.ChangeFailureRate.Deployments == 0 {
		p.Start = h.gettingStarted(r, v.Catalog, name)
	}
	v.Content = p
	v.register(p.DORA.Table, p.Targets, p.Timeline.Table, p.Impact, p.LeadTimes.Table, p.Failures, p.Rollouts, p.History, p.Incidents)
	return nil
}

// timeline places the deployments in their rings; the lanes are the
// rings of the service's rollouts, then any other ring or environment.
func timeline(service string, p periodView, deps []delivery.Deployment, rollouts []Rollout) Chart {
	var lanes []string
	add := func(l string) {
		if !slices.Contains(lanes, l) {
			lanes = append(lanes, l)
		}
	}
	for _, ro := range rollouts {
		for _, rp := range ro.Position.Rings {
			add(rp.Ring)
		}
	}
	laneOf := func(d delivery.Deployment) string {
		if d.Ring != "" {
			return d.Ring
		}
		return d.Environment
	}
	sorted := slices.Clone(deps)
	slices.SortFunc(sorted, func(a, b delivery.Deployment) int { return a.FinishedAt.Compare(b.FinishedAt) })
	var pts []TimelinePoint
	for _, d := range sorted {
		if !d.Status.Terminal() || d.FinishedAt.IsZero() {
			continue
		}
		add(laneOf(d))
		pts = append(pts, TimelinePoint{At: d.FinishedAt, Lane: laneOf(d), Category: string(d.Status), Label: d.ID + " (" + shortSHA(d.SHA) + ")"})
	}
	return Timeline(TimelineChart{ID: "deployments", Title: "Deployments of " + service,
		Desc: "each deployment finished in the period by ring and status: circle success, cross failure, triangle rolled back",
		From: p.from, To: p.to, Lanes: lanes, Points: pts,
		Categories: []string{string(delivery.DeploymentSuccess), string(delivery.DeploymentFailure), string(delivery.DeploymentRolledBack)}})
}

// leadTimeBins are the histogram's bins, in seconds: the tier boundaries
// (a day, a week, 30 days) fall on bin edges.
var leadTimeBins = []struct {
	label string
	upTo  float64
}{
	{"< 1h", 3600}, {"1–4h", 4 * 3600}, {"4–24h", 86400}, {"1–3d", 3 * 86400}, {"3–7d", 7 * 86400},
	{"7–30d", 30 * 86400}, {"≥ 30d", 0},
}

func leadTimeHistogram(service string, e dora.Explanation) Chart {
	bins := make([]Bin, len(leadTimeBins))
	for i, b := range leadTimeBins {
		bins[i].Label = b.label
	}
	for _, d := range e.Deployments {
		for _, c := range d.Changes {
			if !c.Counted || c.LeadTimeSeconds == nil {
				continue
			}
			i := len(leadTimeBins) - 1
			for k, b := range leadTimeBins[:len(leadTimeBins)-1] {
				if *c.LeadTimeSeconds < b.upTo {
					i = k
					break
				}
			}
			bins[i].Count++
		}
	}
	return Histogram(HistogramChart{ID: "lead-times", Title: "Lead time of the changes " + service + " shipped",
		Desc: "number of changes by lead time from commit to production", Unit: "changes", Axis: "lead time", Bins: bins})
}

// failureTable lists the failed deployments and how each was recovered;
// each links to href, the recovery-time records.
func failureTable(e dora.Explanation, href string) Table {
	t := Table{ID: "failures", Caption: "Change failures and recovery", Columns: []string{"deployment", "status", "finished", "recovery", "recovered by", "reason"},
		Empty: "No change failure in the period."}
	for _, d := range e.Deployments {
		if !strings.Contains(d.Reason, "failed:") {
			continue
		}
		fin := none
		if d.FinishedAt != nil {
			fin = timeText(*d.FinishedAt)
		}
		t.Rows = append(t.Rows, Row{Class: "fail", Cells: []Cell{{Text: d.ID, Href: href}, {Text: string(d.Status)}, {Text: fin},
			{Text: durP(d.RecoverySeconds)}, {Text: cmp.Or(d.RecoveredBy, "not yet")}, {Text: d.Reason}}})
	}
	return t
}

// rolloutTables are each commit's state per ring with its gates, and the
// promotion decisions, newest first.
func rolloutTables(ros []Rollout) (Table, Table) {
	pos := Table{ID: "rollouts", Caption: "Commits across the rings", Columns: []string{"commit", "gates"},
		Empty: "No gate result or ring deployment yet: run stride gate in CI and stride promote to move a commit ring by ring."}
	var ringNames []string
	for _, ro := range ros {
		for _, rp := range ro.Position.Rings {
			if !slices.Contains(ringNames, rp.Ring) {
				ringNames = append(ringNames, rp.Ring)
			}
		}
	}
	pos.Columns = append(pos.Columns, ringNames...)
	hist := Table{ID: "promotions", Caption: "Promotion history", Columns: []string{"decided", "commit", "from", "to", "allowed", "conditions not met", "requested by"},
		Empty: "No promotion was requested yet."}
	for _, ro := range ros {
		var gates []string
		for _, g := range ro.Gates {
			verdict := "fail"
			if g.Passed {
				verdict = "pass"
			}
			gates = append(gates, g.Name+": "+verdict)
		}
		row := Row{Cells: []Cell{{Text: shortSHA(ro.Position.SHA)}, {Text: cmp.Or(strings.Join(gates, ", "), "no gate run")}}}
		for _, ring := range ringNames {
			c := Cell{Text: none}
			for _, rp := range ro.Position.Rings {
				if rp.Ring != ring {
					continue
				}
				c.Text = strings.ReplaceAll(rp.State, "_", " ")
				if rp.DeployedAt != nil {
					c.Text += " since " + timeText(*rp.DeployedAt)
				}
			}
			row.Cells = append(row.Cells, c)
		}
		pos.Rows = append(pos.Rows, row)
		for _, pr := range ro.Promotions {
			var failed []string
			for _, c := range pr.Decision.Conditions {
				if c.Status == "fail" {
					failed = append(failed, c.Name+": "+c.Reason)
				}
			}
			allowed := "no"
			if pr.Decision.Allowed {
				allowed = "yes"
			}
			hist.Rows = append(hist.Rows, Row{Cells: []Cell{{Text: timeText(pr.DecidedAt)}, {Text: shortSHA(pr.Decision.SHA)},
				{Text: cmp.Or(pr.Decision.From, none)}, {Text: pr.Decision.To}, {Badge: "allowed-" + allowed},
				{Text: cmp.Or(strings.Join(failed, "; "), none)}, {Text: cmp.Or(pr.RequestedBy, none)}}})
		}
	}
	slices.SortStableFunc(hist.Rows, func(a, b Row) int { return cmp.Compare(b.Cells[0].Text, a.Cells[0].Text) })
	return pos, hist
}

// explainPage is the content of the explain page.
type explainPage struct {
	Figure   Figure
	Scope    string
	Back     string
	Tables   []Table
	Warnings []string
}

func (h *Handler) explain(r *http.Request, v *view) error {
	q := r.URL.Query()
	figure, service, team := q.Get("figure"), q.Get("service"), q.Get("team")
	s := Scope{Service: service, Team: team, From: v.Period.from, To: v.Period.to}
	p := &explainPage{Scope: "the organisation", Back: v.Q("/")}
	incidents := true
	switch {
	case service != "":
		svc, ok := v.Catalog.service(service)
		if !ok {
			return delivery.Errorf(delivery.ENOTFOUND, "no service %q is configured", service)
		}
		p.Scope, p.Back, incidents = "service "+service, v.Q("/services/"+pathEscape(service)), svc.IncidentSource
	case team != "":
		t, ok := v.Catalog.team(team)
		if !ok {
			return delivery.Errorf(delivery.ENOTFOUND, "no team %q is configured", team)
		}
		p.Scope, p.Back, incidents = "team "+team, v.Q("/teams/"+pathEscape(team)), t.incidentSource()
	}
	v.Name = "explain"
	v.Crumbs = []link{{"Organisation", v.Q("/")}, {strings.ToUpper(p.Scope[:1]) + p.Scope[1:], p.Back}}
	self := func(f string) string { return v.Q("/explain", "figure", f, "service", service, "team", team) }
	ctx := r.Context()
	switch {
	case slices.Contains(dora.Figures(), figure):
		rep, err := h.data.DORA(ctx, s)
		if err != nil {
			return fmt.Errorf("dora report: %w", err)
		}
		panel := doraFigures(rep, incidents, self)
		for _, f := range panel.Figures {
			if f.Key == figure {
				p.Figure = f
			}
		}
		p.Warnings = panel.Warnings
		e, err := h.data.DORAExplain(ctx, s, figure)
		if err != nil {
			return fmt.Errorf("explain %s: %w", figure, err)
		}
		p.Tables = doraExplainTables(e)
	case slices.Contains(flow.Figures(), figure):
		rep, err := h.data.Flow(ctx, s)
		if err != nil {
			return fmt.Errorf("flow report: %w", err)
		}
		for _, f := range flowFigures(rep, self) {
			if f.Key == figure {
				p.Figure = f
			}
		}
		e, err := h.data.FlowExplain(ctx, s, figure)
		if err != nil {
			return fmt.Errorf("explain %s: %w", figure, err)
		}
		p.Tables = []Table{flowExplainTable(e)}
	default:
		return delivery.FieldError("figure", "unknown figure %q (want one of %s, %s)", figure,
			strings.Join(dora.Figures(), ", "), strings.Join(flow.Figures(), ", "))
	}
	v.Title = p.Figure.Name + " of " + p.Scope
	v.Content = p
	v.register(p.Tables...)
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func doraExplainTables(e dora.Explanation) []Table {
	var out []Table
	if len(e.Weeks) > 0 {
		t := Table{ID: "weeks", Caption: "Deployment days per ISO week (deployment days a month: " + num(e.DeploymentDaysPerMonth, 2) + ")",
			Columns: []string{"week of", "deployment days"}}
		for _, w := range e.Weeks {
			t.Rows = append(t.Rows, Row{Cells: []Cell{{Text: w.Start.Format(time.DateOnly)}, {Text: fmt.Sprint(w.DeploymentDays)}}})
		}
		out = append(out, t)
	}
	deps := Table{ID: "deployments", Caption: "Deployments", Columns: []string{"deployment", "status", "finished", "counted", "detail", "reason"},
		Empty: "No deployment in the input of this figure."}
	changes := Table{ID: "changes", Caption: "Changes shipped", Columns: []string{"deployment", "change", "committed", "lead time", "counted", "reason"}}
	for _, d := range e.Deployments {
		fin := none
		if d.FinishedAt != nil {
			fin = timeText(*d.FinishedAt)
		}
		detail := none
		switch {
		case d.RecoverySeconds != nil:
			detail = dur(*d.RecoverySeconds) + " by " + d.RecoveredBy
		case len(d.Incidents) > 0:
			detail = "incidents " + strings.Join(d.Incidents, ", ")
		case len(d.Changes) > 0:
			detail = plural(len(d.Changes), "change")
		}
		class := ""
		if !d.Counted {
			class = "excluded"
		}
		deps.Rows = append(deps.Rows, Row{Class: class, Cells: []Cell{{Text: d.Service + "/" + d.Environment + "/" + d.ID}, {Text: string(d.Status)},
			{Text: fin}, {Text: yesNo(d.Counted)}, {Text: detail}, {Text: d.Reason}}})
		for _, c := range d.Changes {
			changes.Rows = append(changes.Rows, Row{Cells: []Cell{{Text: d.ID}, {Text: c.Repository + "@" + shortSHA(c.SHA)},
				{Text: timeText(c.CommitTime)}, {Text: durP(c.LeadTimeSeconds)}, {Text: yesNo(c.Counted)}, {Text: c.Reason}}})
		}
	}
	if e.Figure != dora.FigureTimeToRestore {
		out = append(out, deps)
	}
	if len(changes.Rows) > 0 {
		out = append(out, changes)
	}
	if len(e.UnmatchedChanges) > 0 {
		t := Table{ID: "unmatched", Caption: "Changes whose deployment is missing", Columns: []string{"change", "deployment", "committed", "reason"}}
		for _, c := range e.UnmatchedChanges {
			t.Rows = append(t.Rows, Row{Cells: []Cell{{Text: c.Repository + "@" + shortSHA(c.SHA)}, {Text: c.Deployment}, {Text: timeText(c.CommitTime)}, {Text: c.Reason}}})
		}
		out = append(out, t)
	}
	if len(e.Incidents) > 0 || e.Figure == dora.FigureTimeToRestore {
		t := Table{ID: "incidents", Caption: "Incidents", Columns: []string{"incident", "opened", "resolved", "deployment", "link", "restore", "counted", "reason"},
			Empty: "No incident in the input of this figure."}
		for _, i := range e.Incidents {
			res := none
			if i.ResolvedAt != nil {
				res = timeText(*i.ResolvedAt)
			}
			t.Rows = append(t.Rows, Row{Cells: []Cell{{Text: i.Service + "/" + i.ID}, {Text: timeText(i.OpenedAt)}, {Text: res},
				{Text: cmp.Or(i.Deployment, none)}, {Text: i.Link}, {Text: durP(i.RestoreSeconds)}, {Text: yesNo(i.Counted)}, {Text: i.Reason}}})
		}
		out = append(out, t)
	}
	return out
}

func flowExplainTable(e flow.Explanation) Table {
	t := Table{ID: "pull-requests", Caption: "Pull requests", Columns: []string{"pull request", "title", "author", "value", "from", "to", "deployment", "counted", "reason"},
		Empty: "No pull request counts in this figure for the period."}
	for _, it := range e.Items {
		val := fmt.Sprintf("%g", it.Value)
		if e.Unit == "seconds" {
			val = dur(it.Value)
		}
		from, to := none, none
		if it.Start != nil {
			from = timeText(*it.Start)
		}
		if it.End != nil {
			to = timeText(*it.End)
		}
		t.Rows = append(t.Rows, Row{Cells: []Cell{{Text: fmt.Sprintf("%s#%d", it.Repository, it.Number)}, {Text: it.Title}, {Text: it.Author},
			{Text: val}, {Text: from}, {Text: to}, {Text: cmp.Or(it.Deployment, none)}, {Text: yesNo(!it.Excluded)}, {Text: cmp.Or(it.Reason, none)}}})
	}
	return t
}

// gettingStarted is the empty state: how to get data in, with the user's
// own service name and this server's webhook URLs.
type gettingStarted struct {
	Service  string
	Import   string
	Webhooks []webhookHelp
	Config   string
}

type webhookHelp struct {
	Source, URL, Secret, Brings string
	Configured                  bool
}

// webhookSources are the sources a new user can connect, with the
// stride.yaml key their secret goes in.
var webhookSources = []struct{ name, secret, brings string }{
	{"github", "sources.github.secret", "commits, pull requests, deployments, incident issues"},
	{"gitlab", "sources.gitlab.token", "commits, merge requests, deployments, incident issues"},
	{"jira", "sources.jira.secret", "work items (planning), incident issues"},
	{"pagerduty", "sources.pagerduty.secrets", "incidents"},
	{"alertmanager", "sources.alertmanager.token", "incidents"},
	{"argocd", "sources.argocd.token", "deployments"},
	{"cdevents", "sources.cdevents.token", "deployments, builds, incidents"},
}

func (h *Handler) gettingStarted(r *http.Request, c Catalog, service string) *gettingStarted {
	name := service
	if name == "" {
		name = "NAME"
	}
	g := &gettingStarted{Service: service,
		Import: fmt.Sprintf("stride import git --repo DIR --service %s --deploy-tags 'v*'", shellWord(name))}
	if len(c.Teams) == 0 {
		g.Config = "services:\n  - name: app\n    team: my-team\n    repositories: [acme/app]\n"
	}
	base := h.baseURL(r)
	for _, s := range webhookSources {
		g.Webhooks = append(g.Webhooks, webhookHelp{Source: s.name, URL: base + "/webhooks/" + s.name, Secret: s.secret,
			Brings: s.brings, Configured: slices.Contains(c.Sources, s.name)})
	}
	return g
}

// shellWord quotes a service name for a shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// pathEscape escapes a team or service name for a URL path segment.
func pathEscape(s string) string { return url.PathEscape(s) }
