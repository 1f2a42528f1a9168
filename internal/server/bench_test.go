package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// BenchmarkIngestHTTP sends batches of 1,000 native events (a deployment
// every 20 commits) through the real handler, with token checking, into
// SQLite; each request is answered only after its batch is committed.
func BenchmarkIngestHTTP(b *testing.B) {
	const batch = 1000
	db := storetest.SQLite(b)
	defer db.Close()
	_, token, err := db.CreateToken(ctx, "bench", delivery.ScopeIngest)
	if err != nil {
		b.Fatal(err)
	}
	h := (&server.Server{DB: db, Reports: reader(db)}).Handler()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bodies := func(n int) []byte {
		var buf bytes.Buffer
		buf.WriteByte('[')
		for j := 0; j < batch; j++ {
			i := n*batch + j
			if j > 0 {
				buf.WriteByte(',')
			}
			at := t0.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
			if i%20 == 19 {
				fmt.Fprintf(&buf, `{"key":"d%d","kind":"deployment","deployment":{"service":"svc","id":"%d","sha":"c%d","status":"success","finished_at":%q}}`, i, i, i-1, at)
			} else {
				fmt.Fprintf(&buf, `{"key":"c%d","kind":"change","change":{"repository":"svc","sha":"c%d","parents":["c%d"],"author":"dev%d","commit_time":%q}}`, i, i, i-1, i%7, at)
			}
		}
		buf.WriteByte(']')
		return buf.Bytes()
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		b.StopTimer()
		body := bodies(n)
		n++
		b.StartTimer()
		req := httptest.NewRequest("POST", "/api/v1/events", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(n*batch)/b.Elapsed().Seconds(), "events/s")
}
