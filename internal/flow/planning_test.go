package flow

import (
	"reflect"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// item returns a story resolved on March 15, done, with points (nil for
// none); cases change what they test.
func item(key string, points *float64) delivery.WorkItem {
	return delivery.WorkItem{
		Tracker:     "jira",
		Key:         key,
		Team:        "payments",
		Type:        "story",
		Status:      "Done",
		Category:    delivery.CategoryDone,
		StoryPoints: points,
		CreatedAt:   at(1, 9),
		ResolvedAt:  at(15, 12),
	}
}

func witem(w delivery.WorkItem, f func(*delivery.WorkItem)) delivery.WorkItem {
	f(&w)
	return w
}

func TestCoverage(t *testing.T) {
	tests := []struct {
		name     string
		items    []delivery.WorkItem
		points   StoryPointCoverage
		criteria CriteriaCoverage
	}{
		{
			// 4 resolved: A (3 points, criteria), B (0 points: an estimate
			// of zero is an estimate), C and D (no estimate; D has
			// criteria). Points 2/4 = 0.5; criteria 2/4 = 0.5.
			name: "an estimate of zero counts, a missing one does not",
			items: []delivery.WorkItem{
				witem(item("A", ptr(3.0)), func(w *delivery.WorkItem) { w.AcceptanceCriteria = true }),
				item("B", ptr(0.0)),
				item("C", nil),
				witem(item("D", nil), func(w *delivery.WorkItem) { w.AcceptanceCriteria = true }),
			},
			points:   StoryPointCoverage{Ratio: ptr(0.5), Estimated: 2, Resolved: 4},
			criteria: CriteriaCoverage{Ratio: ptr(0.5), WithCriteria: 2, Resolved: 4},
		},
		{
			// Of five items only A is resolved in March: B is deleted, C is
			// still in progress, D was resolved in February, E is done
			// without a resolution time. 1/1 estimated, 0/1 with criteria.
			name: "deleted, unfinished and out-of-period items are not resolved in the period",
			items: []delivery.WorkItem{
				item("A", ptr(5.0)),
				witem(item("B", nil), func(w *delivery.WorkItem) { w.Deleted = true }),
				witem(item("C", nil), func(w *delivery.WorkItem) {
					w.Category, w.ResolvedAt = delivery.CategoryInProgress, time.Time{}
				}),
				witem(item("D", nil), func(w *delivery.WorkItem) { w.ResolvedAt = at(1, 0).Add(-time.Hour) }),
				witem(item("E", nil), func(w *delivery.WorkItem) { w.ResolvedAt = time.Time{} }),
			},
			points:   StoryPointCoverage{Ratio: ptr(1.0), Estimated: 1, Resolved: 1},
			criteria: CriteriaCoverage{Ratio: ptr(0.0), WithCriteria: 0, Resolved: 1},
		},
		{
			// Nothing resolved: no ratio (null), not 0 %.
			name:  "nothing resolved gives no ratio",
			items: []delivery.WorkItem{witem(item("A", ptr(1.0)), func(w *delivery.WorkItem) { w.Deleted = true })},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Plan(PlanningInput{Period: march, Items: tt.items})
			if !reflect.DeepEqual(r.StoryPointCoverage, tt.points) {
				t.Errorf("story_point_coverage = %+v, want %+v", r.StoryPointCoverage, tt.points)
			}
			if !reflect.DeepEqual(r.AcceptanceCriteriaCoverage, tt.criteria) {
				t.Errorf("acceptance_criteria_coverage = %+v, want %+v", r.AcceptanceCriteriaCoverage, tt.criteria)
			}
		})
	}
}

