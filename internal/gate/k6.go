package gate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// LoadTest is the outcome of a load test: latency percentiles in
// milliseconds and the share of failed requests. A percentile the tool did
// not report is nil (k6 reports p(99) only when summaryTrendStats asks).
type LoadTest struct {
	Tool      string // "k6" or "jmeter"
	Requests  int64  // 0 when the tool does not say
	P95       *float64
	P99       *float64
	ErrorRate float64 // 0..1
}

// ReadK6 reads the JSON that k6's handleSummary (or --summary-export)
// writes.
func ReadK6(path string) (LoadTest, error) {
	f, err := os.Open(path)
	if err != nil {
		return LoadTest{}, fmt.Errorf("k6: %w", err)
	}
	defer f.Close()
	lt, err := ParseK6(f)
	if err != nil {
		return LoadTest{}, fmt.Errorf("k6 %s: %w", path, err)
	}
	return lt, nil
}

// ParseK6 reads http_req_duration's p(95) and p(99) and http_req_failed's
// rate. handleSummary nests a metric's figures under "values"; the older
// --summary-export puts them on the metric and calls the rate "value".
// Without both metrics there is nothing to judge, which is an error.
func ParseK6(r io.Reader) (LoadTest, error) {
	var doc struct {
		Metrics map[string]json.RawMessage `json:"metrics"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return LoadTest{}, errors.New("empty file")
		}
		return LoadTest{}, fmt.Errorf("parse json: %w", err)
	}
	duration, err := k6Values(doc.Metrics, "http_req_duration")
	if err != nil {
		return LoadTest{}, err
	}
	failed, err := k6Values(doc.Metrics, "http_req_failed")
	if err != nil {
		return LoadTest{}, err
	}
	lt := LoadTest{Tool: "k6", P95: duration["p(95)"], P99: duration["p(99)"]}
	if lt.P95 == nil {
		return LoadTest{}, errors.New("http_req_duration has no p(95)")
	}
	rate := failed["rate"]
	if rate == nil {
		rate = failed["value"]
	}
	if rate == nil || *rate < 0 || *rate > 1 {
		return LoadTest{}, errors.New("http_req_failed has no rate in [0, 1]")
	}
	lt.ErrorRate = *rate
	if p, f := failed["passes"], failed["fails"]; p != nil && f != nil {
		lt.Requests = int64(*p + *f)
	}
	return lt, nil
}

func k6Values(metrics map[string]json.RawMessage, name string) (map[string]*float64, error) {
	raw, ok := metrics[name]
	if !ok {
		return nil, fmt.Errorf("no metric %s", name)
	}
	var m struct {
		Values map[string]*float64 `json:"values"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("metric %s: %w", name, err)
	}
	if m.Values != nil {
		return m.Values, nil
	}
	flat := map[string]json.RawMessage{}
	if err := json.Unmarshal(raw, &flat); err != nil {
		return nil, fmt.Errorf("metric %s: %w", name, err)
	}
	out := map[string]*float64{}
	for k, v := range flat {
		var f float64
		if json.Unmarshal(v, &f) == nil {
			out[k] = &f
		}
	}
	return out, nil
}
