package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// The metrics of impact_minutes, as a service's Prometheus queries give
// them.
const (
	ImpactCalls   = "calls"   // calls of the minute
	ImpactErrors  = "errors"  // failed calls of the minute
	ImpactLatency = "latency" // seconds
)

// ImpactMinute is one minute's value of a service's metric.
type ImpactMinute struct {
	Service string
	Metric  string
	Start   time.Time
	Value   float64
}

// PutImpactMinutes stores minutes in one transaction; a minute stored
// before is replaced, so a pull run again changes nothing.
func (db *DB) PutImpactMinutes(ctx context.Context, ms []ImpactMinute) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for _, m := range ms {
			if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO impact_minutes (service, metric, start, value) VALUES (?, ?, ?, ?)
				ON CONFLICT (service, metric, start) DO UPDATE SET value = excluded.value`),
				m.Service, m.Metric, m.Start.UnixMicro(), m.Value); err != nil {
				return fmt.Errorf("store %s minutes of %s: %w", m.Metric, m.Service, err)
			}
		}
		return nil
	})
}

// ImpactMinutes returns the minutes of a service's metric that start in
// [from, to), in time order.
func (db *DB) ImpactMinutes(ctx context.Context, service, metric string, from, to time.Time) ([]ImpactMinute, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT start, value FROM impact_minutes
		WHERE service = ? AND metric = ? AND start >= ? AND start < ? ORDER BY start`), service, metric, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read %s minutes of %s: %w", metric, service, err)
	}
	ms, err := collect(rows, func(s interface{ Scan(...any) error }) (ImpactMinute, error) {
		m := ImpactMinute{Service: service, Metric: metric}
		var start int64
		err := s.Scan(&start, &m.Value)
		m.Start = time.UnixMicro(start).UTC()
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("read %s minutes of %s: %w", metric, service, err)
	}
	return ms, nil
}

// LastImpactMinute returns where the newest stored minute of a service's
// metric ends, and false when none is: the cursor the pull resumes from.
func (db *DB) LastImpactMinute(ctx context.Context, service, metric string) (time.Time, bool, error) {
	var start sql.NullInt64
	if err := db.read.QueryRowContext(ctx, db.q(`SELECT MAX(start) FROM impact_minutes WHERE service = ? AND metric = ?`),
		service, metric).Scan(&start); err != nil {
		return time.Time{}, false, fmt.Errorf("read %s cursor of %s: %w", metric, service, err)
	}
	if !start.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMicro(start.Int64).UTC().Add(time.Minute), true, nil
}

// ServiceSLIMinute is the good and total calls of a bucket start summed
// over a service's SLOs.
type ServiceSLIMinute struct {
	Start time.Time
	Width time.Duration
	Good  int64
	Total int64
}

// ServiceSLIMinutes returns the SLI buckets (not the hourly roll-ups) of
// every SLO of service that start in [from, to), summed per start, in
// time order.
func (db *DB) ServiceSLIMinutes(ctx context.Context, service string, from, to time.Time) ([]ServiceSLIMinute, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT b.start, MAX(b.width), SUM(b.good), SUM(b.total) FROM sli_buckets b
		JOIN slos s ON s.name = b.slo
		WHERE s.service = ? AND b.start >= ? AND b.start < ? GROUP BY b.start ORDER BY b.start`), service, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read SLI minutes of %s: %w", service, err)
	}
	ms, err := collect(rows, func(s interface{ Scan(...any) error }) (ServiceSLIMinute, error) {
		var m ServiceSLIMinute
		var start, width int64
		err := s.Scan(&start, &width, &m.Good, &m.Total)
		m.Start, m.Width = time.UnixMicro(start).UTC(), time.Duration(width)*time.Second
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("read SLI minutes of %s: %w", service, err)
	}
	return ms, nil
}

// ApdexBucket is the Apdex counts of a service over [Start, Start+Width),
// taken against the threshold T.
type ApdexBucket struct {
	Service    string
	Start      time.Time
	Width      time.Duration
	Threshold  time.Duration
	Satisfied  int64
	Tolerating int64
	Total      int64
}

// PutApdex stores buckets in one transaction; a bucket of a stored
// (service, start) replaces it, so a repeated push is idempotent.
func (db *DB) PutApdex(ctx context.Context, bs []ApdexBucket) (SLIResult, error) {
	var res SLIResult
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res = SLIResult{}
		for _, b := range bs {
			var n int
			if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM apdex_buckets WHERE service = ? AND start = ?`),
				b.Service, b.Start.UnixMicro()).Scan(&n); err != nil {
				return fmt.Errorf("store Apdex of %s: %w", b.Service, err)
			}
			if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO apdex_buckets (service, start, width, threshold_ms, satisfied, tolerating, total)
				VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (service, start) DO UPDATE SET width = excluded.width, threshold_ms = excluded.threshold_ms,
					satisfied = excluded.satisfied, tolerating = excluded.tolerating, total = excluded.total`),
				b.Service, b.Start.UnixMicro(), int64(b.Width/time.Second), b.Threshold.Milliseconds(), b.Satisfied, b.Tolerating, b.Total); err != nil {
				return fmt.Errorf("store Apdex of %s: %w", b.Service, err)
			}
			if n > 0 {
				res.Replaced++
			} else {
				res.Added++
			}
		}
		return nil
	})
	return res, err
}

// ApdexTotal is a service's Apdex counts summed per threshold.
type ApdexTotal struct {
	Service    string
	Threshold  time.Duration
	Satisfied  int64
	Tolerating int64
	Total      int64
}

// ApdexTotals sums the Apdex buckets of services ("" for all) that start
// in [from, to), per service and threshold, by service and threshold.
func (db *DB) ApdexTotals(ctx context.Context, service string, from, to time.Time) ([]ApdexTotal, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT service, threshold_ms, SUM(satisfied), SUM(tolerating), SUM(total) FROM apdex_buckets
		WHERE (? = '' OR service = ?) AND start >= ? AND start < ? GROUP BY service, threshold_ms ORDER BY service, threshold_ms`),
		service, service, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read Apdex: %w", err)
	}
	ts, err := collect(rows, func(s interface{ Scan(...any) error }) (ApdexTotal, error) {
		var a ApdexTotal
		var ms int64
		err := s.Scan(&a.Service, &ms, &a.Satisfied, &a.Tolerating, &a.Total)
		a.Threshold = time.Duration(ms) * time.Millisecond
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("read Apdex: %w", err)
	}
	return ts, nil
}

