package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
)

// orgHistory loads teams teams of perTeam services each, every service
// with a year of history ending at end: a commit every 29 hours, a
// production deployment every third commit (one in 12 failing) and an
// incident every 25th deployment.
func orgHistory(tb testing.TB, db *store.DB, teams, perTeam int, end time.Time) {
	ctx := context.Background()
	in := intake.New(db, nil)
	var events []delivery.Event
	flush := func() {
		if len(events) == 0 {
			return
		}
		if _, err := in.Events(ctx, "api", events); err != nil {
			tb.Fatal(err)
		}
		events = events[:0]
	}
	start := end.AddDate(-1, 0, 0)
	for t := range teams {
		for s := range perTeam {
			name := fmt.Sprintf("s%02d-%02d", t, s)
			if err := db.SetService(ctx, delivery.Service{Name: name, Team: fmt.Sprintf("team%02d", t), Repositories: []string{name}}, nil); err != nil {
				tb.Fatal(err)
			}
			// Services start at different hours, so weeks differ.
			at := start.Add(time.Duration(t*perTeam+s) * 7 * time.Minute)
			for i := 0; at.Before(end.Add(-6 * time.Hour)); i++ {
				c := &delivery.Change{Repository: name, SHA: fmt.Sprintf("%s-c%d", name, i), CommitTime: at}
				if i > 0 {
					c.Parents = []string{fmt.Sprintf("%s-c%d", name, i-1)}
				}
				events = append(events, delivery.Event{Key: "c" + c.SHA, Kind: delivery.KindChange, Change: c})
				if i%3 == 2 {
					d := i / 3
					status := delivery.DeploymentSuccess
					if d%12 == 11 {
						status = delivery.DeploymentFailure
					}
					events = append(events, delivery.Event{Key: fmt.Sprintf("%s-d%d", name, d), Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
						Service: name, ID: fmt.Sprint(d), SHA: c.SHA, Status: status, FinishedAt: at.Add(3 * time.Hour)}})
					if d%25 == 12 {
						events = append(events, delivery.Event{Key: fmt.Sprintf("%s-i%d", name, d), Kind: delivery.KindIncident, Incident: &delivery.Incident{
							Service: name, ID: fmt.Sprint(d), Severity: 1, OpenedAt: at.Add(4 * time.Hour), ResolvedAt: at.Add(5 * time.Hour)}})
					}
				}
				if len(events) >= delivery.MaxBatch-3 {
					flush()
				}
				at = at.Add(29 * time.Hour)
			}
		}
	}
	flush()
	if _, err := db.RefreshShipments(ctx); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkOrgPage is the organisation page of 50 teams of 10 services,
// each with a year of history, against GET /api/v1/dora for the same
// scope (the organisation) and period, both served by the same handler
// in-process: page-ms and api-ms are each one's server time, ratio is
// page over API. The trend job runs once before (refresh-s), as the
// server's does every five minutes. x-raw-scan is the page's time over
// orgRawScan of the period's rows of its 500 services, run alternately.
func BenchmarkOrgPage(b *testing.B) {
	end := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	db, raw := benchStore(b, "sqlite")
	orgHistory(b, db, 50, 10, end)
	var services []string
	for t := range 50 {
		for s := range 10 {
			services = append(services, fmt.Sprintf("s%02d-%02d", t, s))
		}
	}
	now := func() time.Time { return end }
	srv := &server.Server{DB: db, Reports: reader(db), Dev: true, Now: now, Trends: &server.Trends{Reports: reader(db), Now: now}}
	start := time.Now()
	if err := srv.Trends.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	refresh := time.Since(start)
	h := srv.Handler()
	period := "from=2026-02-09&to=2026-03-09"
	serve := func(path string) time.Duration {
		rec := httptest.NewRecorder()
		t0 := time.Now()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		d := time.Since(t0)
		if rec.Code != 200 {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String()[:min(rec.Body.Len(), 500)])
		}
		if strings.HasPrefix(path, "/?") && !strings.Contains(rec.Body.String(), "team49") {
			b.Fatal("the organisation page lacks team49")
		}
		return d
	}
	var page, api, scan time.Duration
	from, to := time.Date(2026, 2, 9, 0, 0, 0, 0, time.UTC), end
	b.ResetTimer()
	for b.Loop() {
		page += serve("/?" + period)
		api += serve("/api/v1/dora?" + period)
		t0 := time.Now()
		if orgRawScan(b, raw, services, from, to) == 0 {
			b.Fatal("the raw scan read nothing")
		}
		scan += time.Since(t0)
	}
	n := float64(b.N)
	b.ReportMetric(float64(page.Microseconds())/n/1000, "page-ms")
	b.ReportMetric(float64(api.Microseconds())/n/1000, "api-ms")
	b.ReportMetric(float64(page)/float64(api), "ratio")
	b.ReportMetric(float64(scan.Microseconds())/n/1000, "raw-scan-ms")
	b.ReportMetric(float64(page)/float64(scan), "x-raw-scan")
	b.ReportMetric(refresh.Seconds(), "refresh-s")
}
