package sloeval_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/prometheustest"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/sloeval"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

const promSLO = `apiVersion: openslo/v1
kind: SLO
metadata: {name: checkout-availability}
spec:
  service: checkout
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: prometheus, spec: {query: 'stride_test_good_total - stride_test_good_total offset 1m'}}}
        total: {metricSource: {type: prometheus, spec: {query: 'stride_test_requests_total - stride_test_requests_total offset 1m'}}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
`

// target is the application Prometheus scrapes. Each scrape is one minute
// of its own clock, from base (the first is minute 0): 1,000 calls, of which 990 good in minutes
// 10 to 14 and all good otherwise. Samples carry that clock's timestamps,
// so an hour of minutes takes seconds. It stops at hold, repeating the
// last minute, until told to go on: the test moves hold one minute at a
// time, once Prometheus holds the minute before, so a scrape dropped on a
// loaded machine (its timeout is short) costs a retry, not a minute.
type target struct {
	mu          sync.Mutex
	base        time.Time
	minute      int
	hold        int
	counted     int // the newest minute whose calls are counted
	total, good int64
}

func (tg *target) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tg.mu.Lock()
	if tg.minute < tg.hold {
		tg.minute++
	}
	if tg.minute > tg.counted {
		tg.counted = tg.minute
		tg.total += 1000
		if tg.minute > 10 && tg.minute <= 15 { // the calls of minutes 10–14
			tg.good += 990
		} else {
			tg.good += 1000
		}
	}
	ts := tg.base.Add(time.Duration(tg.minute) * time.Minute).UnixMilli()
	total, good := tg.total, tg.good
	tg.mu.Unlock()
	fmt.Fprintf(w, "# TYPE stride_test_requests_total counter\nstride_test_requests_total %d %d\n", total, ts)
	fmt.Fprintf(w, "# TYPE stride_test_good_total counter\nstride_test_good_total %d %d\n", good, ts)
}

// skip jumps the clock by n minutes of calls Prometheus never scraped,
// then lets it run to hold.
func (tg *target) setHold(hold int) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.hold = hold
}

func (tg *target) skip(n, hold int) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.minute += n
	tg.counted = tg.minute
	tg.total += int64(n) * 1000
	tg.good += int64(n) * 1000
	tg.hold = hold
}

// scrapeTo lets the target's clock run to minute to, one minute at a time,
// each only once Prometheus has stored the one before.
func scrapeTo(prom *prometheustest.Server, tg *target, to int) {
	tg.mu.Lock()
	from := max(tg.minute, 0)
	tg.mu.Unlock()
	for m := from; m <= to; m++ {
		tg.setHold(m)
		prom.WaitFor("stride_test_requests_total", tg.base.Add(time.Duration(m)*time.Minute))
	}
}

