package sprint

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

func at(s string) time.Time {
	t, err := time.Parse("01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return time.Date(2026, t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
}

func pts(p float64) *float64 { return &p }

func status(when, s string) delivery.Transition { return delivery.Transition{At: at(when), Status: s} }

func flag(when string, on bool) delivery.Transition {
	return delivery.Transition{At: at(when), Flagged: &on}
}

// history is a team's two weeks, 2026-03-02 (a Monday) to 03-16, with
// sprint 37 (03-02 08:00 to its completion 03-13 16:00) and sprint 36,
// completed before the period:
//
//	A story  5 pts ann  committed; in progress 03-02 09:00, flagged 03-04 09:00-03-05 09:00, done 03-06 09:00
//	B bug    3 pts bob  committed; in progress 03-03 09:00, Blocked 03-09 09:00-03-10 09:00, done 03-12 09:00
//	C task, labelled tech-debt, no points, ann, committed; in progress from 03-09 09:00, still
//	D bug    2 pts none added 03-04 09:00; in progress 03-05 09:00, done 03-13 15:00
//	E story  no points, no changelog, entry into 37 unknown; resolved 03-14 10:00
//	F task   no changelog, in sprint 36 only; resolved 02-27
func history() []delivery.WorkItem {
	s37 := func(added string) delivery.SprintMembership {
		m := delivery.SprintMembership{ID: "37", Name: "PAY Sprint 37", State: "closed", StartAt: at("03-02 08:00"), EndAt: at("03-13 17:00"), CompletedAt: at("03-13 16:00")}
		if added != "" {
			m.AddedAt = at(added)
		}
		return m
	}
	s36 := delivery.SprintMembership{ID: "36", Name: "PAY Sprint 36", State: "closed", StartAt: at("02-16 08:00"), CompletedAt: at("02-27 16:00")}
	return []delivery.WorkItem{
		{Tracker: "jira", Key: "A", Type: "Story", StoryPoints: pts(5), Assignee: "ann", Status: "Done", Category: delivery.CategoryDone, CreatedAt: at("02-20 09:00"),
			Sprints: []delivery.SprintMembership{s37("02-25 10:00")}, ResolvedAt: at("03-06 09:00"),
			Transitions: []delivery.Transition{status("03-02 09:00", "In Progress"), flag("03-04 09:00", true), flag("03-05 09:00", false), status("03-06 09:00", "Done")}},
		{Tracker: "jira", Key: "B", Type: "Bug", StoryPoints: pts(3), Assignee: "bob", Status: "Done", Category: delivery.CategoryDone, CreatedAt: at("02-20 09:00"),
			Sprints: []delivery.SprintMembership{s37("02-26 10:00")}, ResolvedAt: at("03-12 09:00"),
			Transitions: []delivery.Transition{status("03-03 09:00", "In Progress"), status("03-09 09:00", "Blocked"), status("03-10 09:00", "In Progress"), status("03-12 09:00", "Done")}},
		{Tracker: "jira", Key: "C", Type: "Task", Labels: []string{"tech-debt"}, Assignee: "ann", Status: "In Progress", Category: delivery.CategoryInProgress, CreatedAt: at("02-20 09:00"),
			Sprints:     []delivery.SprintMembership{s37("02-20 09:00")},
			Transitions: []delivery.Transition{status("03-09 09:00", "In Progress")}},
		{Tracker: "jira", Key: "D", Type: "Bug", StoryPoints: pts(2), Status: "Done", Category: delivery.CategoryDone, CreatedAt: at("03-04 09:00"),
			Sprints: []delivery.SprintMembership{s37("03-04 09:00")}, ResolvedAt: at("03-13 15:00"),
			Transitions: []delivery.Transition{status("03-05 09:00", "In Progress"), status("03-13 15:00", "Done")}},
		{Tracker: "jira", Key: "E", Type: "Story", Status: "Done", Category: delivery.CategoryDone, CreatedAt: at("02-20 09:00"),
			Sprints: []delivery.SprintMembership{s37("")}, ResolvedAt: at("03-14 10:00")},
		{Tracker: "jira", Key: "F", Type: "Task", Status: "Done", Category: delivery.CategoryDone, CreatedAt: at("02-10 09:00"),
			Sprints: []delivery.SprintMembership{s36}, ResolvedAt: at("02-27 11:00")},
	}
}

func config() Config {
	return Config{BlockedStatuses: []string{"blocked"}, StatusCategories: map[string]delivery.WorkItemCategory{"Blocked": delivery.CategoryInProgress}}
}

func TestComputeHandWorked(t *testing.T) {
	rep := Compute(Input{Team: "payments", Period: delivery.Period{From: at("03-02 00:00"), To: at("03-16 00:00")}, Items: history(), Config: config(), Explain: true})

	// Done in the period: A 03-06, B 03-12, D 03-13, E 03-14 (F before it).
	wantCompleted := []TypeCount{
		{Type: Bug, Items: 2, Points: 5, Keys: []string{"B", "D"}},
		{Type: Feature, Items: 2, Points: 5, Unestimated: 1, Keys: []string{"A", "E"}},
	}
	if !reflect.DeepEqual(rep.Completed, wantCompleted) {
		t.Errorf("completed = %+v\nwant %+v", rep.Completed, wantCompleted)
	}
	wantWeeks := []Week{{Start: at("03-02 00:00"), Done: 1, Keys: []string{"A"}}, {Start: at("03-09 00:00"), Done: 3, Keys: []string{"B", "D", "E"}}}
	if !reflect.DeepEqual(rep.Throughput, wantWeeks) {
		t.Errorf("throughput = %+v", rep.Throughput)
	}

	// Sprint 37 only: 36 completed before the period.
	if len(rep.Sprints) != 1 {
		t.Fatalf("sprints = %+v", rep.Sprints)
	}
	s := rep.Sprints[0]
	// Committed A, B, C and E (E assumed: its entry is unknown): 4 items,
	// 5+3 points, C and E unestimated. D was added after the start.
	// Done at 03-13 16:00: A, B, D. Carried over: C and E, 2 of 4.
	if s.ID != "37" || !s.End.Equal(at("03-13 16:00")) || s.AssumedCommitted != 1 {
		t.Errorf("sprint = %+v", s)
	}
	if want := (Count{Items: 4, Points: 8, Unestimated: 2, Keys: []string{"A", "B", "C", "E"}}); !reflect.DeepEqual(s.Committed, want) {
		t.Errorf("committed = %+v", s.Committed)
	}
	if want := (Count{Items: 1, Points: 2, Keys: []string{"D"}}); !reflect.DeepEqual(s.Added, want) {
		t.Errorf("added = %+v", s.Added)
	}
	if want := (Count{Items: 3, Points: 10, Keys: []string{"A", "B", "D"}}); !reflect.DeepEqual(s.Completed, want) {
		t.Errorf("completed = %+v", s.Completed)
	}
	if want := []TypeCount{{Type: Bug, Items: 2, Points: 5, Keys: []string{"B", "D"}}, {Type: Feature, Items: 1, Points: 5, Keys: []string{"A"}}}; !reflect.DeepEqual(s.CompletedType, want) {
		t.Errorf("completed by type = %+v", s.CompletedType)
	}
	if s.CarriedOver == nil || !reflect.DeepEqual(*s.CarriedOver, Count{Items: 2, Unestimated: 2, Keys: []string{"C", "E"}}) || s.CarryOverRatio == nil || *s.CarryOverRatio != 0.5 {
		t.Errorf("carried over = %+v ratio %v", s.CarriedOver, s.CarryOverRatio)
	}

	// In progress at the end of week 1 (03-09 00:00): B (bob) and D
	// (unassigned); at the period's end: C (ann).
	wantWIP := []WIP{
		{At: at("03-09 00:00"), Team: 2, ByPerson: map[string]int{"bob": 1, "": 1}, Keys: []string{"B", "D"}},
		{At: at("03-16 00:00"), Team: 1, ByPerson: map[string]int{"ann": 1}, Keys: []string{"C"}},
	}
	if !reflect.DeepEqual(rep.WIP, wantWIP) {
		t.Errorf("wip = %+v", rep.WIP)
	}

	// In progress: A 96 h (24 flagged), B 216 h (24 in Blocked), C 159 h
	// (03-09 09:00 to the end), D 198 h: 48 of 669 hours blocked.
	b := rep.Blocked
	if b.Items != 4 || b.InProgressSeconds != 669*3600 || b.BlockedSeconds != 48*3600 || b.Ratio == nil || math.Abs(*b.Ratio-48.0/669) > 1e-12 || !slices.Equal(b.Keys, []string{"A", "B"}) {
		t.Errorf("blocked = %+v (ratio %v)", b, *b.Ratio)
	}

	for _, want := range []string{"1 of the items done in the period carry no story points", "2 of 6 items have no changelog", "for 1 sprint memberships"} {
		if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, want) }) {
			t.Errorf("no warning %q in %q", want, rep.Warnings)
		}
	}
}

