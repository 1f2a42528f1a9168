package flow

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"
	"time"
)

// none stands for a figure without data, so an empty figure never reads
// as 0 in a terminal.
const none = "—"

// WriteTable writes r as an aligned table for a terminal: one row per
// figure with its median, p90 and count, then the warnings.
func WriteTable(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "flow [%s, %s)\n", day(r.From), day(r.To))
	fmt.Fprintln(tw, "figure\tmedian\tp90\tcount")
	durations := []struct {
		label string
		s     *DurationStat
	}{
		{"coding time", r.CodingTime},
		{"pickup time", r.PickupTime},
		{"review time", r.ReviewTime},
		{"deploy time", r.DeployTime},
		{"cycle time", r.CycleTime},
		{"cycle time to merge", r.CycleTimeToMerge},
	}
	for _, d := range durations {
		if d.s == nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t0\n", d.label, none, none)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", d.label, humanDuration(d.s.MedianSeconds), humanDuration(d.s.P90Seconds), d.s.Count)
	}
	counts := []struct {
		label string
		s     *CountStat
	}{
		{"PR size (lines)", r.PRSize},
		{"changed files", r.ChangedFiles},
		{"comments", r.Comments},
	}
	for _, c := range counts {
		if c.s == nil {
			fmt.Fprintf(tw, "%s\t%s\t%s\t0\n", c.label, none, none)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", c.label, number(c.s.Median), number(c.s.P90), c.s.Count)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	pc := r.PRsPerContributor
	if _, err := fmt.Fprintf(w, "\nPRs per contributor: %s\n", ratioText(pc.Ratio, fmt.Sprintf("%d merged ÷ %d authors", pc.Merged, pc.Contributors), false)); err != nil {
		return err
	}
	var negative []Warning
	for _, x := range r.Warnings {
		if x.Figure == "" {
			if _, err := fmt.Fprintf(w, "warning: %s\n", x.Message); err != nil {
				return err
			}
			continue
		}
		negative = append(negative, x)
	}
	if len(negative) == 0 {
		return nil
	}
	if _, err := fmt.Fprintf(w, "\n%d warning(s): negative durations left out\n", len(negative)); err != nil {
		return err
	}
	for _, x := range negative {
		if _, err := fmt.Fprintf(w, "  %s#%d %s: %s (%s)\n", x.Repository, x.Number, x.Figure, x.Message, humanDuration(x.Seconds)); err != nil {
			return err
		}
	}
	return nil
}

// WritePlanningTable writes r as aligned text: the two coverages, then one
// row per completed sprint and the average velocity.
func WritePlanningTable(w io.Writer, r PlanningReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "planning [%s, %s)\n", day(r.From), day(r.To))
	sp, ac := r.StoryPointCoverage, r.AcceptanceCriteriaCoverage
	fmt.Fprintf(tw, "story-point coverage\t%s\n", ratioText(sp.Ratio, fmt.Sprintf("%d of %d resolved", sp.Estimated, sp.Resolved), true))
	fmt.Fprintf(tw, "acceptance-criteria coverage\t%s\n", ratioText(ac.Ratio, fmt.Sprintf("%d of %d resolved", ac.WithCriteria, ac.Resolved), true))
	if err := tw.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "sprint\tend\tpoints\titems\tunestimated")
	for _, s := range r.Velocity.Sprints {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\n", s.Name, day(s.End), number(s.Points), s.Items, s.Unestimated)
	}
	avg := none
	if r.Velocity.AveragePoints != nil {
		avg = number(*r.Velocity.AveragePoints)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "\naverage velocity: %s points over the last %d sprint(s)\n", avg, r.Velocity.OverSprints); err != nil {
		return err
	}
	for _, warn := range r.Warnings {
		if _, err := fmt.Fprintf(w, "warning: %s\n", warn); err != nil {
			return err
		}
	}
	return nil
}

func day(t time.Time) string {
	if t.IsZero() {
		return none
	}
	return t.UTC().Format("2006-01-02")
}

// number prints whole numbers without a fraction and others with at most
// two decimals.
func number(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// ratioText prints a ratio with its numerator and denominator, or "—"
// when there is no denominator.
func ratioText(r *float64, detail string, percent bool) string {
	switch {
	case r == nil:
		return none + " (" + detail + ")"
	case percent:
		return number(*r*100) + " % (" + detail + ")"
	}
	return number(*r) + " (" + detail + ")"
}

// humanDuration prints whole seconds in at most two units, the largest
// first ("3d 4h", "4h 12m", "12m 5s", "45s"); a table is read at a glance,
// and the exact seconds are in the JSON.
func humanDuration(seconds float64) string {
	sign := ""
	if seconds < 0 {
		sign, seconds = "-", -seconds
	}
	s := int64(math.Round(seconds))
	units := []struct {
		size int64
		name string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}
	for i, u := range units {
		if s < u.size && u.size > 1 {
			continue
		}
		out := sign + strconv.FormatInt(s/u.size, 10) + u.name
		if i+1 < len(units) {
			if rest := (s % u.size) / units[i+1].size; rest > 0 {
				out += " " + strconv.FormatInt(rest, 10) + units[i+1].name
			}
		}
		return out
	}
	return "0s"
}
