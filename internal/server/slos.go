package server

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/sloeval"
	"github.com/stride-oss/stride/internal/store"
)

// Limits of the SLO endpoints' bodies: a file of SLO definitions, a day of
// minute pushes.
const (
	MaxSLOBody = 1 << 20
	MaxSLIBody = 4 << 20
)

// sloRoutes registers the SLO, maintenance, alert and flagd endpoints.
func (s *Server) sloRoutes(mux *routeMux) {
	mux.Handle("PUT /api/v1/slos/{name}", s.auth(delivery.ScopeAdmin, s.putSLO))
	mux.Handle("GET /api/v1/slos", s.auth(delivery.ScopeRead, s.getSLOs))
	mux.Handle("GET /api/v1/slos/{name}", s.auth(delivery.ScopeRead, s.getSLO))
	mux.Handle("GET /api/v1/slos/{name}/explain", s.auth(delivery.ScopeRead, s.getSLOExplain))
	mux.Handle("POST /api/v1/sli", s.auth(delivery.ScopeIngest, s.postSLI))
	mux.Handle("POST /api/v1/maintenance", s.auth(delivery.ScopeIngest, s.postMaintenance))
	mux.Handle("GET /api/v1/maintenance", s.auth(delivery.ScopeRead, s.getMaintenance))
	mux.Handle("GET /api/v1/alerts", s.auth(delivery.ScopeRead, s.getAlerts))
	mux.Handle("GET /api/v1/rings/flagd", s.auth(delivery.ScopeRead, s.getFlagd))
}

