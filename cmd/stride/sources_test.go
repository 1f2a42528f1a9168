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

// TestGitHubTagFilters checks that sources.github.deploy_tags and
// exclude_tags reach the connector.
func TestGitHubTagFilters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stride.yaml")
	yaml := "sources:\n  github:\n    secret: s\n    releases_as_deployments: true\n    deploy_tags: [\"v*\"]\n    exclude_tags: [\"*-rc*\"]\n"
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
	push := func(tag string) ([]byte, http.Header) {
		h := http.Header{}
		h.Set(github.HeaderEvent, "push")
		return []byte(`{"ref":"refs/tags/` + tag + `","after":"0123456789abcdef0123456789abcdef01234567","created":true,"commits":[],
			"head_commit":{"id":"0123456789abcdef0123456789abcdef01234567","timestamp":"2024-03-02T08:00:00Z"},
			"repository":{"full_name":"acme/shop","default_branch":"main","pushed_at":1709366400}}`), h
	}
	for tag, counts := range map[string]bool{"v1.2.0": true, "v1.3.0-rc1": false, "nightly": false} {
		body, h := push(tag)
		events, err := sources["github"].Translate(h, body)
		switch {
		case counts && (err != nil || len(events) != 1):
			t.Errorf("tag %s: %d events, error %v; want one deployment", tag, len(events), err)
		case !counts && !errors.Is(err, ingest.ErrIgnored):
			t.Errorf("tag %s: %d events, error %v; want it ignored", tag, len(events), err)
		}
	}
}
