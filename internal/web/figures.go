package web

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/flow"
)

// Figure is one figure of a report as a page shows it: its value, the
// count behind it, its tier, the link to its records and the warnings that
// concern it, side by side.
type Figure struct {
	Key, Name string
	Value     string
	Detail    string
	Tier      string
	Href      string
	Warnings  []string
	// Note replaces the tier when the figure cannot be judged (no incident
	// source), so a missing source never reads as "elite".
	Note string
}

// doraWarningFigure says which figure each DORA warning code bends; codes
// that bend the whole report map to "".
var doraWarningFigure = map[string]string{
	"unknown_deployment":     dora.FigureLeadTime,
	"missing_commit_time":    dora.FigureLeadTime,
	"negative_lead_time":     dora.FigureLeadTime,
	"unlinked_incident":      dora.FigureChangeFailureRate,
	"negative_restore_time":  dora.FigureTimeToRestore,
	"negative_recovery_time": dora.FigureRecoveryTime,
}

// doraPanel is the DORA figures of one scope with the warnings that concern
// none of them in particular.
type doraPanel struct {
	Figures  []Figure
	Overall  string
	Note     string
	Warnings []string
	Table    Table
}

// noIncidentSource is the note shown instead of a tier when no configured
// source reports the scope's incidents.
const noIncidentSource = "no incident source configured: not judged"

// doraFigures lays out r. explain builds each figure's link.
func doraFigures(r dora.Report, incidents bool, explain func(figure string) string) doraPanel {
	df, lt, cfr, ttr, rt, rw := r.DeploymentFrequency, r.LeadTime, r.ChangeFailureRate, r.TimeToRestore, r.RecoveryTime, r.ReworkRate
	figs := []Figure{
		{Key: dora.FigureDeploymentFrequency, Name: "Deployment frequency",
			Value:  num(df.MedianDeploymentDaysPerWeek, 1) + " deployment days a week (median)",
			Detail: fmt.Sprintf("%s, %s a week, %s over %s", plural(df.Count, "deployment"), num(df.PerWeek, 2), plural(df.DeploymentDays, "deployment day"), plural(df.Weeks, "week")),
			Tier:   tierText(df.Tier)},
		{Key: dora.FigureLeadTime, Name: "Lead time for changes",
			Value:  "median " + durP(lt.MedianSeconds),
			Detail: fmt.Sprintf("p90 %s, %s in %s", durP(lt.P90Seconds), plural(lt.Count, "change"), plural(lt.Deployments, "deployment")),
			Tier:   tierText(lt.Tier)},
		{Key: dora.FigureChangeFailureRate, Name: "Change failure rate",
			Value:  pct(cfr.Ratio),
			Detail: fmt.Sprintf("%d of %s failed", cfr.Failed, plural(cfr.Deployments, "deployment")),
			Tier:   tierText(cfr.Tier)},
		{Key: dora.FigureTimeToRestore, Name: "Time to restore",
			Value:  "median " + durP(ttr.MedianSeconds),
			Detail: fmt.Sprintf("p90 %s, %s resolved", durP(ttr.P90Seconds), plural(ttr.Count, "incident")),
			Tier:   tierText(ttr.Tier)},
		{Key: dora.FigureRecoveryTime, Name: "Failed deployment recovery time",
			Value:  "median " + durP(rt.MedianSeconds),
			Detail: fmt.Sprintf("p90 %s, %s recovered", durP(rt.P90Seconds), plural(rt.Count, "failure"))},
		{Key: dora.FigureReworkRate, Name: "Rework rate",
			Value:  pct(rw.Ratio),
			Detail: fmt.Sprintf("%d of %s unplanned", rw.Unplanned, plural(rw.Deployments, "deployment"))},
	}
	// A figure without data says what is missing rather than "—".
	for i, missing := range []struct {
		null bool
		text string
	}{{df.MedianDeploymentDaysPerWeek == nil, "no deployment"}, {lt.MedianSeconds == nil, "no change shipped"},
		{cfr.Ratio == nil, "no deployment"}, {ttr.MedianSeconds == nil, "no incident resolved"},
		{rt.MedianSeconds == nil, "no failure recovered"}, {rw.Ratio == nil, "no deployment"}} {
		if missing.null {
			figs[i].Value = missing.text
		}
	}
	p := doraPanel{Overall: tierText(r.Tier)}
	if !incidents {
		figs[2].Note, figs[2].Tier = "no incident source configured: only failed and rolled-back deployments count; not judged", ""
		figs[3].Note, figs[3].Tier = noIncidentSource, ""
		p.Note = "The overall tier leaves out change failure rate and time to restore until an incident source is configured."
		p.Overall = tierText(overallWithoutIncidents(r))
	}
	for i := range figs {
		figs[i].Href = explain(figs[i].Key)
	}
	for _, w := range r.Warnings {
		text := fmt.Sprintf("%s (%d)", w.Message, w.Count)
		key := doraWarningFigure[w.Code]
		placed := false
		for i := range figs {
			if figs[i].Key == key {
				figs[i].Warnings = append(figs[i].Warnings, text)
				placed = true
			}
		}
		if !placed {
			p.Warnings = append(p.Warnings, text)
		}
	}
	p.Figures = figs
	p.Table = figureTable("dora", "DORA keys", figs)
	return p
}

