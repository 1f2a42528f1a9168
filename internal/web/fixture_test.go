package web

import (
	"context"
	"slices"
	"time"

	"github.com/stride-oss/stride/internal/cihealth"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/flow"
	"github.com/stride-oss/stride/internal/impact"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/sprint"
)

// t0 is Monday 2026-03-02 00:00 UTC, the start of an ISO week, so day
// offsets read as weekdays. The fixture spans the four weeks from t0.
var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

const (
	hour = time.Hour
	day  = 24 * time.Hour
	week = 7 * day
)

func at(d time.Duration) time.Time { return t0.Add(d) }

// history is the raw records of the fixture. fakeData computes every
// report from it with the metric packages, for the scope and period asked,
// as the read path does from the store: the pages are tested against
// real-shaped reports, not hand-typed JSON.
type history struct {
	catalog     Catalog
	deployments []delivery.Deployment
	shipments   []dora.Shipment
	incidents   []dora.IncidentLink
	prs         []delivery.PullRequest
	deployed    map[flow.CommitKey]flow.Deployed
	items       []delivery.WorkItem
	rollouts    map[string][]Rollout
	builds      []delivery.Build
	impacts     []impact.Result
	apdex       []impact.Apdex
}

// fixture builds the history:
//
//   - payments/api deploys Mon–Thu at 10:00 every week (16 deployments),
//     each shipping a change committed 3 h before and one 27 h before; on
//     the third Friday a failed deployment causes INC-1, restored in 45 min.
//   - payments/web (no incident source) deploys Mondays at 12:00 (4),
//     each shipping a change committed 48 h before.
//   - search/finder deploys on day 1 and day 8, the second rolled back, and
//     ships one change committed after its deployment (clock skew).
//   - onboarding/fresh has no data at all.
func fixture() *history {
	f := 5.0
	lt, ttr := 24*hour, 30*time.Minute
	h := &history{deployed: map[flow.CommitKey]flow.Deployed{}, rollouts: map[string][]Rollout{}}
	h.catalog = Catalog{
		Teams: []Team{
			{Name: "payments", Targets: dora.Targets{DeploymentDaysPerWeek: &f, LeadTime: &lt}, Services: []Service{
				{Name: "api", Team: "payments", IncidentSource: true, Targets: dora.Targets{TimeToRestore: &ttr}},
				{Name: "web", Team: "payments"},
			}},
			{Name: "search", Services: []Service{{Name: "finder", Team: "search", IncidentSource: true}}},
			{Name: "onboarding", Services: []Service{{Name: "fresh", Team: "onboarding"}}},
		},
		Sources:    []string{"github"},
		Thresholds: dora.DefaultThresholds(),
	}
	dep := func(service, id string, status delivery.DeploymentStatus, finished time.Duration) delivery.Deployment {
		d := delivery.Deployment{Service: service, Environment: delivery.EnvironmentProduction, ID: id, Status: status,
			StartedAt: at(finished - 10*time.Minute), FinishedAt: at(finished), SHA: "sha-" + id, Repository: service,
			Ring: delivery.RingGA, UpdatedAt: at(finished)}
		h.deployments = append(h.deployments, d)
		return d
	}
	ship := func(d delivery.Deployment, sha string, before time.Duration) {
		h.shipments = append(h.shipments, dora.Shipment{Deployment: d.Key(), Repository: d.Repository, SHA: sha, CommitTime: d.FinishedAt.Add(-before)})
	}
	n := 0
	for w := range 4 {
		for wd := range 4 {
			n++
			id := "a" + itoa(n)
			d := dep("api", id, delivery.DeploymentSuccess, time.Duration(w)*week+time.Duration(wd)*day+10*hour)
			ship(d, id+"-x", 3*hour)
			ship(d, id+"-y", 27*hour)
		}
		d := dep("web", "w"+itoa(w+1), delivery.DeploymentSuccess, time.Duration(w)*week+12*hour)
		ship(d, "w"+itoa(w+1)+"-x", 48*hour)
	}
	// A staging run in ring0 before one of the production deployments,
	// which the timeline shows and DORA ignores.
	stage := dep("api", "s1", delivery.DeploymentSuccess, 2*week+3*day+8*hour)
	stage.Environment, stage.Ring = "staging", delivery.RingInternal
	h.deployments[len(h.deployments)-1] = stage
	failed := dep("api", "a-fail", delivery.DeploymentFailure, 2*week+4*day+15*hour)
	key := failed.Key()
	h.incidents = append(h.incidents, dora.IncidentLink{Deployment: &key, Incident: delivery.Incident{
		Service: "api", ID: "INC-1", Title: "checkout errors", Severity: 1,
		OpenedAt: at(2*week + 4*day + 15*hour + 30*time.Minute), ResolvedAt: at(2*week + 4*day + 16*hour + 15*time.Minute)}})
	h.incidents = append(h.incidents, dora.IncidentLink{Incident: delivery.Incident{
		Service: "api", ID: "INC-2", Title: "slow search", Severity: 2, OpenedAt: at(3*week + 2*day)}})

	f1 := dep("finder", "f1", delivery.DeploymentSuccess, day+9*hour)
	ship(f1, "f1-x", 5*hour)
	f2 := dep("finder", "f2", delivery.DeploymentRolledBack, week+day+9*hour)
	_ = f2
	f3 := dep("finder", "f3", delivery.DeploymentSuccess, week+2*day+9*hour)
	ship(f3, "f3-skew", -time.Hour) // committed an hour after the deployment

	// Pull requests of payments: coding 2 h, pickup 1 h, review 3 h, then
	// shipped by the api deployment of the day after merging.
	for i, w := range []int{0, 1, 2} {
		first := at(time.Duration(w)*week + 9*hour)
		pr := delivery.PullRequest{Repository: "api", Number: 10 + i, Title: "feature " + itoa(i), Author: "ana",
			FirstCommitAt: first, CreatedAt: first.Add(2 * hour), FirstReviewAt: first.Add(3 * hour), MergedAt: first.Add(6 * hour),
			Additions: 40, Deletions: 10, ChangedFiles: 3, Comments: 2, MergeSHA: "m" + itoa(i), State: delivery.PullRequestMerged}
		h.prs = append(h.prs, pr)
		d := h.deployments[slices.IndexFunc(h.deployments, func(d delivery.Deployment) bool {
			return d.Service == "api" && d.FinishedAt.After(pr.MergedAt) && d.Status == delivery.DeploymentSuccess
		})]
		h.deployed[flow.CommitKey{Repository: "api", SHA: pr.MergeSHA}] = flow.Deployed{Deployment: d.Key(), FinishedAt: d.FinishedAt}
	}
	pts := func(v float64) *float64 { return &v }
	// Sprints S1 (week 1) and S2 (week 2) of payments: PAY-1 (story),
	// PAY-2 (bug) and PAY-4 (story, ana's, in progress since Wednesday of
	// week 1) committed to S1; PAY-3 (task) and PAY-4 to S2.
	s1 := delivery.SprintMembership{ID: "1", Name: "S1", State: "closed", StartAt: t0, EndAt: at(week), CompletedAt: at(week), AddedAt: at(-day)}
	s2 := delivery.SprintMembership{ID: "2", Name: "S2", State: "closed", StartAt: at(week), EndAt: at(2 * week), CompletedAt: at(2 * week), AddedAt: at(week - hour)}
	h.items = []delivery.WorkItem{
		{Key: "PAY-1", Team: "payments", Type: "Story", Category: delivery.CategoryDone, StoryPoints: pts(3), AcceptanceCriteria: true, Sprint: "S1", SprintEnd: at(week), ResolvedAt: at(3 * day),
			CreatedAt: at(-2 * day), Sprints: []delivery.SprintMembership{s1}},
		{Key: "PAY-2", Team: "payments", Type: "Bug", Category: delivery.CategoryDone, StoryPoints: pts(5), Sprint: "S1", SprintEnd: at(week), ResolvedAt: at(4 * day),
			CreatedAt: at(-2 * day), Sprints: []delivery.SprintMembership{s1}},
		{Key: "PAY-3", Team: "payments", Type: "Task", Category: delivery.CategoryDone, Sprint: "S2", SprintEnd: at(2 * week), ResolvedAt: at(week + day),
			CreatedAt: at(-2 * day), Sprints: []delivery.SprintMembership{s2}},
		{Key: "PAY-4", Team: "payments", Type: "Story", Status: "In Progress", Category: delivery.CategoryInProgress, StoryPoints: pts(2), Assignee: "ana",
			CreatedAt: at(-2 * day), Sprints: []delivery.SprintMembership{s1, s2},
			Transitions: []delivery.Transition{{At: at(2 * day), Status: "In Progress", Category: delivery.CategoryInProgress}}},
	}
	// Builds of api's ci pipeline on main: green 10 min Monday; red 20 min
	// Tuesday 09:00, green again by a new run 10:00–10:30 (red 09:20 to
	// 10:30, 70 min); a re-run (attempt 2) green Wednesday.
	build := func(id string, status delivery.BuildStatus, attempt int, start, end time.Duration) {
		h.builds = append(h.builds, delivery.Build{Repository: "api", ID: id, Name: "ci", SHA: "b" + id, Branch: "main", Status: status,
			StartedAt: at(start), FinishedAt: at(end), UpdatedAt: at(end), Attempt: attempt, DefaultBranch: "main"})
	}
	build("1", delivery.BuildSuccess, 1, 9*hour, 9*hour+10*time.Minute)
	build("2", delivery.BuildFailure, 1, day+9*hour, day+9*hour+20*time.Minute)
	build("3", delivery.BuildSuccess, 1, day+10*hour, day+10*hour+30*time.Minute)
	build("4", delivery.BuildSuccess, 2, 2*day+9*hour, 2*day+9*hour+40*time.Minute)
	// Stored impact of api's last two Thursday deployments: a15 (week 3,
	// Wednesday) unchanged, a16 (week 3, Thursday) flagged; the other
	// production deployments are not assessed. Apdex of api: 900
	// satisfied and 60 tolerating of 1000 calls at T = 0.5 s.
	rate := func(v float64) *float64 { return &v }
	h.impacts = []impact.Result{
		{Service: "api", Environment: delivery.EnvironmentProduction, Deployment: "a15", FinishedAt: at(3*week + 2*day + 10*hour),
			Before: impact.Side{ErrorRate: rate(0.005), LatencySeconds: rate(0.120)}, After: impact.Side{ErrorRate: rate(0.006), LatencySeconds: rate(0.125)}},
		{Service: "api", Environment: delivery.EnvironmentProduction, Deployment: "a16", FinishedAt: at(3*week + 3*day + 10*hour),
			Before: impact.Side{ErrorRate: rate(0.005), LatencySeconds: rate(0.120)}, After: impact.Side{ErrorRate: rate(0.04), LatencySeconds: rate(0.300)},
			Flagged: true, Reasons: []string{"error rate rose by 3.5 points, past the 1-point threshold"}},
	}
	h.apdex = []impact.Apdex{impact.NewApdex("api", 500*time.Millisecond, impact.ApdexCounts{Satisfied: 900, Tolerating: 60, Total: 1000})}
	h.rollouts["api"] = []Rollout{{
		Position: rings.Position{Service: "api", SHA: "sha-a16", Rings: []rings.RingPosition{
			{Ring: delivery.RingInternal, State: rings.StateSoaked, DeployedAt: ptrTime(at(2*week + 3*day + 8*hour))},
			{Ring: delivery.RingPreview, State: rings.StateNotDeployed},
			{Ring: delivery.RingGA, Production: true, State: rings.StateNotDeployed},
		}},
		Gates: []rings.GateRun{{Name: "unit", Passed: true, At: at(3*week + 3*day + 7*hour)}, {Name: "load", Passed: false, At: at(3*week + 3*day + 7*hour)}},
		Promotions: []Promotion{{DecidedAt: at(3*week + 3*day + 11*hour), RequestedBy: "ci", Decision: rings.Decision{
			Service: "api", SHA: "sha-a16", From: delivery.RingInternal, To: delivery.RingPreview, Allowed: false,
			Conditions: []rings.Condition{{Name: rings.CondGates, Status: rings.Fail, Reason: "gate failed: load"}}}}},
	}}
	return h
}

