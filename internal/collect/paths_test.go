package collect

import (
	"context"
	"slices"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
)

func TestCommitPathsAsksForEachCommitOnceAndOnlyInAMonorepo(t *testing.T) {
	mapping := delivery.Mapping{Services: []delivery.ServiceMapping{
		{Name: "api", Repositories: []string{"acme/mono"}, Paths: []string{"api/"}},
		{Name: "web", Repositories: []string{"acme/web"}},
	}}
	var asked [][]string
	stored := func(_ context.Context, shas []string) (map[string]bool, error) {
		asked = append(asked, slices.Clone(shas))
		return map[string]bool{"b": true}, nil // the store holds b's files
	}
	ctx := context.Background()
	if p := NewCommitPaths(mapping, "acme/web"); p.Wanted {
		t.Fatal("a repository no service owns paths of wants files")
	} else if settled, ask, _ := p.Select(ctx, []Commit{{SHA: "x"}}, stored); settled != nil || ask != nil || len(asked) != 0 {
		t.Fatalf("outside a monorepo: %v %v, store asked %v", settled, ask, asked)
	}
	p := NewCommitPaths(mapping, "ACME/mono") // repositories match without regard to case
	settled, ask, err := p.Select(ctx, []Commit{{SHA: "a"}, {SHA: "b"}, {SHA: "m", Merge: true}}, stored)
	if err != nil {
		t.Fatal(err)
	}
	// a is asked of the API; b's files are stored; m, a merge, touches nothing.
	if !slices.Equal(ask, []string{"a"}) || len(settled) != 1 || settled["m"] == nil || len(settled["m"]) != 0 {
		t.Errorf("first page: settled %v, ask %v", settled, ask)
	}
	// The same commits on a second branch are settled: nothing asked, the store not read again.
	settled, ask, _ = p.Select(ctx, []Commit{{SHA: "a"}, {SHA: "b"}, {SHA: "m", Merge: true}, {SHA: "c"}}, stored)
	if !slices.Equal(ask, []string{"c"}) || len(settled) != 0 || len(asked) != 2 || !slices.Equal(asked[1], []string{"c"}) {
		t.Errorf("second page: settled %v, ask %v, store asked %v", settled, ask, asked)
	}
}
