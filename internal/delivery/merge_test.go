package delivery

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// joinLaws checks that merge is a join over reports: the result does not
// depend on the order or the repetition of reports.
func joinLaws[T any](t *testing.T, merge func(a, b T) T, reports []T) {
	t.Helper()
	for i, a := range reports {
		if got := merge(a, a); !reflect.DeepEqual(got, a) {
			t.Errorf("report %d merged with itself changed: %+v", i, got)
		}
		for j, b := range reports {
			if ab, ba := merge(a, b), merge(b, a); !reflect.DeepEqual(ab, ba) {
				t.Errorf("merge(%d,%d) != merge(%d,%d):\n%+v\n%+v", i, j, j, i, ab, ba)
			}
			for k, c := range reports {
				if l, r := merge(merge(a, b), c), merge(a, merge(b, c)); !reflect.DeepEqual(l, r) {
					t.Errorf("merge not associative on %d,%d,%d:\n%+v\n%+v", i, j, k, l, r)
				}
			}
		}
	}
}

func TestMergeDeploymentIsAJoin(t *testing.T) {
	base := Deployment{Service: "api", Environment: "production", ID: "42", Repository: "api"}
	started, done, failed, late := base, base, base, base
	started.Status, started.StartedAt, started.UpdatedAt = DeploymentInProgress, t0, t0
	done.Status, done.FinishedAt, done.SHA, done.UpdatedAt = DeploymentSuccess, t0.Add(time.Minute), "abc", t0.Add(time.Minute)
	failed.Status, failed.FinishedAt, failed.SHA, failed.UpdatedAt = DeploymentFailure, t0.Add(time.Minute), "abc", t0.Add(time.Minute)
	late.Status, late.FinishedAt, late.SHA, late.UpdatedAt, late.Ring = DeploymentRolledBack, t0.Add(time.Hour), "abc", t0.Add(time.Hour), "ring2"
	joinLaws(t, MergeDeployment, []Deployment{base, started, done, failed, late})

	got := MergeDeployment(done, started)
	if got.Status != DeploymentSuccess || !got.StartedAt.Equal(t0) || got.SHA != "abc" {
		t.Errorf("a late 'started' report moved a finished deployment back: %+v", got)
	}
	if got := MergeDeployment(MergeDeployment(late, done), started); got.Status != DeploymentRolledBack || got.Ring != "ring2" {
		t.Errorf("the latest report did not win: %+v", got)
	}
}

func TestMergeIncidentIsAJoin(t *testing.T) {
	base := Incident{Service: "api", ID: "INC-1", Severity: 2, OpenedAt: t0, UpdatedAt: t0}
	ack, resolved, escalated := base, base, base
	ack.AcknowledgedAt, ack.UpdatedAt = t0.Add(10*time.Minute), t0.Add(10*time.Minute)
	escalated.Severity, escalated.UpdatedAt = 0, t0.Add(20*time.Minute)
	// The resolution is reported after the escalation, so it carries severity 0.
	resolved.ResolvedAt, resolved.UpdatedAt, resolved.Severity = t0.Add(time.Hour), t0.Add(time.Hour), 0
	joinLaws(t, MergeIncident, []Incident{base, ack, resolved, escalated})
	got := MergeIncident(MergeIncident(resolved, escalated), MergeIncident(ack, base))
	want := Incident{Service: "api", ID: "INC-1", Severity: 0, OpenedAt: t0, AcknowledgedAt: t0.Add(10 * time.Minute), ResolvedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Hour)}
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

// validIncident returns the report as Validate normalises it, which is what
// the store merges.
func validIncident(t *testing.T, in Incident) Incident {
	t.Helper()
	e := Event{Key: "k", Kind: KindIncident, Incident: &in}
	if err := e.Validate(); err != nil {
		t.Fatalf("%+v: %v", in, err)
	}
	return in
}

