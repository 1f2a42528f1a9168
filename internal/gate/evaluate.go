package gate

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Status is the outcome of one criterion, and (pass or fail) of a gate.
type Status string

// A criterion is skipped when the report it reads was not given: the gate
// judges the evidence it has, and the text output says what it did not see.
const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Skipped Status = "skipped"
)

// Criterion is the result of one release criterion. Measured is nil when
// the criterion was skipped or the report has no figure for it.
type Criterion struct {
	Name      string   `json:"name"`
	Measured  *float64 `json:"measured"`
	Op        string   `json:"op"` // ">=", "<=", or "" for a criterion without a figure
	Threshold float64  `json:"threshold"`
	Unit      string   `json:"unit,omitempty"` // "%", "ms", "s" or ""
	Status    Status   `json:"status"`
	Detail    string   `json:"detail,omitempty"`
}

// Result is a gate's outcome, and the body of POST /api/v1/gates, so the
// server stores exactly what CI printed. Verdict is "fail" when any
// criterion failed, else "pass". Fix marks the deployment as a fix, which
// the error-budget policy lets through a frozen service.
type Result struct {
	Service  string      `json:"service"`
	SHA      string      `json:"sha,omitempty"`
	Verdict  Status      `json:"verdict"`
	Criteria []Criterion `json:"criteria"`
	Fix      bool        `json:"fix"`
	// FixReason says what made the change a fix (the flag, a branch, a
	// label), empty when it is none.
	FixReason string `json:"fix_reason,omitempty"`
	// FixLabels are the policy's fix_labels, sent so the server can judge
	// the labels of the commit's stored pull requests.
	FixLabels []string `json:"fix_labels,omitempty"`
}

// Response is the server's answer to POST /api/v1/gates. Frozen says the
// service has spent its error budget; the gate then fails unless Fix.
// SLOsConfigured is false until the service has SLOs, and then no budget
// check took place.
type Response struct {
	ID             string `json:"id,omitempty"`
	Frozen         bool   `json:"frozen"`
	SLOsConfigured bool   `json:"slos_configured"`
	Message        string `json:"message,omitempty"`
	// Reason says, when Frozen, which SLOs spent their budget and when the
	// freeze is projected to lift.
	Reason string `json:"reason,omitempty"`
	// FixReason is set when the server found the change a fix that the
	// request did not say was one: a stored pull request of the commit
	// carries a label of FixLabels.
	FixReason string `json:"fix_reason,omitempty"`
	// Gates are the latest results of every gate of the commit, this one
	// included, for the policy's require_gates.
	Gates []GateRun `json:"gates,omitempty"`
}

// Reports are the parsed reports of one gate run; nil means not given.
type Reports struct {
	Coverage  *Coverage
	JUnit     *JUnit
	SARIF     *SARIF
	Trivy     *Trivy
	K6        *LoadTest
	JMeter    *LoadTest
	BuildTime *time.Duration
}

// Evaluate judges the reports against the criteria. now decides which
// allow-list entries have expired. Every criterion appears in the result,
// skipped when its report is missing, so a reader sees what was not checked.
func Evaluate(c Criteria, r Reports, now time.Time) Result {
	res := Result{Service: c.Service}
	add := func(cr Criterion) { res.Criteria = append(res.Criteria, cr) }

	add(coverageCriterion(c, r.Coverage))
	add(atMost("failed tests", "junit", c.MaxFailedTests, r.JUnit != nil, func() (int, string) {
		return r.JUnit.Failed(), fmt.Sprintf("%d failures, %d errors, %d skipped in %d file(s)", r.JUnit.Failures, r.JUnit.Errors, r.JUnit.Skipped, len(r.JUnit.Files))
	}))
	if r.JUnit != nil {
		n := float64(r.JUnit.Tests)
		add(judge(Criterion{Name: "tests", Measured: &n, Op: ">=", Threshold: float64(c.MinTests)}, fmt.Sprintf("ran in %s s", number(r.JUnit.Time, ""))))
	} else {
		add(skipped(Criterion{Name: "tests", Op: ">=", Threshold: float64(c.MinTests)}, "junit"))
	}
	add(atMost("sarif errors", "sarif", c.MaxSARIFErrors, r.SARIF != nil, func() (int, string) {
		return r.SARIF.Errors(), fmt.Sprintf("%d results: %s; top rules: %s", r.SARIF.Results, levels(r.SARIF.ByLevel), top(r.SARIF.ByRule, 3))
	}))
	for _, sev := range []struct {
		name, key string
		max       int
	}{{"critical vulnerabilities", "CRITICAL", c.MaxCritical}, {"high vulnerabilities", "HIGH", c.MaxHigh}} {
		add(atMost(sev.name, "trivy", sev.max, r.Trivy != nil, func() (int, string) {
			return vulnerabilities(r.Trivy.IDs(sev.key), c.Allow, now)
		}))
	}
	for _, lt := range []struct {
		tool string
		r    *LoadTest
	}{{"k6", r.K6}, {"jmeter", r.JMeter}} {
		add(latency("p95 latency ("+lt.tool+")", lt.tool, c.MaxP95MS, lt.r, func(l *LoadTest) *float64 { return l.P95 }))
		if c.MaxP99MS != nil {
			add(latency("p99 latency ("+lt.tool+")", lt.tool, *c.MaxP99MS, lt.r, func(l *LoadTest) *float64 { return l.P99 }))
		}
		cr := Criterion{Name: "error rate (" + lt.tool + ")", Op: "<=", Threshold: c.MaxErrorRate, Unit: "%"}
		if lt.r == nil {
			add(skipped(cr, lt.tool))
		} else {
			v := 100 * lt.r.ErrorRate
			cr.Measured = &v
			detail := ""
			if lt.r.Requests > 0 {
				detail = fmt.Sprintf("%d requests", lt.r.Requests)
			}
			add(judge(cr, detail))
		}
	}
	bt := Criterion{Name: "build time", Op: "<=", Threshold: c.MaxBuildTime.Seconds(), Unit: "s"}
	if r.BuildTime == nil {
		add(skipped(bt, "build time"))
	} else {
		v := r.BuildTime.Seconds()
		bt.Measured = &v
		add(judge(bt, ""))
	}
	res.Verdict = verdict(res.Criteria)
	return res
}

