package github

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/collect"
	ghingest "github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// yearOf is a synthetic repository-year: commits on main (one parent
// each), merged pull requests with one approving review, and deployments
// of the newest commits, each with one successful status.
func yearOf(commits, pulls, deployments int) *fakeRepo {
	r := &fakeRepo{defaultBranch: "main", branches: map[string][]map[string]any{}, tags: []any{}, releases: []any{},
		statuses: map[int64][]any{}, runs: []any{}}
	step := 365 * 24 * time.Hour / time.Duration(max(commits, 1))
	var main []map[string]any
	for i := range commits {
		c := histCommit{sha: fmt.Sprintf("%040x", i+1), msg: fmt.Sprintf("change %d", i), login: "dev", at: h0.Add(time.Duration(i) * step)}
		if i > 0 {
			c.parents = []string{fmt.Sprintf("%040x", i)}
		}
		main = append([]map[string]any{restCommit(c)}, main...) // newest first
	}
	r.branches["main"] = main
	for i := pulls; i >= 1; i-- { // most recently updated first
		created := h0.Add(time.Duration(i) * 24 * time.Hour)
		r.pulls = append(r.pulls, gqlNode(histPull{number: i, title: fmt.Sprintf("pull %d", i), author: "dev",
			created: created, merged: created.Add(5 * time.Hour), firstCommitAt: created.Add(-time.Hour), mergeSHA: fmt.Sprintf("%040x", i),
			adds: 10, dels: 1, files: 1, reviews: []histReview{{id: int64(10000 + i), login: "rev", state: "APPROVED", at: created.Add(time.Hour)}}}))
	}
	for i := deployments; i >= 1; i-- { // newest first
		d := histDeployment{id: int64(i), sha: fmt.Sprintf("%040x", max(commits-deployments+i, 1)), created: h0.Add(time.Duration(i) * 30 * time.Hour),
			statuses: [][2]any{{"success", h0.Add(time.Duration(i)*30*time.Hour + 10*time.Minute)}}}
		r.deployments = append(r.deployments, restDeployment(d))
		r.statuses[d.id] = []any{restStatus(d, 0)}
	}
	return r
}

func TestPagination(t *testing.T) {
	db := storetest.SQLite(t)
	fake, srv := newFakeGitHub(t)
	fake.repos["acme/shop"] = yearOf(250, 120, 3)
	sum, err := newCollector(t, srv.URL, db, prepared(t, db), &fakeClock{now: h0}, "acme/shop").Run(ctx)
	if err != nil || len(sum.Failed()) > 0 {
		t.Fatalf("run: %v %+v", err, sum.Failed())
	}
	_, byPath := fake.count()
	// 250 commits are three pages of 100 by Link; 120 pull requests three
	// GraphQL pages of 50 by cursor, and the deployments one more.
	if byPath["GET /repos/acme/shop/commits"] != 3 || byPath["POST /graphql"] != 4 {
		t.Errorf("requests %v, want 3 commit pages and 4 GraphQL pages", byPath)
	}
	// 250 changes; per pull request itself, its review and its first
	// commit; per deployment itself and its status.
	if got, want := sum.Repos[0].Events, 250+120*3+3*2; got != want {
		t.Errorf("%d events, want %d", got, want)
	}
}

// BenchmarkCollectRepositoryYears collects 50 repository-years (scaled
// down from 1,000) from the simulated GitHub answering each request after
// 100 ms, 8 requests in flight, 8 repositories at a time; it reports the
// requests per repository-year.
func BenchmarkCollectRepositoryYears(b *testing.B) {
	const repos = 50
	for b.Loop() {
		b.StopTimer()
		db := storetest.SQLite(b)
		fake, srv := newFakeGitHub(b)
		fake.latency = 100 * time.Millisecond
		var names []string
		for i := range repos {
			name := fmt.Sprintf("acme/svc%02d", i)
			fake.repos[name] = yearOf(1000, 300, 250)
			names = append(names, name)
		}
		client := collect.NewClient(8, collect.Bearer("test-token"))
		c := New(Config{APIURL: srv.URL, Repos: names, Concurrency: 8, Logger: slog.New(slog.DiscardHandler),
			Webhook: ghingest.Config{Mapping: shopMapping()}}, client, prepared(b, db), db)
		b.StartTimer()
		sum, err := c.Run(ctx)
		if err != nil || len(sum.Failed()) > 0 {
			b.Fatalf("run: %v %+v", err, sum.Failed())
		}
		n, _ := fake.count()
		b.ReportMetric(float64(n)/repos, "requests/repo-year")
	}
}
