package sloeval_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/sloeval"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// BenchmarkEvaluationRun is one run of the evaluation job over SLOs with
// 30 days of data each, as the store keeps it after roll-ups: the last 3
// days in minutes (4,320 rows) and 27 days in hours (648 rows). The time
// per SLO, times the number of SLOs, must stay well inside the job's
// one-minute period.
func BenchmarkEvaluationRun(b *testing.B) {
	const slos = 10
	db := storetest.SQLite(b)
	in := intake.New(db, nil)
	var defs []slo.SLO
	for i := range slos {
		ds, err := slo.ParseOpenSLO(strings.NewReader(strings.ReplaceAll(availability, "api-availability", fmt.Sprintf("api-%d", i))))
		if err != nil {
			b.Fatal(err)
		}
		defs = append(defs, ds...)
	}
	if _, err := in.SLOs(ctx, defs); err != nil {
		b.Fatal(err)
	}
	start := now.Add(-30 * 24 * time.Hour)
	for _, d := range defs {
		var hours []store.SLIBucket
		for h := range 27 * 24 {
			hours = append(hours, store.SLIBucket{Start: start.Add(time.Duration(h) * time.Hour), Width: time.Hour, Good: 59_990, Total: 60_000})
		}
		var ps []store.SLIPoint
		for m := range 3 * 24 * 60 {
			ps = append(ps, store.SLIPoint{SLO: d.Name, SLIBucket: store.SLIBucket{Start: now.Add(-72*time.Hour + time.Duration(m)*time.Minute), Width: time.Minute, Good: 999, Total: 1000}})
		}
		if _, err := db.PutSLI(ctx, ps); err != nil {
			b.Fatal(err)
		}
		if err := db.RollUpSLI(ctx, d.Name, start.Add(27*24*time.Hour), hours); err != nil {
			b.Fatal(err)
		}
	}
	e := &sloeval.Evaluator{DB: db, Now: func() time.Time { return now }}
	b.ResetTimer()
	for b.Loop() {
		if err := e.Run(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/slos/1000, "ms/SLO")
}
