// Package impact assesses what a production deployment did to its
// service: the error rate and latency over a window before it against the
// same window after it, flagged when the change passes both an absolute
// and a relative threshold with enough calls on each side that noise does
// not flag. It also computes Apdex(T) from satisfied, tolerating and total
// counts. Everything here is a pure function of its inputs; the job that
// feeds it stored minutes and stores its results is internal/impacteval.
// docs/metrics.md ("Deployment impact", "Apdex") is the contract.
package impact

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Where a result's call counts came from.
const (
	// SourceSLI: the good and total calls per minute of the service's
	// SLOs, summed over its SLOs.
	SourceSLI = "sli"
	// SourcePrometheus: the service's own calls and errors queries.
	SourcePrometheus = "prometheus"
)

// Calls is one minute of a service's calls, [Start, Start+1m): all of
// them and those that failed.
type Calls struct {
	Start  time.Time
	Total  int64
	Failed int64
}

// Latency is one minute's latency in seconds, as the service's latency
// query gives it (a percentile or a mean: the query decides).
type Latency struct {
	Start   time.Time
	Seconds float64
}

// Options are the window and the thresholds. A zero field takes its
// default (Defaults).
type Options struct {
	// Before and After are the windows each side of the deployment.
	Before, After time.Duration
	// MinCalls is the fewest calls each side needs to be judged.
	MinCalls int64
	// ErrorRateIncrease is the rise of the error rate, after minus before
	// as a fraction (0.01 is one percentage point), that flags together
	// with ErrorRateRatio: after ≥ before × (1 + ErrorRateRatio).
	ErrorRateIncrease float64
	ErrorRateRatio    float64
	// LatencyIncrease and LatencyRatio are the same for latency.
	LatencyIncrease time.Duration
	LatencyRatio    float64
}

// Defaults are the options of a service that sets none: 30 minutes each
// side, 100 calls, +1 percentage point and ×2 for the error rate, +100 ms
// and ×1.5 for latency. Both thresholds must pass: the absolute one keeps
// 0.01 % → 0.03 % from flagging, the relative one keeps 40 % → 41 %.
var Defaults = Options{
	Before: 30 * time.Minute, After: 30 * time.Minute, MinCalls: 100,
	ErrorRateIncrease: 0.01, ErrorRateRatio: 1,
	LatencyIncrease: 100 * time.Millisecond, LatencyRatio: 0.5,
}

// WithDefaults returns o with each zero field set to its default.
func (o Options) WithDefaults() Options {
	d := Defaults
	if o.Before > 0 {
		d.Before = o.Before
	}
	if o.After > 0 {
		d.After = o.After
	}
	if o.MinCalls > 0 {
		d.MinCalls = o.MinCalls
	}
	if o.ErrorRateIncrease > 0 {
		d.ErrorRateIncrease = o.ErrorRateIncrease
	}
	if o.ErrorRateRatio > 0 {
		d.ErrorRateRatio = o.ErrorRateRatio
	}
	if o.LatencyIncrease > 0 {
		d.LatencyIncrease = o.LatencyIncrease
	}
	if o.LatencyRatio > 0 {
		d.LatencyRatio = o.LatencyRatio
	}
	return d
}

// MinLatencyMinutes is the fewest minutes of latency each side needs when
// no calls are counted, so one stray minute does not flag.
const MinLatencyMinutes = 5

// Side is one window of a result.
type Side struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Minutes is how many minutes had calls (or a latency).
	Minutes int   `json:"minutes"`
	Calls   int64 `json:"calls"`
	Failed  int64 `json:"failed"`
	// ErrorRate is Failed/Calls; nil without calls.
	ErrorRate *float64 `json:"error_rate"`
	// LatencySeconds is the mean of the minutes' latency; nil without any.
	LatencySeconds *float64 `json:"latency_seconds"`
}

// MinuteFigure is one minute behind a result, for --explain.
type MinuteFigure struct {
	Start          time.Time `json:"start"`
	Side           string    `json:"side"` // before or after
	Calls          int64     `json:"calls"`
	Failed         int64     `json:"failed"`
	ErrorRate      *float64  `json:"error_rate"`
	LatencySeconds *float64  `json:"latency_seconds"`
}

