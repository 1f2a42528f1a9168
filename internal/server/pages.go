package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/stride-oss/stride/internal/cihealth"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/flow"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/sprint"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/web"
)

// Catalog is what stride.yaml says about teams, services and sources that
// the dashboard and the targets of GET /api/v1/dora need. The binary fills
// it from the configuration; the zero value is a server with nothing
// configured, whose pages list the services the store knows.
type Catalog struct {
	Teams    []CatalogTeam
	Services []CatalogService
	// Sources are the configured webhook sources' names.
	Sources []string
	// IncidentSources are those of Sources that report incidents; with
	// one, every service's change failure rate and time to restore are
	// judged, not shown as "no incident source".
	IncidentSources []string
	// ThresholdsConfigured says the tier boundaries come from stride.yaml,
	// so the legend names them rather than the 2023 DORA clusters.
	ThresholdsConfigured bool
}

// CatalogTeam is a configured team with its targets.
type CatalogTeam struct {
	Name    string
	Targets dora.Targets
}

// CatalogService is a configured service with its team and the targets
// that hold for it: its own, each key it leaves out taken from its team's
// (config.Config.TargetsOf).
type CatalogService struct {
	Name    string
	Team    string
	Targets dora.Targets
}

// teamTargets returns the configured targets of team.
func (c Catalog) teamTargets(team string) dora.Targets {
	for _, t := range c.Teams {
		if t.Name == team {
			return t.Targets
		}
	}
	return dora.Targets{}
}

// serviceTargets returns the targets of a service whose stored team is
// team: a configured service's own, else its team's.
func (c Catalog) serviceTargets(service, team string) dora.Targets {
	for _, s := range c.Services {
		if s.Name == service {
			return s.Targets
		}
	}
	return c.teamTargets(team)
}

// ScopeTargets returns the targets of a report's scope: a service's (a
// service stride.yaml does not list takes the targets of the team the
// store knows for it), a team's, none for the organisation. The API and
// the command line both answer with it.
func (c Catalog) ScopeTargets(ctx context.Context, db *store.DB, scope store.Scope) (dora.Targets, error) {
	switch {
	case scope.Service != "":
		if slices.ContainsFunc(c.Services, func(s CatalogService) bool { return s.Name == scope.Service }) {
			return c.serviceTargets(scope.Service, ""), nil
		}
		stored, err := db.ServiceTeams(ctx)
		if err != nil {
			return dora.Targets{}, err
		}
		for _, st := range stored {
			if st.Name == scope.Service {
				return c.teamTargets(st.Team), nil
			}
		}
		return dora.Targets{}, nil
	case scope.Team != "":
		return c.teamTargets(scope.Team), nil
	}
	return dora.Targets{}, nil
}

// pages implements web.Data over the server's read path: every figure a
// page shows is the one the API answers for the same scope.
type pages struct {
	s *Server

	mu sync.Mutex
	// alone are the services without a team, each shown as a team of its
	// own (a first `stride import git` with no stride.yaml makes one),
	// as the last Catalog found them.
	alone map[string]bool
}

// pagesHandler builds the dashboard over s.
func (s *Server) pagesHandler() (http.Handler, error) {
	d := &pages{s: s}
	return web.New(d, web.Options{
		Authenticate: func(ctx context.Context, token string) (string, error) {
			tok, err := s.DB.Authenticate(ctx, token)
			if err != nil {
				return "", err
			}
			if !tok.Scope.Allows(delivery.ScopeRead) {
				return "", delivery.Errorf(delivery.EFORBIDDEN, "token %q has scope %s; the dashboard needs read or admin", tok.Name, tok.Scope)
			}
			return tok.Name, nil
		},
		Dev:     s.Dev,
		BaseURL: s.BaseURL,
		Now:     s.now,
		Logger:  s.logger(),
	})
}

