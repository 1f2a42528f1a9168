package flow

import (
	"cmp"
	"slices"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// PlanningFigures are the figures of a PlanningReport that ExplainPlanning
// lists, named as its JSON fields.
var PlanningFigures = []string{"story_point_coverage", "acceptance_criteria_coverage", "velocity"}

// PlanningExplanation lists the work items behind one planning figure.
type PlanningExplanation struct {
	Figure string `json:"figure"`
	// Items are the records the figure's denominator counts (for
	// velocity: the done items of the sprints averaged), ordered by
	// resolution time, then key; Counted says whether each adds to the numerator.
	Items    []ExplainedWorkItem `json:"items"`
	Warnings []string            `json:"warnings,omitempty"`
}

// ExplainedWorkItem is one work item's part in a planning figure.
type ExplainedWorkItem struct {
	Tracker     string     `json:"tracker"`
	Key         string     `json:"key"`
	Title       string     `json:"title"`
	Type        string     `json:"type"`
	Sprint      string     `json:"sprint,omitempty"`
	ResolvedAt  *time.Time `json:"resolved_at,omitempty"`
	StoryPoints *float64   `json:"story_points"`
	// Counted is true when the item adds to the figure: it is estimated,
	// it has acceptance criteria, or (velocity) its points count.
	Counted bool   `json:"counted"`
	Reason  string `json:"reason,omitempty"`
}

// ExplainPlanning lists the work items behind the named figure of Plan(in),
// by the same rules Plan counts them with; any other name is an EINVALID
// *delivery.Error.
func ExplainPlanning(in PlanningInput, figure string) (PlanningExplanation, error) {
	if !slices.Contains(PlanningFigures, figure) {
		return PlanningExplanation{}, delivery.FieldError("figure", "unknown planning figure %s; one of %v", quote(figure), PlanningFigures)
	}
	e := PlanningExplanation{Figure: figure, Items: []ExplainedWorkItem{}}
	averaged := map[string]bool{}
	if figure == "velocity" {
		v := Plan(in).Velocity
		for _, s := range v.Sprints[len(v.Sprints)-v.OverSprints:] {
			averaged[s.Name] = true
		}
		if len(averaged) == 0 {
			e.Warnings = append(e.Warnings, "no sprint of the team ended before the end of the period, so there is no velocity to explain: check that the tracker sends sprint end dates")
		}
	}
	for i := range in.Items {
		it := &in.Items[i]
		x := ExplainedWorkItem{Tracker: it.Tracker, Key: it.Key, Title: it.Title, Type: it.Type, Sprint: it.Sprint, StoryPoints: it.StoryPoints}
		if !it.ResolvedAt.IsZero() {
			at := it.ResolvedAt
			x.ResolvedAt = &at
		}
		switch figure {
		case "story_point_coverage":
			if !resolvedIn(it, in.Period) {
				continue
			}
			x.Counted = it.StoryPoints != nil
			if !x.Counted {
				x.Reason = "no story point estimate"
			}
		case "acceptance_criteria_coverage":
			if !resolvedIn(it, in.Period) {
				continue
			}
			x.Counted = it.AcceptanceCriteria
			if !x.Counted {
				x.Reason = "no acceptance criteria"
			}
		case "velocity":
			if it.Deleted || it.Category != delivery.CategoryDone || !averaged[it.Sprint] {
				continue
			}
			x.Counted = it.StoryPoints != nil
			if !x.Counted {
				x.Reason = "no story point estimate: adds 0 points"
			}
		}
		e.Items = append(e.Items, x)
	}
	slices.SortFunc(e.Items, func(a, b ExplainedWorkItem) int {
		return cmp.Or(resolved(a).Compare(resolved(b)), cmp.Compare(a.Tracker, b.Tracker), cmp.Compare(a.Key, b.Key))
	})
	return e, nil
}

func resolved(x ExplainedWorkItem) time.Time {
	if x.ResolvedAt == nil {
		return time.Time{}
	}
	return *x.ResolvedAt
}
