package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/gate"
)

// Exit codes of `stride gate` and `stride promote`: CI reads 1 as "the
// change is not fit to ship" and 2 as "the gate could not judge", which
// needs a person rather than a code fix.
const (
	exitPass  = 0
	exitFail  = 1
	exitError = 2
)

// listFlag collects a flag given several times (--junit a.xml --junit 'b/*.xml').
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runGate implements `stride gate`: read the reports, judge them against
// the service's release criteria, optionally report to the Stride server
// (which answers with the error-budget state), and print the result.
func runGate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		service   = fs.String("service", "", "service the reports belong to (required)")
		policy    = fs.String("policy", "", "release-criteria YAML; built-in defaults when empty")
		coverage  = fs.String("coverage", "", "Go coverprofile or Cobertura XML")
		sarif     = fs.String("sarif", "", "SARIF 2.1.0 log")
		trivy     = fs.String("trivy", "", "Trivy JSON report")
		k6        = fs.String("k6", "", "k6 handleSummary JSON")
		jmeter    = fs.String("jmeter", "", "JMeter JTL (CSV with header)")
		buildTime = fs.Duration("build-time", 0, "duration of the build, judged against max_build_time")
		server    = fs.String("server", "", "Stride server URL; the result is posted to {server}/api/v1/gates")
		token     = fs.String("token", "", "API token for --server (default $STRIDE_TOKEN)")
		sha       = fs.String("sha", "", "commit under test (default $GITHUB_SHA or $CI_COMMIT_SHA)")
		fix       = fs.Bool("fix", false, "mark the change as a fix, which a frozen service still accepts")
		branch    = fs.String("branch", "", "the change's branch, a fix when it matches the policy's fix_branches (default $GITHUB_HEAD_REF, $GITHUB_REF_NAME or $CI_COMMIT_REF_NAME)")
		format    = fs.String("format", gate.FormatText, "output: text, json or markdown")
		diffBase  = fs.String("diff-base", "", "judge coverage of the lines changed since this revision only")
		junit     listFlag
		labels    listFlag
	)
	fs.Var(&junit, "junit", "JUnit XML file or glob; repeatable")
	fs.Var(&labels, "label", "a label of the change, a fix when it matches the policy's fix_labels; repeatable")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitPass
		}
		return exitError
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "stride gate: "+format+"\n", args...)
		return exitError
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments %q", fs.Args())
	}
	if *service == "" {
		return fail("--service is required")
	}
	switch *format {
	case gate.FormatText, gate.FormatJSON, gate.FormatMarkdown:
	default:
		return fail("--format %q: want text, json or markdown", *format)
	}
	if *coverage == "" && len(junit) == 0 && *sarif == "" && *trivy == "" && *k6 == "" && *jmeter == "" && *buildTime == 0 {
		return fail("nothing to judge: give at least one report (--coverage, --junit, --sarif, --trivy, --k6, --jmeter)")
	}

	var pol gate.Policy
	if *policy != "" {
		var err error
		if pol, err = gate.ReadPolicy(*policy); err != nil {
			return fail("%v", err)
		}
	}
	reports, err := readReports(ctx, *coverage, junit, *sarif, *trivy, *k6, *jmeter, *diffBase)
	if err != nil {
		return fail("%v", err)
	}
	if *buildTime != 0 {
		reports.BuildTime = buildTime
	}

	criteria := pol.For(*service)
	result := gate.Evaluate(criteria, reports, time.Now())
	result.SHA = firstNonEmpty(*sha, os.Getenv("GITHUB_SHA"), os.Getenv("CI_COMMIT_SHA"))
	// A change is a fix when it says so, or when its branch or a label is
	// one the policy names: a hotfix branch gets past a freeze without a
	// flag. The server adds the labels of the commit's pull requests.
	result.Fix, result.FixReason = criteria.FixOf(*fix, changeBranch(*branch), labels)
	result.FixLabels = criteria.FixLabels

	var resp gate.Response
	if *server != "" {
		tok := firstNonEmpty(*token, os.Getenv("STRIDE_TOKEN"))
		if err := postAPI(ctx, *server, "/api/v1/gates", tok, result, &resp); err != nil {
			return fail("%v", err)
		}
		result.AddErrorBudget(resp)
	}
	if len(criteria.RequireGates) > 0 {
		result.AddRequiredGates(criteria.RequireGates, resp.Gates, *server != "")
	}

	if err := gate.Write(stdout, result, *format); err != nil {
		return fail("%v", err)
	}
	if result.Verdict == gate.Fail {
		return exitFail
	}
	return exitPass
}

// readReports reads every report that was named. The first that cannot be
// read stops the gate: judging without it would pass by omission.
func readReports(ctx context.Context, coverage string, junit []string, sarif, trivy, k6, jmeter, diffBase string) (gate.Reports, error) {
	var r gate.Reports
	if coverage != "" {
		c, err := gate.ReadCoverage(coverage)
		if err != nil {
			return r, err
		}
		if diffBase != "" {
			if c.Format != "go" {
				return r, fmt.Errorf("--diff-base needs a Go coverprofile, %s is %s", coverage, c.Format)
			}
			dir, err := os.Getwd()
			if err != nil {
				return r, fmt.Errorf("working directory: %w", err)
			}
			changed, err := gate.GitChangedLines(ctx, dir, diffBase)
			if err != nil {
				return r, err
			}
			mod, err := gate.ModulePath(dir)
			if err != nil {
				return r, err
			}
			c = gate.ChangedCoverage(c, changed, mod)
		}
		r.Coverage = &c
	} else if diffBase != "" {
		return r, errors.New("--diff-base needs --coverage")
	}
	if len(junit) > 0 {
		j, err := gate.ReadJUnit(junit...)
		if err != nil {
			return r, err
		}
		r.JUnit = &j
	}
	if sarif != "" {
		s, err := gate.ReadSARIF(sarif)
		if err != nil {
			return r, err
		}
		r.SARIF = &s
	}
	if trivy != "" {
		t, err := gate.ReadTrivy(trivy)
		if err != nil {
			return r, err
		}
		r.Trivy = &t
	}
	if k6 != "" {
		l, err := gate.ReadK6(k6)
		if err != nil {
			return r, err
		}
		r.K6 = &l
	}
	if jmeter != "" {
		l, err := gate.ReadJMeter(jmeter)
		if err != nil {
			return r, err
		}
		r.JMeter = &l
	}
	return r, nil
}

// postAPI posts body as JSON to server+path with a bearer token and decodes
// the JSON answer into out. Any failure to reach the server or a non-2xx
// answer is an error, since a gate that could not report must not pass.
func postAPI(ctx context.Context, server, path, token string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	url := strings.TrimRight(server, "/") + path
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("server %s: %w", server, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("server unreachable: POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	payload, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("POST %s: read answer: %w", url, err)
	}
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(payload))
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(payload, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, msg)
	}
	if err := json.Unmarshal(payload, out); err != nil {
		return fmt.Errorf("POST %s: decode answer: %w", url, err)
	}
	return nil
}

// changeBranch is the change's branch: the flag, else what the CI system
// says (GitHub Actions, GitLab CI).
func changeBranch(flag string) string {
	return firstNonEmpty(flag, os.Getenv("GITHUB_HEAD_REF"), os.Getenv("GITHUB_REF_NAME"), os.Getenv("CI_COMMIT_REF_NAME"))
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
