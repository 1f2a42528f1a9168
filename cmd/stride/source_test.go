package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/config"
)

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
	cases := []struct {
		name    string
		args    []string
		want    func(c config.Config) bool
		printed string
	}{
		{"updates a source's secret", []string{"github", "--secret", "new-secret"},
			func(c config.Config) bool {
				return c.Sources.GitHub.Secret == "new-secret" && c.Sources.GitHub.ReleasesAsDeployments
			},
			"wrote sources.github.secret = a secret of 10 characters (not shown)"},
		{"adds a new source", []string{"gitlab", "--token", "${GITLAB_TOKEN}"},
			func(c config.Config) bool { return c.Sources.GitLab != nil },
			"wrote sources.gitlab.token = ${GITLAB_TOKEN}"},
		{"fills a source listed without settings", []string{"argocd", "--token", "12345"},
			func(c config.Config) bool { return c.Sources.ArgoCD != nil && c.Sources.ArgoCD.Token == "12345" },
			"wrote sources.argocd.token"},
		{"keeps PagerDuty's other secrets for rotation", []string{"pagerduty", "--secret", "second"},
			func(c config.Config) bool { return strings.Join(c.Sources.PagerDuty.Secrets, ",") == "first,second" },
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
			if !c.want(cfg) || len(cfg.Services) != 1 || cfg.Services[0].Team != "core" {
				t.Errorf("the file does not say what was written: %+v", cfg)
			}
			body, _ := os.ReadFile(path)
			for _, comment := range []string{"# Stride's configuration.", "# the SQLite file", "# the payments API", "# GitHub signs every delivery.", "# rotated yearly"} {
				if !bytes.Contains(body, []byte(comment)) {
					t.Errorf("comment %q was lost:\n%s", comment, body)
				}
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
				t.Errorf("mode changed to %v", st.Mode().Perm())
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
	if err != nil || cfg.Sources.Jira == nil || cfg.Sources.Jira.Secret != "s3cret" {
		t.Fatalf("%+v %v", cfg.Sources.Jira, err)
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
