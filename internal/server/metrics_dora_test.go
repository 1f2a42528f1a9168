package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// scrape reads ts's /metrics into "name{labels}" → value for the gauges,
// with Prometheus's own parser.
func scrape(t *testing.T, ts *testServer) map[string]float64 {
	t.Helper()
	req, err := http.NewRequest("GET", ts.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ts.read)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d %s", resp.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("/metrics is not in the exposition format: %v", err)
	}
	out := map[string]float64{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, p := range m.GetLabel() {
				labels = append(labels, p.GetName()+"="+p.GetValue())
			}
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			if g := m.GetGauge(); g != nil {
				out[key] = g.GetValue()
			}
		}
	}
	return out
}

func TestMetricsDORAGaugesPerService(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ts, srv := pagesServer(t, db)
		if code, body := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(apiHistory)); code != 200 {
			t.Fatalf("ingest: %d %v", code, body)
		}
		// Before the trend job has run there is nothing to export: a scrape
		// never computes a report.
		for k := range scrape(t, ts) {
			if strings.HasPrefix(k, "stride_dora_") {
				t.Errorf("%s exported before the trend job ran", k)
			}
		}
		if err := srv.Trends.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		got := scrape(t, ts)
		// The 28 days before 2026-03-09 hold apiHistory whole (see
		// TestEventsInReportOut): 2 deployments, lead times 3 h and 6 h
		// (median 4.5 h, p90 6 h), 1 of 2 failed, one incident of 2 h. The
		// ISO weeks of Feb 9, 16, 23 and Mar 2 have 0, 0, 0 and 2
		// deployment days: median 0.
		want := map[string]float64{
			`stride_dora_deployments{service=app}`:                          2,
			`stride_dora_deployment_days_per_week{service=app}`:             0,
			`stride_dora_lead_time_seconds{quantile=0.5,service=app}`:       16200,
			`stride_dora_lead_time_seconds{quantile=0.9,service=app}`:       21600,
			`stride_dora_change_failure_ratio{service=app}`:                 0.5,
			`stride_dora_time_to_restore_seconds{quantile=0.5,service=app}`: 7200,
			`stride_dora_time_to_restore_seconds{quantile=0.9,service=app}`: 7200,
			`stride_dora_report_timestamp_seconds`:                          float64(pagesNow.Unix()),
		}
		for k, v := range want {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("%s = %v (exported: %v), want %v", k, g, ok, v)
			}
		}
	})
}