func ptrTime(t time.Time) *time.Time { return &t }

func itoa(i int) string { return string(rune('0'+i/10%10)) + string(rune('0'+i%10)) }

// services returns the names of the services a scope covers.
func (h *history) services(s Scope) []string {
	var out []string
	for _, t := range h.catalog.Teams {
		for _, svc := range t.Services {
			if (s.Service == "" || svc.Name == s.Service) && (s.Team == "" || t.Name == s.Team) {
				out = append(out, svc.Name)
			}
		}
	}
	return out
}

// input is the dora input of a scope, as the read path gathers it.
func (h *history) input(s Scope) dora.Input {
	svcs := h.services(s)
	in := dora.Input{Period: delivery.Period{From: s.From, To: s.To}, Thresholds: &h.catalog.Thresholds}
	for _, d := range h.deployments {
		if slices.Contains(svcs, d.Service) && d.Environment == delivery.EnvironmentProduction {
			in.Deployments = append(in.Deployments, d)
		}
	}
	for _, sh := range h.shipments {
		if slices.Contains(svcs, sh.Deployment.Service) {
			in.Shipments = append(in.Shipments, sh)
		}
	}
	for _, l := range h.incidents {
		if slices.Contains(svcs, l.Incident.Service) && l.Incident.OpenedAt.Before(s.To) {
			in.Incidents = append(in.Incidents, l)
		}
	}
	return in
}

