package slo_test

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/slo"
)

// Example shows what the evaluation job does for one SLO: parse the
// definitions, give the series the stored buckets and maintenance, assess
// at the job's clock, turn the assessment into alert transitions and keep
// the state for the next run.
func Example() {
	defs, err := slo.ParseOpenSLO(strings.NewReader(`apiVersion: openslo/v1
kind: SLO
metadata: {name: api-availability}
spec:
  service: api
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: stride}}
        total: {metricSource: {type: stride}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
`))
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	// Three days of minutes at 1,000 calls; the last hour loses 2 % of them.
	var buckets []slo.Bucket
	for t := now.Add(-72 * time.Hour); t.Before(now); t = t.Add(time.Minute) {
		b := slo.Bucket{Start: t, Width: time.Minute, Good: 1000, Total: 1000}
		if now.Sub(t) <= time.Hour {
			b.Good = 980
		}
		buckets = append(buckets, b)
	}
	series, err := slo.NewSeries(defs[0], buckets, nil)
	if err != nil {
		panic(err)
	}
	var state slo.State // loaded from the store in the job
	report := slo.Assess(series, now, slo.Options{})
	state, transitions := slo.Evaluate(state, now, report)
	for _, t := range transitions {
		fmt.Println(t.Kind, t.Severity, t.Alert+":", t.Reason)
	}
	fmt.Println(slo.FreezeOf("api", []slo.Report{report}).Reason)
	_ = slo.WriteTable(os.Stdout, []slo.Report{report})
	_ = state // saved for the next run
	// 1,200 bad calls of 60,000 in the hour burn 20×: 20/720 of the 30-day
	// budget. Over 6 hours they burn 3.3×, under the 6× of the next pair.
	// The whole budget is 4,320,000 × 0.001 = 4,320 calls, 72.2 % left.
	// Output:
	// fired page page-1h-5m: 2.8 % of the 30-day budget spent in the last hour; burn rate 20× over 1 h and 20× over 5 m (14.4× fires)
	// every SLO of api has budget left
	// SLO               SERVICE  OBJECTIVE  WINDOW  SLI        BUDGET LEFT  LEFT (MIN)  BURN 1H  ALERTS      FROZEN
	// api-availability  api      99.9 %     30-day  99.9722 %  72.2 %       31.2        20×      page-1h-5m  no
}
