package jira

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// TestWorkItemDetail reads what sprint health needs from an issue: labels,
// priority, assignee, services from components and labels, every sprint,
// and, from an expanded changelog of the REST API's shape (histories of
// items with field, from/fromString, to/toString), its status changes,
// flags and the time it entered each sprint.
func TestWorkItemDetail(t *testing.T) {
	cfg := testConfig()
	cfg.ComponentServices = map[string]string{"Payments API": "api"}
	s := New(cfg)
	m := payload(t, "issue_updated_done")
	f := fieldsOf(m)
	f["labels"] = []any{"tech-debt", "service:web"}
	f["components"] = []any{map[string]any{"id": "10000", "name": "Payments API"}}
	f["assignee"] = map[string]any{"accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof"}
	entry := func(at string, items ...map[string]any) map[string]any {
		return map[string]any{"id": "1", "created": at, "items": items}
	}
	item := func(field, from, fromString, to, toString string) map[string]any {
		return map[string]any{"field": field, "fieldtype": "jira", "from": from, "fromString": fromString, "to": to, "toString": toString}
	}
	// Created 2024-03-04 09:12 in To Do, in no sprint; added to sprint 37
	// (which started 2024-02-26) on 03-05, so it was not committed at its
	// start; started 03-05 10:00, flagged 03-06 09:00 to 03-06 15:00, done
	// 03-07 14:30. Sprint 36 was never added by the changelog.
	m["issue"].(map[string]any)["changelog"] = map[string]any{"startAt": 0, "maxResults": 100, "total": 4, "histories": []any{
		entry("2024-03-07T15:30:00.000+0100", item("status", "3", "In Progress", "10002", "Done")),
		entry("2024-03-05T09:00:00.000+0000", item("Sprint", "", "", "37", "PAY Sprint 12")),
		entry("2024-03-05T10:00:00.000+0000", item("status", "10000", "To Do", "3", "In Progress")),
		entry("2024-03-06T09:00:00.000+0000", item("Flagged", "", "", "[10019]", "Impediment")),
		// a fourth entry is the flag cleared, with a field Jira also sends
		map[string]any{"id": "5", "created": "2024-03-06T15:00:00.000+0000", "items": []any{item("Flagged", "[10019]", "Impediment", "", ""), item("assignee", "", "", "x", "Mia Krystof")}},
	}}
	delete(m, "changelog")
	w := workItem(t, s, m)
	if !reflect.DeepEqual(w.Labels, []string{"service:web", "tech-debt"}) || w.Priority != "Medium" || w.Assignee != "Mia Krystof" {
		t.Errorf("labels %v priority %q assignee %q", w.Labels, w.Priority, w.Assignee)
	}
	if !reflect.DeepEqual(w.Services, []string{"api", "web"}) {
		t.Errorf("services %v, want api (its component, mapped) and web (its label)", w.Services)
	}
	at := func(s string) time.Time { t, _ := time.Parse("2006-01-02 15:04", s); return t }
	on, off := true, false
	want := []delivery.Transition{
		{At: at("2024-03-04 09:12").Add(44120 * time.Millisecond), Status: "To Do"},
		{At: at("2024-03-05 10:00"), Status: "In Progress"},
		{At: at("2024-03-06 09:00"), Flagged: &on},
		{At: at("2024-03-06 15:00"), Flagged: &off},
		{At: at("2024-03-07 14:30"), Status: "Done", Category: delivery.CategoryDone},
	}
	if !reflect.DeepEqual(w.Transitions, want) {
		got, _ := json.Marshal(w.Transitions)
		t.Errorf("transitions %s", got)
	}
	if len(w.Sprints) != 2 || !w.Sprints[1].AddedAt.Equal(at("2024-03-05 09:00")) || !w.Sprints[0].AddedAt.Equal(w.CreatedAt) {
		t.Errorf("sprints %+v: want 37 added 03-05 09:00, 36 held since creation", w.Sprints)
	}
	if !w.SprintStart.Equal(at("2024-02-26 08:00")) {
		t.Errorf("sprint start %v", w.SprintStart)
	}

	// A changelog cut short by the search (total above what it holds)
	// knows neither the first status nor that a sprint was there from
	// the start.
	m["issue"].(map[string]any)["changelog"].(map[string]any)["total"] = 40
	w = workItem(t, s, m)
	if len(w.Transitions) != 4 || !w.Sprints[0].AddedAt.IsZero() {
		t.Errorf("partial changelog: %d transitions, sprint 36 added %v", len(w.Transitions), w.Sprints[0].AddedAt)
	}
}
