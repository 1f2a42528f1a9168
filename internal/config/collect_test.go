package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCollectSection(t *testing.T) {
	write := func(t *testing.T, body string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "stride.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("a github and a jira collector load with their periods", func(t *testing.T) {
		t.Setenv("STRIDE_TEST_GH", "ghp_secret")
		c, err := Load(write(t, `collect:
  github: {repos: [acme/api], token: "${STRIDE_TEST_GH}", every: 30m}
  jira: {projects: [PAY], url: "https://acme.atlassian.net"}
`), false)
		if err != nil {
			t.Fatal(err)
		}
		if g := c.Collect.GitHub; g == nil || g.Token != "ghp_secret" || CollectEvery(g.Every) != 30*time.Minute || g.Repos[0] != "acme/api" {
			t.Fatalf("github collector %+v", c.Collect.GitHub)
		}
		if j := c.Collect.Jira; j == nil || CollectEvery(j.Every) != DefaultCollectEvery {
			t.Fatalf("jira collector %+v, want the default period", c.Collect.Jira)
		}
		if c.Collect.GitLab != nil || c.Collect.PagerDuty != nil {
			t.Fatalf("collectors not configured are enabled: %s", c.Collect)
		}
	})
	t.Run("concurrency is read, and left out is the default", func(t *testing.T) {
		c, err := Load(write(t, "collect:\n  gitlab: {projects: [g/p], concurrency: 16}\n  github: {repos: [a/b]}\n"), false)
		if err != nil {
			t.Fatal(err)
		}
		if got := CollectConcurrency(c.Collect.GitLab.Concurrency); got != 16 {
			t.Errorf("gitlab concurrency %d, want 16", got)
		}
		if got := CollectConcurrency(c.Collect.GitHub.Concurrency); got != DefaultCollectConcurrency {
			t.Errorf("github concurrency %d, want the default %d", got, DefaultCollectConcurrency)
		}
	})
	for _, tc := range []struct{ name, body, want string }{
		{"a collector with nothing to collect", "collect:\n  github: {every: 1h}\n", "collect.github: names no repos or orgs"},
		{"a period that would spend the rate limit", "collect:\n  gitlab: {projects: [g/p], every: 10s}\n", "collect.gitlab.every: 10s is below the least period"},
		{"jira without its site", "collect:\n  jira: {projects: [PAY]}\n", "collect.jira.url: is required"},
		{"a misspelt setting", "collect:\n  pagerduty: {service: [P1]}\n", "service"},
		{"no project read at all", "collect:\n  gitlab: {projects: [g/p], concurrency: -1}\n", "collect.gitlab.concurrency: -1 is not between 1 and 16"},
		{"more repositories at once than the rate limits bear", "collect:\n  github: {repos: [a/b], concurrency: 17}\n", "collect.github.concurrency: 17 is not between 1 and 16"},
		{"a concurrency for a collector that reads one scope at a time", "collect:\n  jira: {projects: [PAY], url: \"https://acme.atlassian.net\", concurrency: 2}\n", "concurrency"},
	} {
		t.Run(tc.name+" is refused, naming the setting", func(t *testing.T) {
			_, err := Load(write(t, tc.body), false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