func (h *history) flowInput(s Scope) flow.Input {
	svcs := h.services(s)
	in := flow.Input{Period: delivery.Period{From: s.From, To: s.To}, Deployed: h.deployed}
	for _, pr := range h.prs {
		if slices.Contains(svcs, pr.Repository) {
			in.PullRequests = append(in.PullRequests, pr)
		}
	}
	return in
}

// fakeData serves the history through the Data interface.
type fakeData struct{ h *history }

func (f fakeData) Catalog(context.Context) (Catalog, error) { return f.h.catalog, nil }

func (f fakeData) DORA(_ context.Context, s Scope) (dora.Report, error) {
	r := dora.Compute(f.h.input(s))
	r.Service, r.Team = s.Service, s.Team
	return r, nil
}

func (f fakeData) DORAExplain(_ context.Context, s Scope, figure string) (dora.Explanation, error) {
	return dora.Explain(f.h.input(s), figure)
}

func (f fakeData) Flow(_ context.Context, s Scope) (flow.Report, error) {
	return flow.Compute(f.h.flowInput(s)), nil
}

func (f fakeData) FlowExplain(_ context.Context, s Scope, figure string) (flow.Explanation, error) {
	return flow.Explain(f.h.flowInput(s), figure)
}

func (f fakeData) Planning(_ context.Context, s Scope) (flow.PlanningReport, error) {
	in := flow.PlanningInput{Period: delivery.Period{From: s.From, To: s.To}}
	for _, it := range f.h.items {
		if it.Team == s.Team {
			in.Items = append(in.Items, it)
		}
	}
	return flow.Plan(in), nil
}

