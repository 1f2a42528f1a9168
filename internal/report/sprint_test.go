package report_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/sprint"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestSprintReport stores a sprint of team core (2026-03-02 08:00 to its
// completion 03-13 16:00) through the write path, each issue reported
// twice, by its webhook (no changelog) and by the collector (its
// changelog), and reads the sprint report of the two weeks:
//
//	CORE-1 story 5 pts, committed; in progress 03-02 10:00, done 03-05 10:00
//	CORE-2 bug   2 pts, committed; in progress 03-03 10:00, flagged 03-04 10:00 to 03-04 22:00, still
//	CORE-3 task, added 03-04; done 03-06 10:00 (the webhook's report only)
//	OPS-1  another team's bug, done 03-05
//
// Done: CORE-1 (feature) and CORE-3 (chore); carried over: CORE-2, 1 of 2
// committed; blocked 12 h of CORE-1's 72 h and CORE-2's 302 h in progress
// (03-03 10:00 to the period's end, 03-16 00:00). No item is in To Do now:
// its category is Jira's default one.
func TestSprintReport(t *testing.T) {
	ctx := context.Background()
	h := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
	five, two := 5.0, 2.0
	yes, no := true, false
	sprint37 := func(added time.Time) []delivery.SprintMembership {
		return []delivery.SprintMembership{{ID: "37", Name: "CORE Sprint 37", State: "closed", StartAt: h(2, 8), EndAt: h(13, 17), CompletedAt: h(13, 16), AddedAt: added}}
	}
	hook := func(key, typ string, points *float64, cat delivery.WorkItemCategory, updated time.Time) delivery.WorkItem {
		st := map[delivery.WorkItemCategory]string{delivery.CategoryDone: "Done", delivery.CategoryInProgress: "In Progress", delivery.CategoryToDo: "To Do"}[cat]
		w := delivery.WorkItem{Tracker: "jira", Key: key, Team: "core", Type: typ, StoryPoints: points, Status: st, Category: cat, CreatedAt: h(1, 9),
			UpdatedAt: updated, Labels: []string{}, Sprints: sprint37(time.Time{})}
		if cat == delivery.CategoryDone {
			w.ResolvedAt = updated
		}
		return w
	}
	c1 := hook("CORE-1", "Story", &five, delivery.CategoryDone, h(5, 10))
	c1full := c1
	c1full.Sprints = sprint37(h(1, 9))
	c1full.Transitions = []delivery.Transition{{At: h(1, 9), Status: "To Do"}, {At: h(2, 10), Status: "In Progress"}, {At: h(5, 10), Status: "Done", Category: delivery.CategoryDone}}
	c2 := hook("CORE-2", "Bug", &two, delivery.CategoryInProgress, h(4, 22))
	c2full := c2
	c2full.Sprints = sprint37(h(1, 9))
	c2full.Transitions = []delivery.Transition{{At: h(1, 9), Status: "To Do"}, {At: h(3, 10), Status: "In Progress"}, {At: h(4, 10), Flagged: &yes}, {At: h(4, 22), Flagged: &no}}
	c3 := hook("CORE-3", "Task", nil, delivery.CategoryDone, h(6, 10))
	c3.Sprints = sprint37(h(4, 9))
	ops := hook("OPS-1", "Bug", nil, delivery.CategoryDone, h(5, 10))
	ops.Team = "ops"
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		var events []delivery.Event
		for i, w := range []delivery.WorkItem{c1, c1full, c2, c2full, c3, ops, c1} {
			events = append(events, delivery.Event{Key: "w" + string(rune('a'+i)), Kind: delivery.KindWorkItem, WorkItem: &w})
		}
		ingest(t, db, events...)
		r := &report.Reader{Store: db}
		rep, err := r.Sprint(ctx, "core", delivery.Period{From: h(2, 0), To: h(16, 0)}, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Completed) != 2 || rep.Completed[0].Type != sprint.Chore || rep.Completed[0].Items != 1 || rep.Completed[1].Type != sprint.Feature || rep.Completed[1].Points != 5 {
			t.Errorf("completed = %+v, want CORE-3 a chore and CORE-1 a 5-point feature", rep.Completed)
		}
		if len(rep.Sprints) != 1 {
			t.Fatalf("sprints = %+v", rep.Sprints)
		}
		s := rep.Sprints[0]
		if s.Committed.Items != 2 || s.Committed.Points != 7 || s.Added.Items != 1 || s.Completed.Items != 2 || s.AssumedCommitted != 0 {
			t.Errorf("sprint = %+v, want 2 committed (7 points), 1 added, 2 done, none assumed", s)
		}
		if s.CarriedOver == nil || s.CarriedOver.Items != 1 || s.CarriedOver.Keys[0] != "CORE-2" || *s.CarryOverRatio != 0.5 {
			t.Errorf("carried over = %+v", s.CarriedOver)
		}
		b := rep.Blocked
		if b.Items != 2 || b.InProgressSeconds != (72+302)*3600 || b.BlockedSeconds != 12*3600 {
			t.Errorf("blocked = %+v, want 12 h of 374 h over 2 items", b)
		}
		if len(rep.Throughput) != 2 || rep.Throughput[0].Done != 2 || rep.Throughput[1].Done != 0 {
			t.Errorf("throughput = %+v, want 2 then 0", rep.Throughput)
		}
		// CORE-3 has no changelog: said so.
		found := false
		for _, w := range rep.Warnings {
			found = found || strings.Contains(w, "1 of 3 items have no changelog")
		}
		if !found {
			t.Errorf("warnings %q", rep.Warnings)
		}
	})
}