// AddErrorBudget appends the error-budget criterion from the server's
// answer and recomputes the verdict: a frozen service fails the gate unless
// the run is marked as a fix.
func (r *Result) AddErrorBudget(resp Response) {
	if resp.FixReason != "" && !r.Fix {
		r.Fix, r.FixReason = true, resp.FixReason
	}
	c := Criterion{Name: "error budget"} // a state, not a figure: no op, no threshold
	switch {
	case resp.Frozen && r.Fix:
		c.Status, c.Detail = Pass, "service is frozen (error budget spent); allowed because this is a fix"
		if r.FixReason != "" {
			c.Detail += " (" + r.FixReason + ")"
		}
	case resp.Frozen:
		c.Status, c.Detail = Fail, "service is frozen (error budget spent); only fixes may ship"
		if resp.Reason != "" {
			c.Detail += ": " + resp.Reason
		}
	case !resp.SLOsConfigured:
		c.Status, c.Detail = Skipped, "error-budget check skipped: no SLOs configured"
	default:
		c.Status, c.Detail = Pass, "error budget remaining"
	}
	r.Criteria = append(r.Criteria, c)
	r.Verdict = verdict(r.Criteria)
}

func verdict(cs []Criterion) Status {
	for _, c := range cs {
		if c.Status == Fail {
			return Fail
		}
	}
	return Pass
}

func judge(c Criterion, detail string) Criterion {
	c.Detail = detail
	ok := false
	switch c.Op {
	case ">=":
		ok = *c.Measured >= c.Threshold
	case "<=":
		ok = *c.Measured <= c.Threshold
	}
	c.Status = Fail
	if ok {
		c.Status = Pass
	}
	return c
}

func skipped(c Criterion, report string) Criterion {
	c.Status = Skipped
	c.Detail = "no " + report + " report given"
	return c
}

func atMost(name, report string, max int, given bool, measure func() (int, string)) Criterion {
	c := Criterion{Name: name, Op: "<=", Threshold: float64(max)}
	if !given {
		return skipped(c, report)
	}
	n, detail := measure()
	v := float64(n)
	c.Measured = &v
	return judge(c, detail)
}

func coverageCriterion(c Criteria, cov *Coverage) Criterion {
	cr := Criterion{Name: "coverage", Op: ">=", Threshold: c.MinCoverage, Unit: "%"}
	if cov == nil {
		return skipped(cr, "coverage")
	}
	changed := strings.HasSuffix(cov.Format, "(changed lines)")
	if changed {
		cr.Name = "coverage (changed lines)"
	}
	pct, ok := cov.Percent()
	switch {
	case !ok && changed:
		cr.Status, cr.Detail = Skipped, "no changed statements"
		return cr
	case !ok:
		cr.Status, cr.Detail = Fail, "the report covers no statements"
		return cr
	}
	cr.Measured = &pct
	return judge(cr, fmt.Sprintf("%d of %d covered", cov.Covered, cov.Total))
}

func latency(name, tool string, max float64, lt *LoadTest, pick func(*LoadTest) *float64) Criterion {
	c := Criterion{Name: name, Op: "<=", Threshold: max, Unit: "ms"}
	if lt == nil {
		return skipped(c, tool)
	}
	v := pick(lt)
	if v == nil {
		c.Status, c.Detail = Fail, "the report has no such percentile"
		return c
	}
	c.Measured = v
	return judge(c, "")
}

// vulnerabilities counts the IDs not covered by an unexpired allowance and
// says which were allowed and which allowances have expired.
func vulnerabilities(ids []string, allow []Allowance, now time.Time) (int, string) {
	allowedUntil := map[string]time.Time{}
	for _, a := range allow {
		until, err := a.Until()
		if err != nil {
			continue // rejected by validation; never counted as allowed
		}
		if until.After(allowedUntil[a.ID]) {
			allowedUntil[a.ID] = until
		}
	}
	var counted, allowed, expired []string
	for _, id := range ids {
		until, listed := allowedUntil[id]
		switch {
		case listed && now.Before(until):
			allowed = append(allowed, id)
		case listed:
			expired = append(expired, id)
			counted = append(counted, id)
		default:
			counted = append(counted, id)
		}
	}
	var parts []string
	if len(counted) > 0 {
		parts = append(parts, strings.Join(counted, ", "))
	}
	if len(allowed) > 0 {
		parts = append(parts, "allowed: "+strings.Join(allowed, ", "))
	}
	if len(expired) > 0 {
		parts = append(parts, "allowance expired: "+strings.Join(expired, ", "))
	}
	return len(counted), strings.Join(parts, "; ")
}

func levels(m map[string]int) string {
	var parts []string
	for _, l := range []string{"error", "warning", "note", "none"} {
		if m[l] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[l], l))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func top(m map[string]int, n int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range keys[:min(n, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s (%d)", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
