package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// digestYAML sends team payments' digest to a chat route on Mondays at
// 09:00 in Berlin.
const digestYAML = `# stride.yaml
teams:
  - name: payments
    targets: {deployment_days_per_week: 5, lead_time: 24h}
    digest: {weekday: mon, hour: 9, timezone: Europe/Berlin, routes: [payments-chat]}
services:
  - name: shop
    team: payments
response:
  routes:
    payments-chat: {slack: {url: "https://hooks.example.com/T1"}}
`

// e2eEvents are e2eHistory's events.
func e2eEvents() []delivery.Event {
	at := func(s string) time.Time {
		v, _ := time.Parse(time.RFC3339, s)
		return v
	}
	change := func(sha, when string, parents ...string) delivery.Event {
		return delivery.Event{Key: "c" + sha, Kind: delivery.KindChange, Change: &delivery.Change{Repository: "shop", SHA: sha, Parents: parents, CommitTime: at(when)}}
	}
	deploy := func(id, sha string, status delivery.DeploymentStatus, when string) delivery.Event {
		return delivery.Event{Key: "d" + id, Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{Service: "shop", ID: id, SHA: sha, Status: status, FinishedAt: at(when)}}
	}
	return []delivery.Event{
		change("a1", "2026-01-05T08:00:00Z"), change("b2", "2026-01-06T08:00:00Z", "a1"), change("c3", "2026-01-07T08:00:00Z", "b2"),
		deploy("1", "a1", delivery.DeploymentSuccess, "2026-01-05T10:00:00Z"),
		deploy("2", "c3", delivery.DeploymentSuccess, "2026-01-07T20:00:00Z"),
		deploy("3", "c3", delivery.DeploymentFailure, "2026-01-08T09:00:00Z"),
	}
}

// TestReportDigest prints team payments' digest of e2eHistory's week of
// 5 January, as the job would send it, in every format.
func TestReportDigest(t *testing.T) {
	for name, url := range storetest.URLs(t) {
		t.Run(name, func(t *testing.T) {
			db, err := store.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := intake.New(db, nil).Events(context.Background(), "api", e2eEvents()); err != nil {
				t.Fatal(err)
			}
			db.Close()
			cfg := filepath.Join(t.TempDir(), "stride.yaml")
			if err := os.WriteFile(cfg, []byte(digestYAML), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"report", "digest", "--db", url, "--config", cfg, "--team", "payments", "--at", "2026-01-12T08:00:00Z"}
			code, out, stderr := stride(t, append(args, "--format", "json")...)
			if code != 0 {
				t.Fatalf("report digest: %d %s", code, stderr)
			}
			var d struct {
				Week     string `json:"week"`
				Headline string `json:"headline"`
				Figures  struct {
					LeadTime *float64 `json:"lead_time_median_seconds"`
					Failed   int      `json:"failed_deployments"`
				} `json:"figures"`
			}
			if err := json.Unmarshal([]byte(out), &d); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			// Four weeks from 15 December: deployment days 0, 0, 0, 2, median
			// 0; lead time 12 h over 3 changes (TestReportDORATargets); the
			// failed deployment d3. The key is the week of Monday 12 January
			// in Berlin.
			want := "Are you now deploying daily? No: 0.0 deployment days a week (median of the last 4 weeks); daily is 5."
			if d.Week != "2026-W03" || d.Headline != want || d.Figures.LeadTime == nil || *d.Figures.LeadTime != 12*3600 || d.Figures.Failed != 1 {
				t.Errorf("digest %+v", d)
			}
			for format, first := range map[string]string{"text": want + "\n", "chat": "*" + want + "*\n", "html": "<!DOCTYPE html>\n"} {
				code, out, stderr := stride(t, append(args, "--format", format)...)
				if code != 0 || !strings.HasPrefix(out, first) {
					t.Errorf("--format %s: %d %s\n%s", format, code, stderr, out)
				}
			}
			if code, _, stderr := stride(t, "report", "digest", "--db", url, "--config", cfg); code != 2 || !strings.Contains(stderr, "--team is required") {
				t.Errorf("without --team: %d %s", code, stderr)
			}
			if code, _, _ := stride(t, append(args, "--format", "xml")...); code != 2 {
				t.Errorf("--format xml: %d", code)
			}
		})
	}
}
