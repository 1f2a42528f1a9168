package cihealth

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

const none = "–"

// WriteTable writes the CI health report for a terminal.
func WriteTable(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "CI health %s to %s\n\n", r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	fmt.Fprintln(tw, "pipeline\tbuilds\tfailed\ttimed\tmedian\tp90")
	if len(r.Pipelines) == 0 {
		fmt.Fprintln(tw, "no build with a verdict finished in the period")
	}
	for _, p := range r.Pipelines {
		fmt.Fprintf(tw, "%s %s\t%d\t%d\t%d\t%s\t%s\n", p.Repository, p.Name, p.Builds, p.Failures, p.Timed, seconds(p.MedianSeconds), seconds(p.P90Seconds))
	}
	fmt.Fprintln(tw, "\ndefault branch\tbuilds\tred\tshare\tstretches\tlongest\tred now")
	for _, b := range r.Branches {
		now := "no"
		if b.RedAtEnd {
			now = "yes"
		}
		fmt.Fprintf(tw, "%s %s (%s)\t%d\t%s\t%s\t%d\t%s\t%s\n", b.Repository, b.Branch.Name, b.Branch.Source, b.Builds,
			seconds(&b.RedSeconds), pct(&b.RedShare), b.Stretches, seconds(&b.LongestSeconds), now)
	}
	fmt.Fprintf(tw, "\nre-run rate\t%s\t(%d re-runs of %d builds whose attempt is known, of %d)\n", pct(r.Reruns.Rate), r.Reruns.Reruns, r.Reruns.Known, r.Reruns.Builds)
	c := r.CommitToProduction
	fmt.Fprintf(tw, "commit to production\t%s within target\t(%d of %d changes; median %s)\n", pct(c.Share), c.WithinTarget, c.Changes, seconds(c.MedianSeconds))
	for _, s := range c.Services {
		fmt.Fprintf(tw, "  %s\t%s within %s\t(%d of %d; median %s)\n", s.Service, pct(s.Share), seconds(&s.TargetSeconds), s.WithinTarget, s.Changes, seconds(s.MedianSeconds))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write CI report: %w", err)
	}
	return writeWarnings(w, r.Warnings)
}

// WriteHoursTable writes the work-hours deploys report for a terminal: a
// weekday-by-hour grid of counts and the share outside working hours.
func WriteHoursTable(w io.Writer, r HoursReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Production deployments %s to %s by local weekday and hour\n\n     ", r.From.Format(time.RFC3339), r.To.Format(time.RFC3339))
	for h := range 24 {
		fmt.Fprintf(&b, "%3d", h)
	}
	b.WriteString("\n")
	for d, name := range []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"} {
		b.WriteString(name + "  ")
		for h := range 24 {
			if n := r.ByWeekdayHour[d][h]; n > 0 {
				fmt.Fprintf(&b, "%3d", n)
			} else {
				b.WriteString("  .")
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\noutside working hours: %s (%d of %d)\n", pct(r.Share), r.OutsideWorkingHours, r.Deployments)
	for _, t := range r.Teams {
		name := t.Team
		if name == "" {
			name = "(no team)"
		}
		fmt.Fprintf(&b, "  %s: %s, %s %s: %d of %d outside\n", name, t.TimeZone, strings.Join(t.Days, " "), t.Hours, t.Outside, t.Deployments)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write deploy hours: %w", err)
	}
	return writeWarnings(w, r.Warnings)
}

// WriteExplanation writes the records behind one figure.
func WriteExplanation(w io.Writer, e Explanation) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s %s to %s\n", strings.ReplaceAll(e.Figure, "_", " "), e.From.Format(time.RFC3339), e.To.Format(time.RFC3339))
	switch {
	case len(e.Builds) > 0:
		fmt.Fprintln(tw, "repository\tbuild\tname\tbranch\tstatus\tattempt\tfinished\tduration\trule")
		for _, b := range e.Builds {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.Repository, b.ID, b.Name, b.Branch, b.Status, attempt(b.Attempt),
				b.FinishedAt.Format(time.RFC3339), seconds(b.Seconds), b.Rule)
		}
	case len(e.Changes) > 0:
		fmt.Fprintln(tw, "deployment\tcommit\tcommitted\tdeployed\ttook\ttarget\twithin")
		for _, c := range e.Changes {
			fmt.Fprintf(tw, "%s\t%s@%s\t%s\t%s\t%s\t%s\t%v\n", c.Deployment, c.Repository, short(c.SHA), c.CommitTime.Format(time.RFC3339),
				c.DeployedAt.Format(time.RFC3339), seconds(&c.Seconds), seconds(&c.TargetSeconds), c.Within)
		}
	case len(e.Deployments) > 0:
		fmt.Fprintln(tw, "deployment\tstatus\tfinished\tlocal\tzone\toutside hours")
		for _, d := range e.Deployments {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\n", d.Deployment, d.Status, d.FinishedAt.Format(time.RFC3339), d.Local, d.TimeZone, d.Outside)
		}
	default:
		fmt.Fprintln(tw, "nothing behind this figure in the period")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write %s explanation: %w", e.Figure, err)
	}
	ws := make([]Warning, len(e.Warnings))
	for i, m := range e.Warnings {
		ws[i] = Warning{Message: m}
	}
	return writeWarnings(w, ws)
}

func writeWarnings(w io.Writer, ws []Warning) error {
	for _, x := range ws {
		if _, err := fmt.Fprintf(w, "warning: %s\n", x.Message); err != nil {
			return fmt.Errorf("write warnings: %w", err)
		}
	}
	return nil
}

func attempt(n int) string {
	if n == 0 {
		return "?"
	}
	return fmt.Sprint(n)
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func seconds(v *float64) string {
	if v == nil {
		return none
	}
	return time.Duration(*v * float64(time.Second)).Round(time.Second).String()
}

func pct(v *float64) string {
	if v == nil {
		return none
	}
	return fmt.Sprintf("%.1f%%", *v*100)
}
