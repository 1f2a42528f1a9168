package server_test

import (
	"net/http"
	"testing"

	"github.com/stride-oss/stride/internal/buildinfo"
)

// TestMetricsAfterRealRequests sends requests through the handler and
// reads /metrics with Prometheus's parser (harness.metrics): the counters
// keep their names and labels, each answered request is timed under its
// route pattern, and the build is named.
func TestMetricsAfterRealRequests(t *testing.T) {
	h := newHarness(t, "sqlite")
	auth := headers("Authorization", "Bearer "+h.token)
	events := `[{"key": "d-1", "kind": "deployment", "deployment": {"service": "shop", "id": "1", "status": "success",
		"sha": "9fceb02", "finished_at": "2026-03-02T10:00:00Z"}},
		{"key": "d-2", "kind": "deployment", "deployment": {"service": "shop", "id": "2", "status": "success",
		"sha": "9fceb03", "finished_at": "2026-03-02T11:00:00Z"}}]`
	if r := h.post(t, "/api/v1/events", auth, []byte(events)); r.status != http.StatusOK {
		t.Fatalf("events: %d %s", r.status, r.text)
	}
	if r := h.post(t, "/api/v1/events", auth, []byte(events)); r.status != http.StatusOK { // both seen before
		t.Fatalf("events again: %d %s", r.status, r.text)
	}
	if r := h.post(t, "/api/v1/events", auth, []byte(`{"kind": "nonsense"}`)); r.status != http.StatusBadRequest {
		t.Fatalf("a bad event: %d %s", r.status, r.text)
	}
	if r := h.post(t, "/webhooks/bitbucket", nil, []byte(`{}`)); r.status != http.StatusNotFound {
		t.Fatalf("an unconfigured source: %d %s", r.status, r.text)
	}
	h.get(t, "/healthz")
	h.get(t, "/healthz")
	resp, err := h.http.Client().Get(h.http.URL + "/no/such/page/42")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown page: %v %v", resp, err)
	}
	resp.Body.Close()

	m := h.metrics(t)
	info := buildinfo.Read()
	want := map[string]float64{
		`stride_events_ingested_total{source="api"}`:                                                                            2,
		`stride_events_duplicate_total{source="api"}`:                                                                           2,
		`stride_events_rejected_total{source="api"}`:                                                                            1,
		`stride_http_requests_total{code="200"}`:                                                                                4,
		`stride_http_requests_total{code="400"}`:                                                                                1,
		`stride_http_requests_total{code="404"}`:                                                                                2,
		`stride_http_request_duration_seconds_count{code="200",method="POST",route="/api/v1/events"}`:                           2,
		`stride_http_request_duration_seconds_count{code="400",method="POST",route="/api/v1/events"}`:                           1,
		`stride_http_request_duration_seconds_count{code="404",method="POST",route="/webhooks/{source}"}`:                       1,
		`stride_http_request_duration_seconds_count{code="200",method="GET",route="/healthz"}`:                                  2,
		`stride_http_request_duration_seconds_count{code="404",method="GET",route="unmatched"}`:                                 1,
		`stride_build_info{goversion="` + info.GoVersion + `",revision="` + info.Revision + `",version="` + info.Version + `"}`: 1,
	}
	for k, v := range want {
		if got, ok := m[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	for _, k := range []string{"go_goroutines", "process_start_time_seconds"} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s is missing: the Go and process collectors are not registered", k)
		}
	}
}
