package report_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
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

// The benchmarks here report each figure beside a reference measured in the
// same run, alternating with it, because the machines they run on are
// shared and absolute times there are noise: ns/op is the measured path,
// <ref>-ns/op the reference, and x-<ref> the measured time over the
// reference's, which is what the README lists.

// pair accumulates the time of a measured path and of its reference over
// the rounds of one benchmark.
type pair struct {
	measured, reference time.Duration
	rounds              int
}

// time adds one round of fn to d.
func (p *pair) time(d *time.Duration, fn func()) {
	start := time.Now()
	fn()
	*d += time.Since(start)
}

// report publishes the reference's time per round and the time ratio.
func (p *pair) report(b *testing.B, ref string) {
	if p.rounds == 0 || p.reference == 0 {
		return
	}
	b.ReportMetric(float64(p.reference.Nanoseconds())/float64(p.rounds), ref+"-ns/op")
	b.ReportMetric(float64(p.measured)/float64(p.reference), "x-"+ref)
}

// benchStores opens, per database the benchmarks run on (SQLite, and
// PostgreSQL when STRIDE_TEST_POSTGRES is set), a migrated store and a plain
// database/sql handle on the same database for raw references.
func benchStores(b *testing.B) map[string]func(b *testing.B) (*store.DB, *sql.DB) {
	open := func(url, driver, rawURL string, b *testing.B) (*store.DB, *sql.DB) {
		db, err := store.Open(context.Background(), url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		raw, err := sql.Open(driver, rawURL)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { raw.Close() })
		return db, raw
	}
	dbs := map[string]func(b *testing.B) (*store.DB, *sql.DB){
		"sqlite": func(b *testing.B) (*store.DB, *sql.DB) {
			path := filepath.Join(b.TempDir(), "stride.db")
			return open(path, "sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)&_pragma=cache_size(-65536)&_pragma=mmap_size(268435456)", b)
		},
	}
	if storetest.PostgresURL() != "" {
		dbs["postgres"] = func(b *testing.B) (*store.DB, *sql.DB) {
			url := storetest.PostgresSchemaURL(b)
			return open(url, "pgx", url, b)
		}
	}
	return dbs
}

// numbered rewrites ? placeholders as $1, $2…, which both drivers read.
func numbered(q string) string {
	var sb strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			sb.WriteString("$" + strconv.Itoa(n))
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// rawScan reads the rows a DORA report of service over period reads (the
// deployments' summaries, the terminal production deployments, the
// incidents) with the columns it reads, scanned into nothing: the floor
// any report over them is compared with.
func rawScan(b *testing.B, raw *sql.DB, service string, period delivery.Period) int {
	from, to := period.From.UnixMicro(), period.To.UnixMicro()
	terminal := []any{service, delivery.EnvironmentProduction}
	for _, s := range delivery.TerminalStatuses() {
		terminal = append(terminal, string(s))
	}
	terminal = append(terminal, from, to)
	statuses := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(terminal)-4), ", ") + ")"
	queries := []struct {
		q    string
		args []any
	}{
		{`SELECT deployment_id, commit_times FROM deployment_changes WHERE service = ? AND finished_at >= ? AND finished_at < ?`, []any{service, from, to}},
		{`SELECT id, status, finished_at, hotfix, rollback FROM deployments WHERE service = ? AND environment = ? AND status IN ` + statuses + ` AND finished_at >= ? AND finished_at < ?`, terminal},
		{`SELECT service, id, title, severity, opened_at, acknowledged_at, resolved_at, cause_deployment, updated_at, status, status_at, severity_at FROM incidents WHERE service = ? AND (opened_at >= ? OR resolved_at >= ?)`,
			[]any{service, from, from}},
	}
	n := 0
	for _, q := range queries {
		rows, err := raw.Query(numbered(q.q), q.args...)
		if err != nil {
			b.Fatal(err)
		}
		cols, _ := rows.Columns()
		dest := make([]any, len(cols))
		for i := range dest {
			dest[i] = new(sql.RawBytes)
		}
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rows.Close(); err != nil {
			b.Fatal(err)
		}
	}
	return n
}

// BenchmarkDORAReport is a whole-history DORA report over a service with
// 10,000 deployments and 200,000 changes, read from SQLite and, when
// STRIDE_TEST_POSTGRES is set, PostgreSQL. The reference, run alternately,
// is rawScan of the same rows: x-raw-scan is the report's time over it.
func BenchmarkDORAReport(b *testing.B) {
	for name, open := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			db, raw := open(b)
			period := history(b, db, 10_000, 200_000)
			ctx := context.Background()
			var p pair
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				p.time(&p.reference, func() {
					if n := rawScan(b, raw, "svc", period); n < 10_000 {
						b.Fatalf("raw scan read %d rows", n)
					}
				})
				b.StartTimer()
				p.time(&p.measured, func() {
					r, err := (&report.Reader{Store: db}).DORA(ctx, store.Scope{Service: "svc"}, period, nil)
					if err != nil {
						b.Fatal(err)
					}
					if r.LeadTime.Count != 200_000-19 { // the first deployment ships only its own commit: c0..c18 are history
						b.Fatalf("lead time over %d changes", r.LeadTime.Count)
					}
				})
				p.rounds++
			}
			p.report(b, "raw-scan")
		})
	}
}

