package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stride-oss/stride/internal/ingest/github"
)

// BenchmarkWebhookDeliveries measures GitHub push and pull_request
// deliveries through the server's handler: signature check, translation, and
// the raw delivery and its events committed to a real SQLite store. Each
// delivery has its own delivery id, so each is stored. In "new events" each
// also carries a new commit or pull request, as live traffic does; in
// "redelivered events" the payload repeats, so its events are duplicates and
// only the raw delivery is written.
func BenchmarkWebhookDeliveries(b *testing.B) {
	const sentinelSHA = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"
	const sentinelNumber = 987654321
	push := edit(b, ghFixture("push", "new-branch.json"), func(m map[string]any) {
		m["after"] = sentinelSHA
		obj(m, "head_commit")["id"] = sentinelSHA
		m["commits"].([]any)[0].(map[string]any)["id"] = sentinelSHA
	})
	pr := edit(b, ghFixture("pull_request", "opened.json"), func(m map[string]any) {
		m["number"] = sentinelNumber
		obj(m, "pull_request")["number"] = sentinelNumber
	})
	if bytes.Count(push, []byte(sentinelSHA)) != 3 || bytes.Count(pr, []byte(strconv.Itoa(sentinelNumber))) != 2 {
		b.Fatal("the payloads do not have the expected shape")
	}
	body := func(i int, fresh bool) (string, []byte) {
		n := 1
		if fresh {
			n = i + 1
		}
		if i%2 == 0 {
			return "push", bytes.ReplaceAll(push, []byte(sentinelSHA), []byte(fmt.Sprintf("%040x", n)))
		}
		return "pull_request", bytes.ReplaceAll(pr, []byte(strconv.Itoa(sentinelNumber)), []byte(strconv.Itoa(n)))
	}

	for _, fresh := range []bool{true, false} {
		name := "new events"
		if !fresh {
			name = "redelivered events"
		}
		b.Run(name, func(b *testing.B) {
			h := newHarness(b, "sqlite")
			handler := h.srv.Handler()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				event, payload := body(i, fresh)
				b.StartTimer()
				req := httptest.NewRequest(http.MethodPost, "/webhooks/github", bytes.NewReader(payload))
				req.Header.Set(github.HeaderEvent, event)
				req.Header.Set(github.HeaderDelivery, "bench-"+strconv.Itoa(i))
				req.Header.Set(github.HeaderSignature, github.Sign(githubSecret, payload))
				rec := httptest.NewRecorder()
				handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("delivery %d (%s): %d %s", i, event, rec.Code, rec.Body)
				}
			}
			b.StopTimer()
			// Elapsed counts only timed work: not the building of bodies.
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}
