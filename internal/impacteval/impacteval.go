// Package impacteval connects the pure deployment impact assessment
// (internal/impact) to the store. The impact job assesses each successful
// production deployment once the window after it has passed, from the
// service's Prometheus calls and errors minutes when its queries are
// configured, else from the SLI minutes of its SLOs, and stores the
// result; the pull job (prometheus.go) brings those Prometheus minutes in.
//
// Requests never assess: the read path (internal/report) reads what the
// job stored.
package impacteval

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/stride-oss/stride/internal/impact"
	"github.com/stride-oss/stride/internal/jobs"
	"github.com/stride-oss/stride/internal/store"
)

// TaskName is the impact job's name in the runner.
const TaskName = "deployment-impact"

// Queries are a service's Prometheus queries, each evaluated per minute
// as the SLO pull does (the value at t counts the minute before t): Calls
// and Errors count calls and failed calls, Latency gives seconds.
type Queries struct {
	Calls   string
	Errors  string
	Latency string
	// Apdex counts calls per minute from a latency histogram: WithinT
	// answered within T (the bucket le=T), Within4T within 4T (le=4T,
	// which holds the first), Total all calls; T is ApdexT.
	Apdex  ApdexQueries
	ApdexT time.Duration
}

// ApdexQueries are the three counts Apdex is computed from.
type ApdexQueries struct {
	WithinT, Within4T, Total string
}

// Service is what one service configures.
type Service struct {
	Options impact.Options
	Queries Queries
}

// Job is the impact job.
type Job struct {
	DB  *store.DB
	Now func() time.Time
	// Options are the window and thresholds of a service that sets none.
	Options impact.Options
	// Services holds each service's own options and queries.
	Services map[string]Service
	// Horizon is how far back a run looks for deployments (0: 3 days,
	// within the 4 days before SLI minutes are rolled up into hours).
	Horizon time.Duration
	// Settle is how long after its after-window ends a deployment is
	// assessed again, so minutes pushed or pulled late count (0: 1 hour).
	Settle time.Duration
}

// Task returns the job for the runner, every minute.
func (j *Job) Task() jobs.Task {
	return jobs.Task{Name: TaskName, Every: time.Minute, Share: 0.1, Run: j.Run}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// options are the options of service: its own fields, then the job's,
// then the defaults.
func (j *Job) options(service string) impact.Options {
	o := j.Services[service].Options
	d := j.Options.WithDefaults()
	if o.Before <= 0 {
		o.Before = d.Before
	}
	if o.After <= 0 {
		o.After = d.After
	}
	if o.MinCalls <= 0 {
		o.MinCalls = d.MinCalls
	}
	if o.ErrorRateIncrease <= 0 {
		o.ErrorRateIncrease = d.ErrorRateIncrease
	}
	if o.ErrorRateRatio <= 0 {
		o.ErrorRateRatio = d.ErrorRateRatio
	}
	if o.LatencyIncrease <= 0 {
		o.LatencyIncrease = d.LatencyIncrease
	}
	if o.LatencyRatio <= 0 {
		o.LatencyRatio = d.LatencyRatio
	}
	return o
}

// Run assesses every deployment whose after-window has passed and that is
// not yet settled, and stores the results in one transaction.
func (j *Job) Run(ctx context.Context) error {
	now := j.Now().UTC().Truncate(time.Minute)
	cands, err := j.DB.ImpactCandidates(ctx, now.Add(-orDefault(j.Horizon, 72*time.Hour)), now)
	if err != nil {
		return err
	}
	settle := orDefault(j.Settle, time.Hour)
	due := map[string][]store.ImpactCandidate{}
	var order []string
	for _, c := range cands {
		_, after := impact.Windows(c.Deployment.FinishedAt, j.options(c.Deployment.Service))
		if after[1].After(now) {
			continue // the window after it has not passed
		}
		if !c.ComputedAt.IsZero() && !c.ComputedAt.Before(after[1].Add(settle)) {
			continue // assessed once the late minutes were in
		}
		s := c.Deployment.Service
		if _, ok := due[s]; !ok {
			order = append(order, s)
		}
		due[s] = append(due[s], c)
	}
	var out []store.DeploymentImpact
	for _, s := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		rs, err := j.Assess(ctx, s, due[s])
		if err != nil {
			return fmt.Errorf("assess deployments of %s: %w", s, err)
		}
		for _, r := range rs {
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			out = append(out, store.DeploymentImpact{Deployment: r.Key(), FinishedAt: r.FinishedAt, Flagged: r.Flagged, Result: data, ComputedAt: now})
		}
	}
	if len(out) == 0 {
		return nil
	}
	return j.DB.SaveImpacts(ctx, out)
}

