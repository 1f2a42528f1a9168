package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// BenchmarkOrgPageAfterDeployments is the organisation page of 50 teams of
// 10 services (orgHistory) right after one new commit and its production
// deployment for every service, which makes the page refresh 500 services'
// shipments before reading, against the same page served warm right after
// it: x-warm is the first page's time over the warm one's.
func BenchmarkOrgPageAfterDeployments(b *testing.B) {
	const teams, perTeam = 50, 10
	end := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	db := storetest.SQLite(b)
	orgHistory(b, db, teams, perTeam, end)
	// Each service's last commit, as orgHistory numbers them.
	start := end.AddDate(-1, 0, 0)
	last := map[string]string{}
	for t := range teams {
		for s := range perTeam {
			name := fmt.Sprintf("s%02d-%02d", t, s)
			at, i := start.Add(time.Duration(t*perTeam+s)*7*time.Minute), 0
			for ; at.Add(29 * time.Hour).Before(end.Add(-6 * time.Hour)); i++ {
				at = at.Add(29 * time.Hour)
			}
			last[name] = fmt.Sprintf("%s-c%d", name, i)
		}
	}
	now := func() time.Time { return end.Add(24 * time.Hour) }
	srv := &server.Server{DB: db, Reports: reader(db), Dev: true, Now: now}
	h := srv.Handler()
	serve := func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?from=2026-02-09&to=2026-03-10", nil))
		if rec.Code != 200 {
			b.Fatalf("GET /: %d %s", rec.Code, rec.Body.String()[:min(rec.Body.Len(), 500)])
		}
	}
	serve() // the first page after the load, outside the measure
	in := intake.New(db, nil)
	var p pair
	round := 0
	for b.Loop() {
		b.StopTimer()
		var events []delivery.Event
		at := end.Add(time.Duration(round) * 10 * time.Minute)
		for name, parent := range last {
			sha := fmt.Sprintf("%s-n%d", name, round)
			events = append(events,
				delivery.Event{Key: "c" + sha, Kind: delivery.KindChange, Change: &delivery.Change{Repository: name, SHA: sha, Parents: []string{parent}, CommitTime: at}},
				delivery.Event{Key: "d" + sha, Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{Service: name, ID: fmt.Sprint("n", round), SHA: sha,
					Status: delivery.DeploymentSuccess, FinishedAt: at.Add(time.Minute)}})
			last[name] = sha
		}
		if _, err := in.Events(context.Background(), "api", events); err != nil {
			b.Fatal(err)
		}
		round++
		b.StartTimer()
		p.time(&p.measured, serve)
		b.StopTimer()
		p.time(&p.reference, serve)
		b.StartTimer()
		p.rounds++
	}
	p.report(b, "warm", "x-warm", false)
}