// Catalog joins the configuration with what the store knows: services that
// events created without a stride.yaml entry are listed under their
// stored team, or as a team of their own when they have none.
func (d *pages) Catalog(ctx context.Context) (web.Catalog, error) {
	c := d.s.Catalog
	stored, err := d.s.DB.ServiceTeams(ctx)
	if err != nil {
		return web.Catalog{}, err
	}
	withIncidents, err := d.s.DB.IncidentServices(ctx)
	if err != nil {
		return web.Catalog{}, err
	}
	th := dora.DefaultThresholds()
	if d.s.Thresholds != nil {
		th = *d.s.Thresholds
	}
	out := web.Catalog{Sources: slices.Clone(c.Sources), Thresholds: th, Configured: c.ThresholdsConfigured}

	teamOf := map[string]string{}
	var names []string
	for _, st := range stored {
		teamOf[st.Name] = st.Team
		names = append(names, st.Name)
	}
	for _, cs := range c.Services {
		if _, ok := teamOf[cs.Name]; !ok {
			names = append(names, cs.Name)
		}
		if cs.Team != "" {
			teamOf[cs.Name] = cs.Team
		}
	}
	sort.Strings(names)
	teams := map[string]*web.Team{}
	real := map[string]bool{} // teams configured or owning a service
	for _, t := range c.Teams {
		teams[t.Name] = &web.Team{Name: t.Name, Targets: t.Targets}
		real[t.Name] = true
	}
	for _, team := range teamOf {
		real[team] = team != "" || real[team]
	}
	incidents := map[string]bool{}
	for _, name := range withIncidents {
		incidents[name] = true
	}
	alone := map[string]bool{}
	for _, name := range names {
		team := teamOf[name]
		if team == "" {
			// A service of no team joins a team of its name if one
			// exists; else it is a team of its own.
			team = name
			alone[name] = !real[name]
		}
		t, ok := teams[team]
		if !ok {
			t = &web.Team{Name: team, Targets: c.teamTargets(team)}
			teams[team] = t
		}
		t.Services = append(t.Services, web.Service{Name: name, Team: team, Targets: c.serviceTargets(name, teamOf[name]),
			IncidentSource: len(c.IncidentSources) > 0 || incidents[name]})
	}
	for _, t := range teams {
		out.Teams = append(out.Teams, *t)
	}
	sort.Slice(out.Teams, func(i, j int) bool { return out.Teams[i].Name < out.Teams[j].Name })
	d.mu.Lock()
	d.alone = alone
	d.mu.Unlock()
	return out, nil
}

// scope turns a page's scope into the store's: a team of its own is its
// one service.
func (d *pages) scope(s web.Scope) (store.Scope, delivery.Period) {
	p := delivery.Period{From: s.From, To: s.To}
	d.mu.Lock()
	alone := d.alone[s.Team]
	d.mu.Unlock()
	if s.Team != "" && alone {
		return store.Scope{Service: s.Team}, p
	}
	return store.Scope{Service: s.Service, Team: s.Team}, p
}

// noData reports whether err says the scope has nothing stored yet: a
// configured team or service that no event has reached shows empty
// figures and its empty state, not a "not found" page.
func noData(err error) bool { return delivery.ErrorCode(err) == delivery.ENOTFOUND }

func (d *pages) DORA(ctx context.Context, s web.Scope) (dora.Report, error) {
	sc, p := d.scope(s)
	rep, err := d.s.Reports.DORA(ctx, sc, p, d.s.Thresholds)
	if noData(err) {
		rep, err = dora.Compute(dora.Input{Period: p, Thresholds: d.s.Thresholds}), nil
	}
	rep.Service, rep.Team = s.Service, s.Team
	return rep, err
}

func (d *pages) DORAExplain(ctx context.Context, s web.Scope, figure string) (dora.Explanation, error) {
	sc, p := d.scope(s)
	e, err := d.s.Reports.DORAExplain(ctx, sc, p, figure)
	if noData(err) && slices.Contains(dora.Figures(), figure) {
		e, err = dora.Explain(dora.Input{Period: p}, figure)
	}
	return e, err
}

func (d *pages) Flow(ctx context.Context, s web.Scope) (flow.Report, error) {
	sc, p := d.scope(s)
	rep, err := d.s.Reports.Flow(ctx, sc, p)
	if noData(err) {
		return flow.Compute(flow.Input{Period: p, Deployed: map[flow.CommitKey]flow.Deployed{}}), nil
	}
	return rep, err
}

