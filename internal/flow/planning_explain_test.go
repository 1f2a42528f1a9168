package flow

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

func TestExplainPlanningListsTheItemsEachFigureCounts(t *testing.T) {
	inSprint := func(w delivery.WorkItem, sprint string, end int) delivery.WorkItem {
		return witem(w, func(w *delivery.WorkItem) { w.Sprint, w.SprintEnd = sprint, at(end, 17) })
	}
	// The period is March. A: 3 points, criteria, Sprint 9 (ends March
	// 15). B: no estimate, Sprint 9. C: 2 points, resolved late in
	// February, Sprint 8 (ends March 8). D: deleted. E: in progress in
	// Sprint 9. F: 1 point, resolved in March, in Sprint 10, which ends
	// April 5 (still running at the end of the period).
	items := []delivery.WorkItem{
		inSprint(witem(item("A", ptr(3.0)), func(w *delivery.WorkItem) { w.AcceptanceCriteria = true }), "Sprint 9", 15),
		inSprint(item("B", nil), "Sprint 9", 15),
		inSprint(witem(item("C", ptr(2.0)), func(w *delivery.WorkItem) { w.ResolvedAt = at(-3, 12) }), "Sprint 8", 8),
		witem(item("D", ptr(8.0)), func(w *delivery.WorkItem) { w.Deleted = true }),
		inSprint(witem(item("E", ptr(5.0)), func(w *delivery.WorkItem) {
			w.Category, w.ResolvedAt = delivery.CategoryInProgress, time.Time{}
		}), "Sprint 9", 15),
		inSprint(item("F", ptr(1.0)), "Sprint 10", 36),
	}
	in := PlanningInput{Period: march, Items: items}
	type row struct {
		key     string
		counted bool
	}
	tests := []struct {
		figure string
		want   []row
	}{
		// Resolved in March and done: A, B, F (E is in progress, C was
		// resolved in February, D is deleted). Plan says 2/3 estimated.
		{"story_point_coverage", []row{{"A", true}, {"B", false}, {"F", true}}},
		// Only A has criteria: 1/3.
		{"acceptance_criteria_coverage", []row{{"A", true}, {"B", false}, {"F", false}}},
		// Completed sprints 8 and 9 are averaged (Sprint 10 runs past the
		// period): their done items C, A, B; B adds no points.
		{"velocity", []row{{"C", true}, {"A", true}, {"B", false}}},
	}
	r := Plan(in)
	if r.StoryPointCoverage.Estimated != 2 || r.StoryPointCoverage.Resolved != 3 || r.AcceptanceCriteriaCoverage.WithCriteria != 1 || r.Velocity.OverSprints != 2 {
		t.Fatalf("the hand-worked report is not Plan's: %+v %+v %+v", r.StoryPointCoverage, r.AcceptanceCriteriaCoverage, r.Velocity)
	}
	for _, tt := range tests {
		t.Run(tt.figure, func(t *testing.T) {
			e, err := ExplainPlanning(in, tt.figure)
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, it := range e.Items {
				got = append(got, row{it.Key, it.Counted})
				if !it.Counted && it.Reason == "" {
					t.Errorf("%s is not counted and says not why", it.Key)
				}
			}
			slices.SortFunc(got, func(a, b row) int { return strings.Compare(a.key, b.key) })
			want := slices.Clone(tt.want)
			slices.SortFunc(want, func(a, b row) int { return strings.Compare(a.key, b.key) })
			if !slices.Equal(got, want) {
				t.Errorf("items %v, want %v", got, want)
			}
		})
	}
	if _, err := ExplainPlanning(in, "lead_time"); delivery.ErrorCode(err) != delivery.EINVALID {
		t.Errorf("an unknown figure: %v", err)
	}
	e, err := ExplainPlanning(PlanningInput{Period: march}, "velocity")
	if err != nil || len(e.Items) != 0 || len(e.Warnings) != 1 {
		t.Errorf("no sprint: %+v, %v", e, err)
	}
}
