package delivery

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestShipChanges(t *testing.T) {
	// The graph, oldest first:
	//
	//	a ← b ← c ← d ← m (merge of d and r1) ← e
	//	         ↖ r1 (release branch off c)
	parents := map[string][]string{
		"a": nil, "b": {"a"}, "c": {"b"}, "d": {"c"}, "r1": {"c"}, "m": {"d", "r1"}, "e": {"m"},
	}
	at := func(h int) time.Time { return time.Date(2026, 1, 1, h, 0, 0, 0, time.UTC) }
	dep := func(id, sha string, h int, status DeploymentStatus) Deployment {
		return Deployment{Service: "app", Environment: EnvironmentProduction, ID: id, SHA: sha, Status: status, FinishedAt: at(h)}
	}
	cases := []struct {
		name        string
		deployments []Deployment
		base        []string
		want        map[string][]string // deployment id → sorted shas
		missing     []string
		// unknownCommit are the deployments whose own commit is missing.
		unknownCommit []string
	}{
		{
			name:        "the first deployment ships only its own commit",
			deployments: []Deployment{dep("v1", "c", 1, DeploymentSuccess)},
			want:        map[string][]string{"v1": {"c"}},
		},
		{
			name:        "a base names where history starts",
			deployments: []Deployment{dep("v1", "c", 1, DeploymentSuccess)},
			base:        []string{"a"},
			want:        map[string][]string{"v1": {"b", "c"}},
		},
		{
			name:        "a release branch deployed out of line ships its commit once",
			deployments: []Deployment{dep("v3", "e", 3, DeploymentSuccess), dep("v1", "c", 1, DeploymentSuccess), dep("r1", "r1", 2, DeploymentSuccess)},
			want:        map[string][]string{"v1": {"c"}, "r1": {"r1"}, "v3": {"d", "e", "m"}},
		},
		{
			name:        "failed deployments ship nothing and a rollback ships nothing",
			deployments: []Deployment{dep("v1", "c", 1, DeploymentSuccess), dep("v2", "e", 2, DeploymentFailure), dep("v3", "e", 3, DeploymentSuccess), dep("v4", "c", 4, DeploymentSuccess)},
			want:        map[string][]string{"v1": {"c"}, "v3": {"d", "e", "m", "r1"}},
		},
		{
			name:          "an unknown deployed commit is reported missing",
			deployments:   []Deployment{dep("v1", "c", 1, DeploymentSuccess), dep("v2", "zz", 2, DeploymentSuccess)},
			want:          map[string][]string{"v1": {"c"}},
			missing:       []string{"zz"},
			unknownCommit: []string{"v2"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ShipChanges(parents, c.deployments, c.base)
			ids := map[string][]string{}
			for k, shas := range got.Changes {
				s := slices.Clone(shas)
				slices.Sort(s)
				ids[k.ID] = s
			}
			if !reflect.DeepEqual(ids, c.want) {
				t.Errorf("got %v, want %v", ids, c.want)
			}
			if !reflect.DeepEqual(got.Missing, c.missing) {
				t.Errorf("missing: got %v, want %v", got.Missing, c.missing)
			}
			var unknown []string
			for _, k := range got.UnknownCommit {
				unknown = append(unknown, k.ID)
			}
			if !reflect.DeepEqual(unknown, c.unknownCommit) {
				t.Errorf("deployments of unknown commits: got %v, want %v", unknown, c.unknownCommit)
			}
		})
	}
}

// TestShipGraphOfPushes assigns the changes of the smallest history where
// chaining pushed commits invents ancestry, as GitHub's pushes report it:
//
//	i ← a (v1.0.0) ← b ← c ← m (v1.1.0, merge of c and f)
//	      ↖ f (v1.0.1, on maint)
//
// push 1 (main, new): i, a      → a proves i; i unknown
// push 2 (maint, new): f        → f proves nothing, but is a head
// push 3 (main, a..c): b, c     → c proves a, b; b unknown
// push 4 (main, c..m): f, m     → m proves c, f; f stays as push 2 said
//
// git says v1.0.1 ships f and v1.1.0 ships b, c, m; chaining f onto c (the
// branch's previous head in push 4) would credit v1.0.1 with b and c.
func TestShipGraphOfPushes(t *testing.T) {
	reports := []Change{
		{SHA: "a", Ancestry: AncestryProven, ProvenAncestors: []string{"i"}},
		{SHA: "i", Ancestry: AncestryUnknown},
		{SHA: "f", Ancestry: AncestryProven, ProvenAncestors: []string{}},
		{SHA: "b", Ancestry: AncestryUnknown},
		{SHA: "c", Ancestry: AncestryProven, ProvenAncestors: []string{"a", "b"}},
		{SHA: "f", Ancestry: AncestryUnknown},
		{SHA: "m", Ancestry: AncestryProven, ProvenAncestors: []string{"c", "f"}},
	}
	merged := map[string]Change{}
	var order []string
	for _, c := range reports {
		if old, ok := merged[c.SHA]; ok {
			c = MergeChange(old, c)
		} else {
			order = append(order, c.SHA)
		}
		merged[c.SHA] = c
	}
	var changes []Change
	for _, sha := range order {
		changes = append(changes, merged[sha])
	}
	at := func(h int) time.Time { return time.Date(2026, 1, 1, h, 0, 0, 0, time.UTC) }
	dep := func(id, sha string, h int) Deployment {
		return Deployment{Service: "app", Environment: EnvironmentProduction, ID: id, SHA: sha, Status: DeploymentSuccess, FinishedAt: at(h)}
	}
	cases := []struct {
		name        string
		deployments []Deployment
		want        map[string][]string
		unknown     []string
	}{
		{
			name:        "pushed heads ship what the pushes prove",
			deployments: []Deployment{dep("v1.0.0", "a", 1), dep("v1.0.1", "f", 2), dep("v1.1.0", "m", 3)},
			want:        map[string][]string{"v1.0.0": {"a"}, "v1.0.1": {"f"}, "v1.1.0": {"b", "c", "m"}},
		},
		{
			name:        "a deployment of a commit inside a push ships it alone and is named",
			deployments: []Deployment{dep("v1.0.0", "a", 1), dep("hot", "b", 2), dep("v1.1.0", "m", 3)},
			want:        map[string][]string{"v1.0.0": {"a"}, "hot": {"b"}, "v1.1.0": {"c", "f", "m"}},
			unknown:     []string{"hot"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ShipGraph(GraphOf(changes), c.deployments, nil)
			ids := map[string][]string{}
			for k, shas := range got.Changes {
				s := slices.Clone(shas)
				slices.Sort(s)
				ids[k.ID] = s
			}
			if !reflect.DeepEqual(ids, c.want) {
				t.Errorf("got %v, want %v", ids, c.want)
			}
			var unknown []string
			for _, k := range got.UnknownAncestry {
				unknown = append(unknown, k.ID)
			}
			if !reflect.DeepEqual(unknown, c.unknown) {
				t.Errorf("unknown ancestry: got %v, want %v", unknown, c.unknown)
			}
			if len(got.Missing) != 0 || got.UnknownCommit != nil {
				t.Errorf("missing %v, deployments of unknown commits %v, want none", got.Missing, got.UnknownCommit)
			}
		})
	}
}