func TestMergeIncidentFollowsReopening(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	report := func(m int, status IncidentStatus, resolved time.Time) Incident {
		return validIncident(t, Incident{Service: "api", ID: "INC-1", Severity: 1, OpenedAt: t0, Status: status, ResolvedAt: resolved, UpdatedAt: at(m)})
	}
	opened := report(0, IncidentOpen, time.Time{})
	resolved := report(60, IncidentResolved, at(60))
	reopened := report(90, IncidentOpen, time.Time{})
	// A report that says nothing of the status, later than the reopening
	// (a priority change): it must neither resolve nor hide the reopening.
	silent := report(100, "", time.Time{})
	resolvedAgain := report(120, IncidentResolved, at(120))
	// A resolution from a source that knows no statuses: Validate reads it
	// as resolved.
	legacy := report(95, "", at(95))
	reports := []Incident{opened, resolved, reopened, silent, resolvedAgain, legacy}
	joinLaws(t, MergeIncident, reports)

	merge := func(rs ...Incident) Incident {
		m := rs[0]
		for _, r := range rs[1:] {
			m = MergeIncident(m, r)
		}
		return m
	}
	cases := []struct {
		name     string
		reports  []Incident
		status   IncidentStatus
		resolved time.Time
	}{
		{"a resolved incident is resolved", []Incident{opened, resolved}, IncidentResolved, at(60)},
		{"a later reopening clears the resolution", []Incident{resolved, reopened}, IncidentOpen, time.Time{}},
		{"an earlier reopening arriving late changes nothing", []Incident{reopened, resolvedAgain, resolved}, IncidentResolved, at(120)},
		{"a report without a status does not hide the reopening", []Incident{resolved, silent, reopened}, IncidentOpen, time.Time{}},
		{"a report without a status does not hide a later resolution", []Incident{reopened, silent, resolvedAgain}, IncidentResolved, at(120)},
		{"a status-less resolution after the reopening resolves it", []Incident{resolved, reopened, legacy, silent}, IncidentResolved, at(95)},
		{"resolved again after reopening", []Incident{opened, resolved, reopened, silent, resolvedAgain}, IncidentResolved, at(120)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := merge(c.reports...)
			if got.Status != c.status || !got.ResolvedAt.Equal(c.resolved) {
				t.Errorf("got status %q resolved %v, want %q %v", got.Status, got.ResolvedAt, c.status, c.resolved)
			}
		})
	}
}

func TestMergeIncidentPrefersAKnownSeverity(t *testing.T) {
	report := func(minutes, severity int) Incident {
		return validIncident(t, Incident{Service: "api", ID: "INC-1", Severity: severity, OpenedAt: t0, UpdatedAt: t0.Add(time.Duration(minutes) * time.Minute)})
	}
	sev1, sev0, unknownLater, deescalated, unknownFirst := report(20, 1), report(25, 0), report(30, SeverityUnknown), report(40, 2), report(0, SeverityUnknown)
	joinLaws(t, MergeIncident, []Incident{sev1, sev0, unknownLater, deescalated, unknownFirst})
	cases := []struct {
		name    string
		reports []Incident
		want    int
	}{
		{"only unknown stays unknown", []Incident{unknownFirst, unknownLater}, SeverityUnknown},
		{"a later unknown does not overwrite a known severity", []Incident{sev1, unknownLater}, 1},
		{"an earlier unknown does not either", []Incident{unknownLater, sev1}, 1},
		// The later known report wins even when an unknown one, later than
		// both, was merged with the earlier first.
		{"the latest known severity wins whatever the grouping", []Incident{sev1, unknownLater, sev0}, 0},
		{"de-escalation is followed", []Incident{sev0, deescalated, sev1, unknownLater}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := c.reports[0]
			for _, r := range c.reports[1:] {
				m = MergeIncident(m, r)
			}
			if m.Severity != c.want {
				t.Errorf("severity %d, want %d", m.Severity, c.want)
			}
		})
	}
}

func TestMergePullRequestIsAJoin(t *testing.T) {
	base := PullRequest{Repository: "acme/api", Number: 7}
	opened, review, merged := base, base, base
	opened.State, opened.CreatedAt, opened.Author, opened.Labels, opened.UpdatedAt = PullRequestOpen, t0, "ann", []string{}, t0
	review.FirstReviewAt, review.UpdatedAt = t0.Add(2*time.Hour), t0.Add(2*time.Hour)
	merged.State, merged.MergedAt, merged.MergeSHA, merged.Comments, merged.Labels, merged.UpdatedAt = PullRequestMerged, t0.Add(3*time.Hour), "m1", 4, []string{"hotfix"}, t0.Add(3*time.Hour)
	joinLaws(t, MergePullRequest, []PullRequest{base, opened, review, merged})
	got := MergePullRequest(merged, MergePullRequest(review, opened))
	if got.State != PullRequestMerged || !got.CreatedAt.Equal(t0) || !got.FirstReviewAt.Equal(t0.Add(2*time.Hour)) || got.Comments != 4 || len(got.Labels) != 1 {
		t.Errorf("got %+v", got)
	}
}

