package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/store/storetest"
)

// gitAt returns a function running git in dir with every date (author,
// committer, tagger) set to the given RFC 3339 time.
func gitAt(t *testing.T, dir string) func(date string, args ...string) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is required")
	}
	return func(date string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date,
			"GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=ann@example.com", "GIT_COMMITTER_NAME=Ann", "GIT_COMMITTER_EMAIL=ann@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

// doraOf runs `stride report dora --format json` over January 2026 and
// returns its deployment count and its lead time's count and median.
func doraOf(t *testing.T, args ...string) (deployments, changes int, median float64) {
	t.Helper()
	code, js, stderr := stride(t, append([]string{"report", "dora", "--from", "2026-01-01", "--to", "2026-02-01", "--format", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("report: %d %s", code, stderr)
	}
	var rep struct {
		DeploymentFrequency struct {
			Count int `json:"count"`
		} `json:"deployment_frequency"`
		LeadTime struct {
			Count         int      `json:"count"`
			MedianSeconds *float64 `json:"median_seconds"`
		} `json:"lead_time"`
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, js)
	}
	if rep.LeadTime.MedianSeconds != nil {
		median = *rep.LeadTime.MedianSeconds
	}
	return rep.DeploymentFrequency.Count, rep.LeadTime.Count, median
}

// TestImportGitAgainAfterTagDelete is the case through the binary:
// after `git tag -d` and a re-import, the DORA report no longer counts the
// deleted release, and the summary says what changed.
func TestImportGitAgainAfterTagDelete(t *testing.T) {
	for name, db := range storetest.URLs(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			gitc := gitAt(t, dir)
			gitc("2026-01-05T08:00:00Z", "init", "-q", "-b", "main")
			gitc("2026-01-05T08:00:00Z", "commit", "-q", "--allow-empty", "-m", "first")
			gitc("2026-01-05T09:00:00Z", "tag", "-a", "v1.0.0", "-m", "v1.0.0")
			gitc("2026-01-06T08:00:00Z", "commit", "-q", "--allow-empty", "-m", "second")
			gitc("2026-01-06T12:00:00Z", "tag", "-a", "v1.1.0", "-m", "v1.1.0")
			gitc("2026-01-07T08:00:00Z", "commit", "-q", "--allow-empty", "-m", "third")
			gitc("2026-01-07T14:00:00Z", "tag", "-a", "v1.2.0", "-m", "v1.2.0")
			importArgs := []string{"import", "git", "--db", db, "--repo", dir, "--service", "app", "--deploy-tags", "v*", "--quiet"}

			code, out, stderr := stride(t, importArgs...)
			if code != 0 || !strings.HasPrefix(out, "imported app: 3 commits, 3 deployments from 3 tags, 6 new events in ") {
				t.Fatalf("import: %d %q %s", code, out, stderr)
			}
			if !strings.Contains(out, "\n  deployments: 3 added (v1.0.0, v1.1.0, v1.2.0), 0 moved, 0 removed, 0 unchanged\n") {
				t.Errorf("summary = %q", out)
			}
			if stderr != "" {
				t.Errorf("a quiet import wrote %q to stderr", stderr)
			}
			// v1.0.0 ships first (1 h), v1.1.0 second (4 h), v1.2.0 third
			// (6 h): median 4 h.
			if deps, n, median := doraOf(t, "--db", db, "--service", "app"); deps != 3 || n != 3 || median != 4*3600 {
				t.Errorf("before: %d deployments, %d changes, median %v s; want 3, 3, 4 h", deps, n, median)
			}

			gitc("2026-01-08T08:00:00Z", "tag", "-d", "v1.1.0")
			code, out, stderr = stride(t, importArgs...)
			if code != 0 || !strings.HasPrefix(out, "imported app: 3 commits, 2 deployments from 2 tags, 0 new events in ") {
				t.Fatalf("re-import: %d %q %s", code, out, stderr)
			}
			if !strings.Contains(out, "\n  deployments: 0 added, 0 moved, 1 removed (v1.1.0), 2 unchanged\n") {
				t.Errorf("summary = %q", out)
			}
			// second now ships with v1.2.0: 30 h. Leads 1, 6 and 30 h.
			if deps, n, median := doraOf(t, "--db", db, "--service", "app"); deps != 2 || n != 3 || median != 6*3600 {
				t.Errorf("after: %d deployments, %d changes, median %v s; want 2, 3, 6 h", deps, n, median)
			}

			// A module tag on the released commit is not a second
			// deployment.
			gitc("2026-01-07T15:00:00Z", "tag", "-a", "v0.102.0", "-m", "module", "v1.2.0")
			code, out, stderr = stride(t, importArgs...)
			if code != 0 || !strings.Contains(out, "\n  folded: 1 tag on a commit an earlier tag deployed: v0.102.0 (into v1.2.0)\n") {
				t.Errorf("import: %d %q %s", code, out, stderr)
			}
			if deps, _, _ := doraOf(t, "--db", db, "--service", "app"); deps != 2 {
				t.Errorf("%d deployments, want 2", deps)
			}
		})
	}
}

