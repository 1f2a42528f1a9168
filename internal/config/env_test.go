package config

import (
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/ingest/pagerduty"
)

func TestOnlyVariableReferencesInValuesAreExpanded(t *testing.T) {
	t.Setenv("GH_SECRET", "from-$HOME-env")
	t.Setenv("DB_USER", "stride")
	t.Setenv("DB_PASS", "p@ss")
	t.Setenv("ROTATED", "null") // looks like YAML's null, is a secret
	t.Setenv("ADDR", ":9090")
	c, err := load(t, `
# a comment naming ${NOT_SET} is not expanded
db: "postgres://${DB_USER}:${DB_PASS}@db/stride"
addr: ${ADDR}
sources:
  github:
    secret: ${GH_SECRET}
  pagerduty:
    secrets: ["pa$$word$1", "${ROTATED}", "$HOME", "a$ {b}"]
`)
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "postgres://stride:p@ss@db/stride" || c.Addr != ":9090" {
		t.Errorf("db %q, addr %q", c.DB, c.Addr)
	}
	// A variable's value is not expanded again.
	if g := sourceConfig[github.Config](t, c, "github"); g.Secret != "from-$HOME-env" {
		t.Errorf("github secret %q", g.Secret)
	}
	want := []string{"pa$$word$1", "null", "$HOME", "a$ {b}"}
	if got := sourceConfig[pagerduty.Config](t, c, "pagerduty").Secrets; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("pagerduty secrets %q, want %q: a $ not followed by { is kept", got, want)
	}
}

func TestConfigErrorsNameTheSettingAndAreInvalidInput(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"an unset variable", "sources:\n  github:\n    secret: ${GITHUB_WEBHOOK_SECRET}\n",
			[]string{"stride.yaml: sources.github.secret: environment variable GITHUB_WEBHOOK_SECRET is not set"}},
		{"an unset variable in a list", "sources:\n  pagerduty:\n    secrets: [a, \"${PD_NEXT_SECRET}\"]\n",
			[]string{"sources.pagerduty.secrets[1]: environment variable PD_NEXT_SECRET is not set"}},
		{"an unset variable of a service", "services:\n  - name: api\n    team: ${TEAM_OF_API}\n",
			[]string{"services[0].team: environment variable TEAM_OF_API is not set"}},
		{"a reference not closed", "db: \"${STRIDE_DB\"\n", []string{"db:", "not closed"}},
		{"a reference that is no name", "db: \"${1DB}\"\n", []string{"db:", "${1DB} does not name an environment variable"}},
		{"an unknown source", "sources:\n  bitbucket: {token: x}\n",
			[]string{"line 2: sources.bitbucket: unknown source (known: alertmanager, argocd, cdevents, github, gitlab, jira, pagerduty, sonarqube)"}},
		{"a misspelt setting of a source", "sources:\n  github:\n    secret: s\n    deploy_tag: [v*]\n",
			[]string{"line 4: sources.github.deploy_tag: unknown setting (known: default_severity, deploy_tags, exclude_tags, release_branches, releases_as_deployments, secret)"}},
		{"a misspelt top-level setting", "adr: \":80\"\n", []string{"line 1: adr: unknown setting"}},
		{"a misspelt setting of a service", "services:\n  - name: api\n    teams: core\n", []string{"line 3: services[0].teams: unknown setting"}},
		{"a setting of the wrong type", "sources:\n  alertmanager:\n    severity: {critical: high}\n", []string{"sources.alertmanager", "cannot unmarshal"}},
		{"a setting the connector refuses", "sources:\n  alertmanager:\n    severity: {critical: 7}\n", []string{"sources.alertmanager", "must be 0 to 3, got 7"}},
		{"not a mapping", "- db\n", []string{"the top level is not a mapping"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load(t, c.yaml)
			if err == nil {
				t.Fatal("loaded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if code := delivery.ErrorCode(err); code != delivery.EINVALID {
				t.Errorf("code %q, want %q", code, delivery.EINVALID)
			}
			if msg := delivery.ErrorMessage(err); msg != err.Error() {
				t.Errorf("the message shown to the user %q lost part of %q", msg, err)
			}
		})
	}
	if _, err := Load("/nonexistent/stride.yaml", false); delivery.ErrorCode(err) != delivery.EINVALID || !strings.Contains(err.Error(), "/nonexistent/stride.yaml") {
		t.Errorf("a missing file named on purpose: %v", err)
	}
}

func TestCheckTakesEveryVariableAsSet(t *testing.T) {
	path := writeConfig(t, "sources:\n  gitlab:\n    token: ${UNSET_GITLAB_TOKEN}\n  github:\n    deploy_tags: [\"v[1\"]\n")
	err := Check(path)
	if err == nil || !strings.Contains(err.Error(), "sources.github.deploy_tags") || strings.Contains(err.Error(), "UNSET_GITLAB_TOKEN") {
		t.Errorf("Check: %v; want only the bad pattern reported", err)
	}
	if err := Check(writeConfig(t, "sources:\n  gitlab:\n    token: ${UNSET_GITLAB_TOKEN}\n")); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestASourceListedWithoutSettingsIsNotEnabled(t *testing.T) {
	c, err := load(t, "sources:\n  argocd:\n  gitlab: {token: t}\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Sources["argocd"]; ok {
		t.Error("argocd: with nothing under it is enabled")
	}
	if src, ok, err := c.NewSource("gitlab"); err != nil || !ok || src.Name() != "gitlab" {
		t.Errorf("gitlab: %v, %v, %v", src, ok, err)
	}
	if src, ok, err := c.NewSource("argocd"); ok || err != nil {
		t.Errorf("argocd: %v, %v, %v; want it not enabled", src, ok, err)
	}
}

func TestMetricsArePrivateUnlessConfiguredPublic(t *testing.T) {
	for _, c := range []struct {
		yaml string
		want bool
	}{{"addr: :8080\n", false}, {"metrics:\n  public: true\n", true}, {"metrics:\n  public: false\n", false}} {
		cfg, err := load(t, c.yaml)
		if err != nil {
			t.Fatalf("%q: %v", c.yaml, err)
		}
		if cfg.Metrics.Public != c.want {
			t.Errorf("%q: metrics.public = %v, want %v", c.yaml, cfg.Metrics.Public, c.want)
		}
	}
	if _, err := load(t, "metrics:\n  open: true\n"); err == nil {
		t.Error("an unknown metrics setting was accepted")
	}
}
