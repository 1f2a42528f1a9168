package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/buildinfo"
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

// TestArgoCDServicesAsDocumented loads the stride.yaml example of
// docs/argocd.md and checks that its argocd.services entry names the
// service of a sync of application checkout-prod.
func TestArgoCDServicesAsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "argocd.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "## In stride.yaml\n```yaml\n")
	if !ok {
		t.Fatal("docs/argocd.md has no stride.yaml example")
	}
	example, _, _ := strings.Cut(rest, "```")
	t.Setenv("ARGOCD_TOKEN", "t0ken")
	path := filepath.Join(t.TempDir(), "stride.yaml")
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
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
	body, err := os.ReadFile(filepath.Join("..", "..", "internal", "ingest", "argocd", "testdata", "sync-succeeded.json"))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Authorization": {"Bearer t0ken"}}
	if err := sources["argocd"].Verify(h, body); err != nil {
		t.Fatalf("the token from ${ARGOCD_TOKEN} is not the one checked: %v", err)
	}
	events, err := sources["argocd"].Translate(h, body)
	if err != nil || len(events) != 1 || events[0].Deployment == nil {
		t.Fatalf("%d events, %v", len(events), err)
	}
	if got := events[0].Deployment.Service; got != "checkout" {
		t.Errorf("service %q, want checkout (argocd.services[checkout-prod])", got)
	}

	if err := os.WriteFile(path, []byte("sources:\n  argocd:\n    token: t\n    services: {checkout-prod: \"\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(path, false); err == nil || !strings.Contains(err.Error(), "sources.argocd.services.checkout-prod: names no service") {
		t.Errorf("an entry naming no service: %v", err)
	}
}

// TestServeRefusesAnUnsetSecretVariable checks that serve does not start
// with a source whose secret names a variable that is not set, rather than
// start with an empty secret that rejects every delivery.
func TestServeRefusesAnUnsetSecretVariable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "stride.yaml")
	if err := os.WriteFile(path, []byte("sources:\n  github:\n    secret: ${STRIDE_TEST_UNSET_SECRET}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"serve", "--config", path, "--db", filepath.Join(dir, "stride.db"), "--addr", "127.0.0.1:0"}, &stdout, &stderr)
	want := "sources.github.secret: environment variable STRIDE_TEST_UNSET_SECRET is not set"
	if code != 2 || !strings.Contains(stderr.String(), want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), want)
	}
	if strings.Contains(stdout.String(), "listening") {
		t.Errorf("serve started: %s", stdout.String())
	}
}

func TestVersionNamesTheBuild(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	info := buildinfo.Read()
	if got := stdout.String(); got != info.String()+"\n" || !strings.HasPrefix(got, "stride ") || !strings.Contains(got, runtime.Version()) {
		t.Errorf("stride version printed %q, want %q with the toolchain %s", got, info, runtime.Version())
	}
}
