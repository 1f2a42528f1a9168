package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/ingest/argocd"
	"github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/ingest/gitlab"
	"github.com/stride-oss/stride/internal/ingest/jira"
	"github.com/stride-oss/stride/internal/ingest/pagerduty"
)

// sourceConfig returns the decoded configuration of the enabled source
// name, nil when it is not enabled.
func sourceConfig[T any](t *testing.T, c config.Config, name string) *T {
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

// sourceAdd runs "stride source add" and returns its exit code and output.
func sourceAdd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"source", "add"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

const commentedConfig = `# Stride's configuration.
db: stride.db # the SQLite file

services:
  - name: api # the payments API
    team: core

sources:
  # GitHub signs every delivery.
  github:
    secret: old-secret # rotated yearly
    releases_as_deployments: true
  pagerduty:
    secrets: [first]
  argocd:
`

func TestSourceAddEditsTheFileInPlace(t *testing.T) {
	// Reading the file back expands ${GITLAB_TOKEN}; writing it does not
	// need the variable.
	t.Setenv("GITLAB_TOKEN", "from-the-environment")
	cases := []struct {
		name    string
		args    []string
		want    func(t *testing.T, c config.Config) bool
		printed string
	}{
		{"updates a source's secret", []string{"github", "--secret", "new-secret"},
			func(t *testing.T, c config.Config) bool {
				g := sourceConfig[github.Config](t, c, "github")
				return g.Secret == "new-secret" && g.ReleasesAsDeployments
			},
			"wrote sources.github.secret = a secret of 10 characters (not shown)"},
		{"adds a new source", []string{"gitlab", "--token", "${GITLAB_TOKEN}"},
			func(t *testing.T, c config.Config) bool { return sourceConfig[gitlab.Config](t, c, "gitlab") != nil },
			"wrote sources.gitlab.token = ${GITLAB_TOKEN}"},
		{"fills a source listed without settings", []string{"argocd", "--token", "12345"},
			func(t *testing.T, c config.Config) bool {
				a := sourceConfig[argocd.Config](t, c, "argocd")
				return a != nil && a.Token == "12345"
			},
			"wrote sources.argocd.token"},
		{"keeps PagerDuty's other secrets for rotation", []string{"pagerduty", "--secret", "second"},
			func(t *testing.T, c config.Config) bool {
				return strings.Join(sourceConfig[pagerduty.Config](t, c, "pagerduty").Secrets, ",") == "first,second"
			},
			"wrote sources.pagerduty.secrets"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "stride.yaml")
			if err := os.WriteFile(path, []byte(commentedConfig), 0o640); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := sourceAdd(t, append(c.args, "--config", path)...)
			if code != 0 || !strings.Contains(out, c.printed) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %q printed", code, out, errOut, c.printed)
			}
			cfg, err := config.Load(path, false)
			if err != nil {
				t.Fatal(err)
			}
			if !c.want(t, cfg) || len(cfg.Services) != 1 || cfg.Services[0].Team != "core" {
				t.Errorf("the file does not say what was written: %+v", cfg)
			}
			body, _ := os.ReadFile(path)
			for _, comment := range []string{"# Stride's configuration.", "# the SQLite file", "# the payments API", "# GitHub signs every delivery.", "# rotated yearly"} {
				if !bytes.Contains(body, []byte(comment)) {
					t.Errorf("comment %q was lost:\n%s", comment, body)
				}
			}
			// It now holds a secret: only its owner may read it.
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Errorf("mode is %v, want -rw-------", st.Mode().Perm())
			}
		})
	}
}

func TestSourceAddCreatesAPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stride.yaml")
	if code, out, errOut := sourceAdd(t, "jira", "--secret", "s3cret", "--config", path); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stat %v, %v: want mode 0600", st, err)
	}
	cfg, err := config.Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if j := sourceConfig[jira.Config](t, cfg, "jira"); j == nil || j.Secret != "s3cret" {
		t.Fatalf("%+v", j)
	}
	// The same again changes nothing.
	if code, out, _ := sourceAdd(t, "jira", "--secret", "s3cret", "--config", path); code != 0 || !strings.Contains(out, "nothing written") {
		t.Errorf("exit %d: %s", code, out)
	}
}

func TestSourceAddRefusesBadRequests(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stride.yaml")
	if err := os.WriteFile(path, []byte(commentedConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"an unknown source", []string{"bitbucket", "--token", "x"}, 2, `unknown source "bitbucket"`},
		{"the wrong kind of credential", []string{"github", "--token", "x"}, 2, "github takes --secret"},
		{"no credential", []string{"gitlab"}, 2, "--token is required"},
		{"no name", []string{"--token", "x"}, 2, "name the source first"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := sourceAdd(t, append(c.args, "--config", path)...)
			if code != c.code || !strings.Contains(errOut, c.err) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, c.code, c.err)
			}
		})
	}
	if body, _ := os.ReadFile(path); string(body) != commentedConfig {
		t.Errorf("a refused request changed the file:\n%s", body)
	}
}

// TestSourceAddNeedsNotTheVariableItWrites checks that a reference to a
// variable set only where the server runs can be written.
func TestSourceAddNeedsNotTheVariableItWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stride.yaml")
	code, out, errOut := sourceAdd(t, "cdevents", "--token", "${STRIDE_TEST_UNSET_CDEVENTS_TOKEN}", "--config", path)
	if code != 0 || !strings.Contains(out, "wrote sources.cdevents.token = ${STRIDE_TEST_UNSET_CDEVENTS_TOKEN}") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, err := config.Load(path, false); err == nil || !strings.Contains(err.Error(), "STRIDE_TEST_UNSET_CDEVENTS_TOKEN is not set") {
		t.Errorf("loading where the variable is unset: %v", err)
	}
}
