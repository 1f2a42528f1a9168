package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/impacteval"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestReportImpact: `stride report impact` prints what the job stored,
// and --explain lists one deployment's minutes, on both databases.
func TestReportImpact(t *testing.T) {
	ctx := context.Background()
	cfg := filepath.Join(t.TempDir(), "stride.yaml")
	if err := os.WriteFile(cfg, []byte("services:\n  - name: app\n    apdex_t: 300ms\n    impact: {before: 10m, after: 10m}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, url := range storetest.URLs(t) {
		t.Run(name, func(t *testing.T) {
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			in := intake.New(db, nil)
			defs, err := slo.ParseOpenSLO(strings.NewReader("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: app-a}\nspec:\n  service: app\n  indicator: {spec: {ratioMetric: {good: {metricSource: {type: stride}}, total: {metricSource: {type: stride}}}}}\n  timeWindow: [{duration: 30d, isRolling: true}]\n  budgetingMethod: Occurrences\n  objectives: [{target: 0.99}]\n"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := in.SLOs(ctx, defs); err != nil {
				t.Fatal(err)
			}
			// 10 minutes each side of fin: 200 calls a minute, none
			// failed before, 20 a minute after (10 %).
			// The job looks back 3 days from its clock, time.Now.
			fin := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Minute)
			from, to := fin.Add(-24*time.Hour).Format(time.RFC3339), fin.Add(24*time.Hour).Format(time.RFC3339)
			var ps []slo.Push
			for i := range 10 {
				b, a := fin.Add(time.Duration(i-10)*time.Minute), fin.Add(time.Duration(i)*time.Minute)
				ps = append(ps, slo.Push{Service: "app", Start: b, End: b.Add(time.Minute), Good: 200, Total: 200},
					slo.Push{Service: "app", Start: a, End: a.Add(time.Minute), Good: 180, Total: 200})
			}
			if _, err := in.SLI(ctx, ps); err != nil {
				t.Fatal(err)
			}
			if _, err := in.Events(ctx, "api", []delivery.Event{{Key: "d1", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
				Service: "app", ID: "d1", SHA: "abc", Status: delivery.DeploymentSuccess, FinishedAt: fin}}}); err != nil {
				t.Fatal(err)
			}
			c, err := config.Load(cfg, false)
			if err != nil {
				t.Fatal(err)
			}
			tasks, err := impactTasks(c, db, in)
			if err != nil || len(tasks) != 1 {
				t.Fatalf("%d tasks, %v; want the impact job alone (no Prometheus queries)", len(tasks), err)
			}
			job := tasks[0]
			if job.Name != impacteval.TaskName {
				t.Fatalf("task %s", job.Name)
			}
			if err := job.Run(ctx); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := stride(t, "report", "impact", "--db", url, "--config", cfg, "--service", "app", "--from", from, "--to", to)
			if code != 0 || !strings.Contains(out, " 1 assessed, 1 flagged") || !strings.Contains(out, "error rate rose from 0 % to 10 % (200 of 2000 calls failed in the 10 min after") {
				t.Errorf("report: %d %q %q", code, out, errOut)
			}
			code, out, errOut = stride(t, "report", "impact", "--db", url, "--config", cfg, "--service", "app", "--from", from, "--to", to, "--explain", "d1", "--format", "json")
			var rep report.ImpactReport
			if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || len(rep.Deployments) != 1 || len(rep.Deployments[0].Minutes) != 20 {
				t.Errorf("explain: %d %q %q; want d1 with its 20 minutes", code, out, errOut)
			}
			if code, _, errOut := stride(t, "report", "impact", "--db", url, "--config", cfg, "--from", from, "--to", to, "--explain", "nope"); code == 0 || !strings.Contains(errOut, "no assessed deployment nope") {
				t.Errorf("explain nope: %d %q", code, errOut)
			}
		})
	}
}

// TestServeRunsTheImpactJob: `stride serve` runs the impact job, so a
// deployment whose window has passed is assessed without a request doing
// it, and the API shows the result.
func TestServeRunsTheImpactJob(t *testing.T) {
	ctx := context.Background()
	for name, url := range storetest.URLs(t) {
		t.Run(name, func(t *testing.T) {
			code, token, stderr := stride(t, "token", "create", "--db", url, "--name", "e2e", "--scope", "admin")
			if code != 0 {
				t.Fatalf("token create: %d %s", code, stderr)
			}
			token = strings.TrimSpace(token)
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			in := intake.New(db, nil)
			defs, _ := slo.ParseOpenSLO(strings.NewReader("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: app-a}\nspec:\n  service: app\n  indicator: {spec: {ratioMetric: {good: {metricSource: {type: stride}}, total: {metricSource: {type: stride}}}}}\n  timeWindow: [{duration: 30d, isRolling: true}]\n  budgetingMethod: Occurrences\n  objectives: [{target: 0.99}]\n"))
			if _, err := in.SLOs(ctx, defs); err != nil {
				t.Fatal(err)
			}
			// An hour ago, 30 minutes each side: 0 of 3,000 failed before,
			// 300 of 3,000 after.
			fin := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
			var ps []slo.Push
			for i := range 30 {
				b, a := fin.Add(time.Duration(i-30)*time.Minute), fin.Add(time.Duration(i)*time.Minute)
				ps = append(ps, slo.Push{Service: "app", Start: b, End: b.Add(time.Minute), Good: 100, Total: 100},
					slo.Push{Service: "app", Start: a, End: a.Add(time.Minute), Good: 90, Total: 100})
			}
			if _, err := in.SLI(ctx, ps); err != nil {
				t.Fatal(err)
			}
			if _, err := in.Events(ctx, "api", []delivery.Event{{Key: "d1", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
				Service: "app", ID: "d1", SHA: "abc", Status: delivery.DeploymentSuccess, FinishedAt: fin}}}); err != nil {
				t.Fatal(err)
			}
			db.Close()
			base, stop := serve(t, url)
			q := "/api/v1/deployments/impact?service=app&from=" + fin.Add(-time.Hour).Format(time.RFC3339) + "&to=" + fin.Add(time.Hour).Format(time.RFC3339)
			deadline := time.Now().Add(60 * time.Second)
			var rep report.ImpactReport
			for {
				code, body := get(t, base+q, token)
				if code != 200 {
					t.Fatalf("impact: %d %s", code, body)
				}
				if err := json.Unmarshal(body, &rep); err != nil {
					t.Fatal(err)
				}
				if len(rep.Deployments) > 0 || time.Now().After(deadline) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if len(rep.Deployments) != 1 || !rep.Deployments[0].Flagged || rep.Deployments[0].After.Failed != 300 {
				t.Errorf("after serving: %+v, want d1 flagged with 300 failed after", rep)
			}
			if c := stop(); c != 0 {
				t.Errorf("serve exited with %d", c)
			}
		})
	}
}
