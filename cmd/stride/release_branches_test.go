package main

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/ingest"
	"github.com/stride-oss/stride/internal/ingest/github"
)

// TestReleaseBranchesReachTheConnectors loads sources.github.release_branches
// and sources.gitlab.release_branches from stride.yaml: a push to a branch
// they name is taken, a push to another branch is still ignored.
func TestReleaseBranchesReachTheConnectors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stride.yaml")
	yaml := "sources:\n  github:\n    secret: s\n    release_branches: [\"release-*\"]\n  gitlab:\n    token: t\n    release_branches: [\"stable/*\"]\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	sources, err := buildSources(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const sha = "0123456789abcdef0123456789abcdef01234567"
	githubPush := func(branch string) (http.Header, []byte) {
		h := http.Header{}
		h.Set(github.HeaderEvent, "push")
		return h, []byte(`{"ref":"refs/heads/` + branch + `","before":"1111111111111111111111111111111111111111","after":"` + sha + `",
			"commits":[{"id":"` + sha + `","message":"fix","timestamp":"2024-03-02T08:00:00Z"}],
			"repository":{"full_name":"acme/shop","default_branch":"main"}}`)
	}
	gitlabPush := func(branch string) (http.Header, []byte) {
		h := http.Header{}
		h.Set("X-Gitlab-Event", "Push Hook")
		return h, []byte(`{"object_kind":"push","ref":"refs/heads/` + branch + `","before":"1111111111111111111111111111111111111111","after":"` + sha + `",
			"project":{"path_with_namespace":"acme/shop","default_branch":"main"},"total_commits_count":1,
			"commits":[{"id":"` + sha + `","message":"fix","timestamp":"2024-03-02T08:00:00Z"}]}`)
	}
	for _, tc := range []struct {
		source, branch string
		push           func(string) (http.Header, []byte)
		taken          bool
	}{
		{"github", "release-3.18", githubPush, true},
		{"github", "feature/x", githubPush, false},
		{"gitlab", "stable/v2", gitlabPush, true},
		{"gitlab", "release-3.18", gitlabPush, false},
	} {
		h, body := tc.push(tc.branch)
		events, err := sources[tc.source].Translate(h, body)
		switch {
		case tc.taken && (err != nil || len(events) != 1):
			t.Errorf("%s push to %s: %d events, error %v; want one change", tc.source, tc.branch, len(events), err)
		case !tc.taken && !errors.Is(err, ingest.ErrIgnored):
			t.Errorf("%s push to %s: %d events, error %v; want it ignored", tc.source, tc.branch, len(events), err)
		}
	}
}
