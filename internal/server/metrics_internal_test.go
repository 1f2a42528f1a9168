package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape serves s's /metrics and returns the families Prometheus's parser
// reads from it.
func scrape(t *testing.T, s *Server) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	s.serveMetrics(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("not the exposition format: %v\n%s", err, rec.Body)
	}
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			key := name
			for _, l := range m.GetLabel() {
				key += "|" + l.GetName() + "=" + l.GetValue()
			}
			out[key] = m.GetCounter().GetValue()
		}
	}
	return out
}

// TestLabelValuesSurviveTheExpositionFormat checks label values that Go's
// %q would have written in a form Prometheus does not read (a non-breaking
// space as \u00a0), and that two servers in one process count apart.
func TestLabelValuesSurviveTheExpositionFormat(t *testing.T) {
	a, b := &Server{}, &Server{}
	a.metrics.add("stride_events_ingested_total", "naïve\u00a0\"src\"\\", 3)
	a.metrics.add("stride_webhook_deliveries_total", "github/accepted", 2)
	b.metrics.add("stride_webhook_deliveries_total", "github/accepted", 5)
	got := scrape(t, a)
	for k, v := range map[string]float64{
		"stride_events_ingested_total|source=naïve\u00a0\"src\"\\":       3,
		"stride_webhook_deliveries_total|outcome=accepted|source=github": 2,
	} {
		if got[k] != v {
			t.Errorf("%q = %v, want %v", k, got[k], v)
		}
	}
	if got := scrape(t, b)["stride_webhook_deliveries_total|outcome=accepted|source=github"]; got != 5 {
		t.Errorf("the second server counts %v, want its own 5", got)
	}
}
