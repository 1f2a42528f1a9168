package server

import (
	"net/http"
	"strconv"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/store"
)

// scopeAndPeriod reads ?service=&team=&from=&to= shared by the reports.
func (s *Server) scopeAndPeriod(r *http.Request) (store.Scope, delivery.Period, error) {
	q := r.URL.Query()
	scope := store.Scope{Service: q.Get("service"), Team: q.Get("team")}
	if scope.Service != "" && scope.Team != "" {
		return scope, delivery.Period{}, delivery.FieldError("team", "give a service or a team, not both")
	}
	p, err := delivery.ParsePeriod(q.Get("from"), q.Get("to"), s.now())
	return scope, p, err
}

func (s *Server) getDORA(w http.ResponseWriter, r *http.Request) {
	scope, period, err := s.scopeAndPeriod(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := s.Reports.DORA(r.Context(), scope, period, s.Thresholds)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ans, err := s.judged(r.Context(), scope, rep)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ans)
}

func (s *Server) getDORAExplain(w http.ResponseWriter, r *http.Request) {
	scope, period, err := s.scopeAndPeriod(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.Reports.DORAExplain(r.Context(), scope, period, r.URL.Query().Get("figure"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) getFlow(w http.ResponseWriter, r *http.Request) {
	scope, period, err := s.scopeAndPeriod(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := s.Reports.Flow(r.Context(), scope, period)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) getFlowExplain(w http.ResponseWriter, r *http.Request) {
	scope, period, err := s.scopeAndPeriod(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.Reports.FlowExplain(r.Context(), scope, period, r.URL.Query().Get("figure"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) getPlanning(w http.ResponseWriter, r *http.Request) {
	team, period, sprints, err := s.planningQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep, err := s.Reports.Planning(r.Context(), team, period, sprints)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *Server) getPlanningExplain(w http.ResponseWriter, r *http.Request) {
	team, period, sprints, err := s.planningQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.Reports.PlanningExplain(r.Context(), team, period, sprints, r.URL.Query().Get("figure"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// planningQuery reads the team, period and sprint count of a planning
// request.
func (s *Server) planningQuery(r *http.Request) (team string, period delivery.Period, sprints int, err error) {
	q := r.URL.Query()
	if period, err = delivery.ParsePeriod(q.Get("from"), q.Get("to"), s.now()); err != nil {
		return "", period, 0, err
	}
	if v := q.Get("sprints"); v != "" {
		if sprints, err = strconv.Atoi(v); err != nil || sprints < 1 {
			return "", period, 0, delivery.FieldError("sprints", "must be a positive whole number")
		}
	}
	return q.Get("team"), period, sprints, nil
}

// thresholdsJSON is the tier table as a dashboard shows it: durations in
// seconds, ratios as fractions.
type thresholdsJSON struct {
	DeploymentFrequency struct {
		EliteDaysPerWeek   float64 `json:"elite_days_per_week"`
		HighDaysPerWeek    float64 `json:"high_days_per_week"`
		MediumDaysPerMonth float64 `json:"medium_days_per_month"`
	} `json:"deployment_frequency"`
	LeadTime          tierBounds `json:"lead_time_seconds"`
	ChangeFailureRate tierBounds `json:"change_failure_rate"`
	TimeToRestore     tierBounds `json:"time_to_restore_seconds"`
}

type tierBounds struct {
	Elite  float64 `json:"elite"`
	High   float64 `json:"high"`
	Medium float64 `json:"medium"`
}

func (s *Server) getThresholds(w http.ResponseWriter, r *http.Request) {
	th := dora.DefaultThresholds()
	if s.Thresholds != nil {
		th = *s.Thresholds
	}
	var out thresholdsJSON
	out.DeploymentFrequency.EliteDaysPerWeek = th.DeploymentFrequency.EliteDaysPerWeek
	out.DeploymentFrequency.HighDaysPerWeek = th.DeploymentFrequency.HighDaysPerWeek
	out.DeploymentFrequency.MediumDaysPerMonth = th.DeploymentFrequency.MediumDaysPerMonth
	out.LeadTime = tierBounds{th.LeadTime.Elite.Seconds(), th.LeadTime.High.Seconds(), th.LeadTime.Medium.Seconds()}
	out.ChangeFailureRate = tierBounds{th.ChangeFailureRate.Elite, th.ChangeFailureRate.High, th.ChangeFailureRate.Medium}
	out.TimeToRestore = tierBounds{th.TimeToRestore.Elite.Seconds(), th.TimeToRestore.High.Seconds(), th.TimeToRestore.Medium.Seconds()}
	writeJSON(w, http.StatusOK, out)
}

// getSprints answers the sprint and team health of a team over a period;
// explain=true lists the items behind each figure.
func (s *Server) getSprints(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("service") != "" {
		s.writeError(w, r, delivery.FieldError("service", "sprints belong to teams; give team"))
		return
	}
	period, err := delivery.ParsePeriod(q.Get("from"), q.Get("to"), s.now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	explain := false
	if v := q.Get("explain"); v != "" {
		if explain, err = strconv.ParseBool(v); err != nil {
			s.writeError(w, r, delivery.FieldError("explain", "must be true or false"))
			return
		}
	}
	rep, err := s.Reports.Sprint(r.Context(), q.Get("team"), period, explain)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
