package server

import (
	"bytes"
	"net/http"
	"strconv"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/impact"
	"github.com/stride-oss/stride/internal/report"
)

// impactRoutes registers the deployment impact report and the Apdex push.
func (s *Server) impactRoutes(mux *routeMux) {
	mux.Handle("GET /api/v1/deployments/impact", s.auth(delivery.ScopeRead, s.getImpact))
	mux.Handle("POST /api/v1/apdex", s.auth(delivery.ScopeIngest, s.postApdex))
}

// getImpact answers with what the impact job stored for the production
// deployments of the scope that finished in the period (?service=,
// ?team=, ?from=, ?to=), and the period's Apdex. ?deployment=ID keeps one
// deployment; ?explain=true adds each one's minute figures.
func (s *Server) getImpact(w http.ResponseWriter, r *http.Request) {
	scope, period, err := s.scopeAndPeriod(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	explain := false
	if v := q.Get("explain"); v != "" {
		if explain, err = strconv.ParseBool(v); err != nil {
			s.writeError(w, r, delivery.FieldError("explain", "is true or false, not %q", v))
			return
		}
	}
	rep, err := s.Reports.Impact(r.Context(), scope, period, explain)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if id := q.Get("deployment"); id != "" {
		rep = report.OnlyDeployment(rep, id)
	}
	writeJSON(w, http.StatusOK, rep)
}

// apdexRequest is one push of POST /api/v1/apdex; t is the threshold T
// as a duration ("300ms"), optional when stride.yaml sets the service's
// apdex_t.
type apdexRequest struct {
	Service    string    `json:"service"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	T          string    `json:"t"`
	Satisfied  int64     `json:"satisfied"`
	Tolerating int64     `json:"tolerating"`
	Total      int64     `json:"total"`
}

// postApdex stores pushed Apdex counts: one object or an array.
func (s *Server) postApdex(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, MaxSLIBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var reqs []apdexRequest
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '[' {
		err = decodeJSON(body, &reqs, true)
	} else {
		var one apdexRequest
		err = decodeJSON(body, &one, true)
		reqs = []apdexRequest{one}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pushes := make([]impact.ApdexPush, len(reqs))
	for i, q := range reqs {
		p := impact.ApdexPush{Service: q.Service, Start: q.Start, End: q.End, Satisfied: q.Satisfied, Tolerating: q.Tolerating, Total: q.Total}
		if q.T != "" {
			if p.Threshold, err = time.ParseDuration(q.T); err != nil {
				e := delivery.FieldError("t", "is a duration such as \"300ms\", not %q", q.T)
				e.Index = i
				s.writeError(w, r, e)
				return
			}
		}
		pushes[i] = p
	}
	res, err := s.Intake.Apdex(r.Context(), pushes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"accepted": len(pushes), "added": res.Added, "replaced": res.Replaced})
}
