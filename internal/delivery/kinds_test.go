package delivery

import (
	"slices"
	"testing"
	"time"
)

// samples has one event of every kind.
func samples() []Event {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	return []Event{
		{Kind: KindChange, Change: &Change{Repository: "acme/shop", SHA: "abc", CommitTime: at}},
		{Kind: KindDeployment, Deployment: &Deployment{Service: "api", Environment: "production", ID: "42"}},
		{Kind: KindIncident, Incident: &Incident{Service: "api", ID: "INC-1"}},
		{Kind: KindPullRequest, PullRequest: &PullRequest{Repository: "acme/shop", Number: 7}},
		{Kind: KindWorkItem, WorkItem: &WorkItem{Tracker: "jira", Key: "PAY-1"}},
		{Kind: KindBuild, Build: &Build{Repository: "acme/shop", ID: "991"}},
	}
}

// TestEntityKeys pins the entity key of each kind: the store has recorded
// these strings with every event, so they must not change form.
func TestEntityKeys(t *testing.T) {
	want := []string{
		"change\x1facme/shop\x1fabc",
		"deployment\x1fapi\x1fproduction\x1f42",
		"incident\x1fapi\x1fINC-1",
		"pull_request\x1facme/shop\x1f7",
		"work_item\x1fjira\x1fPAY-1",
		"build\x1facme/shop\x1f991",
	}
	for i, e := range samples() {
		got := e.EntityKey()
		if got != want[i] {
			t.Errorf("%s: key %q, want %q", e.Kind, got, want[i])
		}
		kind, parts, err := SplitEntityKey(got)
		if err != nil || kind != e.Kind || !slices.Equal(parts, Kinds[e.Kind].Key(e)) {
			t.Errorf("%s: split %q into %s %q, %v", e.Kind, got, kind, parts, err)
		}
	}
	if len(Kinds) != len(samples()) {
		t.Errorf("%d kinds declared, %d sampled: add a sample of the new kind", len(Kinds), len(samples()))
	}
	for _, e := range []Event{{Kind: KindChange}, {Kind: "page", Change: &Change{}}, {Kind: KindBuild, Change: &Change{}}} {
		if k := e.EntityKey(); k != "" || e.Carries() {
			t.Errorf("%+v carries no entity of its kind, got key %q", e, k)
		}
	}
	if _, _, err := SplitEntityKey("page\x1fx"); err == nil {
		t.Error("an unknown kind split without error")
	}
}

// TestKindMergeIsTheEntityMerge checks that each kind's Merge is its
// entity's merge rule: a later report of a deployment wins its status.
func TestKindMergeIsTheEntityMerge(t *testing.T) {
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	a := Event{Kind: KindDeployment, Deployment: &Deployment{Service: "api", ID: "1", Status: DeploymentInProgress, UpdatedAt: at}}
	b := Event{Kind: KindDeployment, Deployment: &Deployment{Service: "api", ID: "1", Status: DeploymentSuccess, SHA: "abc", UpdatedAt: at.Add(time.Minute)}}
	for _, m := range []Event{Kinds[KindDeployment].Merge(a, b), Kinds[KindDeployment].Merge(b, a)} {
		if m.Deployment.Status != DeploymentSuccess || m.Deployment.SHA != "abc" {
			t.Errorf("merged %+v, want the later success with its sha", *m.Deployment)
		}
	}
	if a.Deployment.Status != DeploymentInProgress {
		t.Error("Merge changed its argument")
	}
	w1 := Event{Kind: KindWorkItem, WorkItem: &WorkItem{Tracker: "jira", Key: "P-1", Title: "old", UpdatedAt: at}}
	w2 := Event{Kind: KindWorkItem, WorkItem: &WorkItem{Tracker: "jira", Key: "P-1", Status: "Done", UpdatedAt: at.Add(time.Hour)}}
	if m := Kinds[KindWorkItem].Merge(w1, w2); m.WorkItem.Status != "Done" || m.WorkItem.Title != "old" {
		t.Errorf("merged work item %+v", *m.WorkItem)
	}
}