// overallWithoutIncidents is the lowest tier of deployment frequency and
// lead time, the keys that need no incident source.
func overallWithoutIncidents(r dora.Report) *dora.Tier {
	rank := map[dora.Tier]int{dora.TierElite: 4, dora.TierHigh: 3, dora.TierMedium: 2, dora.TierLow: 1}
	var out *dora.Tier
	for _, t := range []*dora.Tier{r.DeploymentFrequency.Tier, r.LeadTime.Tier} {
		if t != nil && (out == nil || rank[*t] < rank[*out]) {
			out = t
		}
	}
	return out
}

// figureTable is the CSV and text form of a figure panel.
// The tier column is left out when no figure has a tier (flow).
func figureTable(id, caption string, figs []Figure) Table {
	tiers := false
	for _, f := range figs {
		tiers = tiers || f.Tier != "" || f.Note != ""
	}
	t := Table{ID: id, Caption: caption, Columns: []string{"figure", "value", "detail"}}
	if tiers {
		t.Columns = append(t.Columns, "tier")
	}
	for _, f := range figs {
		row := Row{Cells: []Cell{{Text: f.Name, Href: f.Href}, {Text: f.Value, Warn: strings.Join(f.Warnings, "; ")}, {Text: f.Detail}}}
		if tiers {
			row.Cells = append(row.Cells, Cell{Text: cmp.Or(f.Note, f.Tier, none)})
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// flowFigures lays out a flow report; its warnings name their figure.
func flowFigures(r flow.Report, explain func(figure string) string) []Figure {
	d := func(key, name string, s *flow.DurationStat) Figure {
		f := Figure{Key: key, Name: name, Value: none, Detail: "no pull request"}
		if s != nil {
			f.Value = "median " + dur(s.MedianSeconds)
			f.Detail = fmt.Sprintf("p90 %s, %s", dur(s.P90Seconds), plural(s.Count, "pull request"))
		}
		return f
	}
	c := func(key, name, unit string, s *flow.CountStat) Figure {
		f := Figure{Key: key, Name: name, Value: none, Detail: "no pull request"}
		if s != nil {
			f.Value = "median " + strconv.FormatFloat(s.Median, 'f', -1, 64) + " " + unit
			f.Detail = fmt.Sprintf("p90 %s, %s", strconv.FormatFloat(s.P90, 'f', -1, 64), plural(s.Count, "pull request"))
		}
		return f
	}
	pc := r.PRsPerContributor
	figs := []Figure{
		d("coding_time", "Coding time", r.CodingTime),
		d("pickup_time", "Pickup time", r.PickupTime),
		d("review_time", "Review time", r.ReviewTime),
		d("deploy_time", "Deploy time", r.DeployTime),
		d("cycle_time", "Cycle time", r.CycleTime),
		d("cycle_time_to_merge", "Cycle time to merge (not yet deployed)", r.CycleTimeToMerge),
		c("pr_size", "Pull-request size", "lines", r.PRSize),
		c("changed_files", "Changed files", "files", r.ChangedFiles),
		c("comments", "Comments", "comments", r.Comments),
		{Key: "prs_per_contributor", Name: "Pull requests per contributor", Value: num(pc.Ratio, 1),
			Detail: fmt.Sprintf("%s merged by %s", plural(pc.Merged, "pull request"), plural(pc.Contributors, "contributor"))},
	}
	count := map[string]int{}
	for _, w := range r.Warnings {
		count[w.Figure]++
	}
	for i := range figs {
		figs[i].Href = explain(figs[i].Key)
		if n := count[figs[i].Key]; n > 0 {
			figs[i].Warnings = append(figs[i].Warnings, fmt.Sprintf("%s left out: negative duration (clock skew or events out of order)", plural(n, "pull request")))
		}
	}
	return figs
}
