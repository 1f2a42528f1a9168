package delivery

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// randomHistory is a commit graph of n commits with merges, a few parents
// Stride was not told of and a few commits of unknown ancestry, and
// deployments of random commits (some repeated, some failed, one of a
// commit never seen), finishing in a random order.
func randomHistory(r *rand.Rand, n, deployments int) (Graph, []Deployment) {
	g := Graph{Reachable: map[string][]string{}}
	sha := func(i int) string { return fmt.Sprintf("c%03d", i) }
	for i := range n {
		var parents []string
		switch {
		case i == 0:
		case r.IntN(20) == 0:
			parents = []string{"gone" + sha(i)} // a parent never reported
		default:
			parents = []string{sha(r.IntN(i))}
			if r.IntN(4) == 0 {
				parents = append(parents, sha(r.IntN(i)))
			}
		}
		ancestry := AncestryParents
		if i > 0 && r.IntN(25) == 0 {
			ancestry = AncestryUnknown
		}
		g.Add(sha(i), ancestry, parents, nil)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ds []Deployment
	for i := range deployments {
		d := Deployment{Service: "app", Environment: EnvironmentProduction, ID: fmt.Sprintf("d%02d", i),
			SHA: sha(r.IntN(n)), Status: DeploymentSuccess, FinishedAt: t0.Add(time.Duration(r.IntN(3*deployments)) * time.Hour)}
		switch r.IntN(10) {
		case 0:
			d.Status = DeploymentFailure
		case 1:
			d.SHA = "never-seen"
		}
		ds = append(ds, d)
	}
	return g, ds
}

// TestShipAfterContinuesShipGraph splits random histories' deployments at
// every point of their finish order after the first successful one: the assignment of the earlier ones by
// ShipGraph, continued by ShipAfter over the later ones with what the first
// covered, must give what ShipGraph gives over all of them.
func TestShipAfterContinuesShipGraph(t *testing.T) {
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 7))
		g, ds := randomHistory(r, 40+r.IntN(60), 2+r.IntN(12))
		var base []string
		if seed%3 == 0 {
			base = []string{"c005"}
		}
		whole := ShipGraph(g, ds, base)
		sorted := slices.Clone(ds)
		SortByFinish(sorted)
		for split := 1; split < len(sorted); split++ {
			if !slices.ContainsFunc(sorted[:split], func(d Deployment) bool { return d.Status == DeploymentSuccess }) {
				continue // ShipAfter continues an assignment that shipped something: before that, the next one is the first
			}
			first := ShipGraph(g, sorted[:split], base)
			covered := map[string]bool{}
			for _, shas := range first.Changes {
				for _, s := range shas {
					covered[s] = true
				}
			}
			for _, s := range first.Covered {
				covered[s] = true
			}
			next := ShipAfter(g, func(sha string) bool { return covered[sha] }, sorted[split:])
			name := fmt.Sprintf("seed %d, split %d", seed, split)

			got := map[DeploymentKey][]string{}
			for k, v := range first.Changes {
				got[k] = v
			}
			for k, v := range next.Changes {
				if _, twice := got[k]; twice {
					t.Fatalf("%s: %s assigned by both parts", name, k)
				}
				got[k] = v
			}
			if len(got) != len(whole.Changes) {
				t.Fatalf("%s: %d deployments ship something, want %d", name, len(got), len(whole.Changes))
			}
			for k, want := range whole.Changes {
				a, b := slices.Sorted(slices.Values(got[k])), slices.Sorted(slices.Values(want))
				if !slices.Equal(a, b) {
					t.Fatalf("%s: %s ships %v, want %v", name, k, a, b)
				}
			}
			union := func(a, b []string) []string {
				return slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(a), b...))))
			}
			if m := union(first.Missing, next.Missing); !slices.Equal(m, whole.Missing) {
				t.Fatalf("%s: missing %v, want %v", name, m, whole.Missing)
			}
			if !slices.Equal(first.Covered, whole.Covered) || len(next.Covered) != 0 {
				t.Fatalf("%s: covered %v then %v, want %v", name, first.Covered, next.Covered, whole.Covered)
			}
			keys := func(a, b []DeploymentKey) []string {
				var out []string
				for _, k := range append(slices.Clone(a), b...) {
					out = append(out, k.String())
				}
				slices.Sort(out)
				return out
			}
			if a, b := keys(first.UnknownAncestry, next.UnknownAncestry), keys(whole.UnknownAncestry, nil); !slices.Equal(a, b) {
				t.Fatalf("%s: unknown ancestry %v, want %v", name, a, b)
			}
			if a, b := keys(first.UnknownCommit, next.UnknownCommit), keys(whole.UnknownCommit, nil); !slices.Equal(a, b) {
				t.Fatalf("%s: unknown commit %v, want %v", name, a, b)
			}
		}
	}
}