func TestMergeWorkItemAndBuildAreJoins(t *testing.T) {
	three, five := 3.0, 5.0
	w1 := WorkItem{Tracker: "jira", Key: "P-1", Status: "To Do", Category: CategoryToDo, StoryPoints: &three, CreatedAt: t0, UpdatedAt: t0}
	w2 := WorkItem{Tracker: "jira", Key: "P-1", Status: "Done", Category: CategoryDone, StoryPoints: &five, ResolvedAt: t0.Add(time.Hour), UpdatedAt: t0.Add(time.Hour)}
	w3 := WorkItem{Tracker: "jira", Key: "P-1", Status: "In Progress", Category: CategoryInProgress, UpdatedAt: t0.Add(time.Hour)}
	joinLaws(t, MergeWorkItem, []WorkItem{w1, w2, w3})
}

// TestMergeWorkItemDetailIsAJoin covers the fields sprint health reads:
// labels, priority, assignee, services, sprints and the changelog, from a
// webhook (no changelog, one sprint) and a collector (the full changelog,
// every sprint) reporting the same issue at the same and at other times.
func TestMergeWorkItemDetailIsAJoin(t *testing.T) {
	yes, no := true, false
	s1 := SprintMembership{ID: "11", Name: "Sprint 11", State: "closed", StartAt: t0, EndAt: t0.Add(14 * 24 * time.Hour), CompletedAt: t0.Add(14 * 24 * time.Hour), AddedAt: t0.Add(-time.Hour)}
	s2active := SprintMembership{ID: "12", Name: "Sprint 12", State: "active", StartAt: t0.Add(14 * 24 * time.Hour)}
	s2closed := s2active
	s2closed.State, s2closed.CompletedAt = "closed", t0.Add(28*24*time.Hour)
	hook := WorkItem{Tracker: "jira", Key: "P-1", Status: "In Progress", Category: CategoryInProgress, Labels: []string{"tech-debt"},
		Priority: "High", Assignee: "ann", Services: []string{"api"}, Sprints: []SprintMembership{s2active}, UpdatedAt: t0.Add(15 * 24 * time.Hour)}
	collected := WorkItem{Tracker: "jira", Key: "P-1", Status: "In Progress", Category: CategoryInProgress, Labels: []string{"backend", "tech-debt"},
		Priority: "Highest", Assignee: "bob", Services: []string{"api", "web"}, Sprints: []SprintMembership{s1, s2active},
		Transitions: []Transition{{At: t0, Status: "In Progress", Category: CategoryInProgress}, {At: t0.Add(time.Hour), Flagged: &yes}},
		UpdatedAt:   t0.Add(15 * 24 * time.Hour)}
	later := WorkItem{Tracker: "jira", Key: "P-1", Status: "Done", Category: CategoryDone, Sprints: []SprintMembership{s1, s2closed},
		Transitions: []Transition{{At: t0.Add(time.Hour), Flagged: &yes}, {At: t0.Add(2 * time.Hour), Flagged: &no}, {At: t0.Add(20 * 24 * time.Hour), Status: "Done", Category: CategoryDone}},
		ResolvedAt:  t0.Add(20 * 24 * time.Hour), UpdatedAt: t0.Add(20 * 24 * time.Hour)}
	bare := WorkItem{Tracker: "jira", Key: "P-1", Status: "To Do", Category: CategoryToDo, UpdatedAt: t0}
	reports := []WorkItem{hook, collected, later, bare}
	for i := range reports {
		if err := validateWorkItem(&reports[i]); err != nil {
			t.Fatal(err)
		}
	}
	joinLaws(t, MergeWorkItem, reports)

	got := MergeWorkItem(MergeWorkItem(later, hook), MergeWorkItem(collected, bare))
	if !reflect.DeepEqual(got.Labels, []string{"backend", "tech-debt"}) {
		t.Errorf("labels of two same-time reports: got %v, want their union", got.Labels)
	}
	if got.Priority != "Highest" || got.Assignee != "bob" {
		t.Errorf("priority %q assignee %q: want the greater of two same-time reports, kept by a later report that has none", got.Priority, got.Assignee)
	}
	if len(got.Sprints) != 2 || got.Sprints[1].State != "closed" || !got.Sprints[1].CompletedAt.Equal(s2closed.CompletedAt) {
		t.Errorf("sprints: got %+v, want sprint 12 closed", got.Sprints)
	}
	if len(got.Transitions) != 4 {
		t.Errorf("transitions: got %d, want the 4 distinct entries of both changelogs: %+v", len(got.Transitions), got.Transitions)
	}
	if got.Status != "Done" {
		t.Errorf("status %q, want the latest report's", got.Status)
	}
	if m := MergeWorkItem(bare, bare); m.Transitions != nil || m.Labels != nil {
		t.Errorf("a report without changelog or labels gained them: %+v", m)
	}
}

