package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

const cliSLOs = `apiVersion: openslo/v1
kind: SLI
metadata: {name: api-calls}
spec:
  ratioMetric:
    good: {metricSource: {type: stride}}
    total: {metricSource: {type: stride}}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: api-availability}
spec:
  service: api
  indicatorRef: api-calls
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
`

// TestSLOCommands applies SLOs, pushes an hour of minutes through the
// write path, and reads them back with every SLO command, on both
// databases.
func TestSLOCommands(t *testing.T) {
	for name, url := range storetest.URLs(t) {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "slos.yaml")
			if err := os.WriteFile(file, []byte(cliSLOs), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, out, errOut := stride(t, "slo", "apply", "-f", file, "--db", url); code != 0 || !strings.Contains(out, "applied 1 SLOs: 1 new") {
				t.Fatalf("apply: %d %q %q", code, out, errOut)
			}
			if code, _, errOut := stride(t, "slo", "apply", "-f", file, "--db", url); code != 0 {
				t.Fatalf("apply again: %d %q", code, errOut)
			}
			bad := filepath.Join(t.TempDir(), "bad.yaml")
			os.WriteFile(bad, []byte(strings.Replace(cliSLOs, "0.999", "1", 1)), 0o644)
			if code, _, errOut := stride(t, "slo", "apply", "-f", bad, "--db", url); code != 2 || !strings.Contains(errOut, "objectives") {
				t.Errorf("apply objective 1: %d %q, want exit 2 naming the objective", code, errOut)
			}
			if code, out, _ := stride(t, "slo", "list", "--db", url); code != 0 || !strings.Contains(out, "api-availability") || !strings.Contains(out, "99.9 %") {
				t.Errorf("list: %d %q", code, out)
			}
			// A pushed SLO has no Prometheus series to write rules for.
			if code, out, _ := stride(t, "slo", "rules", "--db", url); code != 0 || !strings.Contains(out, "Left out: api-availability (pushed to Stride)") {
				t.Errorf("rules: %d %q", code, out)
			}

			// An hour of 1,000 calls a minute ending at the last whole
			// minute, 10 bad in each of its last 5 minutes.
			db, err := store.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC().Truncate(time.Minute)
			var ps []slo.Push
			for i := 60; i > 0; i-- {
				s := now.Add(-time.Duration(i) * time.Minute)
				good := int64(1000)
				if i <= 5 {
					good = 990
				}
				ps = append(ps, slo.Push{SLO: "api-availability", Start: s, End: s.Add(time.Minute), Good: good, Total: 1000})
			}
			if _, err := intake.New(db, nil).SLI(context.Background(), ps); err != nil {
				t.Fatal(err)
			}
			db.Close()

			code, out, errOut := stride(t, "report", "slo", "--service", "api", "--format", "json", "--db", url)
			var reports []slo.Report
			if code != 0 || json.Unmarshal([]byte(out), &reports) != nil || len(reports) != 1 {
				t.Fatalf("report slo: %d %q %q", code, out, errOut)
			}
			// 50 bad of 60,000 against a budget of 60 calls: 1/6 left.
			r := reports[0]
			if r.Total != 60000 || r.Good != 59950 || r.Frozen || r.BudgetRemaining < 0.1666 || r.BudgetRemaining > 0.1667 {
				t.Errorf("report %d/%d remaining %v frozen %v", r.Good, r.Total, r.BudgetRemaining, r.Frozen)
			}
			if code, out, _ := stride(t, "report", "slo", "--explain", "api-availability", "--db", url); code != 0 || strings.Count(out, "\n") < 6 {
				t.Errorf("explain: %d %q, want a header and the 5 minutes", code, out)
			}
			if code, out, errOut := stride(t, "report", "slo", "--calendar", "month", "--from", now.AddDate(0, -1, 0).Format("2006-01-02"), "--format", "json", "--db", url); code != 0 || !strings.Contains(out, `"period"`) {
				t.Errorf("calendar: %d %q %q", code, out, errOut)
			}
			from := now.Add(10 * 24 * time.Hour).Format(time.RFC3339)
			to := now.Add(10*24*time.Hour + time.Hour).Format(time.RFC3339)
			if code, out, errOut := stride(t, "maintenance", "add", "--service", "api", "--from", from, "--to", to, "--reason", "db upgrade", "--db", url); code != 0 || !strings.Contains(out, "left out") {
				t.Errorf("maintenance add: %d %q %q", code, out, errOut)
			}
			if code, _, _ := stride(t, "maintenance", "add", "--service", "api", "--from", "soon", "--to", to, "--db", url); code != 2 {
				t.Errorf("maintenance add --from soon: %d, want 2", code)
			}
			if code, out, errOut := stride(t, "rings", "export", "--format", "flagd", "--service", "api", "--db", url); code != 0 || !strings.Contains(out, `"api.ring"`) {
				t.Errorf("rings export: %d %q %q", code, out, errOut)
			}
		})
	}
}
