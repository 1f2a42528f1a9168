package incident

import (
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Figures are the names Explain takes: the JSON names of the report.
var Figures = []string{"by_severity", "by_source", "time_to_acknowledge", "time_to_restore", "breaches", "breach_rate", "open_followups", "followups_missing", "reviews_missing"}

// Explained is one incident behind a figure, with its value (seconds, for the
// duration figures) and why it was counted.
type Explained struct {
	Service  string    `json:"service"`
	ID       string    `json:"id"`
	Team     string    `json:"team,omitempty"`
	Severity int       `json:"severity"`
	OpenedAt time.Time `json:"opened_at"`
	SLADueAt time.Time `json:"sla_due_at"`
	Seconds  *float64  `json:"seconds,omitempty"`
	Reason   string    `json:"reason"`
}

// Explain lists the incidents behind one figure of Compute(in), in the
// report's order. An unknown figure is an EINVALID error naming the field.
func Explain(in Input, figure string) ([]Explained, error) {
	rs, _ := rows(in)
	out := []Explained{}
	add := func(r row, secs *float64, reason string) {
		out = append(out, Explained{Service: r.in.Service, ID: r.in.ID, Team: r.team, Severity: r.severity,
			OpenedAt: r.in.OpenedAt, SLADueAt: r.due, Seconds: secs, Reason: reason})
	}
	switch figure {
	case "by_severity", "by_source":
		for _, r := range rs {
			if r.opened {
				reason := "opened in the period with severity " + sevKey(r.severity)
				if figure == "by_source" {
					o := string(delivery.OriginOf(r.in))
					if o == "" {
						o = "unknown"
					}
					reason = "opened in the period, raised by " + o
				}
				add(r, nil, reason)
			}
		}
	case "time_to_acknowledge":
		for _, r := range rs {
			if r.ackOK {
				add(r, ptr(r.tta.Seconds()), "opened in the period; acknowledged − opened")
			}
		}
	case "time_to_restore":
		for _, r := range rs {
			if r.ttrOK {
				add(r, ptr(r.ttr.Seconds()), "resolved in the period; resolved − opened")
			}
		}
	case "breaches":
		for _, r := range rs {
			if r.opened && r.breached {
				add(r, nil, "not acknowledged by its SLA due time")
			}
		}
	case "breach_rate":
		for _, r := range rs {
			switch {
			case r.opened && r.breached:
				add(r, nil, "judged: breached")
			case r.opened && r.judged:
				add(r, nil, "judged: answered within its SLA")
			}
		}
	case "open_followups":
		open := map[incKey]int{}
		for _, f := range openFollowUps(in) {
			open[incKey{f.Service, f.Incident}]++
		}
		for _, r := range rs {
			if n := open[incKey{r.in.Service, r.in.ID}]; n > 0 {
				add(r, nil, sevKey(n)+" follow-up(s) still open")
			}
		}
	case "followups_missing", "reviews_missing":
		f, rv := rcaMissing(in, rs)
		list, reason := f, "resolved severity 0–1 incident without a follow-up"
		if figure == "reviews_missing" {
			list, reason = rv, "resolved severity 0–1 incident without a review past the review window"
		}
		want := map[incKey]bool{}
		for _, ref := range list {
			want[incKey{ref.Service, ref.ID}] = true
		}
		for _, r := range rs {
			if want[incKey{r.in.Service, r.in.ID}] {
				add(r, nil, reason)
			}
		}
	default:
		return nil, delivery.FieldError("figure", "unknown figure %q; want one of %v", figure, Figures)
	}
	return out, nil
}