func TestValidateWorkItemDetail(t *testing.T) {
	for name, w := range map[string]WorkItem{
		"transition without time":    {Tracker: "jira", Key: "P-1", Transitions: []Transition{{Status: "Done"}}},
		"transition neither kind":    {Tracker: "jira", Key: "P-1", Transitions: []Transition{{At: t0}}},
		"sprint without id or name":  {Tracker: "jira", Key: "P-1", Sprints: []SprintMembership{{State: "active"}}},
		"sprint of an unknown state": {Tracker: "jira", Key: "P-1", Sprints: []SprintMembership{{ID: "1", State: "ACTIVE"}}},
	} {
		if err := validateWorkItem(&w); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	w := WorkItem{Tracker: "jira", Key: "P-1", Labels: []string{"b", "a", "b"}, Sprints: []SprintMembership{{Name: "S"}}}
	if err := validateWorkItem(&w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w.Labels, []string{"a", "b"}) || w.Sprints[0].ID != "S" {
		t.Errorf("not normalized: %+v", w)
	}
}

func TestMergeBuildIsAJoin(t *testing.T) {
	b1 := Build{Repository: "r", ID: "1", Status: BuildRunning, StartedAt: t0, UpdatedAt: t0}
	b2 := Build{Repository: "r", ID: "1", Status: BuildSuccess, FinishedAt: t0.Add(time.Minute), UpdatedAt: t0.Add(time.Minute), SHA: "x"}
	joinLaws(t, MergeBuild, []Build{b1, b2})
	// A re-run: the first attempt failed, the second (same ID) succeeded;
	// a GitLab job report says only the attempt.
	r1 := Build{Repository: "r", ID: "2", Status: BuildFailure, Attempt: 1, StartedAt: t0, FinishedAt: t0.Add(time.Minute), UpdatedAt: t0.Add(time.Minute), DefaultBranch: "main"}
	r2 := Build{Repository: "r", ID: "2", Status: BuildSuccess, Attempt: 2, StartedAt: t0.Add(time.Hour), FinishedAt: t0.Add(61 * time.Minute), UpdatedAt: t0.Add(61 * time.Minute)}
	r3 := Build{Repository: "r", ID: "2", Attempt: 3, UpdatedAt: t0.Add(30 * time.Minute), DefaultBranch: "trunk"}
	joinLaws(t, MergeBuild, []Build{r1, r2, r3})
	if got := MergeBuild(r2, MergeBuild(r3, r1)); got.Attempt != 3 || got.Status != BuildSuccess || !got.StartedAt.Equal(t0) || got.DefaultBranch != "trunk" {
		t.Errorf("re-run merged to %+v; want attempt 3, success, first start, default branch trunk (the greater of main and trunk)", got)
	}
	if got := MergeBuild(r1, r2); got.Attempt != 2 {
		t.Errorf("attempt = %d, want 2", got.Attempt)
	}
	c1 := Change{Repository: "r", SHA: "a", CommitTime: t0, Parents: []string{"p"}}
	c2 := Change{Repository: "r", SHA: "a", CommitTime: t0, Author: "ann", Title: "fix"}
	c3 := Change{Repository: "r", SHA: "a", CommitTime: t0, Paths: []string{"api/main.go", "web/app.ts"}}
	c4 := Change{Repository: "r", SHA: "a", CommitTime: t0, Paths: []string{}}
	joinLaws(t, MergeChange, []Change{c1, c2, c3, c4})
	if got := MergeChange(c1, c2); got.Paths != nil {
		t.Errorf("unknown paths became known: %#v", got.Paths)
	}
	if got := MergeChange(c2, c3); len(got.Paths) != 2 {
		t.Errorf("known paths were lost: %#v", got.Paths)
	}
}

// TestMergeChangeAncestry checks the rules for what reports of one commit
// know of its history: true parents replace what pushes proved, proofs of
// several pushes unite, and a report that knows nothing adds nothing.
func TestMergeChangeAncestry(t *testing.T) {
	c := func(a Ancestry, parents, proven []string) Change {
		return Change{Repository: "r", SHA: "m", CommitTime: t0, Ancestry: a, Parents: parents, ProvenAncestors: proven}
	}
	unknown := c(AncestryUnknown, nil, nil)
	push1 := c(AncestryProven, nil, []string{"b", "c"})
	push2 := c(AncestryProven, nil, []string{"a", "f"})
	headOnly := c(AncestryProven, nil, []string{})
	imported := c(AncestryParents, []string{"c", "f"}, nil)
	root := c(AncestryParents, nil, nil)
	joinLaws(t, MergeChange, []Change{unknown, push1, push2, headOnly, imported, root})
	cases := []struct {
		name     string
		a, b     Change
		ancestry Ancestry
		parents  []string
		proven   []string
	}{
		{"proofs of two pushes unite", push1, push2, AncestryProven, nil, []string{"a", "b", "c", "f"}},
		{"a proof outranks knowing nothing", unknown, push1, AncestryProven, nil, []string{"b", "c"}},
		{"a head that proved nothing is still proven", unknown, headOnly, AncestryProven, nil, []string{}},
		{"true parents replace proofs", push1, imported, AncestryParents, []string{"c", "f"}, nil},
		{"a report of no parents does not erase a proof", push2, root, AncestryProven, nil, []string{"a", "f"}},
		{"a report of no parents outranks knowing nothing (a root commit)", unknown, root, AncestryParents, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, got := range []Change{MergeChange(tc.a, tc.b), MergeChange(tc.b, tc.a)} {
				if got.Ancestry != tc.ancestry || !reflect.DeepEqual(got.Parents, tc.parents) || !reflect.DeepEqual(got.ProvenAncestors, tc.proven) {
					t.Errorf("got %q parents %#v proven %#v, want %q %#v %#v", got.Ancestry, got.Parents, got.ProvenAncestors, tc.ancestry, tc.parents, tc.proven)
				}
			}
		})
	}
}

