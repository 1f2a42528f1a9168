package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/ingest/github"
)

// sourceConfig returns the decoded configuration of the enabled source
// name, nil when it is not enabled.
func sourceConfig[T any](t *testing.T, c Config, name string) *T {
	t.Helper()
	cfg, ok, err := c.SourceConfig(name)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return nil
	}
	return cfg.(*T)
}

func TestGitHubTagPatterns(t *testing.T) {
	cfg, err := load(t, `
sources:
  github:
    secret: s
    releases_as_deployments: true
    deploy_tags: ["v*"]
    exclude_tags: ["*-rc*", "*-beta*"]
`)
	if err != nil {
		t.Fatal(err)
	}
	g := sourceConfig[github.Config](t, cfg, "github")
	if !reflect.DeepEqual(g.DeployTags, []string{"v*"}) || !reflect.DeepEqual(g.ExcludeTags, []string{"*-rc*", "*-beta*"}) {
		t.Errorf("deploy_tags %q, exclude_tags %q", g.DeployTags, g.ExcludeTags)
	}
	for _, field := range []string{"deploy_tags", "exclude_tags"} {
		_, err := load(t, "sources:\n  github:\n    secret: s\n    "+field+": [\"v[1\"]\n")
		if err == nil || !strings.Contains(err.Error(), "sources.github."+field) {
			t.Errorf("a malformed %s pattern: error %v, want one naming the field", field, err)
		}
	}
}
