package server

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// metrics are the server's counters, exposed in the Prometheus text format.
// Each family has one label whose meaning the help text gives.
type metrics struct {
	mu       sync.Mutex
	counters map[string]map[string]int64
}

var metricHelp = map[string][2]string{
	"stride_events_ingested_total":    {"Events stored for the first time, by source.", "source"},
	"stride_events_duplicate_total":   {"Events whose idempotency key was seen before, by source.", "source"},
	"stride_events_rejected_total":    {"Requests of events rejected as invalid, by source.", "source"},
	"stride_webhook_deliveries_total": {"Webhook deliveries by source and outcome (source/outcome).", "delivery"},
	"stride_http_requests_total":      {"HTTP requests by status code.", "code"},
}

func (m *metrics) add(name, label string, n int) {
	if n == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.counters == nil {
		m.counters = map[string]map[string]int64{}
	}
	if m.counters[name] == nil {
		m.counters[name] = map[string]int64{}
	}
	m.counters[name][label] += int64(n)
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	s.metrics.mu.Lock()
	defer s.metrics.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	names := make([]string, 0, len(metricHelp))
	for n := range metricHelp {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		help := metricHelp[name]
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, help[0], name)
		labels := make([]string, 0, len(s.metrics.counters[name]))
		for l := range s.metrics.counters[name] {
			labels = append(labels, l)
		}
		slices.Sort(labels)
		for _, l := range labels {
			v := s.metrics.counters[name][l]
			if src, outcome, ok := strings.Cut(l, "/"); ok && help[1] == "delivery" {
				fmt.Fprintf(w, "%s{source=%q,outcome=%q} %d\n", name, src, outcome, v)
				continue
			}
			fmt.Fprintf(w, "%s{%s=%q} %d\n", name, help[1], l, v)
		}
	}
}