func TestValidateChangeAncestry(t *testing.T) {
	ev := func(c Change) Event {
		c.Repository, c.CommitTime = "r", t0
		return Event{Key: "k", Kind: KindChange, Change: &c}
	}
	for _, tc := range []struct {
		name  string
		c     Change
		field string
	}{
		{"an unknown ancestry", Change{SHA: "a", Ancestry: "guessed"}, "change.ancestry"},
		{"parents with unknown ancestry", Change{SHA: "a", Ancestry: AncestryUnknown, Parents: []string{"p"}}, "change.parents"},
		{"proven ancestors without proof", Change{SHA: "a", ProvenAncestors: []string{"p"}}, "change.proven_ancestors"},
		{"an empty proven ancestor", Change{SHA: "a", Ancestry: AncestryProven, ProvenAncestors: []string{" "}}, "change.proven_ancestors"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := ev(tc.c)
			err := e.Validate()
			var de *Error
			if !errors.As(err, &de) || de.Field != tc.field {
				t.Errorf("error %v, want one naming %s", err, tc.field)
			}
		})
	}
	e := ev(Change{SHA: "a", Ancestry: AncestryProven, ProvenAncestors: []string{"c", "a", "b", "c"}})
	if err := e.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := e.Change.ProvenAncestors; !reflect.DeepEqual(got, []string{"b", "c"}) {
		t.Errorf("proven ancestors %v, want [b c]: sorted, once each, without the commit itself", got)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	cases := []struct {
		name  string
		event Event
		field string
	}{
		{"no key", Event{Kind: KindChange, Change: &Change{Repository: "r", SHA: "a", CommitTime: t0}}, "key"},
		{"unknown kind", Event{Key: "k", Kind: "bogus", Change: &Change{}}, "kind"},
		{"kind without entity", Event{Key: "k", Kind: KindDeployment, Change: &Change{}}, "kind"},
		{"change without sha", Event{Key: "k", Kind: KindChange, Change: &Change{Repository: "r", CommitTime: t0}}, "change.sha"},
		{"success without finish", Event{Key: "k", Kind: KindDeployment, Deployment: &Deployment{Service: "s", ID: "1", Status: DeploymentSuccess, SHA: "a"}}, "deployment.finished_at"},
		{"bad status", Event{Key: "k", Kind: KindDeployment, Deployment: &Deployment{Service: "s", ID: "1", Status: "done"}}, "deployment.status"},
		{"severity out of range", Event{Key: "k", Kind: KindIncident, Incident: &Incident{Service: "s", ID: "1", Severity: 4, OpenedAt: t0}}, "incident.severity"},
		{"severity below unknown", Event{Key: "k", Kind: KindIncident, Incident: &Incident{Service: "s", ID: "1", Severity: -2, OpenedAt: t0}}, "incident.severity"},
		{"unknown incident status", Event{Key: "k", Kind: KindIncident, Incident: &Incident{Service: "s", ID: "1", OpenedAt: t0, Status: "closed"}}, "incident.status"},
		{"open with a resolution", Event{Key: "k", Kind: KindIncident, Incident: &Incident{Service: "s", ID: "1", OpenedAt: t0, Status: IncidentOpen, ResolvedAt: t0}}, "incident.resolved_at"},
		{"resolved without a resolution", Event{Key: "k", Kind: KindIncident, Incident: &Incident{Service: "s", ID: "1", OpenedAt: t0, Status: IncidentResolved}}, "incident.resolved_at"},
		{"pr number", Event{Key: "k", Kind: KindPullRequest, PullRequest: &PullRequest{Repository: "r"}}, "pull_request.number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.event.Validate()
			e, ok := err.(*Error)
			if !ok || e.Field != c.field || e.Code != EINVALID {
				t.Fatalf("got %v, want an invalid error on %s", err, c.field)
			}
		})
	}
	ok := Event{Key: "k", Kind: KindDeployment, Deployment: &Deployment{Service: "s", ID: "1", Status: DeploymentSuccess, SHA: "a", FinishedAt: t0.In(time.FixedZone("x", 3600))}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if d := ok.Deployment; d.Environment != EnvironmentProduction || d.Repository != "s" || d.FinishedAt.Location() != time.UTC || !d.UpdatedAt.Equal(t0) {
		t.Errorf("defaults not filled: %+v", d)
	}
}

