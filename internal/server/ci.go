package server

import (
	"net/http"

	"github.com/stride-oss/stride/internal/delivery"
)

// getCI is GET /api/v1/ci: the CI health report of a scope and period.
func (s *Server) getCI(w http.ResponseWriter, r *http.Request) {
	scope, period, err := s.scopeAndPeriod(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := s.Reports.CI(r.Context(), scope, period)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// getCIExplain is GET /api/v1/ci/explain?figure=: the builds or changes
// behind one CI figure.
func (s *Server) getCIExplain(w http.ResponseWriter, r *http.Request) {
	scope, period, err := s.scopeAndPeriod(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	figure := r.URL.Query().Get("figure")
	if figure == "deploy_hours" {
		s.writeError(w, r, delivery.FieldError("figure", "deploy_hours is explained by /api/v1/deploy-hours/explain"))
		return
	}
	e, err := s.Reports.CIExplain(r.Context(), scope, period, figure)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// getDeployHours is GET /api/v1/deploy-hours: production deployments by
// local hour and weekday, and the share outside working hours.
func (s *Server) getDeployHours(w http.ResponseWriter, r *http.Request) {
	scope, period, err := s.scopeAndPeriod(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := s.Reports.DeployHours(r.Context(), scope, period)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// getDeployHoursExplain is GET /api/v1/deploy-hours/explain: each
// deployment at its local time.
func (s *Server) getDeployHoursExplain(w http.ResponseWriter, r *http.Request) {
	scope, period, err := s.scopeAndPeriod(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.Reports.DeployHoursExplain(r.Context(), scope, period)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}