// TestImportGitReadsTheServicePaths imports, without --paths, a monorepo
// for a service that stride.yaml gives paths: the files are read anyway, so
// the service counts only the changes under its paths.
//
//	c1 api/ (08:00) ← v1 (09:00) ← c2 cmd/ (10:00) ← c3 api/ (11:00) ← c4 cmd/ (12:00) ← v2 (14:00)
func TestImportGitReadsTheServicePaths(t *testing.T) {
	for name, db := range storetest.URLs(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			gitc := gitAt(t, dir)
			commit := func(date, file string) {
				t.Helper()
				full := filepath.Join(dir, file)
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(date), 0o644); err != nil {
					t.Fatal(err)
				}
				gitc(date, "add", "-A")
				gitc(date, "commit", "-q", "-m", file)
			}
			gitc("2026-01-05T08:00:00Z", "init", "-q", "-b", "main")
			commit("2026-01-05T08:00:00Z", "api/types.proto")
			gitc("2026-01-05T09:00:00Z", "tag", "-a", "v1", "-m", "v1")
			commit("2026-01-05T10:00:00Z", "cmd/main.go")
			commit("2026-01-05T11:00:00Z", "api/service.proto")
			commit("2026-01-05T12:00:00Z", "cmd/flags.go")
			gitc("2026-01-05T14:00:00Z", "tag", "-a", "v2", "-m", "v2")
			cfg := filepath.Join(t.TempDir(), "stride.yaml")
			if err := os.WriteFile(cfg, []byte("services:\n  - name: api\n    repositories: [mono]\n    paths: [api/]\n"), 0o600); err != nil {
				t.Fatal(err)
			}

			code, out, stderr := stride(t, "import", "git", "--db", db, "--config", cfg, "--repo", dir, "--service", "api", "--repository", "mono", "--quiet")
			if code != 0 || !strings.Contains(out, "\n  files: read for every commit") {
				t.Fatalf("import: %d %q %s", code, out, stderr)
			}
			// v1 ships c1 (1 h); v2 ships c2, c3 and c4, of which only c3
			// is under api/ (3 h). Without the files all four would count.
			if deps, n, median := doraOf(t, "--db", db, "--config", cfg, "--service", "api"); deps != 2 || n != 2 || median != 2*3600 {
				t.Errorf("%d deployments, %d changes, median %v s; want 2, 2, 2 h (of 1 h and 3 h)", deps, n, median)
			}
		})
	}
}

// TestImportGitRefusesAPatternGitCannotRead: git would match nothing with
// it, silently; Stride says so and exits 2.
func TestImportGitRefusesAPatternGitCannotRead(t *testing.T) {
	db := filepath.Join(t.TempDir(), "stride.db")
	code, _, stderr := stride(t, "import", "git", "--db", db, "--repo", t.TempDir(), "--service", "app", "--exclude-tags", "*-rc*,v[0-9")
	if code != 2 || !strings.Contains(stderr, `"v[0-9"`) {
		t.Errorf("exit %d, stderr %q; want 2 naming the pattern", code, stderr)
	}
}
