package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/store/storetest"
)

// targetsYAML gives team payments targets and its service shop a lead
// time target of its own.
const targetsYAML = `# stride.yaml
teams:
  - name: payments
    targets: {deployment_days_per_week: 5, lead_time: 24h}
services:
  - name: shop
    team: payments
    targets: {lead_time: 1h}
`

// TestReportDORATargets: the command line prints the scope's targets under
// the table, its JSON answers as the API does, and the service's own lead
// time target overrides its team's.
func TestReportDORATargets(t *testing.T) {
	for name, db := range storetest.URLs(t) {
		t.Run(name, func(t *testing.T) {
			code, token, stderr := stride(t, "token", "create", "--db", db, "--name", "e2e", "--scope", "admin")
			if code != 0 {
				t.Fatalf("token create: %d %s", code, stderr)
			}
			base, stop := serve(t, db)
			if code, body := post(t, base+"/api/v1/events", strings.TrimSpace(token), e2eHistory); code != 200 {
				t.Fatalf("ingest: %d %s", code, body)
			}
			if c := stop(); c != 0 {
				t.Fatalf("serve exited with %d", c)
			}
			cfg := filepath.Join(t.TempDir(), "stride.yaml")
			if err := os.WriteFile(cfg, []byte(targetsYAML), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"report", "dora", "--db", db, "--config", cfg, "--service", "shop", "--from", "2026-01-01", "--to", "2026-02-01"}
			code, table, stderr := stride(t, args...)
			if code != 0 {
				t.Fatalf("report: %d %s", code, stderr)
			}
			// e2eHistory (TestServeIngestReport): lead time median 12 h over 3
			// changes, over the 1 h of shop's own target; successes on Jan 5
			// and 7 only, so of the five ISO weeks the period touches one
			// has 2 deployment days and four none: median 0, under the
			// team's 5.
			for _, want := range []string{
				"target no       Deploying daily? No: 0.0 deployment days a week, target 5\n",
				"target no       Lead time within 1h? No: median 12h 0m over 3 changes, target 1h\n",
			} {
				if !strings.Contains(table, want) {
					t.Errorf("the table lacks %q:\n%s", want, table)
				}
			}
			code, js, stderr := stride(t, append(args, "--format", "json")...)
			if code != 0 {
				t.Fatalf("report json: %d %s", code, stderr)
			}
			var ans struct {
				Targets map[string]float64 `json:"targets"`
				Met     map[string]string  `json:"met"`
			}
			if err := json.Unmarshal([]byte(js), &ans); err != nil {
				t.Fatal(err)
			}
			if ans.Targets["lead_time_seconds"] != 3600 || ans.Targets["deployment_days_per_week"] != 5 ||
				ans.Met["lead_time"] != "no" || ans.Met["deployment_frequency"] != "no" {
				t.Errorf("json targets %v met %v", ans.Targets, ans.Met)
			}
			// The organisation has no targets: no target lines.
			code, org, _ := stride(t, "report", "dora", "--db", db, "--config", cfg, "--from", "2026-01-01", "--to", "2026-02-01")
			if code != 0 || strings.Contains(org, "target ") {
				t.Errorf("org report: %d\n%s", code, org)
			}
		})
	}
}

// TestServeDashboardWiring checks what runServe wires: the dashboard at /
// behind a sign-in, the OpenAPI document, the configured team's targets in
// the API's answer, and the trend job's first run at start, which the
// /metrics DORA gauges come from.
func TestServeDashboardWiring(t *testing.T) {
	db := filepath.Join(t.TempDir(), "stride.db")
	code, token, stderr := stride(t, "token", "create", "--db", db, "--name", "e2e", "--scope", "admin")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, stderr)
	}
	token = strings.TrimSpace(token)
	cfg := filepath.Join(t.TempDir(), "stride.yaml")
	if err := os.WriteFile(cfg, []byte("db: "+db+"\n"+targetsYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	base, stop := serveConfig(t, cfg)
	defer stop()
	if code, body := post(t, base+"/api/v1/events", token, e2eHistory); code != 200 {
		t.Fatalf("ingest: %d %s", code, body)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("GET /: %d to %q, want the sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, body := get(t, base+"/api/openapi.json", ""); code != 200 || !strings.Contains(string(body), `"openapi": "3.1.0"`) {
		t.Errorf("GET /api/openapi.json: %d", code)
	}
	code, body := get(t, base+"/api/v1/dora?team=payments&from=2026-01-01&to=2026-02-01", token)
	if code != 200 || !strings.Contains(string(body), `"met"`) || !strings.Contains(string(body), `"lead_time_seconds": 86400`) {
		t.Errorf("dora of payments: %d %s", code, body)
	}
	// The trend job's first run starts with the server; the gauges appear
	// once it has ended.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, m := get(t, base+"/metrics", token)
		if strings.Contains(string(m), "stride_dora_report_timestamp_seconds") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no DORA gauges on /metrics after 20 s:\n%s", m)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