func TestMappingServices(t *testing.T) {
	m := Mapping{Services: []ServiceMapping{
		{Name: "web", Team: "front", Repositories: []string{"acme/mono"}, Paths: []string{"web/"}},
		{Name: "api", Team: "core", Repositories: []string{"acme/mono"}, Paths: []string{"api"}},
	}}
	if got := m.ServicesOf("acme/mono", []string{"api/main.go"}); len(got) != 1 || got[0].Name != "api" {
		t.Errorf("monorepo path: %+v", got)
	}
	if got := m.ServicesOf("acme/mono", nil); len(got) != 2 {
		t.Errorf("no paths should give every service of the repo: %+v", got)
	}
	if got := m.Service("acme/other"); got.Name != "other" {
		t.Errorf("unmapped repository: %+v", got)
	}
	if m.Environment("PROD") != EnvironmentProduction || m.Environment("staging") != "staging" {
		t.Error("production aliases")
	}
	if !m.IsIncident([]string{"bug", "Incident"}) || m.IsHotfix([]string{"bug"}) {
		t.Error("labels")
	}
}

func TestTouches(t *testing.T) {
	cases := []struct {
		name     string
		paths    []string
		prefixes []string
		want     bool
	}{
		{"a service without prefixes takes every change", []string{"web/a"}, nil, true},
		{"unknown paths are kept", nil, []string{"api"}, true},
		{"a path under a prefix", []string{"web/a", "api/main.go"}, []string{"api/"}, true},
		{"a prefix is a directory, not a string prefix", []string{"apis/x"}, []string{"api"}, false},
		{"a file named by the prefix", []string{"api"}, []string{"api"}, true},
		{"a change touching nothing of its own", []string{}, []string{"api"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Touches(c.paths, c.prefixes); got != c.want {
				t.Errorf("Touches(%q, %q) = %v", c.paths, c.prefixes, got)
			}
		})
	}
}

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	p, err := ParsePeriod("2025-01-01", "2026-01-01T00:00:00+01:00", now)
	if err != nil || !p.From.Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) || !p.To.Equal(time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v %v", p, err)
	}
	if p, err := ParsePeriod("", "", now); err != nil || !p.To.Equal(now) || p.To.Sub(p.From) != DefaultPeriodLength {
		t.Fatalf("defaults: %+v %v", p, err)
	}
	for _, c := range [][2]string{{"2026-02-01", "2026-01-01"}, {"yesterday", ""}, {"", "2026-13-01"}} {
		if _, err := ParsePeriod(c[0], c[1], now); ErrorCode(err) != EINVALID {
			t.Errorf("%v: want invalid, got %v", c, err)
		}
	}
}
