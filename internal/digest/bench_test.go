package digest_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
)

// BenchmarkDigest builds team payments' digest of a busy twelve weeks (two
// services, 40 deployments and 400 changes a week each, one deployment in
// 12 failing, an incident every 100) on SQLite, against a reference
// measured in the same run, alternating with it: a raw scan of the same
// twelve weeks' shipments and deployments, the rows the digest's reports
// read. ns/op is the digest; raw-ns/op the reference; x-raw their ratio.
func BenchmarkDigest(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "stride.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	end := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	start := end.AddDate(0, 0, -7*12)
	for _, svc := range []string{"pay", "ledger"} {
		if err := db.SetService(ctx, delivery.Service{Name: svc, Team: "payments", Repositories: []string{svc}}, nil); err != nil {
			b.Fatal(err)
		}
		var events []delivery.Event
		flush := func() {
			if _, err := intake.New(db, nil).Events(ctx, "api", events); err != nil {
				b.Fatal(err)
			}
			events = events[:0]
		}
		const deployments, per = 12 * 40, 10
		step := end.Sub(start) / deployments
		for d := range deployments {
			at := start.Add(time.Duration(d) * step)
			var sha string
			for c := range per {
				sha = fmt.Sprintf("%s-%d-%d", svc, d, c)
				events = append(events, delivery.Event{Key: "c" + sha, Kind: delivery.KindChange, Change: &delivery.Change{
					Repository: svc, SHA: sha, CommitTime: at.Add(-time.Duration(c+1) * 17 * time.Minute)}})
			}
			status := delivery.DeploymentSuccess
			if d%12 == 11 {
				status = delivery.DeploymentFailure
			}
			events = append(events, delivery.Event{Key: fmt.Sprintf("d%s%d", svc, d), Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
				Service: svc, ID: fmt.Sprint(d), SHA: sha, Repository: svc, Status: status, FinishedAt: at}})
			if d%100 == 50 {
				events = append(events, delivery.Event{Key: fmt.Sprintf("i%s%d", svc, d), Kind: delivery.KindIncident, Incident: &delivery.Incident{
					Service: svc, ID: fmt.Sprint(d), Severity: 1, OpenedAt: at.Add(time.Hour), ResolvedAt: at.Add(3 * time.Hour)}})
			}
			if len(events) >= delivery.MaxBatch-per-2 {
				flush()
			}
		}
		flush()
	}
	if _, err := db.RefreshShipments(ctx); err != nil {
		b.Fatal(err)
	}
	r := reader(db)
	from, to := start.UnixMicro(), end.UnixMicro()
	scan := func() {
		for _, q := range []struct {
			query   string
			columns int
		}{
			{`SELECT service, repository, sha, commit_time, finished_at FROM shipments WHERE service IN ('pay', 'ledger') AND finished_at >= ? AND finished_at < ?`, 5},
			{`SELECT service, id, status, finished_at FROM deployments WHERE service IN ('pay', 'ledger') AND finished_at >= ? AND finished_at < ?`, 4},
		} {
			rows, err := raw.QueryContext(ctx, q.query, from, to)
			if err != nil {
				b.Fatal(err)
			}
			cells := make([]any, q.columns)
			for i := range cells {
				cells[i] = new(any)
			}
			n := 0
			for rows.Next() {
				if err := rows.Scan(cells...); err != nil {
					b.Fatal(err)
				}
				n++
			}
			if err := rows.Err(); err != nil || n == 0 {
				b.Fatalf("reference scan: %d rows, %v", n, err)
			}
			rows.Close()
		}
	}
	var measured, reference time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		d, err := r.Digest(ctx, "payments", "2026-W11", end.Add(8*time.Hour))
		measured += time.Since(t0)
		if err != nil || d.Figures.Deployments == 0 {
			b.Fatalf("digest: %v, %d deployments", err, d.Figures.Deployments)
		}
		t0 = time.Now()
		scan()
		reference += time.Since(t0)
	}
	b.StopTimer()
	if reference > 0 {
		b.ReportMetric(float64(measured.Nanoseconds())/float64(b.N), "digest-ns/op")
		b.ReportMetric(float64(reference.Nanoseconds())/float64(b.N), "raw-ns/op")
		b.ReportMetric(float64(measured)/float64(reference), "x-raw")
	}
}
