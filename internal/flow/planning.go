package flow

import (
	"cmp"
	"slices"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// DefaultSprints is how many completed sprints the average velocity spans
// when PlanningInput.Sprints is not set: enough to smooth one odd sprint,
// few enough to follow a change in the team.
const DefaultSprints = 3

// PlanningInput is everything one planning report reads, for one team and
// one period.
type PlanningInput struct {
	Period delivery.Period
	// Items are the team's work items: at least those resolved in the
	// period and those of the sprints velocity should span, which may have
	// ended before the period began.
	Items []delivery.WorkItem
	// Sprints is N, the number of completed sprints the average velocity
	// spans; zero or less means DefaultSprints.
	Sprints int
}

// PlanningReport holds the planning figures of one team and period.
type PlanningReport struct {
	From                       time.Time          `json:"from"`
	To                         time.Time          `json:"to"`
	StoryPointCoverage         StoryPointCoverage `json:"story_point_coverage"`
	AcceptanceCriteriaCoverage CriteriaCoverage   `json:"acceptance_criteria_coverage"`
	Velocity                   Velocity           `json:"velocity"`
	// Warnings are sentences about the data the report was read from;
	// never null, so clients can range over it.
	Warnings []string `json:"warnings"`
}

// StoryPointCoverage is the share of the work items resolved in the period
// that carried an estimate. Ratio is nil when nothing was resolved.
type StoryPointCoverage struct {
	Ratio     *float64 `json:"ratio"`
	Estimated int      `json:"estimated"`
	Resolved  int      `json:"resolved"`
}

// CriteriaCoverage is the share of the work items resolved in the period
// that had acceptance criteria. Ratio is nil when nothing was resolved.
type CriteriaCoverage struct {
	Ratio        *float64 `json:"ratio"`
	WithCriteria int      `json:"with_criteria"`
	Resolved     int      `json:"resolved"`
}

// Velocity is story points completed per sprint and their average over the
// last completed sprints.
type Velocity struct {
	// Sprints are the completed sprints (those that ended before the end of
	// the period), oldest first.
	Sprints []SprintVelocity `json:"sprints"`
	// AveragePoints is the mean points of the last OverSprints sprints;
	// nil when no sprint has completed.
	AveragePoints *float64 `json:"average_points"`
	OverSprints   int      `json:"over_sprints"`
}

// SprintVelocity is what one sprint completed. Items counts the completed
// items, Unestimated those of them without story points, which add nothing
// to Points: a low velocity may be missing estimates rather than work.
type SprintVelocity struct {
	Name        string    `json:"name"`
	End         time.Time `json:"end"`
	Points      float64   `json:"points"`
	Items       int       `json:"items"`
	Unestimated int       `json:"unestimated"`
}

// Plan returns the planning report of in.
//
// An item is resolved in the period when it is not deleted, its status
// category is done and its ResolvedAt lies in the period; both coverages
// divide by the number of such items. An estimate of 0 story points is an
// estimate; a nil one is not.
//
// Velocity groups the items that are not deleted by Sprint and adds up the
// story points of the done ones, so a sprint that completed nothing shows 0
// rather than vanishing from the average. A sprint is
// completed when its end is known and before the end of the period; items
// without a sprint, and sprints still running or without an end, are left
// out. The period's start does not bound velocity, since the average over
// the last N sprints reaches back past it. When items of one sprint disagree
// on its end (a sprint moved while items were synced), the latest end wins.
func Plan(in PlanningInput) PlanningReport {
	n := in.Sprints
	if n <= 0 {
		n = DefaultSprints
	}
	r := PlanningReport{
		From:     in.Period.From,
		To:       in.Period.To,
		Velocity: Velocity{Sprints: []SprintVelocity{}},
		Warnings: []string{},
	}
	sprints := map[string]*SprintVelocity{}
	for i := range in.Items {
		it := &in.Items[i]
		if it.Deleted {
			continue
		}
		done := it.Category == delivery.CategoryDone
		if resolvedIn(it, in.Period) {
			r.StoryPointCoverage.Resolved++
			r.AcceptanceCriteriaCoverage.Resolved++
			if it.StoryPoints != nil {
				r.StoryPointCoverage.Estimated++
			}
			if it.AcceptanceCriteria {
				r.AcceptanceCriteriaCoverage.WithCriteria++
			}
		}
		if it.Sprint == "" {
			continue
		}
		s := sprints[it.Sprint]
		if s == nil {
			s = &SprintVelocity{Name: it.Sprint}
			sprints[it.Sprint] = s
		}
		if it.SprintEnd.After(s.End) {
			s.End = it.SprintEnd
		}
		if !done {
			continue
		}
		s.Items++
		if it.StoryPoints == nil {
			s.Unestimated++
		} else {
			s.Points += *it.StoryPoints
		}
	}
	r.StoryPointCoverage.Ratio = ratio(r.StoryPointCoverage.Estimated, r.StoryPointCoverage.Resolved)
	r.AcceptanceCriteriaCoverage.Ratio = ratio(r.AcceptanceCriteriaCoverage.WithCriteria, r.AcceptanceCriteriaCoverage.Resolved)

	for _, s := range sprints {
		if !s.End.IsZero() && s.End.Before(in.Period.To) {
			r.Velocity.Sprints = append(r.Velocity.Sprints, *s)
		}
	}
	slices.SortFunc(r.Velocity.Sprints, func(a, b SprintVelocity) int {
		return cmp.Or(a.End.Compare(b.End), cmp.Compare(a.Name, b.Name))
	})
	last := r.Velocity.Sprints[max(0, len(r.Velocity.Sprints)-n):]
	if len(last) > 0 {
		sum := 0.0
		for _, s := range last {
			sum += s.Points
		}
		avg := sum / float64(len(last))
		r.Velocity.AveragePoints = &avg
		r.Velocity.OverSprints = len(last)
	}
	return r
}

// resolvedIn reports whether the coverages count it: done, and resolved
// inside period.
func resolvedIn(it *delivery.WorkItem, period delivery.Period) bool {
	return !it.Deleted && it.Category == delivery.CategoryDone && !it.ResolvedAt.IsZero() && period.Contains(it.ResolvedAt)
}

// ratio returns num ÷ den, or nil when den is 0: empty is not zero.
func ratio(num, den int) *float64 {
	if den == 0 {
		return nil
	}
	r := float64(num) / float64(den)
	return &r
}
