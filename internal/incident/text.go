package incident

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes the report as aligned text tables for the command line.
func WriteText(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }
	p("Incidents %s – %s (as of %s)\n\n", r.From.Format(time.DateOnly), r.To.Format(time.DateOnly), r.Now.Format(time.RFC3339))
	p("severity\topened\tack median\tack p90\trestore median\trestore p90\tbreached/judged\n")
	for s := range 4 {
		k := sevKey(s)
		a, t, b := r.TimeToAcknowledge.BySeverity[k], r.TimeToRestore.BySeverity[k], r.BreachRate.BySeverity[k]
		p("%s\t%d\t%s\t%s\t%s\t%s\t%s\n", k, r.BySeverity[k], dur(a.Median), dur(a.P90), dur(t.Median), dur(t.P90), rate(b))
	}
	a, t := r.TimeToAcknowledge, r.TimeToRestore
	p("all\t%d\t%s\t%s\t%s\t%s\t%s\n\n", r.BySource.Customer+r.BySource.Monitoring+r.BySource.Unknown,
		dur(a.Median), dur(a.P90), dur(t.Median), dur(t.P90), rate(r.BreachRate.Ratio))
	p("raised by\tcustomer %d\tmonitoring %d\tunknown %d\n\n", r.BySource.Customer, r.BySource.Monitoring, r.BySource.Unknown)
	if len(r.BreachRate.ByTeam) > 0 {
		p("team\tbreached/judged\n")
		for _, team := range sortedKeys(r.BreachRate.ByTeam) {
			name := team
			if name == "" {
				name = "(none)"
			}
			p("%s\t%s\n", name, rate(r.BreachRate.ByTeam[team]))
		}
		p("\n")
	}
	if len(r.OpenFollowUps) > 0 {
		p("open follow-up\tincident\tissue\tage\toverdue\n")
		for _, f := range r.OpenFollowUps {
			p("%s\t%s/%s\t%s\t%s\t%v\n", f.Title, f.Service, f.Incident, f.IssueKey, (time.Duration(f.AgeSeconds) * time.Second).String(), f.Overdue)
		}
		p("\n")
	}
	for _, l := range []struct {
		name string
		refs []IncidentRef
	}{{"follow-ups missing", r.FollowUpsMissing}, {"reviews missing", r.ReviewsMissing}} {
		if len(l.refs) > 0 {
			ids := make([]string, len(l.refs))
			for i, ref := range l.refs {
				ids[i] = ref.Service + "/" + ref.ID
			}
			p("%s\t%s\n", l.name, strings.Join(ids, ", "))
		}
	}
	for _, warn := range r.Warnings {
		p("warning\t%s\n", warn)
	}
	return tw.Flush()
}

func dur(secs *float64) string {
	if secs == nil {
		return "–"
	}
	return (time.Duration(*secs * float64(time.Second))).Round(time.Second).String()
}

func rate(r Ratio) string {
	if r.Ratio == nil {
		return fmt.Sprintf("%d/%d", r.Breached, r.Judged)
	}
	return fmt.Sprintf("%d/%d (%.0f%%)", r.Breached, r.Judged, *r.Ratio*100)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
