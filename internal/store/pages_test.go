package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestPageFacts checks the readers of the dashboard's pages on a small
// history: every environment and ring in the timeline, the incidents open
// at the period's end or opened in it, the most recently deployed commits,
// the stored services with their teams and those with incidents.
func TestPageFacts(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
		dep := func(id, env, ring, sha string, status delivery.DeploymentStatus, fin time.Time) delivery.Event {
			return delivery.Event{Key: "d" + id, Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
				Service: "shop", Environment: env, Ring: ring, ID: id, SHA: sha, Status: status, FinishedAt: fin}}
		}
		inc := func(id string, opened, resolved time.Time) delivery.Event {
			return delivery.Event{Key: "i" + id, Kind: delivery.KindIncident, Incident: &delivery.Incident{
				Service: "shop", ID: id, Severity: 1, OpenedAt: opened, ResolvedAt: resolved}}
		}
		events := []delivery.Event{
			dep("1", "staging", "", "a", delivery.DeploymentSuccess, at(1, 10)), // before the period
			dep("2", "staging", "", "b", delivery.DeploymentFailure, at(2, 10)),
			dep("3", "production", "canary", "b", delivery.DeploymentSuccess, at(3, 10)),
			dep("4", "production", "", "c", delivery.DeploymentSuccess, at(4, 10)),
			dep("5", "production", "", "d", delivery.DeploymentSuccess, at(9, 10)), // after it
			inc("old-resolved", at(1, 0), at(1, 2)),                                // before the period, resolved before it: out
			inc("old-open", at(1, 0), time.Time{}),                                 // opened before, still open: in
			inc("resolved-late", at(1, 0), at(9, 0)),                               // open at the period's end: in
			inc("in-period", at(3, 0), at(3, 1)),                                   // opened in it: in
			inc("after", at(9, 5), time.Time{}),                                    // opened after: out
		}
		ingest(t, db, events...)
		if err := db.SetService(ctx, delivery.Service{Name: "api", Team: "core"}, nil); err != nil {
			t.Fatal(err)
		}
		period := delivery.Period{From: at(2, 0), To: at(8, 0)}

		deps, err := db.PeriodDeployments(ctx, []string{"shop"}, period)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range deps {
			got = append(got, fmt.Sprintf("%s/%s/%s/%s", d.ID, d.Environment, d.Ring, d.Status))
		}
		if want := []string{"2/staging//failure", "3/production/canary/success", "4/production//success"}; !slices.Equal(got, want) {
			t.Errorf("deployments %v, want %v", got, want)
		}

		incs, err := db.PeriodIncidents(ctx, []string{"shop"}, period)
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		for _, i := range incs {
			got = append(got, i.ID)
		}
		slices.Sort(got)
		if want := []string{"in-period", "old-open", "resolved-late"}; !slices.Equal(got, want) {
			t.Errorf("incidents %v, want %v", got, want)
		}

		shas, err := db.RecentCommits(ctx, "shop", 3)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"d", "c", "b"}; !slices.Equal(shas, want) {
			t.Errorf("recent commits %v, want %v (b's latest deployment is on the 3rd, a's on the 1st)", shas, want)
		}

		teams, err := db.ServiceTeams(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []store.ServiceTeam{{Name: "api", Team: "core"}, {Name: "shop"}}; !slices.Equal(teams, want) {
			t.Errorf("services %v, want %v", teams, want)
		}
		with, err := db.IncidentServices(ctx)
		if err != nil || !slices.Equal(with, []string{"shop"}) {
			t.Errorf("services with incidents %v, %v", with, err)
		}
		if deps, err := db.PeriodDeployments(ctx, nil, period); err != nil || deps != nil {
			t.Errorf("no services: %v, %v", deps, err)
		}
	})
}
