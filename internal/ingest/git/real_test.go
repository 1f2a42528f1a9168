package git

import (
	"context"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// TestImportRealHistory checks an import of a real repository against git
// itself: the commits, and what each release ships. It runs only when
// STRIDE_TEST_GIT_REPO names a repository; STRIDE_TEST_GIT_TAGS may give
// comma-separated deploy patterns (default every tag).
func TestImportRealHistory(t *testing.T) {
	dir := os.Getenv("STRIDE_TEST_GIT_REPO")
	if dir == "" {
		t.Skip("STRIDE_TEST_GIT_REPO is not set")
	}
	r := &repo{t: t, dir: dir}
	opts := Options{Dir: dir, Service: "real"}
	if p := os.Getenv("STRIDE_TEST_GIT_TAGS"); p != "" {
		opts.DeployTags = strings.Split(p, ",")
	}
	sink := &keySink{}
	sum, err := Import(context.Background(), opts, sink)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", sum)

	changes := sink.changes()
	got := slices.Sorted(maps.Keys(changes))
	want := r.lines("rev-list", "--ignore-missing", "--branches", "--tags", "--remotes", "HEAD")
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("imported %d commits, git rev-list lists %d", len(got), len(want))
	}

	parents := make(map[string][]string, len(changes))
	for sha, c := range changes {
		parents[sha] = c.Parents
	}
	deps := slices.Collect(maps.Values(sink.deployments()))
	shipping := delivery.ShipChanges(parents, deps, nil)
	delivery.SortByFinish(deps)
	var leads []time.Duration
	for i, d := range deps {
		if i == 0 {
			continue
		}
		args := []string{"rev-list", d.SHA, "--not"}
		for _, e := range deps[:i] {
			args = append(args, e.SHA)
		}
		want := r.lines(args...)
		slices.Sort(want)
		got := slices.Sorted(slices.Values(shipping.Changes[d.Key()]))
		if !slices.Equal(got, want) {
			t.Errorf("%s ships %d changes, git rev-list lists %d", d.ID, len(got), len(want))
		}
		for _, sha := range got {
			leads = append(leads, d.FinishedAt.Sub(changes[sha].CommitTime))
		}
	}
	if len(leads) > 0 {
		slices.Sort(leads)
		t.Logf("%d shipped changes; median lead time %s", len(leads), leads[len(leads)/2])
	}
}