// appendDeployment adds to history's service one commit on top of its
// history and a successful production deployment of it, as a new release
// does: three hours after its commit, as history's, so it finishes after
// every deployment before it. round numbers them.
func appendDeployment(b *testing.B, db *store.DB, changes, round int) {
	b.Helper()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	i := changes + round
	at := t0.Add(time.Duration(i) * 5 * time.Minute)
	sha := fmt.Sprintf("c%d", i)
	events := []delivery.Event{
		{Key: "c" + sha, Kind: delivery.KindChange, Change: &delivery.Change{Repository: "svc", SHA: sha, Parents: []string{fmt.Sprintf("c%d", i-1)}, CommitTime: at}},
		{Key: fmt.Sprintf("dnew%d", round), Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
			Service: "svc", ID: fmt.Sprintf("new%d", round), SHA: sha, Status: delivery.DeploymentSuccess, FinishedAt: at.Add(3 * time.Hour)}},
	}
	if _, err := intake.New(db, nil).Events(context.Background(), "api", events); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFirstReportAfterDeployment is the first DORA report after one
// new deployment (which refreshes the service's shipments before reading,
// as serve does) against the warm report that follows it: x-warm is the
// first report's time over the warm one's. 10,000 deployments and 200,000
// changes on SQLite, or STRIDE_BENCH_CHANGES changes (a deployment every
// 20). first-heap-MB and warm-heap-MB are the largest heap each report
// grew while it ran: bounded by the period read, they do not grow with
// the history.
func BenchmarkFirstReportAfterDeployment(b *testing.B) {
	changes := 200_000
	if v := os.Getenv("STRIDE_BENCH_CHANGES"); v != "" {
		var err error
		if changes, err = strconv.Atoi(v); err != nil {
			b.Fatalf("STRIDE_BENCH_CHANGES: %v", err)
		}
	}
	db := storetest.SQLite(b)
	period := history(b, db, changes/20, changes)
	period.To = period.To.Add(30 * 24 * time.Hour)
	// The report's period: the last 30 days of the history, as the
	// dashboard's default, so what it reads does not grow with the history.
	period.From = period.To.Add(-60 * 24 * time.Hour)
	ctx := context.Background()
	reader := &report.Reader{Store: db, Fresh: storetest.Fresh(db)}
	read := func() {
		r, err := reader.DORA(ctx, store.Scope{Service: "svc"}, period, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Warnings) > 0 && r.Warnings[0].Code == report.StaleCode {
			b.Fatal("the report read stale shipments")
		}
	}
	var p pair
	var firstHeap, warmHeap uint64
	round := 0
	for b.Loop() {
		b.StopTimer()
		appendDeployment(b, db, changes, round)
		round++
		b.StartTimer()
		p.time(&p.measured, func() { firstHeap = max(firstHeap, peakHeap(read)) })
		b.StopTimer()
		p.time(&p.reference, func() { warmHeap = max(warmHeap, peakHeap(read)) })
		b.StartTimer()
		p.rounds++
	}
	p.report(b, "warm")
	b.ReportMetric(float64(firstHeap)/(1<<20), "first-heap-MB")
	b.ReportMetric(float64(warmHeap)/(1<<20), "warm-heap-MB")
}

// peakHeap runs fn and returns by how much the heap grew at most while it
// ran (live and not yet collected objects, sampled every millisecond).
func peakHeap(fn func()) uint64 {
	runtime.GC()
	heap := func() uint64 {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	base := heap()
	var peak atomic.Uint64
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if v := heap(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	fn()
	if v := heap(); v > peak.Load() {
		peak.Store(v)
	}
	close(done)
	<-stopped
	if peak.Load() < base {
		return 0
	}
	return peak.Load() - base
}

// BenchmarkRefreshShipments refreshes the shipments of history's service
// after one new commit and its deployment, against two references run
// alternately with it: a full recompute of the same service
// (RecomputeShipments), x-full, and the refresh of a service that holds
// only the new commit and its deployment, x-new-only. A refresh should cost
// what the new commits cost, not what the history does: the goal is
// x-new-only at most 2.
func BenchmarkRefreshShipments(b *testing.B) {
	db := storetest.SQLite(b)
	history(b, db, 10_000, 200_000)
	ctx := context.Background()
	refresh := func(service string) {
		if n, err := db.RefreshShipments(ctx, service); err != nil || n != 1 {
			b.Fatal(n, err)
		}
	}
	var full, newOnly pair
	round := 0
	for b.Loop() {
		b.StopTimer()
		appendDeployment(b, db, 200_000, round)
		// A service of its own holding only the same commit and deployment.
		only := fmt.Sprint("only", round)
		sha := fmt.Sprintf("c%d", 200_000+round)
		if _, err := intake.New(db, nil).Events(ctx, "api", []delivery.Event{
			{Key: "c" + only, Kind: delivery.KindChange, Change: &delivery.Change{Repository: only, SHA: sha, CommitTime: time.Now()}},
			{Key: "d" + only, Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{Service: only, Repository: only, ID: "1", SHA: sha,
				Status: delivery.DeploymentSuccess, FinishedAt: time.Now()}},
		}); err != nil {
			b.Fatal(err)
		}
		// The two refreshes take turns going first: the first write after
		// the batches above may pay for a WAL checkpoint.
		if round%2 == 1 {
			newOnly.time(&newOnly.reference, func() { refresh(only) })
		}
		round++
		b.StartTimer()
		start := time.Now()
		refresh("svc")
		took := time.Since(start)
		full.measured += took
		newOnly.measured += took
		b.StopTimer()
		if round%2 == 1 {
			newOnly.time(&newOnly.reference, func() { refresh(only) })
		}
		full.time(&full.reference, func() {
			if n, err := db.RecomputeShipments(ctx, "svc"); err != nil || n != 1 {
				b.Fatal(n, err)
			}
		})
		b.StartTimer()
		full.rounds++
		newOnly.rounds++
	}
	full.report(b, "full")
	newOnly.report(b, "new-only")
}
