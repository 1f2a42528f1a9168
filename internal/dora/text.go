package dora

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// none is how text output shows a figure without data, so that it cannot be
// mistaken for a zero.
const none = "—"

// WriteTable writes r as an aligned table of key, value, count and tier, for
// the CLI and for logs. Figures without data show as "—".
func WriteTable(w io.Writer, r Report) error {
	sw := &stickyWriter{w: w}
	tw := tabwriter.NewWriter(sw, 0, 0, 2, ' ', 0)
	scope := strings.TrimSpace(strings.Join([]string{label("service", r.Service), label("team", r.Team)}, " "))
	fmt.Fprintf(tw, "DORA report %s → %s %s\n", r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339), scope)
	fmt.Fprintln(tw, "key\tvalue\tcount\ttier")

	df := r.DeploymentFrequency
	fmt.Fprintf(tw, "deployment frequency\t%s a week, %s, median deployment days per week %s over %s\t%s\t%s\n",
		num(df.PerWeek, 2), plural(df.DeploymentDays, "deployment day"), num(df.MedianDeploymentDaysPerWeek, 1),
		plural(df.Weeks, "week"), plural(df.Count, "deployment"), tierText(df.Tier))
	lt := r.LeadTime
	fmt.Fprintf(tw, "lead time\tmedian %s, p90 %s\t%s in %s\t%s\n",
		dur(lt.MedianSeconds), dur(lt.P90Seconds), plural(lt.Count, "change"), plural(lt.Deployments, "deployment"), tierText(lt.Tier))
	cfr := r.ChangeFailureRate
	fmt.Fprintf(tw, "change failure rate\t%s\t%d of %s\t%s\n",
		percent(cfr.Ratio), cfr.Failed, plural(cfr.Deployments, "deployment"), tierText(cfr.Tier))
	ttr := r.TimeToRestore
	fmt.Fprintf(tw, "time to restore\tmedian %s, p90 %s\t%s\t%s\n",
		dur(ttr.MedianSeconds), dur(ttr.P90Seconds), plural(ttr.Count, "incident"), tierText(ttr.Tier))
	rt := r.RecoveryTime
	fmt.Fprintf(tw, "recovery time\tmedian %s, p90 %s\t%s\t%s\n",
		dur(rt.MedianSeconds), dur(rt.P90Seconds), plural(rt.Count, "failure"), none)
	rw := r.ReworkRate
	fmt.Fprintf(tw, "rework rate\t%s\t%d of %s\t%s\n",
		percent(rw.Ratio), rw.Unplanned, plural(rw.Deployments, "deployment"), none)
	overall := tierText(r.Tier)
	if r.TierPartial {
		overall += " (partial: no tier for " + strings.ReplaceAll(strings.Join(r.TierMissing, ", "), "_", " ") + ")"
	}
	fmt.Fprintf(tw, "overall\t\t\t%s\n", overall)
	tw.Flush()
	// Warnings are sentences, not figures: printed below the table so they
	// do not stretch its columns.
	for _, warn := range r.Warnings {
		fmt.Fprintf(sw, "warning: %s (%d): %s\n", warn.Code, warn.Count, warn.Message)
	}
	if err := cmp.Or(tw.Flush(), sw.err); err != nil {
		return fmt.Errorf("write report table: %w", err)
	}
	return nil
}

