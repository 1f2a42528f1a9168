package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stride-oss/stride/internal/buildinfo"
)

// metrics are the server's Prometheus metrics, in a registry of the
// Server's own rather than the global one, so that several servers in one
// process (as in tests) count separately. The zero value is ready: the
// registry is made on first use.
type metrics struct {
	once     sync.Once
	registry *prometheus.Registry
	counters map[string]*prometheus.CounterVec
	duration *prometheus.HistogramVec
	ready    prometheus.Gauge
}

// setReady records the outcome of the last readiness probe in stride_ready.
func (m *metrics) setReady(ok bool) {
	m.init()
	if ok {
		m.ready.Set(1)
	} else {
		m.ready.Set(0)
	}
}

// counterFamilies are the counters add increments: help text and label
// names. stride_webhook_deliveries_total takes "source/outcome" as its one
// label argument.
var counterFamilies = map[string]struct {
	help   string
	labels []string
}{
	"stride_events_ingested_total":    {"Events stored for the first time, by source.", []string{"source"}},
	"stride_events_duplicate_total":   {"Events whose idempotency key was seen before, by source.", []string{"source"}},
	"stride_events_rejected_total":    {"Requests of events rejected as invalid, by source.", []string{"source"}},
	"stride_webhook_deliveries_total": {"Webhook deliveries by source and outcome.", []string{"source", "outcome"}},
	"stride_http_requests_total":      {"HTTP requests by status code.", []string{"code"}},
}

func (m *metrics) init() {
	m.once.Do(func() {
		m.registry = prometheus.NewRegistry()
		m.registry.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
		m.counters = map[string]*prometheus.CounterVec{}
		for name, f := range counterFamilies {
			m.counters[name] = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: f.help}, f.labels)
			m.registry.MustRegister(m.counters[name])
		}
		m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stride_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"})
		m.registry.MustRegister(m.duration)
		m.ready = prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stride_ready",
			Help: "1 when the last /readyz write probe succeeded, 0 when the database could not take a write.",
		})
		m.registry.MustRegister(m.ready)
		info := buildinfo.Read()
		build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stride_build_info",
			Help: "Always 1; its labels say which build of Stride is running.",
		}, []string{"version", "revision", "goversion"})
		build.WithLabelValues(info.Version, info.Revision, info.GoVersion).Set(1)
		m.registry.MustRegister(build)
	})
}

// add increments counter name by n for label: a source name, a status
// code, or "source/outcome" for stride_webhook_deliveries_total. A name
// that is not a family of counterFamilies is a programming error.
func (m *metrics) add(name, label string, n int) {
	if n == 0 {
		return
	}
	m.init()
	c, ok := m.counters[name]
	if !ok {
		panic("server: no metric " + name)
	}
	labels := []string{label}
	if len(counterFamilies[name].labels) == 2 {
		source, outcome, _ := strings.Cut(label, "/")
		labels = []string{source, outcome}
	}
	c.WithLabelValues(labels...).Add(float64(n))
}

// observe records one answered request. route is the pattern the request
// matched, without its method ("/webhooks/{source}"), so a path with ids in
// it does not make a series of its own; "unmatched" for none.
func (m *metrics) observe(pattern, method string, code int, d time.Duration) {
	m.init()
	if _, path, ok := strings.Cut(pattern, " "); ok {
		pattern = path
	}
	if pattern == "" {
		pattern = "unmatched"
	}
	m.duration.WithLabelValues(pattern, method, strconv.Itoa(code)).Observe(d.Seconds())
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	s.metrics.init()
	// stride_ready is as fresh as the scrape: the same write probe as /readyz.
	if s.DB != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		s.metrics.setReady(s.DB.Ready(ctx) == nil)
		cancel()
	}
	promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{ErrorLog: slogPrinter{s}}).ServeHTTP(w, r)
}

// slogPrinter passes promhttp's errors (a collector that failed) to the
// server's log.
type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) { p.s.logger().Error("metrics", "err", v) }
