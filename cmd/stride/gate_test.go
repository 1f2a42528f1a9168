package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/rings"
)

// td names a report kept with the gate package's tests.
func td(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "internal", "gate", "testdata"}, parts...)...)
}

// passingArgs names one passing report of every kind. The coverprofile is
// written here; the rest are the gate package's hand-written reports.
func passingArgs(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	profile := filepath.Join(dir, "cover.out")
	if err := os.WriteFile(profile, []byte("mode: set\nexample.com/api/a.go:1.1,3.2 19 1\nexample.com/api/a.go:4.1,5.2 1 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"--service", "api", "--sha", "abc123", "--coverage", profile,
		"--junit", td("junit", "pass.xml"), "--junit", td("junit", "sk*.xml"),
		"--sarif", td("sarif", "pass.sarif"), "--trivy", td("trivy", "pass.json"),
		"--k6", td("k6", "pass.json"), "--jmeter", td("jmeter", "pass.jtl"), "--build-time", "5m"}
}

// with replaces the value of a flag in args (or appends it).
func with(args []string, flag, value string) []string {
	out := append([]string(nil), args...)
	for i := 0; i < len(out)-1; i++ {
		if out[i] == flag {
			out[i+1] = value
			return out
		}
	}
	return append(out, flag, value)
}

func runCmd(t *testing.T, fn func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) int, args []string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := fn(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// norm collapses runs of blanks, so tests do not depend on column widths.
func norm(s string) string { return strings.Join(strings.Fields(s), " ") }

func gateCmd(ctx context.Context, args []string, out, errOut *bytes.Buffer) int {
	return runGate(ctx, args, out, errOut)
}

func promoteCmd(ctx context.Context, args []string, out, errOut *bytes.Buffer) int {
	return runPromote(ctx, args, out, errOut)
}

func TestGateExitCodes(t *testing.T) {
	dir := t.TempDir()
	badPolicy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(badPolicy, []byte("defaults:\n  min_coverage: 101\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := passingArgs(t)
	manyTests := filepath.Join(dir, "many-tests.yaml")
	if err := os.WriteFile(manyTests, []byte("services:\n  api:\n    min_tests: 100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{name: "every criterion passes", args: base, code: 0, stdout: "verdict: PASS (11 passed, 0 failed, 0 skipped) for api @ abc123"},
		{name: "a failing test fails the gate", args: with(base, "--junit", td("junit", "fail.xml")), code: 1, stdout: "FAIL     failed tests"},
		{name: "slow k6 fails the gate", args: with(base, "--k6", td("k6", "fail.json")), code: 1, stdout: "FAIL     p95 latency (k6)"},
		{name: "the service's policy applies", args: with(base, "--policy", manyTests), code: 1, stdout: "FAIL     tests                     5          ≥ 100"},
		{name: "a missing report is an error", args: with(base, "--sarif", filepath.Join(dir, "nope.sarif")), code: 2, stderr: "no such file"},
		{name: "a corrupt report is an error", args: with(base, "--trivy", td("trivy", "malformed.json")), code: 2, stderr: "stride gate: trivy"},
		{name: "a glob matching nothing is an error", args: with(base, "--junit", filepath.Join(dir, "*.xml")), code: 2, stderr: "no such file"},
		{name: "an invalid policy is an error", args: with(base, "--policy", badPolicy), code: 2, stderr: "min_coverage 101"},
		{name: "an unknown format is an error", args: with(base, "--format", "html"), code: 2, stderr: `--format "html"`},
		{name: "an unknown flag is an error", args: append(base, "--colour"), code: 2, stderr: "flag provided but not defined"},
		{name: "a missing service is an error", args: with(base, "--service", ""), code: 2, stderr: "--service is required"},
		{name: "no report at all is an error", args: []string{"--service", "api"}, code: 2, stderr: "nothing to judge"},
		{name: "a diff base without coverage is an error", args: []string{"--service", "api", "--sarif", td("sarif", "pass.sarif"), "--diff-base", "HEAD"}, code: 2, stderr: "--diff-base needs --coverage"},
		{name: "a diff base with Cobertura is an error", args: []string{"--service", "api", "--coverage", td("cobertura", "pass.xml"), "--diff-base", "HEAD"}, code: 2, stderr: "needs a Go coverprofile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(t, gateCmd, tt.args)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(norm(stdout), norm(tt.stdout)) {
				t.Errorf("stdout lacks %q:\n%s", tt.stdout, stdout)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, stderr)
			}
			if tt.code == 2 && stdout != "" {
				t.Errorf("exit 2 printed a result:\n%s", stdout)
			}
		})
	}
}

func TestGateFormats(t *testing.T) {
	args := with(passingArgs(t), "--junit", td("junit", "fail.xml"))
	code, stdout, _ := runCmd(t, gateCmd, with(args, "--format", "json"))
	if code != 1 {
		t.Errorf("json: exit %d, want 1", code)
	}
	var r gate.Result
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("json output does not decode: %v\n%s", err, stdout)
	}
	if r.Service != "api" || r.SHA != "abc123" || r.Verdict != gate.Fail || len(r.Criteria) != 11 {
		t.Errorf("json result = %+v", r)
	}

	code, stdout, _ = runCmd(t, gateCmd, with(args, "--format", "markdown"))
	if code != 1 || !strings.HasPrefix(stdout, "### ❌ Stride gate: **FAIL** for api @ abc123") ||
		!strings.Contains(stdout, "| ❌ | failed tests | 1 | ≤ 0 |") {
		t.Errorf("markdown: exit %d\n%s", code, stdout)
	}

	code, stdout, _ = runCmd(t, gateCmd, args)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 1 || len(lines) != 12 || !strings.HasPrefix(lines[11], "verdict: FAIL") {
		t.Errorf("text: exit %d, %d lines\n%s", code, len(lines), stdout)
	}
}

// fakeServer records gate posts and answers with resp (or status).
type fakeServer struct {
	t      *testing.T
	status int
	resp   any
	got    []byte
	auth   string
	path   string
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.auth, f.path = r.Header.Get("Authorization"), r.Method+" "+r.URL.Path
	buf := new(bytes.Buffer)
	if _, err := buf.ReadFrom(r.Body); err != nil {
		f.t.Error(err)
	}
	f.got = buf.Bytes()
	if f.status != 0 {
		w.WriteHeader(f.status)
		w.Write([]byte(`{"error":"invalid token"}`))
		return
	}
	json.NewEncoder(w).Encode(f.resp)
}

func TestGateServer(t *testing.T) {
	base := passingArgs(t)
	tests := []struct {
		name   string
		resp   gate.Response
		status int
		fix    bool
		code   int
		stdout string
		stderr string
	}{
		{name: "no SLOs: the budget check is skipped with a note", resp: gate.Response{ID: "g1"}, code: 0,
			stdout: "SKIPPED  error budget              -                    -          error-budget check skipped: no SLOs configured"},
		{name: "a frozen service fails the gate", resp: gate.Response{Frozen: true, SLOsConfigured: true}, code: 1, stdout: "only fixes may ship"},
		{name: "a fix passes a frozen service", resp: gate.Response{Frozen: true, SLOsConfigured: true}, fix: true, code: 0, stdout: "allowed because this is a fix"},
		{name: "budget left passes", resp: gate.Response{SLOsConfigured: true}, code: 0, stdout: "error budget remaining"},
		{name: "a refused token is an error", status: http.StatusUnauthorized, code: 2, stderr: "401 Unauthorized: invalid token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeServer{t: t, resp: tt.resp, status: tt.status}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			args := append(base, "--server", srv.URL+"/", "--token", "s3cret")
			if tt.fix {
				args = append(args, "--fix")
			}
			code, stdout, stderr := runCmd(t, gateCmd, args)
			if code != tt.code || !strings.Contains(norm(stdout), norm(tt.stdout)) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if fake.path != "POST /api/v1/gates" || fake.auth != "Bearer s3cret" {
				t.Errorf("request %q with Authorization %q", fake.path, fake.auth)
			}
			var posted gate.Result
			if err := json.Unmarshal(fake.got, &posted); err != nil {
				t.Fatalf("posted body: %v\n%s", err, fake.got)
			}
			if posted.Service != "api" || posted.SHA != "abc123" || posted.Verdict != gate.Pass || posted.Fix != tt.fix || len(posted.Criteria) != 11 {
				t.Errorf("posted %+v", posted)
			}
		})
	}
	t.Run("an unreachable server is an error", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		code, stdout, stderr := runCmd(t, gateCmd, append(base, "--server", url))
		if code != 2 || stdout != "" || !strings.Contains(stderr, "server unreachable") {
			t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
	})
}

