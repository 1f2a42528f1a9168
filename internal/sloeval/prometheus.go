package sloeval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/jobs"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/store"
)

// Prometheus is the job that pulls the counts of SLOs whose metricSource
// is type: prometheus. Each run asks query_range, step 60 s, for the good
// (or bad) and total queries from where the SLO's stored buckets end to
// the last whole minute, and stores one bucket per minute through the
// write path. The value at t is the bucket [t−1m, t): the queries are
// meant to count the calls of the minute before t, as
// increase(x[1m]) or x − x offset 1m do. Values are rounded to whole
// calls. The cursor is the stored data itself, so a restarted Stride, or
// a Prometheus that was down, resumes where the last stored minute ends.
type Prometheus struct {
	DB     *store.DB
	Intake *intake.Intake
	// URL is Prometheus' base URL (http://prometheus:9090).
	URL    string
	Client *http.Client
	Now    func() time.Time
	// Backfill is how far back the first pull of an SLO starts (0: 1 day).
	Backfill time.Duration
	// Lag is how long before now the newest pulled minute ends, so a
	// scrape that lands late is not missed (0: 1 minute).
	Lag time.Duration
	// Chunk is the span of one query_range call (0: 6 hours, 360 points).
	Chunk time.Duration
}

// PrometheusTask returns the pull job for the runner, every minute.
func PrometheusTask(db *store.DB, in *intake.Intake, prometheusURL string, now func() time.Time) jobs.Task {
	p := &Prometheus{DB: db, Intake: in, URL: prometheusURL, Now: now}
	return p.Task()
}

// Task returns p as a runner task.
func (p *Prometheus) Task() jobs.Task {
	return jobs.Task{Name: "slo-prometheus", Every: time.Minute, Share: 0.1, Run: p.Run}
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Run pulls every Prometheus SLO once. One SLO failing (Prometheus down, a
// bad query) does not stop the others; the errors are joined, and the
// next run retries from the same cursor.
func (p *Prometheus) Run(ctx context.Context) error {
	defs, err := Definitions(ctx, p.DB, "")
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range defs {
		if s.SourceType() != slo.SourcePrometheus {
			continue
		}
		if err := p.Pull(ctx, s); err != nil {
			errs = append(errs, fmt.Errorf("pull %s from prometheus: %w", s.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Pull brings one SLO's stored buckets up to the last whole minute.
func (p *Prometheus) Pull(ctx context.Context, s slo.SLO) error {
	now := p.Now().UTC()
	end := now.Add(-orDefault(p.Lag, time.Minute)).Truncate(time.Minute)
	from, ok, err := p.DB.LastSLIEnd(ctx, s.Name)
	if err != nil {
		return err
	}
	if !ok {
		from = now.Add(-orDefault(p.Backfill, 24*time.Hour)).Truncate(time.Minute)
	}
	chunk := orDefault(p.Chunk, 6*time.Hour).Truncate(time.Minute)
	for from.Before(end) {
		to := from.Add(chunk)
		if to.After(end) {
			to = end
		}
		buckets, err := p.buckets(ctx, s, from, to)
		if err != nil {
			return err
		}
		if len(buckets) > 0 {
			if _, err := p.Intake.PulledSLI(ctx, s.Name, buckets); err != nil {
				return err
			}
		}
		from = to
	}
	return nil
}

// buckets queries the minutes (from, to] and returns the buckets
// [t−1m, t) of the minutes that have a total.
func (p *Prometheus) buckets(ctx context.Context, s slo.SLO, from, to time.Time) ([]slo.Bucket, error) {
	ind := s.Indicator
	total, err := p.queryRange(ctx, ind.Total.Query, from.Add(time.Minute), to)
	if err != nil {
		return nil, fmt.Errorf("total: %w", err)
	}
	num := ind.Good
	if num == nil {
		num = ind.Bad
	}
	part, err := p.queryRange(ctx, num.Query, from.Add(time.Minute), to)
	if err != nil {
		return nil, fmt.Errorf("good: %w", err)
	}
	var out []slo.Bucket
	for t := from.Add(time.Minute); !t.After(to); t = t.Add(time.Minute) {
		tv, ok := total[t.Unix()]
		if !ok {
			continue
		}
		n := max(int64(math.Round(tv)), 0)
		g := min(max(int64(math.Round(part[t.Unix()])), 0), n)
		if ind.Good == nil {
			g = n - g // the query counts bad calls
		}
		out = append(out, slo.Bucket{Start: t.Add(-time.Minute), Width: time.Minute, Good: g, Total: n})
	}
	return out, nil
}

func (p *Prometheus) queryRange(ctx context.Context, query string, start, end time.Time) (map[int64]float64, error) {
	return QueryRange(ctx, p.Client, p.URL, query, start, end)
}

// QueryRange runs one query_range call against the Prometheus at
// baseURL at step 60 s and returns the sum of the series' values by Unix
// second. NaN and infinite values are left out. A nil client has a 30 s
// timeout. The deployment impact pull (internal/impacteval) uses it too.
func QueryRange(ctx context.Context, client *http.Client, baseURL, query string, start, end time.Time) (map[int64]float64, error) {
	if strings.TrimSpace(query) == "" {
		return nil, errors.New("the metricSource has no query")
	}
	q := url.Values{}
	q.Set("query", query)
	q.Set("start", strconv.FormatInt(start.Unix(), 10))
	q.Set("end", strconv.FormatInt(end.Unix(), 10))
	q.Set("step", "60")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(baseURL, "/")+"/api/v1/query_range", strings.NewReader(q.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("read query_range answer: %w", err)
	}
	var ans struct {
		Status    string `json:"status"`
		Error     string `json:"error"`
		ErrorType string `json:"errorType"`
		Data      struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, fmt.Errorf("query_range answered %s: %.200s", resp.Status, body)
	}
	if ans.Status != "success" {
		return nil, fmt.Errorf("query_range %q: %s: %s", query, ans.ErrorType, ans.Error)
	}
	if ans.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("query_range %q answered a %s, not a matrix", query, ans.Data.ResultType)
	}
	out := map[int64]float64{}
	for _, series := range ans.Data.Result {
		for _, v := range series.Values {
			ts, ok1 := v[0].(float64)
			vs, ok2 := v[1].(string)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("query_range %q: a value is not [time, \"number\"]", query)
			}
			f, err := strconv.ParseFloat(vs, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				continue
			}
			out[int64(math.Round(ts))] += f
		}
	}
	return out, nil
}
