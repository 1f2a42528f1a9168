package impacteval_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/impact"
	"github.com/stride-oss/stride/internal/impacteval"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/prometheustest"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// app is the service Prometheus scrapes, as in the SLO pull's test
// (internal/sloeval/prometheus_test.go): each scrape is one minute of its
// own clock from base, with samples stamped so, and it holds at hold
// until the test moves it on. The sample of minute m counts minute m−1:
// 1,000 calls, of which 50 failed from minute 10 on, and a latency of
// 100 ms before minute 10 and 400 ms from it. Its errors counter appears
// only with the first failure, as a counter of 5xx responses does, so
// minutes before it have no errors series at all.
type app struct {
	mu                    sync.Mutex
	base                  time.Time
	minute, hold, counted int
	calls, failed         int64
	latency               float64
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	if a.minute < a.hold {
		a.minute++
	}
	if a.minute > a.counted {
		a.counted = a.minute
		a.calls += 1000
		a.latency = 0.1
		if a.minute-1 >= 10 {
			a.failed += 50
			a.latency = 0.4
		}
	}
	ts := a.base.Add(time.Duration(a.minute) * time.Minute).UnixMilli()
	calls, failed, latency := a.calls, a.failed, a.latency
	a.mu.Unlock()
	fmt.Fprintf(w, "# TYPE stride_test_requests_total counter\nstride_test_requests_total %d %d\n", calls, ts)
	if failed > 0 {
		fmt.Fprintf(w, "# TYPE stride_test_errors_total counter\nstride_test_errors_total %d %d\n", failed, ts)
	}
	fmt.Fprintf(w, "# TYPE stride_test_latency_seconds gauge\nstride_test_latency_seconds %g %d\n", latency, ts)
	// A histogram of the same calls: of each minute's 1,000, 800 within
	// 0.3 s and 950 within 1.2 s.
	fmt.Fprintf(w, "# TYPE stride_test_duration_seconds histogram\n")
	for _, b := range []struct {
		le  string
		per int64
	}{{"0.3", 800}, {"1.2", 950}, {"+Inf", 1000}} {
		fmt.Fprintf(w, "stride_test_duration_seconds_bucket{le=%q} %d %d\n", b.le, calls/1000*b.per, ts)
	}
	fmt.Fprintf(w, "stride_test_duration_seconds_count %d %d\nstride_test_duration_seconds_sum 0 %d\n", calls, ts, ts)
}

func (a *app) setHold(h int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hold = h
}

// scrapeTo moves the app's clock to minute to, a minute at a time, each
// once Prometheus holds the one before.
func scrapeTo(prom *prometheustest.Server, a *app, to int) {
	for m := 0; m <= to; m++ {
		a.setHold(m)
		prom.WaitFor("stride_test_requests_total", a.base.Add(time.Duration(m)*time.Minute))
	}
}

