package report_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// history loads a service with deployments deployments and changes
// changes (a linear history, a deployment every changes/deployments
// commits, one in 12 failing, an incident every 100 deployments).
func history(tb testing.TB, db *store.DB, deployments, changes int) delivery.Period {
	ctx := context.Background()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	per := changes / deployments
	var events []delivery.Event
	flush := func() {
		if _, err := intake.New(db, nil).Events(ctx, "api", events); err != nil {
			tb.Fatal(err)
		}
		events = events[:0]
	}
	for i := 0; i < changes; i++ {
		c := &delivery.Change{Repository: "svc", SHA: fmt.Sprintf("c%d", i), CommitTime: t0.Add(time.Duration(i) * 5 * time.Minute)}
		if i > 0 {
			c.Parents = []string{fmt.Sprintf("c%d", i-1)}
		}
		events = append(events, delivery.Event{Key: "c" + c.SHA, Kind: delivery.KindChange, Change: c})
		if i%per == per-1 {
			d := i / per
			status := delivery.DeploymentSuccess
			if d%12 == 11 {
				status = delivery.DeploymentFailure
			}
			events = append(events, delivery.Event{Key: fmt.Sprintf("d%d", d), Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
				Service: "svc", ID: fmt.Sprint(d), SHA: c.SHA, Status: status, FinishedAt: c.CommitTime.Add(3 * time.Hour)}})
			if d%100 == 50 {
				events = append(events, delivery.Event{Key: fmt.Sprintf("i%d", d), Kind: delivery.KindIncident, Incident: &delivery.Incident{
					Service: "svc", ID: fmt.Sprint(d), Severity: 1, OpenedAt: c.CommitTime.Add(4 * time.Hour), ResolvedAt: c.CommitTime.Add(6 * time.Hour)}})
			}
		}
		if len(events) >= delivery.MaxBatch-2 {
			flush()
		}
	}
	flush()
	if _, err := db.RefreshShipments(ctx); err != nil {
		tb.Fatal(err)
	}
	return delivery.Period{From: t0, To: t0.Add(time.Duration(changes)*5*time.Minute + 24*time.Hour)}
}

// BenchmarkDORAReport is a whole-history DORA report over a service with
// 10,000 deployments and 200,000 changes, read from SQLite and, when
// STRIDE_TEST_POSTGRES is set, PostgreSQL.
func BenchmarkDORAReport(b *testing.B) {
	dbs := map[string]func(testing.TB) *store.DB{"sqlite": storetest.SQLite}
	if storetest.PostgresURL() != "" {
		dbs["postgres"] = storetest.Postgres
	}
	for name, open := range dbs {
		b.Run(name, func(b *testing.B) {
			db := open(b)
			period := history(b, db, 10_000, 200_000)
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				r, err := (&report.Reader{Store: db}).DORA(ctx, store.Scope{Service: "svc"}, period, nil)
				if err != nil {
					b.Fatal(err)
				}
				if r.LeadTime.Count != 200_000-19 { // the first deployment ships only its own commit: c0..c18 are history
					b.Fatalf("lead time over %d changes", r.LeadTime.Count)
				}
			}
		})
	}
}

// BenchmarkRefreshShipments recomputes the shipments of that service from
// its commit graph, as the first report after new data does.
func BenchmarkRefreshShipments(b *testing.B) {
	db := storetest.SQLite(b)
	history(b, db, 10_000, 200_000)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		// SetService marks the service stale only when its configuration
		// changed, so each round moves it to another team.
		i++
		if err := db.SetService(ctx, delivery.Service{Name: "svc", Team: fmt.Sprint("team", i%2)}, nil); err != nil {
			b.Fatal(err)
		}
		if n, err := db.RefreshShipments(ctx, "svc"); err != nil || n != 1 {
			b.Fatal(n, err)
		}
	}
}
