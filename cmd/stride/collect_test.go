package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCollectGitHub runs `stride collect github` against a server with one
// repository of one commit and one that does not exist: the first is
// stored, the second stops alone with its reason, and the exit code says
// that something failed.
func TestCollectGitHub(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/repos/acme/shop":
			w.Write([]byte(`{"full_name":"acme/shop","default_branch":"main"}`))
		case "/repos/acme/shop/commits":
			w.Write([]byte(`[{"sha":"9fceb02d0ae598e95dc970b74767f19372d61af8","parents":[{"sha":"1a2b3c4d0ae598e95dc970b74767f19372d61af8"}],
				"author":{"login":"ann"},"commit":{"message":"fix","author":{"date":"2026-03-02T09:00:00Z"},"committer":{"date":"2026-03-02T09:00:00Z"}}}]`))
		case "/repos/acme/shop/actions/runs":
			w.Write([]byte(`{"total_count":0,"workflow_runs":[]}`))
		case "/graphql":
			w.Write([]byte(`{"data":{"repository":{"pullRequests":{"pageInfo":{"hasNextPage":false},"nodes":[]}}}}`))
		case "/repos/acme/shop/branches", "/repos/acme/shop/releases", "/repos/acme/shop/deployments", "/repos/acme/shop/issues":
			w.Write([]byte(`[]`))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"Not Found"}`))
		}
	}))
	defer srv.Close()
	t.Setenv("GITHUB_TOKEN", "tok")
	t.Setenv("STRIDE_CONFIG", "")
	t.Setenv("STRIDE_DB", "")
	db := filepath.Join(t.TempDir(), "stride.db")

	code, stdout, stderr := stride(t, "collect", "github", "--repo", "acme/shop,acme/gone", "--api-url", srv.URL, "--db", db, "--since", "2026-01-01")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a repository failed)\n%s%s", code, stdout, stderr)
	}
	if want := "collected 1 repositories: 1 events, 1 new, "; !strings.HasPrefix(stdout, want) {
		t.Errorf("stdout %q, want it to start %q", stdout, want)
	}
	if want := "acme/shop read: "; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not say %q", stderr, want)
	}
	if want := "acme/gone stopped: " + srv.URL + "/repos/acme/gone answered 404"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not say %q", stderr, want)
	}
	// Not a terminal: one summary line, the same as the other vendors';
	// this server sends no rate-limit headers.
	if got := summaryOf(t, stderr); !strings.HasPrefix(got, "repositories 2/2, ") || !strings.HasSuffix(got, ", events 1 (1 new), rate limit not reported") {
		t.Errorf("summary %q, want both repositories done, the one event and no budget", got)
	}

	t.Setenv("GITHUB_TOKEN", "")
	if code, _, stderr := stride(t, "collect", "github", "--repo", "acme/shop", "--db", db); code != 2 || !strings.Contains(stderr, "GITHUB_TOKEN") {
		t.Errorf("without a token: exit %d, %q; want 2 naming GITHUB_TOKEN", code, stderr)
	}
	t.Setenv("JIRA_TOKEN", "")
	if code, _, stderr := stride(t, "collect", "jira", "--project", "PAY", "--url", "https://acme.atlassian.net", "--db", db); code != 2 || !strings.Contains(stderr, "JIRA_TOKEN") {
		t.Errorf("jira without a token: exit %d, %q; want 2 naming JIRA_TOKEN", code, stderr)
	}
	if code, _, _ := stride(t, "collect", "bitbucket"); code != 2 {
		t.Errorf("an unknown vendor: exit %d, want 2", code)
	}
	if code, _, stderr := stride(t, "collect", "gitlab", "--project", "acme/shop", "--db", db); code != 2 || !strings.Contains(stderr, "GITLAB_TOKEN") {
		t.Errorf("gitlab without a token: exit %d, %q; want 2 naming GITLAB_TOKEN", code, stderr)
	}
	t.Setenv("PAGERDUTY_TOKEN", "")
	if code, _, stderr := stride(t, "collect", "pagerduty", "--service", "PSHOP01", "--db", db); code != 2 || !strings.Contains(stderr, "PAGERDUTY_TOKEN") {
		t.Errorf("pagerduty without a token: exit %d, %q; want 2 naming PAGERDUTY_TOKEN", code, stderr)
	}
}

func TestETA(t *testing.T) {
	tests := []struct {
		elapsed     time.Duration
		done, total int
		want        time.Duration
	}{
		{elapsed: 30 * time.Second, done: 1, total: 4, want: 90 * time.Second},
		{elapsed: time.Minute, done: 3, total: 4, want: 20 * time.Second},
		{elapsed: time.Minute, done: 0, total: 4},
		{elapsed: time.Minute, done: 4, total: 4},
	}
	for _, tt := range tests {
		if got := eta(tt.elapsed, tt.done, tt.total); got != tt.want {
			t.Errorf("eta(%s, %d of %d) = %s, want %s", tt.elapsed, tt.done, tt.total, got, tt.want)
		}
	}
}
