package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/store/storetest"
)

func TestIncidentCommands(t *testing.T) {
	for name, db := range storetest.URLs(t) {
		t.Run(name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "stride.yaml")
			yaml := "services: [{name: api, team: payments}]\nresponse:\n  routes:\n    page: {pagerduty: {routing_key: K}}\n"
			if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			cli := func(args ...string) (int, string, string) {
				t.Helper()
				return stride(t, append(args, "--db", db, "--config", cfg)...)
			}
			code, out, errOut := cli("incident", "open", "--service", "api", "--id", "9", "--severity", "1", "--title", "slow checkout",
				"--origin", "monitoring", "--at", "2026-03-02T09:00:00Z", "--by", "carol")
			if code != 0 || !strings.Contains(out, "open api/9 (severity 1); notifying page") {
				t.Fatalf("open: %d %q %q", code, out, errOut)
			}
			if code, _, errOut := cli("incident", "open", "--service", "api", "--title", "x"); code != 2 || !strings.Contains(errOut, "severity") {
				t.Errorf("open without severity: %d %q", code, errOut)
			}
			if code, out, errOut := cli("incident", "ack", "--service", "api", "--id", "9", "--at", "2026-03-02T09:20:00Z", "--by", "dave"); code != 0 {
				t.Fatalf("ack: %d %q %q", code, out, errOut)
			}
			if code, _, errOut := cli("incident", "ack", "--service", "api", "--id", "nope"); code != 1 || !strings.Contains(errOut, "no incident api/nope") {
				t.Errorf("ack unknown: %d %q", code, errOut)
			}
			if code, out, errOut := cli("incident", "resolve", "--service", "api", "--id", "9", "--at", "2026-03-02T10:00:00Z"); code != 0 {
				t.Fatalf("resolve: %d %q %q", code, out, errOut)
			}
			code, out, errOut = cli("incident", "followup", "add", "--service", "api", "--id", "9", "--title", "load test", "--tracker", "jira", "--issue", "OPS-3",
				"--at", "2026-03-02T11:00:00Z", "--format", "json")
			if code != 0 {
				t.Fatalf("followup add: %d %q", code, errOut)
			}
			var fu struct{ ID string }
			json.Unmarshal([]byte(out), &fu)
			if code, out, errOut := cli("incident", "followup", "done", "--service", "api", "--id", "9", "--followup", fu.ID, "--at", "2026-03-03T11:00:00Z"); code != 0 || !strings.Contains(out, "done at 2026-03-03T11:00:00Z") {
				t.Errorf("followup done: %d %q %q", code, out, errOut)
			}
			if code, _, errOut := cli("incident", "review", "--service", "api", "--id", "9", "--held", "2026-03-04", "--summary", "cache stampede",
				"--factor", "no jitter", "--factor", "cold cache"); code != 0 {
				t.Errorf("review: %d %q", code, errOut)
			}
			code, out, errOut = cli("report", "incidents", "--team", "payments", "--from", "2026-03-01", "--to", "2026-03-05", "--format", "json")
			if code != 0 {
				t.Fatalf("report: %d %q", code, errOut)
			}
			var rep struct {
				BySource          map[string]int `json:"by_source"`
				TimeToAcknowledge struct {
					Median *float64 `json:"median_seconds"`
				} `json:"time_to_acknowledge"`
				TimeToRestore struct {
					Median *float64 `json:"median_seconds"`
				} `json:"time_to_restore"`
				Breaches  int `json:"breaches"`
				Incidents []struct {
					ID       string `json:"id"`
					Breached bool   `json:"breached"`
				} `json:"incidents"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatal(err)
			}
			// Acknowledged after 20 min (within 1 h), restored after 1 h.
			if rep.TimeToAcknowledge.Median == nil || *rep.TimeToAcknowledge.Median != 1200 || rep.TimeToRestore.Median == nil || *rep.TimeToRestore.Median != 3600 {
				t.Errorf("figures %s", out)
			}
			if rep.Breaches != 0 || rep.BySource["monitoring"] != 1 || len(rep.Incidents) != 1 || rep.Incidents[0].Breached {
				t.Errorf("report %s", out)
			}
			if code, out, _ := cli("report", "incidents", "--service", "api", "--from", "2026-03-01", "--to", "2026-03-05", "--explain", "time_to_acknowledge"); code != 0 || !strings.Contains(out, "api") {
				t.Errorf("explain: %d %q", code, out)
			}
			if code, out, _ := cli("incident", "list", "--service", "api", "--all"); code != 0 || !strings.Contains(out, "slow checkout") {
				t.Errorf("list --all: %d %q", code, out)
			}
			if code, out, _ := cli("incident", "list", "--service", "api"); code != 0 || strings.Contains(out, "slow checkout") {
				t.Errorf("list of open incidents shows a resolved one: %d %q", code, out)
			}
		})
	}
}
