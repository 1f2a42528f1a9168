package report

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/stride-oss/stride/internal/impact"
)

// WriteImpactTable writes the impact report as text: a line per
// deployment, the Apdex per service, and, for each deployment that keeps
// its minute figures (explain), those minutes.
func WriteImpactTable(w io.Writer, rep ImpactReport) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "deployments %s to %s: %d assessed, %d flagged\n", rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339), len(rep.Deployments), rep.Flagged)
	if len(rep.Deployments) > 0 {
		fmt.Fprintln(tw, "service\tdeployment\tfinished\tsource\terrors before\terrors after\tlatency before\tlatency after\tflagged\twhy")
		for _, d := range rep.Deployments {
			why := ""
			for i, s := range append(append([]string{}, d.Reasons...), d.Notes...) {
				if i > 0 {
					why += "; "
				}
				why += s
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Service, d.Deployment, d.FinishedAt.Format(time.RFC3339), d.Source,
				rateText(d.Before), rateText(d.After), latencyText(d.Before.LatencySeconds), latencyText(d.After.LatencySeconds), yes(d.Flagged), why)
		}
	}
	if len(rep.Apdex) > 0 {
		fmt.Fprintln(tw, "\nservice\tT\tsatisfied\ttolerating\ttotal\tapdex\trating")
		for _, a := range rep.Apdex {
			score := "-"
			if a.Score != nil {
				score = fmt.Sprintf("%.3f", *a.Score)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\n", a.Service, a.Threshold, a.Satisfied, a.Tolerating, a.Total, score, a.Rating)
		}
	}
	for _, d := range rep.Deployments {
		if len(d.Minutes) == 0 {
			continue
		}
		fmt.Fprintf(tw, "\nminutes of %s/%s\nminute\tside\tcalls\tfailed\terror rate\tlatency\n", d.Service, d.Deployment)
		for _, m := range d.Minutes {
			er := "-"
			if m.ErrorRate != nil {
				er = fmt.Sprintf("%.3f %%", *m.ErrorRate*100)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", m.Start.Format(time.RFC3339), m.Side, m.Calls, m.Failed, er, latencyText(m.LatencySeconds))
		}
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintf(tw, "warning: %s\n", warn)
	}
	return tw.Flush()
}

func rateText(s impact.Side) string {
	if s.ErrorRate == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f %% of %d", *s.ErrorRate*100, s.Calls)
}

func latencyText(s *float64) string {
	if s == nil {
		return "-"
	}
	return (time.Duration(*s*1000) * time.Millisecond).String()
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