func (d *pages) FlowExplain(ctx context.Context, s web.Scope, figure string) (flow.Explanation, error) {
	sc, p := d.scope(s)
	e, err := d.s.Reports.FlowExplain(ctx, sc, p, figure)
	if noData(err) {
		return flow.Explain(flow.Input{Period: p, Deployed: map[flow.CommitKey]flow.Deployed{}}, figure)
	}
	return e, err
}

func (d *pages) Planning(ctx context.Context, s web.Scope) (flow.PlanningReport, error) {
	return d.s.Reports.Planning(ctx, s.Team, delivery.Period{From: s.From, To: s.To}, 0)
}

func (d *pages) Weekly(ctx context.Context, s web.Scope, weeks int) ([]web.Week, error) {
	if d.s.Trends == nil {
		return nil, nil
	}
	sc, _ := d.scope(s)
	return d.s.Trends.Weekly(sc, s.To, weeks), nil
}

// services returns the names of the services of s, none when it has no
// data yet.
func (d *pages) services(ctx context.Context, s web.Scope) ([]string, delivery.Period, error) {
	sc, p := d.scope(s)
	names, err := d.s.DB.ScopeServices(ctx, sc)
	if noData(err) {
		return nil, p, nil
	}
	return names, p, err
}

func (d *pages) Deployments(ctx context.Context, s web.Scope) ([]delivery.Deployment, error) {
	names, p, err := d.services(ctx, s)
	if err != nil {
		return nil, err
	}
	return d.s.DB.PeriodDeployments(ctx, names, p)
}

func (d *pages) Incidents(ctx context.Context, s web.Scope) ([]delivery.Incident, error) {
	names, p, err := d.services(ctx, s)
	if err != nil {
		return nil, err
	}
	return d.s.DB.PeriodIncidents(ctx, names, p)
}

func (d *pages) Rollouts(ctx context.Context, service string, limit int) ([]web.Rollout, error) {
	shas, err := d.s.DB.RecentCommits(ctx, service, limit)
	if err != nil {
		return nil, err
	}
	out := make([]web.Rollout, 0, len(shas))
	for _, sha := range shas {
		a, err := d.s.rollout(ctx, service, sha, defaultHistory)
		if err != nil {
			return nil, err
		}
		ro := web.Rollout{Position: a.Position, Gates: a.Gates}
		for _, p := range a.Promotions {
			ro.Promotions = append(ro.Promotions, web.Promotion{
				Decision: rings.Decision{Service: p.Service, SHA: p.SHA, From: p.From, To: p.To, Allowed: p.Allowed, Conditions: p.Conditions},
				Fix:      p.Fix, RequestedBy: p.RequestedBy, DecidedAt: p.DecidedAt})
		}
		out = append(out, ro)
	}
	return out, nil
}

// rollout is a commit's rollout as GET /api/v1/rings answers it: its
// position across the service's rings, the gate runs that count for it and
// its promotion history, newest first, at most limit.
func (s *Server) rollout(ctx context.Context, service, sha string, limit int) (ringsAnswer, error) {
	cfg, err := s.ringConfig(service)
	if err != nil {
		return ringsAnswer{}, err
	}
	deps, err := s.DB.CommitDeployments(ctx, service, sha)
	if err != nil {
		return ringsAnswer{}, err
	}
	gates, err := s.gateRuns(ctx, service, sha)
	if err != nil {
		return ringsAnswer{}, err
	}
	if gates == nil {
		gates = []rings.GateRun{}
	}
	ps, err := s.DB.Promotions(ctx, service, sha, limit)
	if err != nil {
		return ringsAnswer{}, err
	}
	history, err := promotionsJSON(ps)
	if err != nil {
		return ringsAnswer{}, err
	}
	return ringsAnswer{Position: rings.Locate(cfg, sha, deps, s.now()), Gates: gates, Promotions: history}, nil
}

// DORAAnswer is GET /api/v1/dora's answer, and stride report dora's JSON:
// the report, and for a service or team scope with targets the targets in
// force, whether each is met keyed by the figure names of explain
// (deployment_frequency, lead_time, …), and each judgement in words.
type DORAAnswer struct {
	dora.Report
	Targets *dora.Targets       `json:"targets,omitempty"`
	Met     map[string]dora.Met `json:"met,omitempty"`
	Judged  []dora.TargetResult `json:"target_results,omitempty"`
}