func TestPromote(t *testing.T) {
	decision := rings.Decision{Service: "api", SHA: "abc123", From: "ring0", To: "ring1", Conditions: []rings.Condition{
		{Name: rings.CondTargetRing, Status: rings.Pass, Reason: "ring1 follows ring0"},
		{Name: rings.CondSoak, Status: rings.Fail, Reason: "running in ring0 for 1h0m0s of 2h0m0s soak"},
		{Name: rings.CondBudget, Status: rings.Skipped, Reason: "error budget unknown (no SLOs configured); not checked"},
	}}
	allowed := decision
	allowed.Allowed = true
	allowed.Conditions = allowed.Conditions[:1]
	args := []string{"--service", "api", "--sha", "abc123", "--to", "ring1", "--token", "t0k"}
	tests := []struct {
		name   string
		resp   rings.PromotionResponse
		status int
		extra  []string
		code   int
		stdout string
		stderr string
	}{
		{name: "an allowed promotion exits 0", resp: rings.PromotionResponse{Decision: allowed}, code: 0,
			stdout: "PASS  target_ring  ring1 follows ring0\npromotion of api @ abc123 from ring0 to ring1: allowed\n"},
		{name: "a refusal lists every condition and exits 1", resp: rings.PromotionResponse{Decision: decision, DryRun: true}, extra: []string{"--dry-run"}, code: 1,
			stdout: "promotion (dry run) of api @ abc123 from ring0 to ring1: refused"},
		{name: "json output", resp: rings.PromotionResponse{Decision: allowed}, extra: []string{"--format", "json"}, code: 0, stdout: `"allowed": true`},
		{name: "a server error is an error", status: http.StatusForbidden, code: 2, stderr: "403 Forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeServer{t: t, resp: tt.resp, status: tt.status}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			a := append(append(append([]string(nil), args...), "--server", srv.URL), tt.extra...)
			code, stdout, stderr := runCmd(t, promoteCmd, a)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			if tt.code == 1 && strings.Count(stdout, "\n") != len(tt.resp.Conditions)+1 {
				t.Errorf("want one line per condition and a verdict:\n%s", stdout)
			}
			var req rings.PromotionRequest
			if err := json.Unmarshal(fake.got, &req); err != nil {
				t.Fatal(err)
			}
			want := rings.PromotionRequest{Service: "api", SHA: "abc123", To: "ring1", DryRun: len(tt.extra) > 0 && tt.extra[0] == "--dry-run"}
			if !reflect.DeepEqual(req, want) || fake.path != "POST /api/v1/promotions" || fake.auth != "Bearer t0k" {
				t.Errorf("request %s %+v auth %q", fake.path, req, fake.auth)
			}
		})
	}
	for _, tt := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no server", args, "--server is required"},
		{"no target ring", []string{"--service", "api", "--sha", "abc", "--server", "http://x"}, "--to: is required"},
		{"an unreachable server", append(args, "--server", "http://127.0.0.1:1"), "server unreachable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, promoteCmd, tt.args)
			if code != 2 || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q, want 2 and %q", code, stderr, tt.stderr)
			}
		})
	}
}