func TestVelocity(t *testing.T) {
	// inSprint puts an item in a sprint ending on March day end.
	inSprint := func(key string, points *float64, sprint string, end int) delivery.WorkItem {
		return witem(item(key, points), func(w *delivery.WorkItem) { w.Sprint, w.SprintEnd = sprint, at(end, 17) })
	}
	type sprint struct {
		name   string
		points float64
		items  int
		unest  int
	}
	tests := []struct {
		name    string
		n       int
		items   []delivery.WorkItem
		sprints []sprint
		average *float64
		over    int
	}{
		{
			// "Sprint 10" ends after "Sprint 9" though it sorts before it
			// by name: order is by end. Points: S8 = 2, S9 = 3+5 = 8,
			// S10 = 1 + 0 (B2 has no estimate and adds nothing) = 1, S11 =
			// 4. Default N = 3: average of S9, S10, S11 = (8+1+4)/3 = 13/3.
			name: "sprints are ordered by end and the default averages the last three",
			items: []delivery.WorkItem{
				inSprint("A1", ptr(1.0), "Sprint 10", 22),
				inSprint("B2", nil, "Sprint 10", 22),
				inSprint("C1", ptr(3.0), "Sprint 9", 15),
				inSprint("C2", ptr(5.0), "Sprint 9", 15),
				inSprint("D1", ptr(2.0), "Sprint 8", 8),
				inSprint("E1", ptr(4.0), "Sprint 11", 29),
			},
			sprints: []sprint{{"Sprint 8", 2, 1, 0}, {"Sprint 9", 8, 2, 0}, {"Sprint 10", 1, 2, 1}, {"Sprint 11", 4, 1, 0}},
			average: ptr(13.0 / 3),
			over:    3,
		},
		{
			// N = 2: (S9 = 6 + S10 = 2) / 2 = 4. S12 ends April 5, after the
			// period: still running, left out. A sprint without an end
			// cannot be placed and is left out.
			name: "N sprints, and running or undated sprints are left out",
			n:    2,
			items: []delivery.WorkItem{
				inSprint("A", ptr(6.0), "S9", 15),
				inSprint("B", ptr(2.0), "S10", 22),
				inSprint("C", ptr(9.0), "S12", 36),
				witem(item("D", ptr(7.0)), func(w *delivery.WorkItem) { w.Sprint = "S?" }),
			},
			sprints: []sprint{{"S9", 6, 1, 0}, {"S10", 2, 1, 0}},
			average: ptr(4.0),
			over:    2,
		},
		{
			// S1 completed only a deleted item and an unfinished one: it
			// delivered 0 points, which is a value and pulls the average
			// down: (0 + 10) / 2 = 5. Items without a sprint are ignored.
			name: "a sprint that completed nothing counts as zero",
			items: []delivery.WorkItem{
				witem(inSprint("A", ptr(8.0), "S1", 8), func(w *delivery.WorkItem) { w.Deleted = true }),
				witem(inSprint("B", ptr(3.0), "S1", 8), func(w *delivery.WorkItem) { w.Category = delivery.CategoryToDo }),
				inSprint("C", ptr(10.0), "S2", 15),
				item("D", ptr(50.0)),
			},
			sprints: []sprint{{"S1", 0, 0, 0}, {"S2", 10, 1, 0}},
			average: ptr(5.0),
			over:    2,
		},
		{
			// One item says S1 ends March 8, another (synced after the
			// sprint was extended) March 20: the later end wins, so S1 comes
			// after S2 (March 15).
			name: "the latest reported end of a sprint wins",
			items: []delivery.WorkItem{
				inSprint("A", ptr(1.0), "S1", 8),
				inSprint("B", ptr(1.0), "S1", 20),
				inSprint("C", ptr(2.0), "S2", 15),
			},
			sprints: []sprint{{"S2", 2, 1, 0}, {"S1", 2, 2, 0}},
			average: ptr(2.0),
			over:    2,
		},
		{
			name:    "no completed sprint gives no average",
			items:   []delivery.WorkItem{item("A", ptr(1.0))},
			sprints: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Plan(PlanningInput{Period: march, Items: tt.items, Sprints: tt.n})
			var got []sprint
			for _, s := range r.Velocity.Sprints {
				got = append(got, sprint{s.Name, s.Points, s.Items, s.Unestimated})
			}
			if !reflect.DeepEqual(got, tt.sprints) {
				t.Errorf("sprints = %+v, want %+v", got, tt.sprints)
			}
			if !reflect.DeepEqual(r.Velocity.AveragePoints, tt.average) || r.Velocity.OverSprints != tt.over {
				t.Errorf("average = %v over %d, want %v over %d", deref(r.Velocity.AveragePoints), r.Velocity.OverSprints, deref(tt.average), tt.over)
			}
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
