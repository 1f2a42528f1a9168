package server

import (
	"context"
	"html/template"
	"net/http"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/digest"
	"github.com/stride-oss/stride/internal/incident"
)

// digestReader is the digest's read path: Server.Digests as the binary
// wires it (the incident policies of stride.yaml), else one over Reports
// with the catalog's targets and the default policies.
func (s *Server) digestReader() *digest.Reader {
	if s.Digests != nil {
		return s.Digests
	}
	return &digest.Reader{Reports: s.Reports, Thresholds: s.Thresholds, Policies: incident.DefaultPolicies(),
		Targets: s.Catalog.teamTargets, BaseURL: s.BaseURL}
}

// teamDigest is the digest of team as of at, keyed as the job keys the
// team's schedule, so the API, the page and the mail of the week agree.
func (s *Server) teamDigest(ctx context.Context, team string, at time.Time) (digest.Digest, error) {
	week := digest.ISOWeek(at)
	for _, sc := range s.DigestSchedules {
		if sc.Team == team {
			week = sc.Key(at)
		}
	}
	return s.digestReader().Digest(ctx, team, week, at)
}

// getDigest answers GET /api/v1/digest?team=T[&at=TIME]: the team's weekly
// digest as of at (default now): the last four full ISO weeks, the trend
// of twelve, the last week's news.
func (s *Server) getDigest(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	team := q.Get("team")
	if team == "" {
		s.writeError(w, r, delivery.FieldError("team", "is required"))
		return
	}
	at := s.now()
	if v := q.Get("at"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			s.writeError(w, r, delivery.FieldError("at", "want an RFC 3339 time, got %q", v))
			return
		}
		at = t
	}
	d, err := s.teamDigest(r.Context(), team, at)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// Digest implements web.DigestData: the page shows the body of the mail.
func (d *pages) Digest(ctx context.Context, team string) (template.HTML, error) {
	dg, err := d.s.teamDigest(ctx, team, d.s.now())
	if err != nil {
		return "", err
	}
	return digest.Fragment(dg)
}
