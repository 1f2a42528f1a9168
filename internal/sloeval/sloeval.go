// Package sloeval connects the pure SLO core (internal/slo) to the store:
// it loads definitions, buckets and maintenance into series, and runs the
// two background jobs of SLOs. The evaluation job assesses every SLO each
// minute, keeps each SLO's alert state, records the alerts that fired or
// resolved and the latest report, and rolls minutes older than the
// longest alert window up into hours. The Prometheus job (prometheus.go)
// pulls the counts of SLOs whose metrics live in Prometheus.
//
// Requests never evaluate: the API and the gates read the reports the job
// stored (Reports, Freeze).
package sloeval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/stride-oss/stride/internal/jobs"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/store"
)

// RollupAfter is the age after which minutes are folded into hours. It is
// longer than the longest alert window (3 days), so burn rates stay exact,
// and shorter than the 7 days ahead a maintenance window is announced, so
// the roll-up always knows which minutes it leaves out.
const RollupAfter = 4 * 24 * time.Hour

// Definitions returns the stored SLOs of service ("" for all), decoded.
func Definitions(ctx context.Context, db *store.DB, service string) ([]slo.SLO, error) {
	rows, err := db.SLOs(ctx, service)
	if err != nil {
		return nil, err
	}
	out := make([]slo.SLO, 0, len(rows))
	for _, r := range rows {
		s, err := slo.Unmarshal(r.Definition, r.Zone)
		if err != nil {
			return nil, fmt.Errorf("SLO %s: %w", r.Name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// Definition returns one stored SLO, or an ENOTFOUND error.
func Definition(ctx context.Context, db *store.DB, name string) (slo.SLO, error) {
	r, err := db.SLO(ctx, name)
	if err != nil {
		return slo.SLO{}, err
	}
	return slo.Unmarshal(r.Definition, r.Zone)
}

// loadFrom is the earliest bucket an assessment at now reads: the start
// of the SLO window, or of the longest alert window if that is earlier.
func loadFrom(s slo.SLO, now time.Time) time.Time {
	from, _ := s.Window.Bounds(now)
	longest := now.Add(-slo.BurnWindows[len(slo.BurnWindows)-1].Duration)
	if longest.Before(from) {
		from = longest
	}
	return from
}

// Series loads what an assessment of s at now reads: its buckets from
// the start of its window (or of the longest alert window) to now, and
// its service's maintenance windows over that span. A calendar
// compliance report reads from an earlier from: give the zero time to
// use the window's.
func Series(ctx context.Context, db *store.DB, s slo.SLO, from, now time.Time) (*slo.Series, error) {
	if lf := loadFrom(s, now); from.IsZero() || lf.Before(from) {
		from = lf
	}
	ms, err := maintenance(ctx, db, s.Service, from, now)
	if err != nil {
		return nil, err
	}
	// The buckets come in time order and go into the series as they come:
	// NewSeries on them, without the slice it would sort.
	sr := &slo.Series{}
	sr.Reset(s, ms)
	err = db.EachSLIBucket(ctx, s.Name, from, now, func(c store.SLICount) error {
		return sr.Append(slo.Bucket{Start: time.UnixMicro(c.Start).UTC(), Width: time.Duration(c.Width) * time.Second,
			Good: c.Good, Total: c.Total, LeftGood: c.LeftGood, LeftTotal: c.LeftTotal})
	})
	if err != nil {
		return nil, fmt.Errorf("series of %s: %w", s.Name, err)
	}
	return sr, nil
}

func maintenance(ctx context.Context, db *store.DB, service string, from, to time.Time) ([]slo.Maintenance, error) {
	rows, err := db.Maintenance(ctx, service, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]slo.Maintenance, len(rows))
	for i, m := range rows {
		out[i] = slo.Maintenance{Service: m.Service, From: m.From, To: m.To, Reason: m.Reason, AnnouncedAt: m.AnnouncedAt}
	}
	return out, nil
}

// Reports returns the latest report the evaluation job stored for each
// SLO of service ("" for all), by SLO name. An SLO the job has not yet
// evaluated has none.
func Reports(ctx context.Context, db *store.DB, service string) ([]slo.Report, error) {
	es, err := db.Evaluations(ctx, service)
	if err != nil {
		return nil, err
	}
	out := make([]slo.Report, 0, len(es))
	for _, e := range es {
		var r slo.Report
		if err := json.Unmarshal(e.Report, &r); err != nil {
			return nil, fmt.Errorf("report of %s: %w", e.SLO, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// Freeze is the budget policy state of a service from its stored reports,
// for the gate and promotion endpoints.
func Freeze(ctx context.Context, db *store.DB, service string) (slo.Freeze, error) {
	rs, err := Reports(ctx, db, service)
	if err != nil {
		return slo.Freeze{}, err
	}
	return slo.FreezeOf(service, rs), nil
}

// Evaluator is the evaluation job.
//
// It keeps every SLO's stored counts in memory between runs (sliCache):
// the first run loads them all, each later run reads only the rows written
// since, so a run over a thousand SLOs with 30 days each reads a thousand
// rows, not six million. Each SLO's series is then prepared from memory
// exactly as Series would prepare it from the store, so the reports are
// those of a from-scratch evaluation.
type Evaluator struct {
	DB *store.DB
	// Now is the job's clock.
	Now func() time.Time
	// Options tune assessments (the fewest calls an alert window needs).
	Options slo.Options
	// OnAlert, when set, is handed the transitions of each run after they
	// are stored, for the notifier. It must not block.
	OnAlert func([]slo.Transition)
	Logger  *slog.Logger

	mu    sync.Mutex // one run at a time owns the cache
	cache sliCache
}

// Task returns the evaluation job for the runner: every minute, each SLO.
func Task(db *store.DB, now func() time.Time) jobs.Task {
	e := &Evaluator{DB: db, Now: now}
	return e.Task()
}

// Task returns e as a runner task, every minute.
func (e *Evaluator) Task() jobs.Task {
	return jobs.Task{Name: "slo-evaluate", Every: evaluatePeriod, Share: 0.25, Run: e.Run}
}

// evaluatePeriod is how often the evaluation job runs.
const evaluatePeriod = time.Minute

func (e *Evaluator) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.Default()
}

// Run evaluates every SLO once at the job's clock. One SLO failing does
// not stop the others; the errors are joined.
func (e *Evaluator) Run(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	// The first run of a process loads every stored bucket, which on a
	// large store can take longer than the job's period. It is timed on
	// the job's clock and said in the log; the assessments are then made
	// at the clock after the load, not at the start of the run, so the
	// first reports are not as old as the load was long. A row written
	// while the load reads comes again at the next run (sliCache.load).
	if !e.cache.loaded {
		started := e.Now()
		if err := e.cache.refresh(ctx, e.DB); err != nil {
			return err
		}
		if took := e.Now().Sub(started); took > evaluatePeriod {
			e.logger().Warn("the SLO evaluation job's first run loaded the stored counts in longer than its period; this run's reports are made after the load, and later runs read only new rows",
				"job", "slo-evaluate", "took", took, "period", evaluatePeriod, "slos", len(e.cache.slos), "rows", e.cache.rows())
		}
	}
	now := e.Now().UTC().Truncate(time.Minute)
	rows, err := e.DB.SLOs(ctx, "")
	if err != nil {
		return err
	}
	defs := make([]slo.SLO, 0, len(rows))
	stored := make(map[string]string, len(rows))
	for _, r := range rows {
		s, err := slo.Unmarshal(r.Definition, r.Zone)
		if err != nil {
			return fmt.Errorf("SLO %s: %w", r.Name, err)
		}
		defs = append(defs, s)
		stored[r.Name] = r.Zone + " " + string(r.Definition)
	}
	// Every SLO's alert state in one read, not one read per SLO.
	evaluated, err := e.DB.Evaluations(ctx, "")
	if err != nil {
		return err
	}
	states := make(map[string][]byte, len(evaluated))
	for _, ev := range evaluated {
		states[ev.SLO] = ev.State
	}
	if err := e.cache.refresh(ctx, e.DB); err != nil {
		return err
	}
	var errs []error
	// The maintenance windows of every service over the span the
	// assessments and roll-ups read, in one read; each SLO takes those of
	// its service over its own span, as Series would read them.
	before := rollupBefore(now)
	earliest := now
	for _, s := range defs {
		if lf := loadFrom(s, now); lf.Before(earliest) {
			earliest = lf
		}
		if t, ok := e.cache.firstRaw(s.Name); ok && t.Before(before) && t.Before(earliest) {
			earliest = t
		}
	}
	all, err := maintenance(ctx, e.DB, "", earliest, now)
	if err != nil {
		return err
	}
	// Roll-ups first, for the SLOs whose minutes reach before the roll-up
	// boundary (once an hour each), all in one transaction, then the rows
	// they wrote.
	var rus []store.SLIRollUp
	for _, s := range defs {
		if raw := e.cache.rawBefore(s.Name, before); len(raw) > 0 {
			rus = append(rus, store.SLIRollUp{SLO: s.Name, Before: before, Hours: hourRows(slo.Rollup(s, raw, all, time.Hour))})
		}
	}
	failed := map[string]bool{}
	if len(rus) > 0 {
		if err := e.DB.RollUpSLIs(ctx, rus); err != nil {
			for _, ru := range rus {
				errs = append(errs, fmt.Errorf("evaluate %s: %w", ru.SLO, err))
				failed[ru.SLO] = true
			}
		} else if err := e.cache.refresh(ctx, e.DB); err != nil {
			return errors.Join(append(errs, err)...)
		}
	}
	var done []store.SLOEvaluation
	var transitions []slo.Transition
	var ms []slo.Maintenance
	for _, s := range defs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if failed[s.Name] {
			continue
		}
		from := loadFrom(s, now)
		ms = ms[:0]
		for _, m := range all {
			if m.Service == s.Service && m.To.After(from) && m.From.Before(now) {
				ms = append(ms, m)
			}
		}
		sr, err := e.cache.series(s, stored[s.Name], now, ms)
		if err != nil {
			errs = append(errs, fmt.Errorf("evaluate %s: series of %s: %w", s.Name, s.Name, err))
			continue
		}
		ev, ts, err := record(s, states[s.Name], now, slo.Assess(sr, now, e.Options))
		if err != nil {
			errs = append(errs, fmt.Errorf("evaluate %s: %w", s.Name, err))
			continue
		}
		done = append(done, ev)
		transitions = append(transitions, ts...)
	}
	if err := e.DB.SaveEvaluations(ctx, done); err != nil {
		return errors.Join(append(errs, err)...)
	}
	if len(transitions) > 0 && e.OnAlert != nil {
		e.OnAlert(transitions)
	}
	return errors.Join(errs...)
}

// record advances the SLO's alert state with its report and returns what
// to store and the alert transitions.
func record(s slo.SLO, stored []byte, now time.Time, report slo.Report) (store.SLOEvaluation, []slo.Transition, error) {
	var none store.SLOEvaluation
	var prev slo.State
	if stored != nil {
		if err := json.Unmarshal(stored, &prev); err != nil {
			return none, nil, fmt.Errorf("alert state of %s: %w", s.Name, err)
		}
	}
	next, transitions := slo.Evaluate(prev, now, report)
	state, err := json.Marshal(next)
	if err != nil {
		return none, nil, err
	}
	rep, err := json.Marshal(report)
	if err != nil {
		return none, nil, err
	}
	ev := store.SLOEvaluation{SLO: s.Name, State: state, Report: rep, At: now}
	for _, t := range transitions {
		ev.Alerts = append(ev.Alerts, store.SLOAlert{SLO: t.SLO, Service: t.Service, Alert: t.Alert, Severity: t.Severity,
			Kind: t.Kind, Since: t.Since, At: t.At, Reason: t.Reason})
	}
	return ev, transitions, nil
}

// rollupBefore is where a roll-up at now folds up to: the whole hour
// RollupAfter before now.
func rollupBefore(now time.Time) time.Time { return now.Add(-RollupAfter).Truncate(time.Hour) }

// RollUp folds the SLO's buckets that start before the whole hour
// RollupAfter before now into hourly roll-ups, leaving out the minutes of
// scheduled maintenance as the series would. The evaluation job does the
// same for every SLO at once, from the counts it keeps.
func RollUp(ctx context.Context, db *store.DB, s slo.SLO, now time.Time) error {
	before := rollupBefore(now)
	raw, err := db.RawSLIBefore(ctx, s.Name, before)
	if err != nil || len(raw) == 0 {
		return err
	}
	buckets := make([]slo.Bucket, len(raw))
	for i, b := range raw {
		buckets[i] = slo.Bucket{Start: b.Start, Width: b.Width, Good: b.Good, Total: b.Total}
	}
	ms, err := maintenance(ctx, db, s.Service, raw[0].Start, before)
	if err != nil {
		return err
	}
	return db.RollUpSLI(ctx, s.Name, before, hourRows(slo.Rollup(s, buckets, ms, time.Hour)))
}

func hourRows(hours []slo.Bucket) []store.SLIBucket {
	rows := make([]store.SLIBucket, len(hours))
	for i, h := range hours {
		rows[i] = store.SLIBucket{Start: h.Start, Width: h.Width, Good: h.Good, Total: h.Total, LeftGood: h.LeftGood, LeftTotal: h.LeftTotal}
	}
	return rows
}
