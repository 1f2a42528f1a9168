package server

import (
	"errors"
	"net/http"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
	"github.com/stride-oss/stride/internal/store"
)

// headersKept are the request headers stored with a raw delivery: those a
// connector reads, so reprocessing sees what the first translation saw.
var headersKept = []string{
	"Content-Type", "User-Agent",
	"X-GitHub-Event", "X-GitHub-Delivery", "X-GitHub-Hook-ID",
	"X-Gitlab-Event", "X-Gitlab-Event-UUID", "Idempotency-Key",
	"X-Atlassian-Webhook-Identifier",
	"Ce-Id", "Ce-Type", "Ce-Source", "Ce-Specversion", "Ce-Time", "Ce-Subject",
}

// postWebhook takes a delivery from a configured source: check its
// authenticity, translate it, then store the raw delivery and its events in
// one transaction before answering.
func (s *Server) postWebhook(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("source")
	src, ok := s.Sources[name]
	if !ok {
		s.writeError(w, r, delivery.Errorf(delivery.ENOTFOUND, "no webhook source %q is configured", name))
		return
	}
	body, err := readBody(w, r, MaxWebhookBody)
	if err != nil {
		s.metrics.add("stride_webhook_deliveries_total", name+"/too_large", 1)
		s.writeError(w, r, err)
		return
	}
	h := r.Header.Clone()
	if tok := r.URL.Query().Get("token"); tok != "" && h.Get("X-Stride-Token") == "" {
		h.Set("X-Stride-Token", tok)
	}
	if err := src.Verify(h, body); err != nil {
		s.metrics.add("stride_webhook_deliveries_total", name+"/unauthorized", 1)
		if delivery.ErrorCode(err) != delivery.EUNAUTHORIZED {
			err = delivery.Errorf(delivery.EUNAUTHORIZED, "%s", delivery.ErrorMessage(err))
		}
		s.writeError(w, r, err)
		return
	}
	raw := store.RawDelivery{Source: name, DeliveryID: src.DeliveryID(h, body), Headers: keptHeaders(h), Body: body}
	events, err := src.Translate(h, body)
	if errors.Is(err, ingest.ErrIgnored) {
		raw.Outcome = "ignored: " + err.Error()
		if _, err := s.DB.IngestDelivery(r.Context(), raw, nil); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.metrics.add("stride_webhook_deliveries_total", name+"/ignored", 1)
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "ignored", "reason": err.Error()})
		return
	}
	if err != nil {
		s.metrics.add("stride_webhook_deliveries_total", name+"/malformed", 1)
		if delivery.ErrorCode(err) == delivery.EINTERNAL {
			err = delivery.Errorf(delivery.EINVALID, "malformed %s delivery: %v", name, err)
		}
		s.writeError(w, r, err)
		return
	}
	raw.Outcome = "accepted"
	res, err := s.DB.IngestDelivery(r.Context(), raw, events)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.add("stride_webhook_deliveries_total", name+"/accepted", 1)
	s.metrics.add("stride_events_ingested_total", name, res.Added)
	s.metrics.add("stride_events_duplicate_total", name, res.Duplicates)
	writeJSON(w, http.StatusOK, map[string]any{"status": "accepted", "events": len(events), "added": res.Added, "duplicates": res.Duplicates})
}

func keptHeaders(h http.Header) http.Header {
	out := http.Header{}
	for _, k := range headersKept {
		if v := h.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out
}