// putSLO stores one OpenSLO definition (YAML or JSON, with the SLI
// documents it references) under the name in the path.
func (s *Server) putSLO(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, MaxSLOBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defs, err := slo.ParseOpenSLO(bytes.NewReader(body))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	name := r.PathValue("name")
	if len(defs) != 1 || defs[0].Name != name {
		names := make([]string, len(defs))
		for i, d := range defs {
			names[i] = d.Name
		}
		s.writeError(w, r, delivery.FieldError("metadata.name", "the body must define one SLO named %s, it defines %v", name, names))
		return
	}
	created, err := s.Intake.SLOs(r.Context(), defs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusOK
	if created > 0 {
		status = http.StatusCreated
	}
	writeJSON(w, status, defs[0])
}

// sloList is the answer of GET /api/v1/slos: the latest report of each SLO
// in scope, and the SLOs the evaluation job has not reached yet.
type sloList struct {
	SLOs    []slo.Report `json:"slos"`
	Pending []string     `json:"pending"`
}

// getSLOs lists the reports of the SLOs of ?service= or ?team= (or all).
func (s *Server) getSLOs(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	services, err := s.sloServices(r, q.Get("service"), q.Get("team"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defs, err := sloeval.Definitions(ctx, s.DB, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reports, err := sloeval.Reports(ctx, s.DB, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in := func(service string) bool { return services == nil || slices.Contains(services, service) }
	out := sloList{SLOs: []slo.Report{}, Pending: []string{}}
	evaluated := map[string]bool{}
	for _, rep := range reports {
		evaluated[rep.Name] = true
		if in(rep.Service) {
			out.SLOs = append(out.SLOs, rep)
		}
	}
	for _, d := range defs {
		if !evaluated[d.Name] && in(d.Service) {
			out.Pending = append(out.Pending, d.Name)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// sloServices returns the services of a team, [service] for a service, or
// nil for every service.
func (s *Server) sloServices(r *http.Request, service, team string) ([]string, error) {
	switch {
	case service != "" && team != "":
		return nil, delivery.FieldError("team", "give service or team, not both")
	case service != "":
		return []string{service}, nil
	case team != "":
		return s.DB.ScopeServices(r.Context(), store.Scope{Team: team})
	}
	return nil, nil
}

// getSLO answers with the latest report of one SLO.
func (s *Server) getSLO(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	def, err := sloeval.Definition(ctx, s.DB, r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	reports, err := sloeval.Reports(ctx, s.DB, def.Service)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, rep := range reports {
		if rep.Name == def.Name {
			writeJSON(w, http.StatusOK, rep)
			return
		}
	}
	s.writeError(w, r, delivery.Errorf(delivery.ENOTFOUND, "SLO %s is not evaluated yet: the evaluation job runs every minute", def.Name))
}

// defaultExplain is how many minutes an explanation lists unless ?limit=.
const defaultExplain = 20

// getSLOExplain lists the buckets that spent the most budget in the SLO's
// current window, most first. It reads stored buckets; it evaluates no
// alert and writes nothing.
func (s *Server) getSLOExplain(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	def, err := sloeval.Definition(ctx, s.DB, r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := defaultExplain
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxHistory {
			s.writeError(w, r, delivery.FieldError("limit", "must be a whole number from 1 to %d", maxHistory))
			return
		}
	}
	now := s.now()
	sr, err := sloeval.Series(ctx, s.DB, def, time.Time{}, now)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	spends := slo.Explain(sr, now, limit)
	if spends == nil {
		spends = []slo.Spend{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"slo": def.Name, "service": def.Service, "spent": spends})
}

// postSLI stores pushed good and total counts: one object or an array.
func (s *Server) postSLI(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, MaxSLIBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var pushes []slo.Push
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '[' {
		err = decodeJSON(body, &pushes, true)
	} else {
		var one slo.Push
		err = decodeJSON(body, &one, true)
		pushes = []slo.Push{one}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.Intake.SLI(r.Context(), pushes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"accepted": len(pushes), "added": res.Added, "replaced": res.Replaced})
}

// maintenanceRequest is the body of POST /api/v1/maintenance. When it was
// announced is the server's clock, so it is not a field.
type maintenanceRequest struct {
	Service string    `json:"service"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Reason  string    `json:"reason"`
}

// maintenanceJSON is a recorded window and whether it counts as scheduled.
type maintenanceJSON struct {
	slo.Maintenance
	Scheduled bool `json:"scheduled"`
}

func (s *Server) postMaintenance(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r, MaxGateBody)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req maintenanceRequest
	if err := decodeJSON(body, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.Intake.Maintenance(r.Context(), slo.Maintenance{Service: req.Service, From: req.From, To: req.To, Reason: req.Reason})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, maintenanceJSON{Maintenance: m, Scheduled: m.Scheduled()})
}

// getMaintenance lists the windows of ?service= (or all) overlapping
// ?from= to ?to= (default: the last 30 days and the next year).
func (s *Server) getMaintenance(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	now := s.now()
	from, to := now.AddDate(0, 0, -30), now.AddDate(1, 0, 0)
	for _, p := range []struct {
		name string
		into *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				s.writeError(w, r, delivery.FieldError(p.name, "%q is not an RFC 3339 time", v))
				return
			}
			*p.into = t
		}
	}
	ms, err := s.DB.Maintenance(r.Context(), q.Get("service"), from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]maintenanceJSON, 0, len(ms))
	for _, m := range ms {
		sm := slo.Maintenance{Service: m.Service, From: m.From, To: m.To, Reason: m.Reason, AnnouncedAt: m.AnnouncedAt}
		out = append(out, maintenanceJSON{Maintenance: sm, Scheduled: sm.Scheduled()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"maintenance": out})
}

// getAlerts lists the SLO alerts that fired or resolved, newest first, of
// ?service= (or all), since ?since= (default a week ago), at most ?limit=.
func (s *Server) getAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since := s.now().AddDate(0, 0, -7)
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			s.writeError(w, r, delivery.FieldError("since", "%q is not an RFC 3339 time", v))
			return
		}
		since = t
	}
	limit := defaultHistory
	if v := q.Get("limit"); v != "" {
		var err error
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxHistory {
			s.writeError(w, r, delivery.FieldError("limit", "must be a whole number from 1 to %d", maxHistory))
			return
		}
	}
	as, err := s.DB.SLOAlerts(r.Context(), q.Get("service"), since, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]slo.Transition, 0, len(as))
	for _, a := range as {
		out = append(out, slo.Transition{SLO: a.SLO, Service: a.Service, Alert: a.Alert, Severity: a.Severity, Kind: a.Kind,
			Since: a.Since, At: a.At, Reason: a.Reason})
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": out})
}

// getFlagd serves the rings of ?service= as flagd flags, with how far
// ?sha= (optional: then no ring is reached) has rolled out.
func (s *Server) getFlagd(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	service, sha := q.Get("service"), q.Get("sha")
	if service == "" {
		s.writeError(w, r, delivery.FieldError("service", "is required"))
		return
	}
	cfg, err := s.ringConfig(service)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var deps []delivery.Deployment
	if sha != "" {
		if deps, err = s.DB.CommitDeployments(r.Context(), service, sha); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	out, err := rings.Flagd([]rings.Rollout{{Config: cfg, Position: rings.Locate(cfg, sha, deps, s.now())}})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

// budgetFreeze is the error-budget state of a service for the gate and
// promotion endpoints, from the reports the evaluation job stored.
func (s *Server) budgetFreeze(r *http.Request, service string) (slo.Freeze, error) {
	return sloeval.Freeze(r.Context(), s.DB, service)
}
