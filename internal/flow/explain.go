package flow

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Explanation lists the pull requests behind one figure of a Report, so a
// user who doubts a number can see what it was computed from.
type Explanation struct {
	Figure string `json:"figure"`
	// Unit is "seconds" for durations and "count" for the other figures.
	Unit string `json:"unit"`
	// Items are ordered by value, largest first, since the question asked
	// of a figure is usually "what made it so high"; the ones left out of
	// the figure (negative durations) come last.
	Items []ExplainedPR `json:"items"`
	// Warnings are sentences about the data the explanation was read from
	// (omitted when there are none).
	Warnings []string `json:"warnings,omitempty"`
}

// ExplainedPR is one pull request's contribution to a figure.
type ExplainedPR struct {
	Repository string  `json:"repository"`
	Number     int     `json:"number"`
	Title      string  `json:"title"`
	Author     string  `json:"author"`
	Value      float64 `json:"value"`
	// Start and End bound a duration; they are omitted for counts.
	Start *time.Time `json:"start,omitempty"`
	End   *time.Time `json:"end,omitempty"`
	// Deployment is the deployment that shipped the pull request, for
	// deploy time and cycle time.
	Deployment string `json:"deployment,omitempty"`
	// Excluded is true when the value was left out of the figure; Reason
	// says why.
	Excluded bool   `json:"excluded"`
	Reason   string `json:"reason,omitempty"`
}

// Explain lists the pull requests behind the named figure of Compute(in).
// The names are those of the Report's JSON fields (see Figures); any other
// name is an EINVALID *delivery.Error.
func Explain(in Input, name string) (Explanation, error) {
	f, ok := figureByName[name]
	if !ok {
		return Explanation{}, &delivery.Error{
			Code:    delivery.EINVALID,
			Field:   "figure",
			Message: "unknown figure " + quote(name),
			Index:   -1,
		}
	}
	e := Explanation{Figure: name, Unit: "count", Items: []ExplainedPR{}}
	if f.isDuration() {
		e.Unit = "seconds"
	}
	collect(in, func(g figure, s sample) {
		if g != f {
			return
		}
		pr := &in.PullRequests[s.pr]
		item := ExplainedPR{
			Repository: pr.Repository,
			Number:     pr.Number,
			Title:      pr.Title,
			Author:     pr.Author,
			Value:      float64(s.value),
		}
		if f.isDuration() {
			start, end := s.start, s.end
			item.Start, item.End = &start, &end
			item.Value = time.Duration(s.value).Seconds()
			if s.value < 0 {
				item.Excluded, item.Reason = true, "negative duration: "+warningMessages[f]
			}
		}
		if !s.deployed.FinishedAt.IsZero() {
			item.Deployment = s.deployed.Deployment.String()
		}
		e.Items = append(e.Items, item)
	})
	slices.SortFunc(e.Items, func(a, b ExplainedPR) int {
		if a.Excluded != b.Excluded {
			if a.Excluded {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(b.Value, a.Value), cmp.Compare(a.Repository, b.Repository), cmp.Compare(a.Number, b.Number))
	})
	return e, nil
}

// quote keeps a caller's figure name readable in the error without letting
// control characters or an unbounded string into logs.
func quote(s string) string {
	const limit = 64
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return strconv.Quote(s)
}
