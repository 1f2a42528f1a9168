package notify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// BenchmarkDeliver delivers outbox rows one by one, signed, to a local
// receiver over keep-alive connections, and reports notifications a second.
func BenchmarkDeliver(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer srv.Close()
	o := &Outbox{Routes: map[string]Sender{"hook": &Webhook{URL: srv.URL, Secret: "k", Client: srv.Client()}}, Policy: DefaultPolicy()}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	row, err := NewRow("hook", IncidentMessage(delivery.Incident{Service: "api", ID: "42", Title: "checkout down"}, "payments", ReasonOpened, now), now)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		if got := o.Deliver(ctx, row, now); got.DeliveredAt.IsZero() {
			b.Fatal(got.LastError)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "notifications/s")
}
