package jira

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/collect"
	"github.com/stride-oss/stride/internal/delivery"
	jiraingest "github.com/stride-oss/stride/internal/ingest/jira"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// fakeAgile answers the agile API as Atlassian documents it: boards of a
// project (GET /rest/agile/1.0/board?projectKeyOrId=) and a board's sprints
// (/board/{id}/sprint) as {maxResults, startAt, isLast, values}, a
// sprint's issues (/board/{id}/sprint/{id}/issue) as {startAt, maxResults,
// total, issues}; two values or one issue a page here, to page.
type fakeAgile struct {
	boards  []map[string]any
	sprints map[string][]map[string]any // by board id
	issues  map[string][]map[string]any // by sprint id
}

func (a *fakeAgile) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	start, _ := strconv.Atoi(q.Get("startAt"))
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/rest/agile/1.0/"), "/")
	values := func(all []map[string]any) {
		start = min(start, len(all))
		end := min(start+2, len(all))
		json.NewEncoder(w).Encode(map[string]any{"maxResults": 2, "startAt": start, "isLast": end >= len(all), "values": all[start:end]})
	}
	switch {
	case len(parts) == 1 && parts[0] == "board" && q.Get("projectKeyOrId") == "PAY":
		values(a.boards)
	case len(parts) == 3 && parts[2] == "sprint":
		values(a.sprints[parts[1]])
	case len(parts) == 5 && parts[4] == "issue" && q.Get("expand") == "changelog":
		all := a.issues[parts[3]]
		start = min(start, len(all))
		end := min(start+1, len(all))
		json.NewEncoder(w).Encode(map[string]any{"expand": "schema,names", "startAt": start, "maxResults": 1, "total": len(all), "issues": all[start:end]})
	default:
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"errorMessages":["no %s"]}`, r.URL.Path)
	}
}

// TestCollectJiraSprints collects a board with a closed sprint 36, an active
// 37 and a future 38. PAY-1 was in 36 and carried over into 37; PAY-3 was
// added to 37 a day after it started. The first run reads the issues of 36
// and 37 (not of 38, which has none yet); the second, only 37's, since a
// closed sprint does not change; neither adds what the other wrote.
func TestCollectJiraSprints(t *testing.T) {
	sprint := func(id int, state, start, end, complete string) map[string]any {
		s := map[string]any{"id": id, "self": "https://acme.atlassian.net/rest/agile/1.0/sprint/" + strconv.Itoa(id), "state": state,
			"name": "PAY Sprint " + strconv.Itoa(id), "originBoardId": 4, "goal": ""}
		for k, v := range map[string]string{"startDate": start, "endDate": end, "completeDate": complete} {
			if v != "" {
				s[k] = v
			}
		}
		return s
	}
	s36 := sprint(36, "closed", "2026-02-16T08:00:00.000Z", "2026-02-27T17:00:00.000Z", "2026-02-27T16:00:00.000Z")
	s37 := sprint(37, "active", "2026-03-02T08:00:00.000Z", "2026-03-13T17:00:00.000Z", "")
	s38 := sprint(38, "future", "", "", "")
	field := func(ss ...map[string]any) []any {
		out := []any{}
		for _, s := range ss {
			s = map[string]any{"id": s["id"], "name": s["name"], "state": s["state"], "boardId": 4, "startDate": s["startDate"], "endDate": s["endDate"]}
			out = append(out, s)
		}
		return out
	}
	history := func(at string, items ...map[string]any) map[string]any {
		return map[string]any{"id": at, "created": at, "items": items}
	}
	change := func(field, from, fromString, to, toString string) map[string]any {
		return map[string]any{"field": field, "from": from, "fromString": fromString, "to": to, "toString": toString}
	}
	pay1 := issue("10001", "PAY-1", "Story", "In Progress", "indeterminate", "2026-03-02T09:00:00.000+0000", "",
		map[string]any{"customfield_10020": field(s36, s37), "assignee": map[string]any{"accountId": "a1", "displayName": "Ann"}})
	pay1["fields"].(map[string]any)["created"] = "2026-02-10T09:00:00.000+0000"
	pay1["changelog"] = map[string]any{"startAt": 0, "maxResults": 100, "total": 2, "histories": []any{
		history("2026-02-17T10:00:00.000+0000", change("status", "1", "To Do", "3", "In Progress")),
		history("2026-02-27T16:00:00.000+0000", change("Sprint", "36", "PAY Sprint 36", "36, 37", "PAY Sprint 36, PAY Sprint 37")),
	}}
	pay3 := issue("10003", "PAY-3", "Bug", "To Do", "new", "2026-03-03T09:00:00.000+0000", "",
		map[string]any{"customfield_10020": field(s37), "labels": []any{"customer"}})
	pay3["changelog"] = map[string]any{"startAt": 0, "maxResults": 100, "total": 1, "histories": []any{
		history("2026-03-03T09:00:00.000+0000", change("Sprint", "", "", "37", "PAY Sprint 37")),
	}}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		status := func(name, key string) map[string]any {
			return map[string]any{"self": "https://acme.atlassian.net/rest/api/3/status/1", "name": name, "id": "1",
				"statusCategory": map[string]any{"id": 4, "key": key, "colorName": "yellow", "name": name}}
		}
		fake := &fakeJira{statuses: []map[string]any{status("To Do", "new"), status("In Progress", "indeterminate"), status("Done", "done")}, agile: &fakeAgile{
			boards:  []map[string]any{{"id": 4, "self": "https://acme.atlassian.net/rest/agile/1.0/board/4", "name": "PAY board", "type": "scrum"}},
			sprints: map[string][]map[string]any{"4": {s36, s37, s38}},
			issues:  map[string][]map[string]any{"36": {pay1}, "37": {pay1, pay3}},
		}}
		srv := httptest.NewServer(fake)
		defer srv.Close()
		rec := &recorder{in: intake.New(db, nil)}
		run := func() ProjectResult {
			t.Helper()
			res, err := New(Config{URL: srv.URL, Projects: []string{"PAY"}, Webhook: jiraingest.Config{ProjectTeams: map[string]string{"PAY": "payments"}},
				Logger: slog.New(slog.DiscardHandler)}, collect.NewClient(2, Basic("ann@example.com", "tok")), rec, db).Run(ctx)
			if err != nil || len(res) != 1 || res[0].Err != nil {
				t.Fatalf("run: %+v, %v", res, err)
			}
			return res[0]
		}
		// Pages: 1 search (no issues), 1 board, 2 of sprints, 1 of
		// sprint 36's issues, 2 of 37's.
		r := run()
		if r.Boards != 1 || r.Sprints != 3 || r.SprintsRead != 2 || r.Added != 3 || r.Pages != 7 {
			t.Fatalf("first run: %+v, want 1 board, 3 sprints, 2 read, 3 events in 7 pages", r)
		}
		items, err := db.WorkItems(ctx, "payments", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil || len(items) != 2 {
			t.Fatalf("work items %+v, %v", items, err)
		}
		byKey := map[string]delivery.WorkItem{}
		for _, w := range items {
			byKey[w.Key] = w
		}
		p1, p3 := byKey["PAY-1"], byKey["PAY-3"]
		if len(p1.Sprints) != 2 || p1.Sprints[0].State != "closed" || !p1.Sprints[0].CompletedAt.Equal(time.Date(2026, 2, 27, 16, 0, 0, 0, time.UTC)) {
			t.Errorf("PAY-1 sprints %+v, want 36 closed (completed 02-27 16:00 as the agile API says) and 37", p1.Sprints)
		}
		// PAY-1 was in 36 since its creation (no changelog entry added it),
		// and entered 37 when 36 was completed: the carry-over.
		if !p1.Sprints[0].AddedAt.Equal(time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)) || !p1.Sprints[1].AddedAt.Equal(time.Date(2026, 2, 27, 16, 0, 0, 0, time.UTC)) || p1.Assignee != "Ann" || len(p1.Transitions) != 2 {
			t.Errorf("PAY-1 %+v", p1)
		}
		// PAY-1 is now In Progress, and was To Do at creation: the site's
		// statuses give both their category.
		if p1.Transitions[0].Category != delivery.CategoryToDo || p1.Transitions[1].Category != delivery.CategoryInProgress {
			t.Errorf("PAY-1 transitions %+v, want their categories from the site's statuses", p1.Transitions)
		}
		if len(p3.Sprints) != 1 || !p3.Sprints[0].AddedAt.Equal(time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)) || p3.Sprints[0].Board != "4" || len(p3.Labels) != 1 {
			t.Errorf("PAY-3 %+v, want added to 37 on 03-03 09:00", p3)
		}
		fake.agileAsked = nil
		r = run()
		if r.SprintsRead != 1 || r.Added != 0 {
			t.Errorf("second run: %+v, want only sprint 37 read and nothing added", r)
		}
		for _, a := range fake.agileAsked {
			if strings.Contains(a, "/sprint/36/") {
				t.Errorf("the closed sprint 36 was read again: %s", a)
			}
		}
	})
}
