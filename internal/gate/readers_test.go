package gate

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadJUnit(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		want     JUnit // Files is not compared
		wantErr  string
	}{
		{name: "a testsuites root with passing suites", patterns: []string{"pass.xml"}, want: JUnit{Tests: 3, Time: 1.5}},
		{name: "a single testsuite root with a failure and a skip", patterns: []string{"fail.xml"}, want: JUnit{Tests: 3, Failures: 1, Skipped: 1, Time: 2.25}},
		{name: "an error counts apart from failures", patterns: []string{"errors.xml"}, want: JUnit{Tests: 2, Errors: 1, Time: 0.75}},
		{name: "all skipped", patterns: []string{"skipped.xml"}, want: JUnit{Tests: 2, Skipped: 2}},
		{name: "a suite without test cases is read from its attributes", patterns: []string{"summary-only.xml"}, want: JUnit{Tests: 10, Failures: 2, Errors: 1, Skipped: 3, Time: 4.5}},
		{name: "an empty testsuites root has no tests", patterns: []string{"empty-suites.xml"}, want: JUnit{}},
		{name: "several files are summed", patterns: []string{"pass.xml", "fail.xml"}, want: JUnit{Tests: 6, Failures: 1, Skipped: 1, Time: 3.75}},
		{name: "a glob is expanded and a file named twice is read once", patterns: []string{"[ef]*s.xml", "errors.xml"}, want: JUnit{Tests: 2, Errors: 1, Time: 0.75}},
		{name: "a zero-byte file is an error", patterns: []string{"zero-bytes.xml"}, wantErr: "empty file"},
		{name: "malformed XML is an error", patterns: []string{"malformed.xml"}, wantErr: "parse xml"},
		{name: "a document that is not JUnit is an error", patterns: []string{"not-junit.xml"}, wantErr: "root element <html>"},
		{name: "a pattern that matches nothing is an error", patterns: []string{"nothing-*.xml"}, wantErr: "no such file"},
		{name: "one bad file spoils the set", patterns: []string{"pass.xml", "malformed.xml"}, wantErr: "malformed.xml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pats []string
			for _, p := range tt.patterns {
				pats = append(pats, filepath.Join("testdata", "junit", p))
			}
			got, err := ReadJUnit(pats...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Files = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadSARIF(t *testing.T) {
	tests := []struct {
		file    string
		want    SARIF
		wantErr string
	}{
		{file: "pass.sarif", want: SARIF{Version: "2.1.0", Runs: 2, Results: 2,
			ByLevel: map[string]int{"warning": 1, "note": 1},
			ByRule:  map[string]int{"errcheck": 2},
			ByFile:  map[string]int{"internal/api/handler.go": 1, "internal/api/routes.go": 1}}},
		// G101 takes its rule's default (error) although the rules come
		// after the results; ruleIndex 1 names G401 (error); G104 has an
		// explicit error; kind "pass" is level none; G999 has no rule and
		// defaults to warning.
		{file: "fail.sarif", want: SARIF{Version: "2.1.0", Runs: 1, Results: 5,
			ByLevel: map[string]int{"error": 3, "none": 1, "warning": 1},
			ByRule:  map[string]int{"G101": 1, "G401": 1, "G104": 2, "G999": 1},
			ByFile:  map[string]int{"config/secrets.go": 2, "crypto/hash.go": 1}}},
		{file: "no-results.sarif", want: SARIF{Version: "2.1.0", Runs: 1, ByLevel: map[string]int{}, ByRule: map[string]int{}, ByFile: map[string]int{}}},
		{file: "zero-bytes.sarif", wantErr: "empty file"},
		{file: "malformed.sarif", wantErr: "run 0"},
		{file: "wrong-version.sarif", wantErr: `version "1.0.0"`},
		{file: "not-sarif.sarif", wantErr: "not a SARIF log"},
		{file: "missing.sarif", wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ReadSARIF(filepath.Join("testdata", "sarif", tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestReadTrivy(t *testing.T) {
	tests := []struct {
		file    string
		want    map[string][]string
		wantErr string
	}{
		{file: "pass.json", want: map[string][]string{"MEDIUM": {"CVE-2024-0001"}, "LOW": {"CVE-2024-0002"}}},
		{file: "fail.json", want: map[string][]string{
			"CRITICAL": {"CVE-2024-1111"},
			"HIGH":     {"CVE-2024-2222", "CVE-2024-3333", "GHSA-xxxx-yyyy-zzzz"}, // CVE-2024-2222 is found twice, counted once
			"MEDIUM":   {"CVE-2024-4444"}}},
		{file: "legacy-array.json", want: map[string][]string{"CRITICAL": {"CVE-2021-44228"}}},
		{file: "no-results.json", want: map[string][]string{}},
		{file: "zero-bytes.json", wantErr: "empty file"},
		{file: "malformed.json", wantErr: "parse json"},
		{file: "not-trivy.json", wantErr: "no SchemaVersion"},
		{file: "missing.json", wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ReadTrivy(filepath.Join("testdata", "trivy", tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.BySeverity, tt.want) {
				t.Errorf("got %v, want %v", got.BySeverity, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestReadLoadTests(t *testing.T) {
	tests := []struct {
		path    string
		want    LoadTest
		wantErr string
	}{
		{path: "k6/pass.json", want: LoadTest{Tool: "k6", Requests: 12000, P95: ptr(210.75), P99: ptr(480.3), ErrorRate: 0.0025}},
		{path: "k6/fail.json", want: LoadTest{Tool: "k6", Requests: 1000, P95: ptr(950.5), ErrorRate: 0.042}},
		{path: "k6/summary-export.json", want: LoadTest{Tool: "k6", Requests: 500, P95: ptr(120.0), ErrorRate: 0}},
		{path: "k6/no-http.json", wantErr: "no metric http_req_duration"},
		{path: "k6/zero-bytes.json", wantErr: "empty file"},
		{path: "k6/malformed.json", wantErr: "parse json"},
		{path: "k6/missing.json", wantErr: "no such file"},
		// 5 samples: ⌈0.95·5⌉ = 5th smallest for both percentiles.
		{path: "jmeter/pass.jtl", want: LoadTest{Tool: "jmeter", Requests: 5, P95: ptr(150.0), P99: ptr(150.0), ErrorRate: 0}},
		{path: "jmeter/fail.jtl", want: LoadTest{Tool: "jmeter", Requests: 5, P95: ptr(3000.0), P99: ptr(3000.0), ErrorRate: 0.4}},
		{path: "jmeter/header-only.jtl", wantErr: "no samples"},
		{path: "jmeter/zero-bytes.jtl", wantErr: "empty file"},
		{path: "jmeter/no-header.jtl", wantErr: "no elapsed and success columns"},
		{path: "jmeter/malformed.jtl", wantErr: `line 2: elapsed "12x"`},
		{path: "jmeter/missing.jtl", wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			read := ReadK6
			if strings.HasPrefix(tt.path, "jmeter/") {
				read = ReadJMeter
			}
			got, err := read(filepath.Join("testdata", tt.path))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %s, want %s", show(got), show(tt.want))
			}
		})
	}
}

func show(l LoadTest) string {
	f := func(p *float64) any {
		if p == nil {
			return nil
		}
		return *p
	}
	return fmt.Sprintf("{%s n=%d p95=%v p99=%v rate=%v}", l.Tool, l.Requests, f(l.P95), f(l.P99), l.ErrorRate)
}

func TestJMeterPercentilesAreNearestRank(t *testing.T) {
	var b strings.Builder
	b.WriteString("elapsed,success\n")
	for i := 1; i <= 200; i++ { // elapsed 1..200 ms
		fmt.Fprintf(&b, "%d,true\n", i)
	}
	got, err := ParseJMeter(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if *got.P95 != 190 || *got.P99 != 198 {
		t.Errorf("p95, p99 = %v, %v; want 190, 198", *got.P95, *got.P99)
	}
}

func TestReadCobertura(t *testing.T) {
	tests := []struct {
		file         string
		covered, all int64
		wantErr      string
	}{
		{file: "pass.xml", covered: 96, all: 100},
		// app/a.py line 2 is hit by the inner class, so 3 of 4 lines.
		{file: "lines.xml", covered: 3, all: 4},
		{file: "zero-bytes.xml", wantErr: "empty file"},
		{file: "malformed.xml", wantErr: "parse xml"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ReadCobertura(filepath.Join("testdata", "cobertura", tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Covered != tt.covered || got.Total != tt.all {
				t.Errorf("got %d of %d, want %d of %d", got.Covered, got.Total, tt.covered, tt.all)
			}
		})
	}
}

func TestParseCoverprofileRejectsCorruptInput(t *testing.T) {
	tests := []struct{ name, in, wantErr string }{
		{"an empty input", "", "empty file"},
		{"no mode line", "example.com/m/a.go:1.1,2.2 1 1\n", "bad mode line"},
		{"a garbled block", "mode: set\nexample.com/m/a.go:1.1 1\n", "doesn't match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCoverprofile(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// goTestCoverprofile runs `go test -coverprofile` on the module in dir and
// returns the profile's path. It skips the test when no go tool is found.
func goTestCoverprofile(t *testing.T, dir string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out := filepath.Join(t.TempDir(), "cover.out")
	cmd := exec.Command(goTool, "test", "-count=1", "-coverprofile="+out, "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test -coverprofile: %v\n%s", err, b)
	}
	return out
}

func TestReadCoverprofileFromGoTest(t *testing.T) {
	profile := goTestCoverprofile(t, filepath.Join("testdata", "covermod"))
	got, err := ReadCoverprofile(profile)
	if err != nil {
		t.Fatal(err)
	}
	// TestAbs runs all 3 statements of Abs and none of the 4 of Sign.
	if got.Covered != 3 || got.Total != 7 {
		t.Errorf("covered %d of %d statements, want 3 of 7", got.Covered, got.Total)
	}
	if len(got.Profiles) != 1 || got.Profiles[0].FileName != "example.com/covermod/calc.go" {
		t.Errorf("profiles = %v, want one for example.com/covermod/calc.go", got.Profiles)
	}
}

func TestReadCoverageSniffsTheFormat(t *testing.T) {
	dir := t.TempDir()
	profile := filepath.Join(dir, "cover.out")
	if err := os.WriteFile(profile, []byte("mode: set\nexample.com/m/a.go:1.1,3.2 3 1\nexample.com/m/a.go:4.1,5.2 1 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, format string
		covered, all int64
		wantErr      string
	}{
		{path: profile, format: "go", covered: 3, all: 4},
		{path: filepath.Join("testdata", "cobertura", "pass.xml"), format: "cobertura", covered: 96, all: 100},
		{path: filepath.Join("testdata", "cobertura", "zero-bytes.xml"), wantErr: "empty file"},
		{path: filepath.Join("testdata", "cobertura", "malformed.xml"), wantErr: "cobertura"},
		{path: filepath.Join("testdata", "junit", "not-junit.xml"), wantErr: "parse xml"},
		{path: filepath.Join("testdata", "k6", "pass.json"), wantErr: "bad mode line"},
		{path: filepath.Join(dir, "missing.out"), wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			got, err := ReadCoverage(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Format != tt.format || got.Covered != tt.covered || got.Total != tt.all {
				t.Errorf("got %s %d of %d", got.Format, got.Covered, got.Total)
			}
		})
	}
}
