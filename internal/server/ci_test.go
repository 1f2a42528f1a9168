package server_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCIAndDeployHoursAPI sends builds and deployments through the events
// API, attempts and default branch included, and reads them back from
// GET /api/v1/ci and GET /api/v1/deploy-hours:
//
//	run 7 of acme/api ci on main: failed 10:10, re-run (attempt 2) green 10:40
//	run 8 of acme/api ci on main: 11:00–11:15, failed, still red at the end
//	deployment d1 of api finished Saturday 2026-03-07 12:00 UTC
//
// Run 7's reports merge to one build, attempt 2, green: a re-run fixed
// it, so only run 8 turns the branch red, for 12:00−11:15 = 45 min of a
// period ending at noon. Without a team time zone d1 is placed in UTC, on
// a Saturday: outside working hours, with a warning.
func TestCIAndDeployHoursAPI(t *testing.T) {
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		h := open(t)
		build := func(key, id, status string, attempt int, started, finished string) map[string]any {
			b := map[string]any{"repository": "acme/api", "id": id, "name": "ci", "branch": "main", "status": status,
				"attempt": attempt, "started_at": started, "default_branch": "main"}
			if finished != "" {
				b["finished_at"] = finished
			}
			return map[string]any{"key": key, "kind": "build", "build": b}
		}
		h.postEvents(t, []map[string]any{
			build("b7-1", "7", "failure", 1, "2026-03-02T10:00:00Z", "2026-03-02T10:10:00Z"),
			build("b7-2", "7", "success", 2, "2026-03-02T10:30:00Z", "2026-03-02T10:40:00Z"),
			build("b8", "8", "failure", 1, "2026-03-02T11:00:00Z", "2026-03-02T11:15:00Z"),
			{"key": "d1", "kind": "deployment", "deployment": map[string]any{"service": "api", "environment": "production", "id": "d1",
				"status": "success", "sha": "abc", "finished_at": "2026-03-07T12:00:00Z"}},
		})
		var ci struct {
			Pipelines []struct {
				Builds int `json:"builds"`
				Timed  int `json:"timed"`
			} `json:"pipelines"`
			Branches []struct {
				RedSeconds float64 `json:"red_seconds"`
				RedAtEnd   bool    `json:"red_at_end"`
			} `json:"default_branches"`
			Reruns struct {
				Known  int `json:"known"`
				Reruns int `json:"reruns"`
			} `json:"reruns"`
		}
		body := h.get(t, "/api/v1/ci?from=2026-03-02&to=2026-03-02T12:00:00Z")
		if err := json.Unmarshal([]byte(body), &ci); err != nil {
			t.Fatal(err)
		}
		if len(ci.Pipelines) != 1 || ci.Pipelines[0].Builds != 2 || ci.Pipelines[0].Timed != 1 ||
			len(ci.Branches) != 1 || ci.Branches[0].RedSeconds != 45*60 || !ci.Branches[0].RedAtEnd || ci.Reruns.Known != 2 || ci.Reruns.Reruns != 1 {
			t.Errorf("GET /api/v1/ci: %s", body)
		}
		var explained struct {
			Builds []struct {
				ID      string `json:"id"`
				Attempt int    `json:"attempt"`
			} `json:"builds"`
		}
		body = h.get(t, "/api/v1/ci/explain?figure=rerun_rate&from=2026-03-02&to=2026-03-03")
		if err := json.Unmarshal([]byte(body), &explained); err != nil || len(explained.Builds) != 2 || explained.Builds[0].Attempt != 2 {
			t.Errorf("GET /api/v1/ci/explain: %s", body)
		}
		var hours struct {
			Deployments int                     `json:"deployments"`
			Outside     int                     `json:"outside_working_hours"`
			Grid        [7][24]int              `json:"by_weekday_hour"`
			Warnings    []struct{ Code string } `json:"warnings"`
		}
		body = h.get(t, "/api/v1/deploy-hours?service=api&from=2026-03-01&to=2026-03-08")
		if err := json.Unmarshal([]byte(body), &hours); err != nil || hours.Deployments != 1 || hours.Outside != 1 || hours.Grid[5][12] != 1 ||
			len(hours.Warnings) != 1 || hours.Warnings[0].Code != "time_zone_assumed" {
			t.Errorf("GET /api/v1/deploy-hours: %s", body)
		}
		body = h.get(t, "/api/v1/deploy-hours/explain?service=api&from=2026-03-01&to=2026-03-08")
		if !json.Valid([]byte(body)) || !strings.Contains(body, `"local_time": "Sat 2026-03-07 12:00"`) {
			t.Errorf("GET /api/v1/deploy-hours/explain: %s", body)
		}
	})
}
