package gate

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/golden"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func TestPolicyFor(t *testing.T) {
	p, err := ReadPolicy(filepath.Join("testdata", "policy", "release-criteria.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	api := p.For("api")
	if api.MinCoverage != 80 || api.MinTests != 3 || api.MaxHigh != 1 || api.MaxP95MS != 300 ||
		api.MaxP99MS == nil || *api.MaxP99MS != 800 || api.MaxErrorRate != 0.5 || api.MaxBuildTime != 10*time.Minute {
		t.Errorf("api criteria = %+v", api)
	}
	if len(api.Allow) != 2 {
		t.Errorf("api allow-list = %v, want the defaults' entry and its own", api.Allow)
	}
	web := p.For("web") // not in the file: the file's defaults over the built-ins
	if web.MinCoverage != 95 || web.MinTests != 1 || web.MaxHigh != 1 || web.MaxP95MS != 500 || web.MaxP99MS != nil || len(web.Allow) != 1 {
		t.Errorf("web criteria = %+v", web)
	}
	if got := (Policy{}).For("x"); got.MinCoverage != 95 || got.MaxFailedTests != 0 || got.MaxCritical != 0 {
		t.Errorf("empty policy = %+v, want the built-in defaults", got)
	}
}

func TestParsePolicyRejectsInvalidPolicies(t *testing.T) {
	tests := []struct{ file, wantErr string }{
		{"bad-keys.yaml", "min_coverge"},
		{"bad-values.yaml", "min_coverage 120"},
		{"bad-values.yaml", "max_high -1"},
		{"bad-values.yaml", `expires "next year"`},
		{"missing.yaml", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.wantErr, func(t *testing.T) {
			_, err := ReadPolicy(filepath.Join("testdata", "policy", tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	if _, err := ParsePolicy(strings.NewReader("")); err != nil {
		t.Errorf("an empty policy is all defaults, got %v", err)
	}
}

func find(t *testing.T, r Result, name string) Criterion {
	t.Helper()
	for _, c := range r.Criteria {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no criterion %q in %+v", name, r.Criteria)
	return Criterion{}
}

func passingReports() Reports {
	bt := 4 * time.Minute
	return Reports{
		Coverage:  &Coverage{Format: "go", Covered: 96, Total: 100},
		JUnit:     &JUnit{Tests: 10, Time: 3},
		SARIF:     &SARIF{Results: 1, ByLevel: map[string]int{"warning": 1}, ByRule: map[string]int{"errcheck": 1}},
		Trivy:     &Trivy{BySeverity: map[string][]string{"MEDIUM": {"CVE-1"}}},
		K6:        &LoadTest{Tool: "k6", Requests: 100, P95: ptr(120.0), P99: ptr(300.0), ErrorRate: 0.001},
		JMeter:    &LoadTest{Tool: "jmeter", Requests: 50, P95: ptr(200.0), P99: ptr(250.0), ErrorRate: 0},
		BuildTime: &bt,
	}
}

// TestEvaluateFlipsEachCriterion starts from reports that pass every
// criterion and breaks one at a time: exactly that criterion must fail.
func TestEvaluateFlipsEachCriterion(t *testing.T) {
	c := Defaults("api")
	c.MaxHigh = 1
	c.Allow = []Allowance{{ID: "CVE-OK", Expires: "2026-06-01"}, {ID: "CVE-OLD", Expires: "2026-05-31"}}
	if r := Evaluate(c, passingReports(), now); r.Verdict != Pass {
		t.Fatalf("baseline verdict %s: %+v", r.Verdict, r.Criteria)
	}
	tests := []struct {
		criterion string
		breakIt   func(*Reports)
	}{
		{"coverage", func(r *Reports) { r.Coverage.Covered = 94 }},
		{"coverage", func(r *Reports) { r.Coverage.Covered, r.Coverage.Total = 0, 0 }},
		{"failed tests", func(r *Reports) { r.JUnit.Errors = 1 }},
		{"tests", func(r *Reports) { r.JUnit.Tests = 0 }},
		{"sarif errors", func(r *Reports) { r.SARIF.ByLevel["error"] = 1 }},
		{"critical vulnerabilities", func(r *Reports) { r.Trivy.BySeverity["CRITICAL"] = []string{"CVE-9"} }},
		{"high vulnerabilities", func(r *Reports) { r.Trivy.BySeverity["HIGH"] = []string{"CVE-7", "CVE-8"} }},
		{"high vulnerabilities", func(r *Reports) { r.Trivy.BySeverity["HIGH"] = []string{"CVE-7", "CVE-OLD"} }},
		{"p95 latency (k6)", func(r *Reports) { r.K6.P95 = ptr(500.01) }},
		{"error rate (k6)", func(r *Reports) { r.K6.ErrorRate = 0.011 }},
		{"p95 latency (jmeter)", func(r *Reports) { r.JMeter.P95 = nil }},
		{"error rate (jmeter)", func(r *Reports) { r.JMeter.ErrorRate = 0.5 }},
		{"build time", func(r *Reports) { bt := 16 * time.Minute; r.BuildTime = &bt }},
	}
	for _, tt := range tests {
		t.Run(tt.criterion, func(t *testing.T) {
			reports := passingReports()
			tt.breakIt(&reports)
			r := Evaluate(c, reports, now)
			if r.Verdict != Fail {
				t.Errorf("verdict %s, want fail", r.Verdict)
			}
			for _, cr := range r.Criteria {
				want := Pass
				if cr.Name == tt.criterion {
					want = Fail
				}
				if cr.Status != want {
					t.Errorf("%s: %s (%s), want %s", cr.Name, cr.Status, cr.Detail, want)
				}
			}
		})
	}
	t.Run("an unexpired allowance lets a vulnerability through", func(t *testing.T) {
		reports := passingReports()
		reports.Trivy.BySeverity["CRITICAL"] = []string{"CVE-OK"}
		r := Evaluate(c, reports, now)
		if cr := find(t, r, "critical vulnerabilities"); cr.Status != Pass || *cr.Measured != 0 || !strings.Contains(cr.Detail, "allowed: CVE-OK") {
			t.Errorf("got %+v", cr)
		}
		// The same allowance the day after its expiry date no longer allows.
		r = Evaluate(c, reports, time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC))
		if cr := find(t, r, "critical vulnerabilities"); cr.Status != Fail || !strings.Contains(cr.Detail, "allowance expired: CVE-OK") {
			t.Errorf("after expiry got %+v", cr)
		}
	})
}

func TestEvaluateSkipsMissingReports(t *testing.T) {
	r := Evaluate(Defaults("api"), Reports{JUnit: &JUnit{Tests: 4}}, now)
	if r.Verdict != Pass {
		t.Errorf("verdict %s, want pass", r.Verdict)
	}
	for _, c := range r.Criteria {
		given := c.Name == "tests" || c.Name == "failed tests"
		if given != (c.Status != Skipped) {
			t.Errorf("%s: %s", c.Name, c.Status)
		}
		if c.Status == Skipped && (c.Measured != nil || !strings.HasPrefix(c.Detail, "no ")) {
			t.Errorf("%s skipped with measured %v, detail %q", c.Name, c.Measured, c.Detail)
		}
	}
}

func TestEvaluateChangedLinesCoverage(t *testing.T) {
	r := Evaluate(Defaults("api"), Reports{Coverage: &Coverage{Format: "go (changed lines)"}}, now)
	if c := find(t, r, "coverage (changed lines)"); c.Status != Skipped || c.Detail != "no changed statements" {
		t.Errorf("got %+v", c)
	}
	r = Evaluate(Defaults("api"), Reports{Coverage: &Coverage{Format: "go (changed lines)", Covered: 1, Total: 2}}, now)
	if c := find(t, r, "coverage (changed lines)"); c.Status != Fail || *c.Measured != 50 {
		t.Errorf("got %+v", c)
	}
}

func TestAddErrorBudget(t *testing.T) {
	tests := []struct {
		name    string
		resp    Response
		fix     bool
		status  Status
		verdict Status
	}{
		{"a frozen service fails the gate", Response{Frozen: true, SLOsConfigured: true}, false, Fail, Fail},
		{"a fix passes a frozen service", Response{Frozen: true, SLOsConfigured: true}, true, Pass, Pass},
		{"budget remaining passes", Response{SLOsConfigured: true}, false, Pass, Pass},
		{"no SLOs skips the check", Response{}, false, Skipped, Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Result{Service: "api", Verdict: Pass, Fix: tt.fix}
			r.AddErrorBudget(tt.resp)
			c := find(t, r, "error budget")
			if c.Status != tt.status || r.Verdict != tt.verdict {
				t.Errorf("status %s verdict %s, want %s %s", c.Status, r.Verdict, tt.status, tt.verdict)
			}
			if tt.status == Skipped && c.Detail != "error-budget check skipped: no SLOs configured" {
				t.Errorf("detail %q", c.Detail)
			}
		})
	}
}

func TestNumberRoundsTowardFailing(t *testing.T) {
	tests := []struct {
		v    float64
		op   string
		want string
	}{
		{94.996, ">=", "94.99"}, {500.001, "<=", "500.01"}, {58, ">=", "58"}, {100 * 29.0 / 50, ">=", "58"}, {0.25, "", "0.25"}, {0, "<=", "0"}, {0, ">=", "0"},
	}
	for _, tt := range tests {
		if got := number(tt.v, tt.op); got != tt.want {
			t.Errorf("number(%v, %q) = %s, want %s", tt.v, tt.op, got, tt.want)
		}
	}
}

// TestWriteGolden renders one failing result with every kind of criterion
// in each format and compares with testdata/golden; -update rewrites them.
func TestWriteGolden(t *testing.T) {
	p, err := ReadPolicy(filepath.Join("testdata", "policy", "release-criteria.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sarif, err := ReadSARIF(filepath.Join("testdata", "sarif", "fail.sarif"))
	if err != nil {
		t.Fatal(err)
	}
	trivy, err := ReadTrivy(filepath.Join("testdata", "trivy", "fail.json"))
	if err != nil {
		t.Fatal(err)
	}
	junit, err := ReadJUnit(filepath.Join("testdata", "junit", "pass.xml"), filepath.Join("testdata", "junit", "fail.xml"))
	if err != nil {
		t.Fatal(err)
	}
	k6, err := ReadK6(filepath.Join("testdata", "k6", "pass.json"))
	if err != nil {
		t.Fatal(err)
	}
	bt := 9*time.Minute + 30*time.Second
	reports := Reports{Coverage: &Coverage{Format: "go", Covered: 881, Total: 1000}, JUnit: &junit, SARIF: &sarif, Trivy: &trivy, K6: &k6, BuildTime: &bt}
	r := Evaluate(p.For("api"), reports, now)
	r.SHA = "0123456789abcdef0123456789abcdef01234567"
	r.AddErrorBudget(Response{})
	for _, format := range []string{FormatText, FormatJSON, FormatMarkdown} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, r, format); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", "golden", "result."+format), buf.Bytes())
		})
	}
	if err := Write(&bytes.Buffer{}, r, "xml"); err == nil {
		t.Error("an unknown format gave no error")
	}
}

func TestFixBranchesMakeAChangeAFix(t *testing.T) {
	pol, err := ParsePolicy(strings.NewReader(`defaults:
  fix_branches: ["hotfix/*"]
services:
  api:
    fix_branches: ["release-*/fix-*"]
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		service, branch string
		fix             bool
	}{
		{"api", "hotfix/login", true},
		{"api", "hotfix/auth/token", true}, // * crosses /, as git matches
		{"api", "release-2.1/fix-crash", true},
		{"web", "release-2.1/fix-crash", false}, // api's own pattern
		{"api", "feature/login", false},
		{"api", "", false},
	}
	for _, c := range cases {
		if got := pol.For(c.service).IsFix(c.branch); got != c.fix {
			t.Errorf("%s on %q: fix %t, want %t", c.service, c.branch, got, c.fix)
		}
	}
	if _, err := ParsePolicy(strings.NewReader("defaults:\n  fix_branches: [\"hotfix/[\"]\n")); err == nil || !strings.Contains(err.Error(), "fix_branches[0]") {
		t.Errorf("a pattern git cannot read: %v, want an error naming fix_branches[0]", err)
	}
	if _, err := ParsePolicy(strings.NewReader("services:\n  api:\n    fix_labels: [ok, \"sev[\"]\n")); err == nil || !strings.Contains(err.Error(), "fix_labels[1]") {
		t.Errorf("a label pattern git cannot read: %v, want an error naming fix_labels[1]", err)
	}
}

func TestFixOf(t *testing.T) {
	c := Criteria{FixBranches: []string{"hotfix/*"}, FixLabels: []string{"hotfix", "sev[01]"}}
	tests := []struct {
		flag   bool
		branch string
		labels []string
		fix    bool
		reason string
	}{
		{},
		{flag: true, branch: "hotfix/x", fix: true, reason: "marked with --fix"},
		{branch: "hotfix/pay/42", fix: true, reason: "branch hotfix/pay/42 matches fix_branches"},
		{branch: "main", labels: []string{"ui", "sev1"}, fix: true, reason: "label sev1 matches fix_labels"},
		{branch: "main", labels: []string{"sev2", "Hotfix", ""}},
	}
	for _, tt := range tests {
		fix, reason := c.FixOf(tt.flag, tt.branch, tt.labels)
		if fix != tt.fix || reason != tt.reason {
			t.Errorf("FixOf(%v, %q, %q) = %v %q, want %v %q", tt.flag, tt.branch, tt.labels, fix, reason, tt.fix, tt.reason)
		}
	}
}

func TestAddRequiredGates(t *testing.T) {
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	runs := []GateRun{{Name: "sonarqube", Passed: false, At: at}, {Name: "sonarqube", Passed: true, At: at.Add(time.Hour)}, {Name: "load", Passed: false, At: at}}
	tests := []struct {
		name     string
		required []string
		runs     []GateRun
		asked    bool
		sha      string
		verdict  Status
		details  []string
	}{
		{name: "the latest sonarqube result passed", required: []string{"sonarqube"}, runs: runs, asked: true, sha: "abc", verdict: Pass,
			details: []string{"gate sonarqube passed at 2026-03-02T13:00:00Z"}},
		{name: "one required gate failed, one never reported", required: []string{"load", "security"}, runs: runs, asked: true, sha: "abc", verdict: Fail,
			details: []string{"gate load failed at 2026-03-02T12:00:00Z", "no result of the required gate security for abc yet"}},
		{name: "without --server nothing can be seen", required: []string{"sonarqube"}, sha: "abc", verdict: Fail,
			details: []string{"required gate sonarqube cannot be checked without --server"}},
		{name: "without a sha nothing can be matched", required: []string{"sonarqube"}, runs: runs, asked: true, verdict: Fail,
			details: []string{"required gate sonarqube cannot be checked without the commit (--sha)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Result{SHA: tt.sha, Verdict: Pass, Criteria: []Criterion{{Name: "tests", Status: Pass}}}
			r.AddRequiredGates(tt.required, tt.runs, tt.asked)
			var details []string
			for _, c := range r.Criteria[1:] {
				details = append(details, c.Detail)
			}
			if r.Verdict != tt.verdict || strings.Join(details, "|") != strings.Join(tt.details, "|") {
				t.Errorf("%s %q, want %s %q", r.Verdict, details, tt.verdict, tt.details)
			}
		})
	}
}
