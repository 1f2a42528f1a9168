package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestCommitPullRequests finds the pull requests that hold a commit: merged
// as it, or carrying it among their commits; not one whose commits merely
// contain the sha as part of a longer one, and, once the service is known
// to deploy from acme/api, not one of another repository.
func TestCommitPullRequests(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	pr := func(repo string, n int, merge string, commits ...string) delivery.Event {
		return delivery.Event{Key: repo + "#" + string(rune('0'+n)), Kind: delivery.KindPullRequest,
			PullRequest: &delivery.PullRequest{Repository: repo, Number: n, State: delivery.PullRequestMerged, CreatedAt: at,
				MergedAt: at, MergeSHA: merge, Commits: commits, Labels: []string{"hotfix"}}}
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ingest(t, db, pr("acme/api", 1, "abc"), pr("acme/api", 2, "m2", "a_c", "abc"), pr("acme/api", 3, "m3", "abcd"),
			pr("acme/web", 4, "abc"))
		numbers := func(service, sha string) []int {
			t.Helper()
			prs, err := db.CommitPullRequests(ctx, service, sha)
			if err != nil {
				t.Fatal(err)
			}
			var out []int
			for _, p := range prs {
				out = append(out, p.Number)
			}
			return out
		}
		if got := numbers("api", "abc"); !slices.Equal(got, []int{1, 2, 4}) {
			t.Errorf("service of unknown repositories: %v, want 1, 2, 4", got)
		}
		if got := numbers("api", "a_c"); !slices.Equal(got, []int{2}) {
			t.Errorf("a sha with a LIKE wildcard: %v, want 2", got)
		}
		ingest(t, db, delivery.Event{Key: "dep", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
			Service: "api", Repository: "acme/api", ID: "1", SHA: "abc", Status: delivery.DeploymentSuccess, FinishedAt: at}})
		if got := numbers("api", "abc"); !slices.Equal(got, []int{1, 2}) {
			t.Errorf("service deployed from acme/api: %v, want 1, 2", got)
		}
		if got := numbers("api", ""); len(got) != 0 {
			t.Errorf("no sha: %v", got)
		}
		// A pull request whose commits are unknown (JSON null) has only
		// its merge sha indexed.
		ingest(t, db, pr("acme/api", 5, "m5"))

		// The index filled in by the migration from what an older binary
		// stored: drop it and run the migration again.
		if err := db.ExecForTest(ctx, `DROP TABLE pull_request_commits`); err != nil {
			t.Fatal(err)
		}
		if err := db.ReapplyMigrationForTest(ctx, "_pull_request_commits.sql"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			sha  string
			want []int
		}{{"abc", []int{1, 2}}, {"a_c", []int{2}}, {"abcd", []int{3}}, {"m5", []int{5}}, {"m3", []int{3}}} {
			if got := numbers("api", c.sha); !slices.Equal(got, c.want) {
				t.Errorf("after the migration, %s: %v, want %v", c.sha, got, c.want)
			}
		}
	})
}
