package config

import (
	"reflect"
	"strings"
	"testing"
)

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
	g := cfg.Sources.GitHub
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
