package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/cihealth"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
)

// TestReportCI runs `stride report ci` and `stride report deploy-hours`
// on a hand-built Monday (2026-03-02) of service app, team core, which
// works in Berlin with a commit-to-production target of 5 minutes:
//
//	build 1 ci main failed 09:10, build 2 ci main green 10:05: red 55 min
//	c1 committed 10:00, deployed at 10:10 (11:10 in Berlin): 10 min, over
//	c2 committed 16:55, deployed at 17:00 (18:00 in Berlin): 5 min, within,
//	  and outside working hours
func TestReportCI(t *testing.T) {
	dir := t.TempDir()
	db, cfg := filepath.Join(dir, "stride.db"), filepath.Join(dir, "stride.yaml")
	yaml := `
services:
  - {name: app, team: core, repositories: [app]}
teams:
  - name: core
    targets: {commit_to_production: 5m}
    working_hours: {timezone: Europe/Berlin}
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := stride(t, "migrate", "--db", db, "--config", cfg); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetService(ctx, delivery.Service{Name: "app", Team: "core", Repositories: []string{"app"}}, nil); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return day.Add(time.Duration(m) * time.Minute) }
	events := []delivery.Event{
		{Key: "b1", Kind: delivery.KindBuild, Build: &delivery.Build{Repository: "app", ID: "1", Name: "ci", Branch: "main", DefaultBranch: "main",
			Status: delivery.BuildFailure, Attempt: 1, StartedAt: at(0), FinishedAt: at(10)}},
		{Key: "b2", Kind: delivery.KindBuild, Build: &delivery.Build{Repository: "app", ID: "2", Name: "ci", Branch: "main",
			Status: delivery.BuildSuccess, Attempt: 1, StartedAt: at(55), FinishedAt: at(65)}},
		{Key: "c1", Kind: delivery.KindChange, Change: &delivery.Change{Repository: "app", SHA: "c1", CommitTime: at(60)}},
		{Key: "c2", Kind: delivery.KindChange, Change: &delivery.Change{Repository: "app", SHA: "c2", Parents: []string{"c1"}, CommitTime: at(475)}},
		{Key: "d1", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{Service: "app", ID: "d1", SHA: "c1", Repository: "app",
			Status: delivery.DeploymentSuccess, FinishedAt: at(70)}},
		{Key: "d2", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{Service: "app", ID: "d2", SHA: "c2", Repository: "app",
			Status: delivery.DeploymentSuccess, FinishedAt: at(480)}},
	}
	if _, err := intake.New(s, nil).Events(ctx, "api", events); err != nil {
		t.Fatal(err)
	}
	s.Close()
	period := []string{"--db", db, "--config", cfg, "--from", "2026-03-02", "--to", "2026-03-03"}

	code, out, errOut := stride(t, append([]string{"report", "ci", "--service", "app", "--format", "json"}, period...)...)
	var rep cihealth.Report
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("report ci: %d %q %q", code, out, errOut)
	}
	c := rep.CommitToProduction
	if len(rep.Branches) != 1 || rep.Branches[0].RedSeconds != 55*60 || c.Changes != 2 || c.WithinTarget != 1 || *c.MedianSeconds != 450 {
		t.Errorf("report ci: branches %+v, commit to production %+v", rep.Branches, c)
	}
	if code, out, _ := stride(t, append([]string{"report", "ci", "--team", "core"}, period...)...); code != 0 || !strings.Contains(out, "app main (reported)") || !strings.Contains(out, "50.0% within target") {
		t.Errorf("report ci table: %d %q", code, out)
	}
	if code, out, _ := stride(t, append([]string{"report", "ci", "--explain", "red_time"}, period...)...); code != 0 || !strings.Contains(out, "red: starts a red stretch") {
		t.Errorf("report ci --explain red_time: %d %q", code, out)
	}
	if code, out, _ := stride(t, append([]string{"report", "deploy-hours", "--team", "core"}, period...)...); code != 0 || !strings.Contains(out, "outside working hours: 50.0% (1 of 2)") || !strings.Contains(out, "Europe/Berlin") {
		t.Errorf("report deploy-hours: %d %q", code, out)
	}
	if code, out, _ := stride(t, append([]string{"report", "deploy-hours", "--explain", "deploy_hours"}, period...)...); code != 0 || !strings.Contains(out, "Mon 2026-03-02 18:00") {
		t.Errorf("report deploy-hours --explain: %d %q", code, out)
	}
	if code, _, errOut := stride(t, append([]string{"report", "ci", "--explain", "deploy_hours"}, period...)...); code == 0 || !strings.Contains(errOut, "report deploy-hours") {
		t.Errorf("report ci --explain deploy_hours: %d %q; want a refusal pointing at report deploy-hours", code, errOut)
	}
}