// Result is the assessment of one deployment.
type Result struct {
	Service     string    `json:"service"`
	Environment string    `json:"environment"`
	Deployment  string    `json:"deployment"`
	FinishedAt  time.Time `json:"finished_at"`
	Source      string    `json:"source"`
	Before      Side      `json:"before"`
	After       Side      `json:"after"`
	// ErrorRateChange and LatencyChange are after minus before; nil when
	// a side has nothing to compare.
	ErrorRateChange *float64 `json:"error_rate_change"`
	LatencyChange   *float64 `json:"latency_change_seconds"`
	Flagged         bool     `json:"flagged"`
	// Reasons say in words why it was flagged; Notes why a figure was not
	// judged (too few calls, no data) and what to do.
	Reasons []string       `json:"reasons"`
	Notes   []string       `json:"notes"`
	Minutes []MinuteFigure `json:"minutes,omitempty"`
}

// Key is the deployment the result is about.
func (r Result) Key() delivery.DeploymentKey {
	return delivery.DeploymentKey{Service: r.Service, Environment: r.Environment, ID: r.Deployment}
}

// Windows returns the before and after windows of a deployment that
// finished at finished. The minute the deployment finished in is left
// out when it finished within it, since its calls are partly old and
// partly new.
func Windows(finished time.Time, o Options) (before, after [2]time.Time) {
	o = o.WithDefaults()
	down := finished.UTC().Truncate(time.Minute)
	up := down
	if !down.Equal(finished) {
		up = down.Add(time.Minute)
	}
	return [2]time.Time{down.Add(-o.Before), down}, [2]time.Time{up, up.Add(o.After)}
}

func in(t time.Time, w [2]time.Time) bool { return !t.Before(w[0]) && t.Before(w[1]) }

// Assess compares the minutes before d finished with those after it.
// calls and latency may hold minutes outside the windows (they are left
// out) and may be empty (that figure is not judged).
func Assess(d delivery.Deployment, source string, calls []Calls, latency []Latency, o Options) Result {
	o = o.WithDefaults()
	bw, aw := Windows(d.FinishedAt, o)
	r := Result{Service: d.Service, Environment: d.Environment, Deployment: d.ID, FinishedAt: d.FinishedAt.UTC(), Source: source,
		Before: Side{From: bw[0], To: bw[1]}, After: Side{From: aw[0], To: aw[1]}, Reasons: []string{}, Notes: []string{}}
	// By Unix microsecond: two time.Time of one instant in other
	// locations are different map keys.
	figures := map[int64]*MinuteFigure{}
	var order []int64
	figure := func(t time.Time, side string) *MinuteFigure {
		k := t.UnixMicro()
		if f, ok := figures[k]; ok {
			return f
		}
		f := &MinuteFigure{Start: t.UTC(), Side: side}
		figures[k] = f
		order = append(order, k)
		return f
	}
	sideOf := func(t time.Time) (*Side, string) {
		switch {
		case in(t, bw):
			return &r.Before, "before"
		case in(t, aw):
			return &r.After, "after"
		}
		return nil, ""
	}
	for _, c := range calls {
		s, name := sideOf(c.Start)
		if s == nil || c.Total <= 0 {
			continue
		}
		s.Minutes++
		s.Calls += c.Total
		s.Failed += c.Failed
		f := figure(c.Start, name)
		f.Calls, f.Failed = c.Total, c.Failed
		f.ErrorRate = ptr(float64(c.Failed) / float64(c.Total))
	}
	latSum := map[*Side]float64{}
	latN := map[*Side]int{}
	for _, l := range latency {
		s, name := sideOf(l.Start)
		if s == nil || math.IsNaN(l.Seconds) || math.IsInf(l.Seconds, 0) {
			continue
		}
		latSum[s] += l.Seconds
		latN[s]++
		figure(l.Start, name).LatencySeconds = ptr(l.Seconds)
	}
	for _, s := range []*Side{&r.Before, &r.After} {
		if s.Calls > 0 {
			s.ErrorRate = ptr(float64(s.Failed) / float64(s.Calls))
		}
		if n := latN[s]; n > 0 {
			s.LatencySeconds = ptr(latSum[s] / float64(n))
			s.Minutes = max(s.Minutes, n)
		}
	}
	enough := r.Before.Calls >= o.MinCalls && r.After.Calls >= o.MinCalls
	r.judgeErrors(o, enough)
	if r.Before.Calls == 0 && r.After.Calls == 0 {
		// Latency without call counts: judged on minutes instead, so a
		// side of one or two stray minutes does not flag.
		enough = latN[&r.Before] >= MinLatencyMinutes && latN[&r.After] >= MinLatencyMinutes
	}
	r.judgeLatency(o, enough)
	slices.Sort(order)
	for _, k := range order {
		r.Minutes = append(r.Minutes, *figures[k])
	}
	return r
}