// TestPrometheusPull pulls minutes from a real Prometheus scraping a real
// target, stops Prometheus for a while, and checks the job catches up
// from its cursor once Prometheus is back.
func TestPrometheusPull(t *testing.T) {
	// Samples reach 40 minutes past base; Prometheus drops samples too old
	// for its head block (about an hour back), so base is 45 minutes back.
	base := time.Now().UTC().Add(-45 * time.Minute).Truncate(time.Minute)
	tg := &target{base: base, minute: -1, hold: 0} // the first scrape is minute 0, no calls yet
	app := httptest.NewServer(tg)
	defer app.Close()
	prom := prometheustest.Start(t, app.URL)
	scrapeTo(prom, tg, 20)

	t.Run("up", func(t *testing.T) {
		storetest.ForEach(t, func(t *testing.T, db *store.DB) {
			defs, err := slo.ParseOpenSLO(strings.NewReader(promSLO))
			if err != nil {
				t.Fatal(err)
			}
			in := intake.New(db, nil)
			if _, err := in.SLOs(ctx, defs); err != nil {
				t.Fatal(err)
			}
			clock := base.Add(21 * time.Minute)
			p := &sloeval.Prometheus{DB: db, Intake: in, URL: prom.URL(), Now: func() time.Time { return clock },
				Backfill: 21 * time.Minute, Chunk: 7 * time.Minute}
			if err := p.Run(ctx); err != nil {
				t.Fatal(err)
			}
			bs, err := db.SLIBuckets(ctx, "checkout-availability", base.Add(-time.Hour), base.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			// Minutes 0–19 (the sample at minute m counts minute m−1), in
			// chunks of 7; minutes 10–14 lost 10 calls each.
			if len(bs) != 20 {
				t.Fatalf("%d buckets, want 20: %+v", len(bs), bs)
			}
			for i, b := range bs {
				want := int64(1000)
				if i >= 10 && i < 15 {
					want = 990
				}
				if !b.Start.Equal(base.Add(time.Duration(i)*time.Minute)) || b.Width != time.Minute || b.Total != 1000 || b.Good != want {
					t.Errorf("bucket %d = %+v, want minute %d with %d/1000", i, b, i, want)
				}
			}
			if err := p.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if again, _ := db.SLIBuckets(ctx, "checkout-availability", base.Add(-time.Hour), base.Add(time.Hour)); len(again) != 20 {
				t.Errorf("a second run at the same clock stored %d buckets, want still 20", len(again))
			}
		})
	})

	// Prometheus goes down: a pull fails and stores nothing.
	prom.Stop()
	t.Run("down", func(t *testing.T) {
		storetest.ForEach(t, func(t *testing.T, db *store.DB) {
			defs, _ := slo.ParseOpenSLO(strings.NewReader(promSLO))
			in := intake.New(db, nil)
			in.SLOs(ctx, defs)
			p := &sloeval.Prometheus{DB: db, Intake: in, URL: prom.URL(), Now: func() time.Time { return base.Add(30 * time.Minute) }}
			if err := p.Run(ctx); err == nil {
				t.Error("a pull with Prometheus down did not fail")
			}
			if _, ok, _ := db.LastSLIEnd(ctx, "checkout-availability"); ok {
				t.Error("a failed pull stored buckets")
			}
		})
	})

	// The application runs on while Prometheus is down (minutes 20–29
	// are never scraped); Prometheus comes back and scrapes to minute 40.
	tg.skip(9, 29)
	prom.Start()
	scrapeTo(prom, tg, 40)

	t.Run("back", func(t *testing.T) {
		storetest.ForEach(t, func(t *testing.T, db *store.DB) {
			defs, _ := slo.ParseOpenSLO(strings.NewReader(promSLO))
			in := intake.New(db, nil)
			in.SLOs(ctx, defs)
			clock := base.Add(21 * time.Minute)
			p := &sloeval.Prometheus{DB: db, Intake: in, URL: prom.URL(), Now: func() time.Time { return clock }, Backfill: 21 * time.Minute}
			if err := p.Run(ctx); err != nil {
				t.Fatal(err)
			}
			// Stride restarts later: the cursor is the last stored minute.
			clock = base.Add(41 * time.Minute)
			p = &sloeval.Prometheus{DB: db, Intake: in, URL: prom.URL(), Now: func() time.Time { return clock }}
			if err := p.Run(ctx); err != nil {
				t.Fatal(err)
			}
			end, ok, err := db.LastSLIEnd(ctx, "checkout-availability")
			if err != nil || !ok || !end.Equal(base.Add(40*time.Minute)) {
				t.Fatalf("cursor %s %v %v, want minute 40", end, ok, err)
			}
			bs, _ := db.SLIBuckets(ctx, "checkout-availability", base.Add(20*time.Minute), base.Add(time.Hour))
			var caught int64
			for _, b := range bs {
				m := int(b.Start.Sub(base) / time.Minute)
				switch {
				case m >= 30 && (b.Total != 1000 || b.Good != 1000):
					t.Errorf("minute %d after the restart: %+v, want 1000/1000", m, b)
				case m < 29 && b.Total != 0:
					t.Errorf("minute %d while Prometheus was down: %+v, want no calls seen", m, b)
				}
				if m >= 30 {
					caught++
				}
			}
			if caught != 10 {
				t.Errorf("%d minutes caught up after the restart, want 10 (30–39): %+v", caught, bs)
			}
		})
	})
}