// TestPullAndAssessFromPrometheus pulls calls, errors and latency from a
// real Prometheus and assesses a deployment at minute 10 from them.
func TestPullAndAssessFromPrometheus(t *testing.T) {
	// Samples reach 20 minutes past base, inside Prometheus' head block.
	base := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Minute)
	a := &app{base: base, minute: -1}
	srv := httptest.NewServer(a)
	defer srv.Close()
	prom := prometheustest.Start(t, srv.URL)
	scrapeTo(prom, a, 20)

	services := map[string]impacteval.Service{"api": {
		Options: impact.Options{Before: 10 * time.Minute, After: 10 * time.Minute},
		Queries: impacteval.Queries{
			Calls:   "stride_test_requests_total - stride_test_requests_total offset 1m",
			Errors:  "stride_test_errors_total - (stride_test_errors_total offset 1m or stride_test_requests_total * 0)",
			Latency: "stride_test_latency_seconds",
			Apdex: impacteval.ApdexQueries{
				WithinT:  `stride_test_duration_seconds_bucket{le="0.3"} - stride_test_duration_seconds_bucket{le="0.3"} offset 1m`,
				Within4T: `stride_test_duration_seconds_bucket{le="1.2"} - stride_test_duration_seconds_bucket{le="1.2"} offset 1m`,
				Total:    `stride_test_duration_seconds_count - stride_test_duration_seconds_count offset 1m`,
			},
			ApdexT: 300 * time.Millisecond,
		}}}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		in := intake.New(db, nil)
		clock := base.Add(21 * time.Minute)
		pull := &impacteval.Pull{Intake: in, DB: db, URL: prom.URL(), Now: func() time.Time { return clock }, Services: services,
			Backfill: 21 * time.Minute, Chunk: 7 * time.Minute}
		if err := pull.Run(ctx); err != nil {
			t.Fatal(err)
		}
		calls, _ := db.ImpactMinutes(ctx, "api", store.ImpactCalls, base, base.Add(time.Hour))
		errs, _ := db.ImpactMinutes(ctx, "api", store.ImpactErrors, base, base.Add(time.Hour))
		lat, _ := db.ImpactMinutes(ctx, "api", store.ImpactLatency, base, base.Add(time.Hour))
		// Minutes 0–19: 1,000 calls each; 0 errors before minute 10 (no
		// errors series then), 50 from it; 100 ms, then 400 ms.
		if len(calls) != 20 || len(errs) != 20 || len(lat) != 20 {
			t.Fatalf("%d calls, %d errors, %d latency minutes; want 20 each", len(calls), len(errs), len(lat))
		}
		for i := range calls {
			wantErr, wantLat := 0.0, 0.1
			if i >= 10 {
				wantErr, wantLat = 50, 0.4
			}
			if !calls[i].Start.Equal(base.Add(time.Duration(i)*time.Minute)) || calls[i].Value != 1000 || errs[i].Value != wantErr || lat[i].Value != wantLat {
				t.Errorf("minute %d: calls %+v errors %+v latency %+v", i, calls[i], errs[i], lat[i])
			}
		}
		// Apdex over minutes 0–19: 16,000 satisfied, 3,000 tolerating of
		// 20,000, (16,000 + 1,500) / 20,000 = 0.875.
		apdex, err := db.ApdexTotals(ctx, "api", base, base.Add(time.Hour))
		if err != nil || len(apdex) != 1 || apdex[0] != (store.ApdexTotal{Service: "api", Threshold: 300 * time.Millisecond, Satisfied: 16000, Tolerating: 3000, Total: 20000}) {
			t.Errorf("apdex %+v %v, want 16000 + 3000 of 20000 at 300ms", apdex, err)
		}
		// A second run at the same clock pulls nothing new.
		if err := pull.Run(ctx); err != nil {
			t.Fatal(err)
		}
		if again, _ := db.ImpactMinutes(ctx, "api", store.ImpactCalls, base, base.Add(time.Hour)); len(again) != 20 {
			t.Errorf("a second run stored %d minutes, want still 20", len(again))
		}
		if again, _ := db.ApdexTotals(ctx, "api", base, base.Add(time.Hour)); len(again) != 1 || again[0].Total != 20000 {
			t.Errorf("a second run: apdex %+v, want still 20000 calls", again)
		}

		deploy(t, in, "api", "d1", base.Add(10*time.Minute))
		job := &impacteval.Job{DB: db, Now: func() time.Time { return clock }, Services: services}
		if err := job.Run(ctx); err != nil {
			t.Fatal(err)
		}
		r := results(t, db)["api/d1"]
		// Before: 10,000 calls, none failed, 100 ms; after: 500 of 10,000
		// (5 %), 400 ms. Both figures flag.
		if !r.Flagged || r.Source != impact.SourcePrometheus || r.Before.Calls != 10000 || r.Before.Failed != 0 || r.After.Failed != 500 || len(r.Reasons) != 2 {
			t.Errorf("d1 = %+v", r)
		}
		if r.LatencyChange == nil || *r.LatencyChange < 0.3-1e-9 || *r.LatencyChange > 0.3+1e-9 {
			t.Errorf("latency change %v, want +0.3 s", r.LatencyChange)
		}
	})
}