func (r *Result) judgeErrors(o Options, enough bool) {
	b, a := r.Before.ErrorRate, r.After.ErrorRate
	if b == nil || a == nil {
		r.Notes = append(r.Notes, fmt.Sprintf("error rate not judged: no calls recorded %s; push the service's SLI minutes or configure its Prometheus calls and errors queries", missingSide(b == nil, a == nil)))
		return
	}
	r.ErrorRateChange = ptr(*a - *b)
	if !enough {
		r.Notes = append(r.Notes, fmt.Sprintf("error rate not judged: %d calls before and %d after, fewer than the %d each side needs", r.Before.Calls, r.After.Calls, o.MinCalls))
		return
	}
	if *a-*b >= o.ErrorRateIncrease && (*b == 0 || *a >= *b*(1+o.ErrorRateRatio)) {
		r.Flagged = true
		r.Reasons = append(r.Reasons, fmt.Sprintf("error rate rose from %s to %s (%d of %d calls failed in the %s after, %d of %d in the %s before), above the +%s and ×%s thresholds",
			pct(*b), pct(*a), r.After.Failed, r.After.Calls, words(r.After.To.Sub(r.After.From)), r.Before.Failed, r.Before.Calls, words(r.Before.To.Sub(r.Before.From)),
			points(o.ErrorRateIncrease), num(1+o.ErrorRateRatio)))
	}
}

func (r *Result) judgeLatency(o Options, enough bool) {
	b, a := r.Before.LatencySeconds, r.After.LatencySeconds
	if b == nil && a == nil {
		return // no latency query: nothing to say
	}
	if b == nil || a == nil {
		r.Notes = append(r.Notes, "latency not judged: no latency recorded "+missingSide(b == nil, a == nil))
		return
	}
	r.LatencyChange = ptr(*a - *b)
	if !enough && r.Before.Calls == 0 && r.After.Calls == 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("latency not judged: %d minutes before and %d after, fewer than the %d each side needs without call counts", r.Before.Minutes, r.After.Minutes, MinLatencyMinutes))
		return
	}
	if !enough {
		r.Notes = append(r.Notes, fmt.Sprintf("latency not judged: %d calls before and %d after, fewer than the %d each side needs", r.Before.Calls, r.After.Calls, o.MinCalls))
		return
	}
	if *a-*b >= o.LatencyIncrease.Seconds() && *a >= *b*(1+o.LatencyRatio) {
		r.Flagged = true
		r.Reasons = append(r.Reasons, fmt.Sprintf("latency rose from %s to %s, above the +%s and ×%s thresholds",
			secs(*b), secs(*a), o.LatencyIncrease, num(1+o.LatencyRatio)))
	}
}

func missingSide(before, after bool) string {
	switch {
	case before && after:
		return "before or after the deployment"
	case before:
		return "before the deployment"
	}
	return "after the deployment"
}

// Summary says in one line what a flagged result found: the evidence an
// incident's candidate cause carries.
func (r Result) Summary() string {
	if !r.Flagged {
		return fmt.Sprintf("deployment %s of %s was not flagged", r.Deployment, r.Service)
	}
	s := fmt.Sprintf("deployment %s of %s, finished %s, was flagged: ", r.Deployment, r.Service, r.FinishedAt.Format(time.RFC3339))
	for i, why := range r.Reasons {
		if i > 0 {
			s += "; "
		}
		s += why
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func pct(f float64) string    { return trim(fmt.Sprintf("%.2f", f*100)) + " %" }
func points(f float64) string { return trim(fmt.Sprintf("%.2f", f*100)) + " percentage points" }
func num(f float64) string    { return trim(fmt.Sprintf("%.2f", f)) }
func secs(f float64) string   { return (time.Duration(math.Round(f*1000)) * time.Millisecond).String() }

func trim(s string) string {
	for len(s) > 1 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

func words(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%d min", d/time.Minute)
}
