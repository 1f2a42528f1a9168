package impacteval_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/impact"
	"github.com/stride-oss/stride/internal/impacteval"
	"github.com/stride-oss/stride/internal/intake"
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

func prometheusBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("STRIDE_PROMETHEUS") == "require" {
			t.Fatal("STRIDE_PROMETHEUS=require but no prometheus binary is on PATH (apt-get install prometheus)")
		}
		t.Skip("no prometheus binary (apt-get install prometheus; STRIDE_PROMETHEUS=require makes this fail)")
	}
	return bin
}

// startPrometheus runs a real Prometheus scraping target every 100 ms.
func startPrometheus(t *testing.T, bin, target string) string {
	t.Helper()
	dir := t.TempDir()
	u, _ := url.Parse(target)
	cfg := fmt.Sprintf("global: {scrape_interval: 100ms, scrape_timeout: 100ms}\nscrape_configs:\n  - job_name: app\n    honor_timestamps: true\n    static_configs: [{targets: [%q]}]\n", u.Host)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr)
	logf, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + addr + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return "http://" + addr
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "log"))
	t.Fatalf("prometheus did not get ready:\n%s", b)
	return ""
}

// scrapeTo moves the app's clock to minute to, a minute at a time, each
// once Prometheus holds the one before.
func scrapeTo(t *testing.T, prom string, a *app, to int) {
	t.Helper()
	for m := 0; m <= to; m++ {
		a.setHold(m)
		at := a.base.Add(time.Duration(m) * time.Minute)
		q := url.Values{"query": {"timestamp(stride_test_requests_total)"}, "time": {strconv.FormatInt(at.Unix(), 10)}}
		deadline := time.Now().Add(60 * time.Second)
		for {
			resp, err := http.Get(prom + "/api/v1/query?" + q.Encode())
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if strings.Contains(string(body), `"`+strconv.FormatInt(at.Unix(), 10)+`"`) {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("prometheus has no sample at minute %d", m)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// TestPullAndAssessFromPrometheus pulls calls, errors and latency from a
// real Prometheus and assesses a deployment at minute 10 from them.
func TestPullAndAssessFromPrometheus(t *testing.T) {
	bin := prometheusBinary(t)
	// Samples reach 20 minutes past base, inside Prometheus' head block.
	base := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Minute)
	a := &app{base: base, minute: -1}
	srv := httptest.NewServer(a)
	defer srv.Close()
	prom := startPrometheus(t, bin, srv.URL)
	scrapeTo(t, prom, a, 20)

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
		pull := &impacteval.Pull{Intake: in, DB: db, URL: prom, Now: func() time.Time { return clock }, Services: services,
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
