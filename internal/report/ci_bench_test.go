package report_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
)

// buildHistory loads service svc (repository svc) with n builds, one every
// 5 minutes across 4 pipelines on main: one in 10 fails, one in 20 is a
// re-run.
func buildHistory(tb testing.TB, db *store.DB, n int) delivery.Period {
	ctx := context.Background()
	if err := db.SetService(ctx, delivery.Service{Name: "svc", Repositories: []string{"svc"}}, nil); err != nil {
		tb.Fatal(err)
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var events []delivery.Event
	flush := func() {
		if _, err := intake.New(db, nil).Events(ctx, "api", events); err != nil {
			tb.Fatal(err)
		}
		events = events[:0]
	}
	for i := range n {
		start := t0.Add(time.Duration(i) * 5 * time.Minute)
		status, attempt := delivery.BuildSuccess, 1
		if i%10 == 3 {
			status = delivery.BuildFailure
		}
		if i%20 == 7 {
			attempt = 2
		}
		b := &delivery.Build{Repository: "svc", ID: fmt.Sprint(i), Name: fmt.Sprint("pipeline-", i%4), Branch: "main", DefaultBranch: "main",
			Status: status, Attempt: attempt, StartedAt: start, FinishedAt: start.Add(time.Duration(3+i%7) * time.Minute)}
		events = append(events, delivery.Event{Key: "b" + b.ID, Kind: delivery.KindBuild, Build: b})
		if len(events) >= delivery.MaxBatch {
			flush()
		}
	}
	flush()
	return delivery.Period{From: t0, To: t0.Add(time.Duration(n)*5*time.Minute + time.Hour)}
}

// rawBuildScan reads the rows and columns store.Builds reads for the CI
// report, scanned into nothing: the floor of any report over them.
func rawBuildScan(b *testing.B, raw *sql.DB, period delivery.Period) int {
	rows, err := raw.Query(numbered(`SELECT repository, id, name, sha, branch, status, attempt, started_at, finished_at, updated_at, default_branch,
		CASE WHEN status IS NULL THEN data END FROM builds WHERE finished_at >= ? AND finished_at < ? AND repository IN (?)`),
		period.From.Add(-30*24*time.Hour).UnixMicro(), period.To.UnixMicro(), "svc")
	if err != nil {
		b.Fatal(err)
	}
	cols, _ := rows.Columns()
	dest := make([]any, len(cols))
	for i := range dest {
		dest[i] = new(sql.RawBytes)
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Close(); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkCIReport is a whole-history CI health report over a service
// with 100,000 builds, on SQLite and, when STRIDE_TEST_POSTGRES is set,
// PostgreSQL, against rawBuildScan of the same rows run alternately:
// x-raw-scan is the report's time over the scan's.
func BenchmarkCIReport(b *testing.B) {
	for name, open := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			db, raw := open(b)
			period := buildHistory(b, db, 100_000)
			ctx := context.Background()
			var p pair
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				p.time(&p.reference, func() {
					if n := rawBuildScan(b, raw, period); n != 100_000 {
						b.Fatalf("raw scan read %d rows", n)
					}
				})
				b.StartTimer()
				p.time(&p.measured, func() {
					r, err := (&report.Reader{Store: db}).CI(ctx, store.Scope{Service: "svc"}, period)
					if err != nil {
						b.Fatal(err)
					}
					if r.Reruns.Builds != 100_000 || r.Reruns.Reruns != 5_000 || len(r.Pipelines) != 4 {
						b.Fatalf("report over %d builds, %d re-runs, %d pipelines", r.Reruns.Builds, r.Reruns.Reruns, len(r.Pipelines))
					}
				})
				p.rounds++
			}
			p.report(b, "raw-scan")
		})
	}
}