// judged adds the scope's targets to a DORA report.
func (s *Server) judged(ctx context.Context, scope store.Scope, rep dora.Report) (DORAAnswer, error) {
	t, err := s.Catalog.ScopeTargets(ctx, s.DB, scope)
	return JudgeDORA(rep, t), err
}

// JudgeDORA is the DORA answer of rep judged against t; with no target
// set, the report alone.
func JudgeDORA(rep dora.Report, t dora.Targets) DORAAnswer {
	a := DORAAnswer{Report: rep}
	if t.Empty() {
		return a
	}
	a.Targets, a.Met = &t, map[string]dora.Met{}
	a.Judged = dora.JudgeTargets(rep, t)
	for _, r := range a.Judged {
		a.Met[r.Key] = r.Met
	}
	return a
}

// routeMux is the server's mux, which also keeps the patterns registered
// on it, in order, so that the OpenAPI test can check every route is
// documented without a second list to keep in step.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

// Handle registers h for pattern and keeps the pattern.
func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.ServeMux.Handle(pattern, h)
	m.patterns = append(m.patterns, pattern)
}

// HandleFunc registers h for pattern and keeps the pattern.
func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.ServeMux.HandleFunc(pattern, h)
	m.patterns = append(m.patterns, pattern)
}

// Routes returns the patterns the server registers ("GET /api/v1/dora"),
// in order, the dashboard's "/" and the JSON fallbacks of /api/ and
// /webhooks/ included.
func (s *Server) Routes() []string {
	s.Handler()
	return slices.Clone(s.mux.patterns)
}

// mountPages serves the dashboard at the root. The API's and webhooks'
// prefixes get fallbacks of their own, so that a request for an unknown
// API path, or with a method its path does not take, is answered in JSON
// and not by the dashboard's HTML.
func (s *Server) mountPages(mux *routeMux) {
	mux.HandleFunc("GET /api/openapi.json", s.getOpenAPI)
	mux.HandleFunc("/api/", s.noRoute)
	mux.HandleFunc("/webhooks/", s.noRoute)
	h, err := s.pagesHandler()
	if err != nil {
		// web.New fails only on templates embedded in the binary or on
		// missing wiring; both are faults of the build, found by its tests.
		s.logger().Error("dashboard disabled", "err", err)
		return
	}
	mux.Handle("/", h)
}

// noRoute answers a path of the API that no route serves.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		other := r.Clone(r.Context())
		other.Method = m
		if _, p := s.mux.ServeMux.Handler(other); p != "" && p != "/api/" && p != "/webhooks/" && p != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": fmt.Sprintf("%s %s: method not allowed (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", "))})
		return
	}
	s.writeError(w, r, delivery.Errorf(delivery.ENOTFOUND, "no route %s %s (the API is described at GET /api/openapi.json)", r.Method, r.URL.Path))
}

// Sprint, CI, DeployHours and Impact implement web.HealthData with the
// reports GET /api/v1/sprints, /api/v1/ci, /api/v1/deploy-hours and
// /api/v1/impact answer for the same scope.

func (d *pages) Sprint(ctx context.Context, s web.Scope) (sprint.Report, error) {
	return d.s.Reports.Sprint(ctx, s.Team, delivery.Period{From: s.From, To: s.To}, false)
}

func (d *pages) CI(ctx context.Context, s web.Scope) (cihealth.Report, error) {
	sc, p := d.scope(s)
	rep, err := d.s.Reports.CI(ctx, sc, p)
	if noData(err) {
		return cihealth.Compute(cihealth.Input{Period: p}), nil
	}
	return rep, err
}

func (d *pages) DeployHours(ctx context.Context, s web.Scope) (cihealth.HoursReport, error) {
	sc, p := d.scope(s)
	rep, err := d.s.Reports.DeployHours(ctx, sc, p)
	if noData(err) {
		return cihealth.Hours(cihealth.Input{Period: p}), nil
	}
	return rep, err
}

func (d *pages) Impact(ctx context.Context, s web.Scope) (web.Impact, error) {
	sc, p := d.scope(s)
	rep, err := d.s.Reports.Impact(ctx, sc, p, false)
	if noData(err) {
		return web.Impact{}, nil
	}
	return web.Impact{Deployments: rep.Deployments, Apdex: rep.Apdex, Warnings: rep.Warnings}, err
}