func TestComputeWithoutExplainListsNoKeys(t *testing.T) {
	rep := Compute(Input{Period: delivery.Period{From: at("03-02 00:00"), To: at("03-16 00:00")}, Items: history(), Config: config()})
	if len(rep.Completed[0].Keys) != 0 || len(rep.Sprints[0].Committed.Keys) != 0 || len(rep.WIP[0].Keys) != 0 {
		t.Errorf("keys listed without explain: %+v", rep)
	}
}

func TestComputeWarnings(t *testing.T) {
	period := delivery.Period{From: at("03-02 00:00"), To: at("03-16 00:00")}
	for _, c := range []struct {
		name  string
		items []delivery.WorkItem
		cfg   Config
		want  string
	}{
		{"no items", nil, Config{}, "no work items are stored for this team"},
		{"no sprints", []delivery.WorkItem{{Key: "X", Type: "Bug", Category: delivery.CategoryDone, ResolvedAt: at("03-03 10:00"), Transitions: []delivery.Transition{}}}, Config{}, "no sprint ended in the period"},
		// Without the Blocked category configured and no item now in it.
		{"unknown status", history(), Config{BlockedStatuses: []string{"Blocked"}}, "the category of status Blocked is not known"},
	} {
		rep := Compute(Input{Period: period, Items: c.items, Config: c.cfg})
		if !slices.ContainsFunc(rep.Warnings, func(w string) bool { return strings.Contains(w, c.want) }) {
			t.Errorf("%s: no warning %q in %q", c.name, c.want, rep.Warnings)
		}
	}
}

func TestClassify(t *testing.T) {
	classify := classifier(DefaultWorkTypes)
	for _, c := range []struct {
		w    delivery.WorkItem
		want string
	}{
		{delivery.WorkItem{Type: "Bug"}, Bug},
		{delivery.WorkItem{Type: "story"}, Feature},
		{delivery.WorkItem{Type: "Task", Labels: []string{"Tech-Debt"}}, TechnicalDebt},
		{delivery.WorkItem{Type: "Sub-task"}, Chore},
		{delivery.WorkItem{Type: "Spike"}, Other},
	} {
		if got := classify(&c.w); got != c.want {
			t.Errorf("%+v: %s, want %s", c.w, got, c.want)
		}
	}
	custom := classifier(map[string]WorkType{"ops": {Labels: []string{"oncall"}}, Bug: {IssueTypes: []string{"Bug"}}})
	if got := custom(&delivery.WorkItem{Type: "Bug", Labels: []string{"oncall"}}); got != "ops" {
		t.Errorf("a label decides before the issue type: %s", got)
	}
	if err := (Config{StatusCategories: map[string]delivery.WorkItemCategory{"x": "doing"}}).Validate(); err == nil {
		t.Error("an unknown category was accepted")
	}
}
