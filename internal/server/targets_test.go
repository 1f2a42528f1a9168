package server_test

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestDORAAnswerJudgesTheScopesTargets: a service answers with its own
// targets, a team with the team's, a service stride.yaml does not list with
// its stored team's, the organisation with none.
func TestDORAAnswerJudgesTheScopesTargets(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		if code, body := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(apiHistory)); code != 200 {
			t.Fatalf("ingest: %d %v", code, body)
		}
		// "app" is in team payments in the store but not in the catalog.
		if err := db.SetService(ctx, delivery.Service{Name: "app", Team: "payments", Repositories: []string{"app"}}, nil); err != nil {
			t.Fatal(err)
		}
		days, teamLead, ownLead, cfr := 1.0, 24*time.Hour, 4*time.Hour, 0.25
		catalog := server.Catalog{Teams: []server.CatalogTeam{{Name: "payments", Targets: dora.Targets{DeploymentDaysPerWeek: &days, LeadTime: &teamLead}}}}
		srv := &server.Server{DB: db, Reports: reader(db), Catalog: catalog}
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(hs.Close)
		ts.Server = hs
		// 2 deployment days in the week of Mar 2 (≥ 1: yes), median lead
		// time 4.5 h (≤ 24 h: yes; ≤ 4 h: no), 1 of 2 failed (50 % > 25 %).
		for _, c := range []struct {
			query string
			met   map[string]any
		}{
			{"team=payments", map[string]any{"deployment_frequency": "yes", "lead_time": "yes"}},
			{"service=app", map[string]any{"deployment_frequency": "yes", "lead_time": "yes"}},
		} {
			code, rep := ts.do(t, "GET", "/api/v1/dora?"+c.query+"&"+pagesPeriod, ts.read, nil)
			if code != 200 {
				t.Fatalf("%s: %d %v", c.query, code, rep)
			}
			if fmt.Sprint(rep["met"]) != fmt.Sprint(c.met) {
				t.Errorf("%s: met %v, want %v", c.query, rep["met"], c.met)
			}
		}
		// Configured, the service's own targets (its team's with its own
		// lead time and change failure rate, as config.TargetsOf merges
		// them) are judged.
		srv2 := &server.Server{DB: db, Reports: reader(db), Catalog: server.Catalog{Teams: catalog.Teams,
			Services: []server.CatalogService{{Name: "app", Team: "payments", Targets: dora.Targets{DeploymentDaysPerWeek: &days, LeadTime: &ownLead, ChangeFailureRate: &cfr}}}}}
		hs2 := httptest.NewServer(srv2.Handler())
		t.Cleanup(hs2.Close)
		ts.Server = hs2
		code, rep := ts.do(t, "GET", "/api/v1/dora?service=app&"+pagesPeriod, ts.read, nil)
		if code != 200 {
			t.Fatalf("service app: %d %v", code, rep)
		}
		want := map[string]any{"deployment_frequency": "yes", "lead_time": "no", "change_failure_rate": "no"}
		if fmt.Sprint(rep["met"]) != fmt.Sprint(want) {
			t.Errorf("service app: met %v, want %v", rep["met"], want)
		}
		if tg := rep["targets"].(map[string]any); tg["lead_time_seconds"] != 14400.0 || tg["change_failure_rate"] != 0.25 {
			t.Errorf("targets %v", tg)
		}
		code, rep = ts.do(t, "GET", "/api/v1/dora?"+pagesPeriod, ts.read, nil)
		if _, has := rep["met"]; code != 200 || has || rep["targets"] != nil {
			t.Errorf("organisation: %d, targets %v met %v; want none", code, rep["targets"], rep["met"])
		}
	})
}

func TestWeekStartIsMondayUTC(t *testing.T) {
	for in, want := range map[string]string{
		"2026-03-09T00:00:00Z":      "2026-03-09", // a Monday
		"2026-03-08T23:59:59Z":      "2026-03-02", // the Sunday before
		"2026-03-04T12:00:00Z":      "2026-03-02",
		"2026-01-01T00:00:00Z":      "2025-12-29", // ISO week 1 of 2026 starts in 2025
		"2026-03-09T00:30:00+01:00": "2026-03-02", // 23:30 UTC on Sunday
	} {
		at, err := time.Parse(time.RFC3339, in)
		if err != nil {
			t.Fatal(err)
		}
		if got := server.WeekStart(at).Format(time.DateOnly); got != want {
			t.Errorf("WeekStart(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestTrendsKeepTwelveWeeks: the job computes the 12 ISO weeks ending with
// the current one; Weekly returns those that end a page's period.
func TestTrendsKeepTwelveWeeks(t *testing.T) {
	db := storetest.SQLite(t)
	ts := newTestServer(t, db)
	if code, body := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(apiHistory)); code != 200 {
		t.Fatalf("ingest: %d %v", code, body)
	}
	now := time.Date(2026, 3, 11, 15, 0, 0, 0, time.UTC) // a Wednesday
	tr := &server.Trends{Reports: reader(db), Now: func() time.Time { return now }}
	if got := tr.Weekly(store.Scope{Service: "app"}, now, 12); len(got) != 0 {
		t.Errorf("before the first run: %d weeks", len(got))
	}
	if err := tr.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	all := tr.Weekly(store.Scope{Service: "app"}, now, 12)
	if len(all) != 12 || all[0].Start.Format(time.DateOnly) != "2025-12-22" || all[11].Start.Format(time.DateOnly) != "2026-03-09" {
		t.Fatalf("weeks %d, first %v, want 12 from 2025-12-22 to 2026-03-09", len(all), all[0].Start)
	}
	// The week of Mar 2 holds both deployments; the current week none.
	if all[10].DORA.DeploymentFrequency.Count != 2 || all[11].DORA.DeploymentFrequency.Count != 0 {
		t.Errorf("deployments per week: %d, %d", all[10].DORA.DeploymentFrequency.Count, all[11].DORA.DeploymentFrequency.Count)
	}
	// A period ending Mar 9 ends with the week of Mar 2: the stored weeks
	// up to it, the current one left out.
	upTo := tr.Weekly(store.Scope{Service: "app"}, time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), 4)
	if len(upTo) != 4 || upTo[3].Start.Format(time.DateOnly) != "2026-03-02" {
		t.Errorf("4 weeks to Mar 9: %d, last %v", len(upTo), upTo[len(upTo)-1].Start)
	}
	// The organisation is rolled up too, and equals the service here.
	org := tr.Weekly(store.Scope{}, now, 12)
	if len(org) != 12 || org[10].DORA.DeploymentFrequency.Count != 2 {
		t.Errorf("organisation: %d weeks", len(org))
	}
	gauges, at := tr.Gauges()
	if !at.Equal(now) || gauges["app"].DeploymentFrequency.Count != 2 {
		t.Errorf("gauges at %v: %+v", at, gauges["app"].DeploymentFrequency)
	}
}
