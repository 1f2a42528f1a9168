package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/config"
)

// TestWebhooksDocConfig loads the stride.yaml example of docs/webhooks.md,
// so the page cannot drift from what Stride accepts: every source it shows
// must be enabled by it.
func TestWebhooksDocConfig(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "webhooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	if !ok {
		t.Fatal("docs/webhooks.md has no yaml example")
	}
	example, _, _ := strings.Cut(rest, "```")
	for _, v := range []string{"GITHUB_WEBHOOK_SECRET", "GITLAB_WEBHOOK_TOKEN", "JIRA_WEBHOOK_SECRET", "PAGERDUTY_SIGNING_SECRET",
		"ALERTMANAGER_TOKEN", "ARGOCD_TOKEN", "CDEVENTS_TOKEN"} {
		t.Setenv(v, "x-"+strings.ToLower(v))
	}
	path := filepath.Join(t.TempDir(), "stride.yaml")
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, false)
	if err != nil {
		t.Fatalf("the documented stride.yaml does not load: %v", err)
	}
	sources, err := buildSources(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range sources {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"alertmanager", "argocd", "cdevents", "github", "gitlab", "jira", "pagerduty"}
	if !slices.Equal(names, want) {
		t.Errorf("sources %v, want %v", names, want)
	}
}
