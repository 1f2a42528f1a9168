package sprint

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Figures are the names --explain takes: each lists the items behind one
// figure of the report ("all" lists every one).
var Figures = []string{"completed", "sprints", "throughput", "wip", "blocked", "all"}

// WriteTable writes the report as text; explain names the figure whose
// items are listed ("" for none).
func WriteTable(w io.Writer, r Report, explain string) error {
	show := func(fig string) bool { return explain == fig || explain == "all" }
	keys := func(k []string) string {
		if len(k) == 0 {
			return ""
		}
		return "  [" + strings.Join(k, " ") + "]"
	}
	team := r.Team
	if team == "" {
		team = "every team"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "sprint health of %s [%s, %s)\n\n", team, day(r.From), day(r.To))
	fmt.Fprintln(tw, "completed\titems\tpoints\tunestimated")
	for _, c := range r.Completed {
		k := ""
		if show("completed") {
			k = keys(c.Keys)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d%s\n", c.Type, c.Items, num(c.Points), c.Unestimated, k)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "sprint\tstart\tend\tcommitted\tadded\tdone\tcarried over")
	for _, s := range r.Sprints {
		carried := "running"
		if s.CarriedOver != nil {
			carried = fmt.Sprintf("%d (%s pts)", s.CarriedOver.Items, num(s.CarriedOver.Points))
			if s.CarryOverRatio != nil {
				carried += fmt.Sprintf(", %.0f%%", *s.CarryOverRatio*100)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d (%s pts)\t%d (%s pts)\t%d (%s pts)\t%s\n", s.Name, day(s.Start), day(s.End),
			s.Committed.Items, num(s.Committed.Points), s.Added.Items, num(s.Added.Points), s.Completed.Items, num(s.Completed.Points), carried)
		if show("sprints") {
			fmt.Fprintf(tw, "  committed%s\n  added%s\n  done%s\n", keys(s.Committed.Keys), keys(s.Added.Keys), keys(s.Completed.Keys))
			if s.CarriedOver != nil {
				fmt.Fprintf(tw, "  carried over%s\n", keys(s.CarriedOver.Keys))
			}
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "week\tdone\tin progress at its end\tby person")
	for i, wk := range r.Throughput {
		wip, people := "", ""
		if i < len(r.WIP) {
			p := r.WIP[i]
			wip = strconv.Itoa(p.Team)
			names := make([]string, 0, len(p.ByPerson))
			for n := range p.ByPerson {
				names = append(names, n)
			}
			slices.Sort(names)
			for _, n := range names {
				label := n
				if label == "" {
					label = "(unassigned)"
				}
				people += fmt.Sprintf("%s %d  ", label, p.ByPerson[n])
			}
			if show("wip") {
				people += keys(p.Keys)
			}
		}
		k := ""
		if show("throughput") {
			k = keys(wk.Keys)
		}
		fmt.Fprintf(tw, "%s\t%d%s\t%s\t%s\n", day(wk.Start), wk.Done, k, wip, strings.TrimSpace(people))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b := r.Blocked
	share := "none in progress"
	if b.Ratio != nil {
		share = fmt.Sprintf("%.1f%% (%s h of %s h in progress, %d items)", *b.Ratio*100, num(b.BlockedSeconds/3600), num(b.InProgressSeconds/3600), b.Items)
	}
	k := ""
	if show("blocked") {
		k = keys(b.Keys)
	}
	if _, err := fmt.Fprintf(w, "\nblocked: %s%s\n", share, k); err != nil {
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
		return "-"
	}
	return t.UTC().Format("2006-01-02")
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
