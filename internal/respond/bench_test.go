package respond_test

import (
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/notify"
	"github.com/stride-oss/stride/internal/respond"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// BenchmarkSweep is the breach-and-escalation sweep over 100,000 open,
// unanswered incidents in 1,000 services, once every breach is marked (the
// steady state of a run every 30 s), beside a raw scan of the same rows:
// x-raw-scan is the sweep's cost over reading the data at all, ms/sweep and
// ms/raw-scan the absolute times.
func BenchmarkSweep(b *testing.B) {
	path := filepath.Join(b.TempDir(), "stride.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	w := intake.New(db, nil)
	const n, services = 100_000, 1_000
	for start := 0; start < n; start += delivery.MaxBatch {
		var batch []delivery.Event
		for i := start; i < min(start+delivery.MaxBatch, n); i++ {
			in := delivery.Incident{Service: fmt.Sprintf("svc-%03d", i%services), ID: fmt.Sprint(i), Severity: i % 4,
				OpenedAt: t0.Add(time.Duration(i) * time.Second)}
			batch = append(batch, delivery.Event{Key: fmt.Sprint("i", i), Kind: delivery.KindIncident, Incident: &in})
		}
		if _, err := w.Events(ctx, "bench", batch); err != nil {
			b.Fatal(err)
		}
	}
	now := t0.Add(30 * 24 * time.Hour)
	cases := []struct {
		name string
		// escalation is the policy's; owed is whether a breached,
		// unanswered incident may still be owed a step (then every
		// incident is read on every run).
		escalation []incident.Step
		owed       bool
	}{
		// Steps a year past the due time: every incident is breached and
		// still owed both, so every run reads and judges all 100,000.
		{"escalation owed", []incident.Step{{After: 365 * 24 * time.Hour, Target: "lead"}, {After: 400 * 24 * time.Hour, Target: "boss"}}, true},
		// The default policy escalates to nobody: a breached incident is
		// owed nothing more, and the run reads none of them.
		{"no escalation", nil, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ps := incident.DefaultPolicies()
			ps.Default.Escalation = c.escalation
			r := respond.New(db, respond.Settings{Policies: ps, Now: func() time.Time { return now },
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if _, err := r.Sweep(ctx); err != nil {
				b.Fatal(err)
			}
			looked := 0
			if c.owed {
				looked = n
			}
			// The sweep and the scan alternate in one loop, so that the
			// ratio compares them under the same load (the machine is
			// shared).
			var sweepTime, scanTime time.Duration
			runs := 0
			for b.Loop() {
				start := time.Now()
				if res, err := r.Sweep(ctx); err != nil || res.Looked != looked || res.Breaches != 0 {
					b.Fatalf("%+v %v", res, err)
				}
				sweepTime += time.Since(start)
				start = time.Now()
				rawScan(b, raw, n)
				scanTime += time.Since(start)
				runs++
			}
			b.ReportMetric(float64(sweepTime.Milliseconds())/float64(runs), "ms/sweep")
			b.ReportMetric(float64(scanTime.Milliseconds())/float64(runs), "ms/raw-scan")
			b.ReportMetric(float64(sweepTime)/float64(scanTime), "x-raw-scan")
		})
	}
}

// rawScan reads the incidents' columns the sweep needs with a plain SELECT:
// the least reading them can cost.
func rawScan(b *testing.B, raw *sql.DB, n int) {
	rows, err := raw.QueryContext(ctx, `SELECT service, id, title, severity, opened_at, acknowledged_at, resolved_at, status, status_at, source
		FROM incidents ORDER BY service, id`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var service, id, title, status, source string
		var severity int
		var opened int64
		var acked, resolved, statusAt sql.NullInt64
		if err := rows.Scan(&service, &id, &title, &severity, &opened, &acked, &resolved, &status, &statusAt, &source); err != nil {
			b.Fatal(err)
		}
		got++
	}
	if got != n {
		b.Fatalf("scanned %d", got)
	}
}

// BenchmarkDeliver is notifications delivered per second to a local
// receiver, through the store (claim, attempt, record).
func BenchmarkDeliver(b *testing.B) {
	db := storetest.SQLite(b)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer recv.Close()
	r := respond.New(db, respond.Settings{Outbox: notify.Outbox{Routes: map[string]notify.Sender{"hook": &notify.Webhook{URL: recv.URL, Secret: "s"}}}})
	in := delivery.Incident{Service: "api", ID: "1", Severity: 0, OpenedAt: t0}
	row, _ := notify.NewRow("hook", notify.IncidentMessage(in, "", notify.ReasonOpened, t0), t0)
	delivered := 0
	for b.Loop() {
		b.StopTimer()
		rows := make([]notify.Row, 100)
		for i := range rows {
			rows[i] = row
		}
		if _, err := db.Enqueue(ctx, rows...); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := r.DeliverDue(ctx)
		if err != nil || res.Delivered != 100 {
			b.Fatalf("%+v %v", res, err)
		}
		delivered += res.Delivered
	}
	b.ReportMetric(float64(delivered)/b.Elapsed().Seconds(), "notifications/s")
}