// Assess assesses deployments of one service (in finish order) from one
// read of the minutes spanning all their windows.
func (j *Job) Assess(ctx context.Context, service string, cands []store.ImpactCandidate) ([]impact.Result, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	o := j.options(service)
	from, _ := impact.Windows(cands[0].Deployment.FinishedAt, o)
	_, to := impact.Windows(cands[len(cands)-1].Deployment.FinishedAt, o)
	calls, source, err := j.calls(ctx, service, from[0], to[1])
	if err != nil {
		return nil, err
	}
	var latency []impact.Latency
	if j.Services[service].Queries.Latency != "" {
		ms, err := j.DB.ImpactMinutes(ctx, service, store.ImpactLatency, from[0], to[1])
		if err != nil {
			return nil, err
		}
		latency = make([]impact.Latency, len(ms))
		for i, m := range ms {
			latency[i] = impact.Latency{Start: m.Start, Seconds: m.Value}
		}
	}
	out := make([]impact.Result, 0, len(cands))
	lo, llo := 0, 0
	for _, c := range cands {
		b, a := impact.Windows(c.Deployment.FinishedAt, o)
		// Both series are in time order and the deployments too: each
		// window is a slice of them, found by moving forward.
		for lo < len(calls) && calls[lo].Start.Before(b[0]) {
			lo++
		}
		hi := lo
		for hi < len(calls) && calls[hi].Start.Before(a[1]) {
			hi++
		}
		for llo < len(latency) && latency[llo].Start.Before(b[0]) {
			llo++
		}
		lhi := llo
		for lhi < len(latency) && latency[lhi].Start.Before(a[1]) {
			lhi++
		}
		out = append(out, impact.Assess(c.Deployment, source, calls[lo:hi], latency[llo:lhi], o))
	}
	return out, nil
}

// calls reads the service's calls per minute over [from, to): its
// Prometheus calls and errors minutes when it has those queries, else
// the SLI minutes of its SLOs (failed = total − good).
func (j *Job) calls(ctx context.Context, service string, from, to time.Time) ([]impact.Calls, string, error) {
	if q := j.Services[service].Queries; q.Calls != "" {
		total, err := j.DB.ImpactMinutes(ctx, service, store.ImpactCalls, from, to)
		if err != nil {
			return nil, "", err
		}
		failed, err := j.DB.ImpactMinutes(ctx, service, store.ImpactErrors, from, to)
		if err != nil {
			return nil, "", err
		}
		byStart := make(map[int64]float64, len(failed))
		for _, f := range failed {
			byStart[f.Start.UnixMicro()] = f.Value
		}
		out := make([]impact.Calls, 0, len(total))
		for _, m := range total {
			n := int64(math.Round(m.Value))
			out = append(out, impact.Calls{Start: m.Start, Total: n, Failed: min(int64(math.Round(byStart[m.Start.UnixMicro()])), n)})
		}
		return out, impact.SourcePrometheus, nil
	}
	ms, err := j.DB.ServiceSLIMinutes(ctx, service, from, to)
	if err != nil {
		return nil, "", err
	}
	out := make([]impact.Calls, 0, len(ms))
	for _, m := range ms {
		if m.Width != time.Minute {
			continue // a push of several minutes cannot be split between the sides
		}
		out = append(out, impact.Calls{Start: m.Start, Total: m.Total, Failed: m.Total - m.Good})
	}
	return out, impact.SourceSLI, nil
}
