package server

import (
	"net/http"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
)

// postWebhook takes a delivery from a configured source and answers with
// intake's verdict, after the raw delivery and its events are committed:
// 200 accepted, 202 ignored, 400 malformed, 401 unauthorized.
func (s *Server) postWebhook(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("source")
	if !s.Intake.Knows(name) {
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
	v, err := s.Intake.Delivery(r.Context(), name, h, body)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.metrics.add("stride_webhook_deliveries_total", name+"/"+string(v.Outcome), 1)
	switch v.Outcome {
	case intake.Accepted:
		s.metrics.add("stride_events_ingested_total", name, v.Added)
		s.metrics.add("stride_events_duplicate_total", name, v.Duplicates)
		writeJSON(w, http.StatusOK, map[string]any{"status": "accepted", "events": v.Events, "added": v.Added, "duplicates": v.Duplicates})
	case intake.Ignored:
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "ignored", "reason": v.Reason})
	default:
		s.writeError(w, r, v.Err)
	}
}
