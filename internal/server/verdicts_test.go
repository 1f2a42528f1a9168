package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
)

// TestLiveAndReplayedDeliveriesGetTheSameVerdicts sends a valid, an
// ignored and a malformed GitHub delivery to the live handler, then replays
// all three with reprocess, and checks each gets the same verdict both
// ways: accepted; ignored with the same reason; malformed with the message
// the live 400 gave. A malformed delivery is never stored live, so the test
// stores it raw as an older release that accepted it would have.
func TestLiveAndReplayedDeliveriesGetTheSameVerdicts(t *testing.T) {
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		h := open(t)
		deliveries := []struct {
			id, event, body string
			status          int
		}{
			{"v-valid", "push", `{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000",` +
				`"commits":[{"id":"1111111111111111111111111111111111111111","message":"one","timestamp":"2026-03-02T08:00:00Z","author":{"username":"alice"}}],` +
				`"repository":{"full_name":"acme/shop","default_branch":"main"}}`, http.StatusOK},
			{"v-ignored", "ping", `{"zen":"Keep it logically awesome.","hook_id":1}`, http.StatusAccepted},
			{"v-malformed", "push", `{"ref": 42}`, http.StatusBadRequest},
		}
		live := map[string]string{} // delivery id → verdict as recorded
		for _, d := range deliveries {
			hdr := headers(github.HeaderEvent, d.event, github.HeaderDelivery, d.id, github.HeaderSignature, github.Sign(githubSecret, []byte(d.body)))
			r := h.post(t, "/webhooks/github", hdr, []byte(d.body))
			if r.status != d.status {
				t.Fatalf("%s: live %d %s, want %d", d.id, r.status, r.text, d.status)
			}
			switch r.status {
			case http.StatusOK:
				live[d.id] = string(intake.Accepted)
			case http.StatusAccepted:
				live[d.id] = "ignored: " + r.body["reason"].(string)
			case http.StatusBadRequest:
				live[d.id] = "malformed: " + r.body["error"].(string)
				if _, stored := h.rawDelivery(t, "github", d.id); stored {
					t.Errorf("%s: a malformed live delivery was stored", d.id)
				}
				if _, err := h.db.IngestDelivery(context.Background(), store.RawDelivery{Source: "github", DeliveryID: d.id,
					EventType: d.event, Headers: hdr, Body: []byte(d.body), Outcome: "accepted"}, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		for id, want := range live {
			if got, _ := h.rawDelivery(t, "github", id); id != "v-malformed" && got != want {
				t.Errorf("%s: stored live as %q, want %q", id, got, want)
			}
		}
		var eventType string
		if err := h.raw.QueryRow("SELECT event_type FROM raw_deliveries WHERE delivery_id = 'v-ignored'").Scan(&eventType); err != nil || eventType != "ping" {
			t.Errorf("the ignored delivery's event type is %q (%v), want ping", eventType, err)
		}
		events := h.counts(t)["events"]

		res, err := h.srv.Intake.Reprocess(context.Background(), "github")
		if err != nil {
			t.Fatal(err)
		}
		if want := (intake.ReprocessResult{Deliveries: 3, Accepted: 1, Ignored: 1, Malformed: 1, Events: 1, Rebuilt: 1}); res != want {
			t.Errorf("reprocess %+v, want %+v", res, want)
		}
		for id, want := range live {
			if got, _ := h.rawDelivery(t, "github", id); got != want {
				t.Errorf("%s: replayed as %q, live it was %q", id, got, want)
			}
		}
		if got := h.counts(t)["events"]; got != events {
			t.Errorf("%d events after reprocessing, %d before", got, events)
		}
	})
}
