package impacteval_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/impacteval"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/store"
)

// BenchmarkImpactRun is one run of the impact job that assesses 1,000
// deployments (50 in each of 20 services, over 3 days) from 86,400 SLI
// minute rows (3 days of minutes of one SLO per service), with a settle
// time long enough that every run reassesses them all: the job's worst
// case. Beside it, a raw SELECT scan of the same minute rows, measured in
// the same run: ratio is the job's time over the scan's, the cost of the
// assessment and the stored results over reading the data at all.
func BenchmarkImpactRun(b *testing.B) {
	const services, perService, minutes = 20, 50, 3 * 24 * 60
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
	in := intake.New(db, nil)
	start := t0.Add(-72 * time.Hour)
	var events []delivery.Event
	for s := range services {
		name := fmt.Sprintf("svc-%02d", s)
		defs, err := slo.ParseOpenSLO(strings.NewReader(strings.ReplaceAll(strings.ReplaceAll(apiSLO, "api-availability", name+"-availability"), "service: api", "service: "+name)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := in.SLOs(ctx, defs); err != nil {
			b.Fatal(err)
		}
		ps := make([]store.SLIPoint, minutes)
		for m := range ps {
			ps[m] = store.SLIPoint{SLO: name + "-availability", SLIBucket: store.SLIBucket{Start: start.Add(time.Duration(m) * time.Minute), Width: time.Minute, Good: 995 + int64(m%5), Total: 1000}}
		}
		if _, err := db.PutSLI(ctx, ps); err != nil {
			b.Fatal(err)
		}
		for d := range perService {
			fin := start.Add(time.Hour + time.Duration(d)*80*time.Minute)
			events = append(events, delivery.Event{Key: fmt.Sprintf("d:%s:%d", name, d), Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
				Service: name, ID: fmt.Sprint(d), SHA: "abc", Status: delivery.DeploymentSuccess, FinishedAt: fin}})
		}
	}
	for i := 0; i < len(events); i += delivery.MaxBatch {
		if _, err := in.Events(ctx, "bench", events[i:min(i+delivery.MaxBatch, len(events))]); err != nil {
			b.Fatal(err)
		}
	}
	scan := func() {
		rows, err := raw.QueryContext(ctx, `SELECT slo, start, width, good, total FROM sli_buckets`)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var slo string
			var s, w, g, t int64
			if err := rows.Scan(&slo, &s, &w, &g, &t); err != nil {
				b.Fatal(err)
			}
			n++
		}
		rows.Close()
		if n != services*minutes {
			b.Fatalf("scanned %d rows", n)
		}
	}
	// The reference: the fastest of 5 scans, in this run.
	var ref time.Duration
	for i := range 5 {
		t := time.Now()
		scan()
		if d := time.Since(t); i == 0 || d < ref {
			ref = d
		}
	}
	job := &impacteval.Job{DB: db, Now: func() time.Time { return t0 }, Settle: 1000 * time.Hour}
	b.ResetTimer()
	for b.Loop() {
		if err := job.Run(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	stored, err := db.DeploymentImpacts(ctx, "", start, t0, false)
	if err != nil || len(stored) != services*perService {
		b.Fatalf("%d results stored, %v; want %d", len(stored), err, services*perService)
	}
	per := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(per)/float64(ref), "ratio")
	b.ReportMetric(float64(per.Microseconds())/1000, "ms/run")
	b.ReportMetric(float64(ref.Microseconds())/1000, "raw-scan-ms")
	b.ReportMetric(float64(per.Microseconds())/float64(services*perService), "µs/deployment")
}