// WriteExplanation writes e as text: the figure, then one line per record
// with whether it was counted and why, and a changes' or weeks' detail
// indented beneath.
func WriteExplanation(w io.Writer, e Explanation) error {
	sw := &stickyWriter{w: w}
	tw := tabwriter.NewWriter(sw, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s %s → %s\n", e.Figure, e.From.UTC().Format(time.RFC3339), e.To.UTC().Format(time.RFC3339))
	if len(e.Weeks) == 0 && len(e.Deployments) == 0 && len(e.UnmatchedChanges) == 0 && len(e.Incidents) == 0 {
		fmt.Fprintf(tw, "nothing counted, because %s\n", nothingBecause(e.Figure))
	}
	if len(e.Weeks) > 0 {
		fmt.Fprintf(tw, "deployment days per month: %s\n", num(e.DeploymentDaysPerMonth, 2))
		fmt.Fprintln(tw, "week of\tdeployment days")
		for _, wk := range e.Weeks {
			fmt.Fprintf(tw, "%s\t%d\n", wk.Start.Format(time.DateOnly), wk.DeploymentDays)
		}
	}
	if len(e.Deployments) > 0 {
		fmt.Fprintln(tw, "deployment\tstatus\tfinished\tcounted\tdetail\treason")
		for _, d := range e.Deployments {
			detail := none
			switch {
			case d.RecoverySeconds != nil:
				detail = dur(d.RecoverySeconds) + " by " + d.RecoveredBy
			case len(d.Incidents) > 0:
				detail = "incidents " + strings.Join(d.Incidents, ", ")
			}
			fmt.Fprintf(tw, "%s/%s/%s\t%s\t%s\t%s\t%s\t%s\n", d.Service, d.Environment, d.ID, d.Status,
				timeText(d.FinishedAt), yesNo(d.Counted), detail, d.Reason)
			for _, c := range d.Changes {
				fmt.Fprintf(tw, "  %s@%s\tchange\t%s\t%s\t%s\t%s\n", c.Repository, c.SHA,
					c.CommitTime.UTC().Format(time.RFC3339), yesNo(c.Counted), dur(c.LeadTimeSeconds), c.Reason)
			}
		}
	}
	if len(e.UnmatchedChanges) > 0 {
		fmt.Fprintln(tw, "change\tdeployment\tcommitted\tcounted\treason")
		for _, c := range e.UnmatchedChanges {
			fmt.Fprintf(tw, "%s@%s\t%s\t%s\t%s\t%s\n", c.Repository, c.SHA, c.Deployment,
				c.CommitTime.UTC().Format(time.RFC3339), yesNo(c.Counted), c.Reason)
		}
	}
	if len(e.Incidents) > 0 {
		fmt.Fprintln(tw, "incident\topened\tresolved\tdeployment\tlink\tcounted\trestore\treason\tlinked by")
		for _, i := range e.Incidents {
			dep := i.Deployment
			if dep == "" {
				dep = none
			}
			fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", i.Service, i.ID,
				i.OpenedAt.UTC().Format(time.RFC3339), timeText(i.ResolvedAt), dep, i.Link,
				yesNo(i.Counted), dur(i.RestoreSeconds), i.Reason, i.Rule)
			for _, c := range i.CandidateCauses {
				fmt.Fprintf(tw, "\t\t\t%s\tcandidate\t\t\t%s\t\n", c.Deployment, c.Evidence)
			}
		}
	}
	tw.Flush()
	for _, warn := range e.Warnings {
		fmt.Fprintf(sw, "warning: %s\n", warn)
	}
	if err := cmp.Or(tw.Flush(), sw.err); err != nil {
		return fmt.Errorf("write %s explanation: %w", e.Figure, err)
	}
	return nil
}

// nothingBecause says why an explanation has no record behind its figure.
func nothingBecause(figure string) string {
	switch figure {
	case "time_to_restore":
		return "no incident of the scope was open in the period (no incident source may be connected: see the report's warnings)"
	case "deployment_frequency":
		return "the period is empty"
	}
	return "no production deployment of the scope finished in the period (no deployment source may be connected: see the report's warnings)"
}

func label(name, v string) string {
	if v == "" {
		return ""
	}
	return name + "=" + v
}

func tierText(t *Tier) string {
	if t == nil {
		return none
	}
	return string(*t)
}

func num(v *float64, prec int) string {
	if v == nil {
		return none
	}
	return strconv.FormatFloat(*v, 'f', prec, 64)
}

func percent(v *float64) string {
	if v == nil {
		return none
	}
	return strconv.FormatFloat(*v*100, 'f', 1, 64) + " %"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func timeText(t *time.Time) string {
	if t == nil {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

// dur shows seconds in the two largest units (2d 3h, 4h 20m, 12m 5s), which
// is as precise as a reader of a median needs.
func dur(sec *float64) string {
	if sec == nil {
		return none
	}
	s := *sec
	sign := ""
	if s < 0 {
		sign, s = "-", -s
	}
	total := int64(s + 0.5)
	d, h, m, ss := total/86400, total%86400/3600, total%3600/60, total%60
	switch {
	case d > 0:
		return fmt.Sprintf("%s%dd %dh", sign, d, h)
	case h > 0:
		return fmt.Sprintf("%s%dh %dm", sign, h, m)
	case m > 0:
		return fmt.Sprintf("%s%dm %ds", sign, m, ss)
	}
	return fmt.Sprintf("%s%ds", sign, ss)
}

// stickyWriter keeps the first write error, so that the many Fprintf calls
// above need no checks of their own and a failed write is still reported.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	s.err = err
	return n, err
}
