package impacteval

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/stride-oss/stride/internal/impact"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/jobs"
	"github.com/stride-oss/stride/internal/sloeval"
	"github.com/stride-oss/stride/internal/store"
)

// PullTaskName is the pull job's name in the runner.
const PullTaskName = "impact-prometheus"

// Pull is the job that brings in the minutes of the services whose
// Prometheus queries stride.yaml configures, as the SLO pull does: each
// run asks query_range, step 60 s, from where the stored minutes end to
// the last whole minute before Lag; the value at t is the minute
// [t−1m, t). Calls and errors are pulled together, so a minute has both:
// a minute with calls and no errors series (a query over a counter of
// failures that has none yet answers nothing) has 0 errors. The cursor is
// the stored data, so a restart or a Prometheus that was down resumes
// where the last stored minute ends.
type Pull struct {
	Intake   *intake.Intake
	DB       *store.DB
	URL      string
	Client   *http.Client
	Now      func() time.Time
	Services map[string]Service
	// Backfill is how far back the first pull of a service starts (0: 1 day).
	Backfill time.Duration
	// Lag is how long before now the newest pulled minute ends (0: 1 minute).
	Lag time.Duration
	// Chunk is the span of one query_range call (0: 6 hours).
	Chunk time.Duration
}

// Task returns the pull job for the runner, every minute.
func (p *Pull) Task() jobs.Task {
	return jobs.Task{Name: PullTaskName, Every: time.Minute, Share: 0.1, Run: p.Run}
}

// Run pulls every configured service once. One service failing does not
// stop the others; the errors are joined and the next run retries from
// the same cursor.
func (p *Pull) Run(ctx context.Context) error {
	var errs []error
	for name, s := range p.Services {
		q := s.Queries
		if q.Calls != "" {
			if err := p.pull(ctx, name, store.ImpactCalls, q.Calls, q.Errors); err != nil {
				errs = append(errs, fmt.Errorf("pull calls of %s from prometheus: %w", name, err))
			}
		}
		if q.Latency != "" {
			if err := p.pull(ctx, name, store.ImpactLatency, q.Latency, ""); err != nil {
				errs = append(errs, fmt.Errorf("pull latency of %s from prometheus: %w", name, err))
			}
		}
		if q.Apdex.Total != "" && q.ApdexT > 0 {
			if err := p.pullApdex(ctx, name, q); err != nil {
				errs = append(errs, fmt.Errorf("pull Apdex counts of %s from prometheus: %w", name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// pull brings one metric of a service up to the last whole minute; with
// errorsQuery set, the errors of each calls minute come along.
func (p *Pull) pull(ctx context.Context, service, metric, query, errorsQuery string) error {
	last, ok, err := p.DB.LastImpactMinute(ctx, service, metric)
	if err != nil {
		return err
	}
	from, end := p.span(last, ok)
	chunk := orDefault(p.Chunk, 6*time.Hour).Truncate(time.Minute)
	for from.Before(end) {
		to := from.Add(chunk)
		if to.After(end) {
			to = end
		}
		// Samples at from+1m … to count the minutes from … to−1m.
		vals, err := sloeval.QueryRange(ctx, p.Client, p.URL, query, from.Add(time.Minute), to)
		if err != nil {
			return err
		}
		var errs map[int64]float64
		if errorsQuery != "" {
			if errs, err = sloeval.QueryRange(ctx, p.Client, p.URL, errorsQuery, from.Add(time.Minute), to); err != nil {
				return fmt.Errorf("errors: %w", err)
			}
		}
		var ms []store.ImpactMinute
		for t := from.Add(time.Minute); !t.After(to); t = t.Add(time.Minute) {
			v, ok := vals[t.Unix()]
			if !ok {
				continue
			}
			start := t.Add(-time.Minute)
			if metric == store.ImpactLatency {
				ms = append(ms, store.ImpactMinute{Service: service, Metric: metric, Start: start, Value: max(v, 0)})
				continue
			}
			n := max(math.Round(v), 0)
			ms = append(ms, store.ImpactMinute{Service: service, Metric: metric, Start: start, Value: n})
			if errorsQuery != "" {
				ms = append(ms, store.ImpactMinute{Service: service, Metric: store.ImpactErrors, Start: start, Value: min(max(math.Round(errs[t.Unix()]), 0), n)})
			}
		}
		if len(ms) > 0 {
			if err := p.Intake.PulledImpactMinutes(ctx, ms); err != nil {
				return err
			}
		}
		from = to
	}
	return nil
}

// span returns the minutes to pull from the cursor: from where the stored
// data ends (or the backfill) to the last whole minute before Lag.
func (p *Pull) span(last time.Time, ok bool) (from, end time.Time) {
	now := p.Now().UTC()
	end = now.Add(-orDefault(p.Lag, time.Minute)).Truncate(time.Minute)
	from = last
	if !ok {
		from = now.Add(-orDefault(p.Backfill, 24*time.Hour)).Truncate(time.Minute)
	}
	return from, end
}

// pullApdex brings a service's Apdex counts up to the last whole minute
// from its histogram queries, stored through the write path as a push
// would be: satisfied = within T, tolerating = within 4T − within T.
func (p *Pull) pullApdex(ctx context.Context, service string, q Queries) error {
	last, ok, err := p.DB.LastApdexEnd(ctx, service)
	if err != nil {
		return err
	}
	from, end := p.span(last, ok)
	chunk := orDefault(p.Chunk, 6*time.Hour).Truncate(time.Minute)
	for from.Before(end) {
		to := from.Add(chunk)
		if to.After(end) {
			to = end
		}
		var vals [3]map[int64]float64
		for i, query := range []string{q.Apdex.Total, q.Apdex.WithinT, q.Apdex.Within4T} {
			if vals[i], err = sloeval.QueryRange(ctx, p.Client, p.URL, query, from.Add(time.Minute), to); err != nil {
				return err
			}
		}
		var pushes []impact.ApdexPush
		for t := from.Add(time.Minute); !t.After(to); t = t.Add(time.Minute) {
			tv, ok := vals[0][t.Unix()]
			if !ok {
				continue
			}
			total := int64(max(math.Round(tv), 0))
			within4 := min(int64(max(math.Round(vals[2][t.Unix()]), 0)), total)
			within := min(int64(max(math.Round(vals[1][t.Unix()]), 0)), within4)
			pushes = append(pushes, impact.ApdexPush{Service: service, Start: t.Add(-time.Minute), End: t, Threshold: q.ApdexT,
				Satisfied: within, Tolerating: within4 - within, Total: total})
		}
		if len(pushes) > 0 {
			if _, err := p.Intake.Apdex(ctx, pushes); err != nil {
				return err
			}
		}
		from = to
	}
	return nil
}