func (f fakeData) Weekly(ctx context.Context, s Scope, weeks int) ([]Week, error) {
	last := s.To.Add(-time.Nanosecond).UTC().Truncate(24 * time.Hour)
	monday := last.AddDate(0, 0, -((int(last.Weekday()) + 6) % 7))
	out := make([]Week, weeks)
	for i := range out {
		start := monday.AddDate(0, 0, -7*(weeks-1-i))
		ws := Scope{Service: s.Service, Team: s.Team, From: start, To: start.AddDate(0, 0, 7)}
		out[i].Start = start
		out[i].DORA, _ = f.DORA(ctx, ws)
		out[i].Flow, _ = f.Flow(ctx, ws)
	}
	return out, nil
}

func (f fakeData) Deployments(_ context.Context, s Scope) ([]delivery.Deployment, error) {
	svcs := f.h.services(s)
	var out []delivery.Deployment
	for _, d := range f.h.deployments {
		if slices.Contains(svcs, d.Service) && !d.FinishedAt.Before(s.From) && d.FinishedAt.Before(s.To) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f fakeData) Incidents(_ context.Context, s Scope) ([]delivery.Incident, error) {
	svcs := f.h.services(s)
	var out []delivery.Incident
	for _, l := range f.h.incidents {
		in := l.Incident
		if slices.Contains(svcs, in.Service) && in.OpenedAt.Before(s.To) && (in.ResolvedAt.IsZero() || !in.OpenedAt.Before(s.From)) {
			out = append(out, in)
		}
	}
	return out, nil
}

// fakeData serves the health reports from the history with the metric
// packages, as the read path does from the store.
func (f fakeData) Sprint(_ context.Context, s Scope) (sprint.Report, error) {
	var items []delivery.WorkItem
	for _, it := range f.h.items {
		if it.Team == s.Team {
			items = append(items, it)
		}
	}
	return sprint.Compute(sprint.Input{Team: s.Team, Period: delivery.Period{From: s.From, To: s.To}, Items: items}), nil
}

// ciInput is the CI input of a scope: its services' builds (their
// repositories are named as the services), production deployments and
// shipments. payments works 09:00–11:00 UTC on weekdays, its time zone
// not configured.
func (f fakeData) ciInput(s Scope) cihealth.Input {
	svcs := f.h.services(s)
	in := cihealth.Input{Period: delivery.Period{From: s.From, To: s.To}, Targets: map[string]time.Duration{},
		TargetSet: map[string]bool{}, Weeks: map[string]cihealth.WorkWeek{}}
	for _, b := range f.h.builds {
		if slices.Contains(svcs, b.Repository) {
			in.Builds = append(in.Builds, b)
		}
	}
	in.DefaultBranches = cihealth.ResolveBranches(in.Builds, nil)
	for _, d := range f.h.input(s).Deployments {
		if d.Status.Terminal() && !d.FinishedAt.Before(s.From) && d.FinishedAt.Before(s.To) {
			in.Deployments = append(in.Deployments, d)
		}
	}
	in.Shipments = f.h.input(s).Shipments
	for _, svc := range svcs {
		in.Targets[svc], in.TargetSet[svc] = 24*time.Hour, true
		w := cihealth.DefaultWorkWeek("payments")
		w.End = 11 * time.Hour
		in.Weeks[svc] = w
	}
	return in
}

func (f fakeData) CI(_ context.Context, s Scope) (cihealth.Report, error) {
	return cihealth.Compute(f.ciInput(s)), nil
}

func (f fakeData) DeployHours(_ context.Context, s Scope) (cihealth.HoursReport, error) {
	return cihealth.Hours(f.ciInput(s)), nil
}

func (f fakeData) Impact(_ context.Context, s Scope) (Impact, error) {
	svcs := f.h.services(s)
	var out Impact
	for _, r := range f.h.impacts {
		if slices.Contains(svcs, r.Service) && !r.FinishedAt.Before(s.From) && r.FinishedAt.Before(s.To) {
			out.Deployments = append(out.Deployments, r)
		}
	}
	for _, a := range f.h.apdex {
		if slices.Contains(svcs, a.Service) {
			out.Apdex = append(out.Apdex, a)
		}
	}
	return out, nil
}

func (f fakeData) Rollouts(_ context.Context, service string, limit int) ([]Rollout, error) {
	ro := f.h.rollouts[service]
	return ro[:min(limit, len(ro))], nil
}