// DeploymentImpact is the stored assessment of one deployment: Result is
// internal/impact's Result as JSON.
type DeploymentImpact struct {
	Deployment delivery.DeploymentKey
	FinishedAt time.Time
	Flagged    bool
	Result     []byte
	ComputedAt time.Time
}

// SaveImpacts stores assessments in one transaction, replacing those of
// the same deployment.
func (db *DB) SaveImpacts(ctx context.Context, is []DeploymentImpact) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for _, i := range is {
			flagged := 0
			if i.Flagged {
				flagged = 1
			}
			k := i.Deployment
			if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO deployment_impact (service, environment, deployment, finished_at, flagged, result, computed_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (service, environment, deployment) DO UPDATE SET finished_at = excluded.finished_at, flagged = excluded.flagged,
					result = excluded.result, computed_at = excluded.computed_at`),
				k.Service, k.Environment, k.ID, i.FinishedAt.UnixMicro(), flagged, string(i.Result), i.ComputedAt.UnixMicro()); err != nil {
				return fmt.Errorf("store impact of %s: %w", k, err)
			}
		}
		return nil
	})
}

// DeploymentImpacts returns the stored assessments of the deployments of
// service ("" for all) that finished in [from, to); flaggedOnly keeps the
// flagged ones. By finish, then service and id.
func (db *DB) DeploymentImpacts(ctx context.Context, service string, from, to time.Time, flaggedOnly bool) ([]DeploymentImpact, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT service, environment, deployment, finished_at, flagged, result, computed_at FROM deployment_impact
		WHERE (? = '' OR service = ?) AND finished_at >= ? AND finished_at < ? AND (? = 0 OR flagged = 1)
		ORDER BY finished_at, service, deployment`), service, service, from.UnixMicro(), to.UnixMicro(), boolInt(flaggedOnly))
	if err != nil {
		return nil, fmt.Errorf("read deployment impact: %w", err)
	}
	is, err := collect(rows, func(s interface{ Scan(...any) error }) (DeploymentImpact, error) {
		var i DeploymentImpact
		var fin, at int64
		var flagged int
		var result string
		err := s.Scan(&i.Deployment.Service, &i.Deployment.Environment, &i.Deployment.ID, &fin, &flagged, &result, &at)
		i.FinishedAt, i.ComputedAt, i.Flagged, i.Result = time.UnixMicro(fin).UTC(), time.UnixMicro(at).UTC(), flagged == 1, []byte(result)
		return i, err
	})
	if err != nil {
		return nil, fmt.Errorf("read deployment impact: %w", err)
	}
	return is, nil
}

// ImpactCandidate is a successful production deployment and when its
// stored assessment was computed (zero: never).
type ImpactCandidate struct {
	Deployment delivery.Deployment
	ComputedAt time.Time
}

// ImpactCandidates returns the successful production deployments that
// finished in [from, to), with when each was last assessed, by service
// and finish: what the impact job considers.
func (db *DB) ImpactCandidates(ctx context.Context, from, to time.Time) ([]ImpactCandidate, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT d.service, d.environment, d.id, d.finished_at, COALESCE(i.computed_at, 0)
		FROM deployments d LEFT JOIN deployment_impact i ON i.service = d.service AND i.environment = d.environment AND i.deployment = d.id
		WHERE d.environment = ? AND d.status = ? AND d.finished_at >= ? AND d.finished_at < ?
		ORDER BY d.service, d.finished_at, d.id`), delivery.EnvironmentProduction, string(delivery.DeploymentSuccess), from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read deployments to assess: %w", err)
	}
	cs, err := collect(rows, func(s interface{ Scan(...any) error }) (ImpactCandidate, error) {
		var c ImpactCandidate
		var fin, at int64
		err := s.Scan(&c.Deployment.Service, &c.Deployment.Environment, &c.Deployment.ID, &fin, &at)
		c.Deployment.FinishedAt = time.UnixMicro(fin).UTC()
		if at != 0 {
			c.ComputedAt = time.UnixMicro(at).UTC()
		}
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("read deployments to assess: %w", err)
	}
	return cs, nil
}

// LastApdexEnd returns where the newest stored Apdex bucket of a service
// ends, and false when none is: the cursor the Apdex pull resumes from.
func (db *DB) LastApdexEnd(ctx context.Context, service string) (time.Time, bool, error) {
	var end sql.NullInt64
	if err := db.read.QueryRowContext(ctx, db.q(`SELECT MAX(start + width * 1000000) FROM apdex_buckets WHERE service = ?`),
		service).Scan(&end); err != nil {
		return time.Time{}, false, fmt.Errorf("read Apdex cursor of %s: %w", service, err)
	}
	if !end.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMicro(end.Int64).UTC(), true, nil
}
