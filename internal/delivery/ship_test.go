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
			name:        "an unknown deployed commit is reported missing",
			deployments: []Deployment{dep("v1", "c", 1, DeploymentSuccess), dep("v2", "zz", 2, DeploymentSuccess)},
			want:        map[string][]string{"v1": {"c"}},
			missing:     []string{"zz"},
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
		})
	}
}