// TestGateDiffBase judges coverage of changed lines only: the commit
// changes a line inside an uncovered block, so the total coverage (75 %)
// is not what is judged but the changed block's (0 %).
func TestGateDiffBase(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git on PATH")
	}
	repo := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(repo, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitRun := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.22\n")
	write("a.go", "package m\n\nfunc A() int {\n\treturn 1\n}\n\nfunc B() int {\n\treturn 2\n}\n")
	gitRun("init", "-q")
	gitRun("add", ".")
	gitRun("commit", "-q", "-m", "base")
	write("a.go", "package m\n\nfunc A() int {\n\treturn 1\n}\n\nfunc B() int {\n\treturn 3\n}\n")
	write("cover.out", "mode: set\nexample.com/m/a.go:3.14,5.2 3 1\nexample.com/m/a.go:7.14,9.2 1 0\n")
	t.Chdir(repo)

	code, stdout, stderr := runCmd(t, gateCmd, []string{"--service", "api", "--coverage", "cover.out", "--diff-base", "HEAD"})
	if code != 1 || !strings.Contains(norm(stdout), "FAIL coverage (changed lines) 0 % ≥ 95 % 0 of 1 covered") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, stdout, _ = runCmd(t, gateCmd, []string{"--service", "api", "--coverage", "cover.out"})
	if code != 1 || !strings.Contains(norm(stdout), "FAIL coverage 75 % ≥ 95 % 3 of 4 covered") {
		t.Errorf("without a diff base: exit %d\n%s", code, stdout)
	}
	code, _, stderr = runCmd(t, gateCmd, []string{"--service", "api", "--coverage", "cover.out", "--diff-base", "no-such-rev"})
	if code != 2 || !strings.Contains(stderr, "git diff -U0 no-such-rev") {
		t.Errorf("unknown revision: exit %d, stderr %q", code, stderr)
	}
}
