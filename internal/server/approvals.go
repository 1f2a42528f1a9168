package server

import (
	"net/http"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/store"
)

// MaxApprovalBody bounds a sign-off vote: a few names and a note.
const MaxApprovalBody = 16 << 10

// postApproval records a sign-off vote (stride approve) through the write
// path and answers with it as stored, its time the server's. The ring must
// be one of the service's, so a misspelt ring cannot collect a vote that
// no promotion reads.
func (s *Server) postApproval(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, MaxApprovalBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var a rings.Approval
	if err := decodeJSON(body, &a, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := a.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	cfg, err := s.ringConfig(a.Service)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if cfg.Index(a.Ring) < 0 {
		s.writeError(w, r, delivery.FieldError("ring", "%q is not a ring of %s (rings: %s)", a.Ring, a.Service, ringNames(cfg)))
		return
	}
	token := ""
	if tok, ok := r.Context().Value(tokenKey).(store.Token); ok {
		token = tok.Name
	}
	rec, err := s.Intake.Approval(r.Context(), a, token)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, rec)
}

// getApprovals lists a service's sign-off votes, oldest first, optionally
// of one commit (?sha=) and ring (?ring=).
func (s *Server) getApprovals(w http.ResponseWriter, r *http.Request) {
	service, sha, _, err := historyQuery(r, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	votes, err := s.approvals(r, service, sha, r.URL.Query().Get("ring"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"service": service, "approvals": votes})
}

// approvals reads stored votes as the domain shows them.
func (s *Server) approvals(r *http.Request, service, sha, ring string) ([]rings.Approval, error) {
	stored, err := s.DB.Approvals(r.Context(), service, sha, ring)
	if err != nil {
		return nil, err
	}
	out := make([]rings.Approval, 0, len(stored))
	for _, a := range stored {
		out = append(out, intake.ApprovalOf(a))
	}
	return out, nil
}
