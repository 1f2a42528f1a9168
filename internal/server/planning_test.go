package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The planning explanation lists, through the store, the work items each
// figure counts, and agrees with the report read from the same rows.
func TestPlanningExplainThroughTheStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		h := open(t)
		auth := headers("Authorization", "Bearer "+h.token)
		item := func(key, points, sprint, sprintEnd, resolved string, criteria bool) string {
			return fmt.Sprintf(`{"key": "w-%s", "kind": "work_item", "work_item": {"tracker": "jira", "key": %q, "team": "core",
				"type": "story", "status": "Done", "category": "done", "story_points": %s, "sprint": %q, "sprint_end": %q,
				"acceptance_criteria": %t, "created_at": "2026-03-01T09:00:00Z", "resolved_at": %q, "updated_at": %q}}`,
				key, key, points, sprint, sprintEnd, criteria, resolved, resolved)
		}
		// A (3 points, criteria) and B (no estimate) done in Sprint 9, which
		// ended March 13; C (2 points) in Sprint 10, still running at the
		// end of the period.
		body := "[" + strings.Join([]string{
			item("CORE-1", "3", "Sprint 9", "2026-03-13T17:00:00Z", "2026-03-10T12:00:00Z", true),
			item("CORE-2", "null", "Sprint 9", "2026-03-13T17:00:00Z", "2026-03-11T12:00:00Z", false),
			item("CORE-3", "2", "Sprint 10", "2026-04-03T17:00:00Z", "2026-03-20T12:00:00Z", false),
		}, ",") + "]"
		if r := h.post(t, "/api/v1/events", auth, []byte(body)); r.status != http.StatusOK {
			t.Fatalf("ingest: %d %s", r.status, r.text)
		}
		period := "team=core&from=2026-03-01&to=2026-04-01"
		var rep struct {
			Coverage struct{ Estimated, Resolved int } `json:"story_point_coverage"`
		}
		if err := json.Unmarshal([]byte(h.get(t, "/api/v1/planning?"+period)), &rep); err != nil || rep.Coverage.Estimated != 2 || rep.Coverage.Resolved != 3 {
			t.Fatalf("planning: %+v, %v; want 2 of 3 estimated", rep, err)
		}
		for _, tc := range []struct {
			figure string
			want   string // key:counted, in the explanation's order
		}{
			{"story_point_coverage", "CORE-1:true CORE-2:false CORE-3:true"},
			{"acceptance_criteria_coverage", "CORE-1:true CORE-2:false CORE-3:false"},
			{"velocity", "CORE-1:true CORE-2:false"},
		} {
			var e struct {
				Figure string
				Items  []struct {
					Key     string
					Counted bool
					Reason  string
				}
			}
			if err := json.Unmarshal([]byte(h.get(t, "/api/v1/planning/explain?figure="+tc.figure+"&"+period)), &e); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range e.Items {
				got = append(got, fmt.Sprintf("%s:%t", it.Key, it.Counted))
			}
			if e.Figure != tc.figure || strings.Join(got, " ") != tc.want {
				t.Errorf("%s: %s %v, want %s", tc.figure, e.Figure, got, tc.want)
			}
		}
		req, _ := http.NewRequest(http.MethodGet, h.http.URL+"/api/v1/planning/explain?figure=lead_time", nil)
		req.Header.Set("Authorization", "Bearer "+h.token)
		resp, err := h.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("an unknown figure: %d, want 400", resp.StatusCode)
		}
	})
}
