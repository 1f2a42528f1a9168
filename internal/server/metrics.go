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
	// dora registers the DORA collector once, on the first scrape of a
	// server with trends.
	dora  sync.Once
	ready prometheus.Gauge
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
	s.observeOutbox(r.Context())
	s.metrics.dora.Do(func() {
		if s.Trends != nil {
			s.metrics.registry.MustRegister(doraCollector{s.Trends})
		}
	})
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

// The DORA gauges' descriptions. Names follow Prometheus's conventions:
// base units (seconds), _ratio for a fraction, quantiles as a label.
var (
	doraLeadTime = prometheus.NewDesc("stride_dora_lead_time_seconds",
		"Change lead time of the service's changes shipped to production over the last 28 days, by quantile (0.5 median, 0.9).",
		[]string{"service", "quantile"}, nil)
	doraDeployments = prometheus.NewDesc("stride_dora_deployments",
		"Successful production deployments of the service over the last 28 days.", []string{"service"}, nil)
	doraDeploymentDays = prometheus.NewDesc("stride_dora_deployment_days_per_week",
		"Median over the last 28 days' ISO weeks of the days a week with a successful production deployment of the service (5 is daily).",
		[]string{"service"}, nil)
	doraChangeFailure = prometheus.NewDesc("stride_dora_change_failure_ratio",
		"Fraction (0-1) of the service's production deployments over the last 28 days that caused an incident or were rolled back.",
		[]string{"service"}, nil)
	doraTimeToRestore = prometheus.NewDesc("stride_dora_time_to_restore_seconds",
		"Time to restore of the service's incidents resolved over the last 28 days, by quantile (0.5 median, 0.9).",
		[]string{"service", "quantile"}, nil)
	doraUpdated = prometheus.NewDesc("stride_dora_report_timestamp_seconds",
		"When the trend job last computed the DORA gauges, as a Unix time.", nil, nil)
)

// doraCollector exports the DORA keys per service from the last report
// the trend job computed: a scrape reads them, it never computes one. A
// figure a report does not have (no deployment, no resolved incident) is
// left out rather than exported as 0, which would read as "elite".
type doraCollector struct{ trends *Trends }

func (c doraCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{doraLeadTime, doraDeployments, doraDeploymentDays, doraChangeFailure, doraTimeToRestore, doraUpdated} {
		ch <- d
	}
}

func (c doraCollector) Collect(ch chan<- prometheus.Metric) {
	reports, updated := c.trends.Gauges()
	if updated.IsZero() {
		return
	}
	ch <- prometheus.MustNewConstMetric(doraUpdated, prometheus.GaugeValue, float64(updated.UnixNano())/1e9)
	gauge := func(d *prometheus.Desc, v *float64, labels ...string) {
		if v != nil {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, *v, labels...)
		}
	}
	for service, r := range reports {
		deployments := float64(r.DeploymentFrequency.Count)
		gauge(doraDeployments, &deployments, service)
		gauge(doraDeploymentDays, r.DeploymentFrequency.MedianDeploymentDaysPerWeek, service)
		gauge(doraLeadTime, r.LeadTime.MedianSeconds, service, "0.5")
		gauge(doraLeadTime, r.LeadTime.P90Seconds, service, "0.9")
		gauge(doraChangeFailure, r.ChangeFailureRate.Ratio, service)
		gauge(doraTimeToRestore, r.TimeToRestore.MedianSeconds, service, "0.5")
		gauge(doraTimeToRestore, r.TimeToRestore.P90Seconds, service, "0.9")
	}
}
