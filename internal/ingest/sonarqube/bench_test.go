package sonarqube

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// BenchmarkDelivery measures what a SonarQube delivery costs the webhook
// path before storage (verify the signature, then read the gate twice, as
// intake's Translate and Gate do) against a bare json.Unmarshal of the same
// body into a map, measured in the same run (ref-ns/op; time-ratio is the
// delivery over the reference).
func BenchmarkDelivery(b *testing.B) {
	body := read(b, "quality-gate-error.json")
	s := New(Config{Secret: secret})
	h := http.Header{}
	h.Set(HeaderSignature, Sign(secret, body))
	var measured, reference time.Duration
	rounds := 0
	for b.Loop() {
		start := time.Now()
		if err := s.Verify(h, body); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Translate(h, body); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Gate(h, body); err != nil {
			b.Fatal(err)
		}
		measured += time.Since(start)
		start = time.Now()
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			b.Fatal(err)
		}
		reference += time.Since(start)
		rounds++
	}
	b.ReportMetric(float64(measured.Nanoseconds())/float64(rounds), "delivery-ns/op")
	b.ReportMetric(float64(reference.Nanoseconds())/float64(rounds), "ref-ns/op")
	b.ReportMetric(float64(measured)/float64(reference), "time-ratio")
}
