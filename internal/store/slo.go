package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// SLODefinition is a stored SLO: its name, service, where its counts come
// from (stride or prometheus), the parsed OpenSLO definition as JSON, and
// the IANA name of its calendar's time zone, which JSON does not keep.
type SLODefinition struct {
	Name       string
	Service    string
	Source     string
	Definition []byte
	Zone       string
	UpdatedAt  time.Time
}

// PutSLOs stores definitions, replacing those of the same name, in one
// transaction. It reports how many were new.
func (db *DB) PutSLOs(ctx context.Context, defs []SLODefinition) (created int, err error) {
	now := db.Now().UnixMicro()
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		for _, d := range defs {
			if err := requiredField("name", d.Name); err != nil {
				return err
			}
			if err := requiredField("service", d.Service); err != nil {
				return err
			}
			zone := d.Zone
			if zone == "" {
				zone = "UTC"
			}
			var n int
			if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM slos WHERE name = ?`), d.Name).Scan(&n); err != nil {
				return fmt.Errorf("store SLO %s: %w", d.Name, err)
			}
			if n == 0 {
				created++
			}
			if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO slos (name, service, source, definition, zone, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (name) DO UPDATE SET service = excluded.service, source = excluded.source,
					definition = excluded.definition, zone = excluded.zone, updated_at = excluded.updated_at`),
				d.Name, d.Service, d.Source, string(d.Definition), zone, now); err != nil {
				return fmt.Errorf("store SLO %s: %w", d.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return created, nil
}

func scanSLO(s interface{ Scan(...any) error }) (SLODefinition, error) {
	var d SLODefinition
	var def string
	var at int64
	err := s.Scan(&d.Name, &d.Service, &d.Source, &def, &d.Zone, &at)
	d.Definition = []byte(def)
	d.UpdatedAt = time.UnixMicro(at).UTC()
	return d, err
}

// SLOs returns the stored SLOs of service, or of every service when it is
// "", by name.
func (db *DB) SLOs(ctx context.Context, service string) ([]SLODefinition, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT name, service, source, definition, zone, updated_at FROM slos
		WHERE ? = '' OR service = ? ORDER BY name`), service, service)
	if err != nil {
		return nil, fmt.Errorf("read SLOs: %w", err)
	}
	defs, err := collect(rows, scanSLO)
	if err != nil {
		return nil, fmt.Errorf("read SLOs: %w", err)
	}
	return defs, nil
}

// SLO returns one stored SLO, or an ENOTFOUND error.
func (db *DB) SLO(ctx context.Context, name string) (SLODefinition, error) {
	d, err := scanSLO(db.read.QueryRowContext(ctx, db.q(`SELECT name, service, source, definition, zone, updated_at FROM slos
		WHERE name = ?`), name))
	if errors.Is(err, sql.ErrNoRows) {
		return d, notFound("no SLO named %s", name)
	}
	if err != nil {
		return d, fmt.Errorf("read SLO %s: %w", name, err)
	}
	return d, nil
}

// SLIBucket is the good and total calls of an SLO over [Start,
// Start+Width). LeftGood and LeftTotal are set on hourly roll-ups: calls
// left out for scheduled maintenance.
type SLIBucket struct {
	Start     time.Time
	Width     time.Duration
	Good      int64
	Total     int64
	LeftGood  int64
	LeftTotal int64
}

// SLIPoint is a bucket of a named SLO, as pushed or pulled.
type SLIPoint struct {
	SLO string
	SLIBucket
}

// SLIResult says what a batch of SLI points did.
type SLIResult struct {
	Added    int // points whose start was new
	Replaced int // points that replaced a stored one of the same start
}

// maxSLIWidth bounds the widest stored bucket, so an overlap check looks
// back only this far.
const maxSLIWidth = time.Hour

// PutSLI stores points in one transaction, all or nothing. A point whose
// (SLO, start) is stored replaces it, so a repeated push is idempotent. A
// point overlapping a stored bucket of another start, or falling into an
// hour already rolled up, is an EINVALID error naming its index.
func (db *DB) PutSLI(ctx context.Context, points []SLIPoint) (SLIResult, error) {
	var res SLIResult
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		version, err := nextSLIVersion(ctx, db, tx)
		if err != nil {
			return err
		}
		for i, p := range points {
			if p.Width <= 0 || p.Width > maxSLIWidth {
				return indexed(i, delivery.FieldError("end", "a bucket is more than 0 and at most %s wide", maxSLIWidth))
			}
			start, end := p.Start.UnixMicro(), p.Start.Add(p.Width).UnixMicro()
			var rolled sql.NullInt64
			if err := tx.QueryRowContext(ctx, db.q(`SELECT MAX(start) FROM sli_hours WHERE slo = ?`), p.SLO).Scan(&rolled); err != nil {
				return fmt.Errorf("store SLI of %s: %w", p.SLO, err)
			}
			if rolled.Valid && start < rolled.Int64+time.Hour.Microseconds() {
				return indexed(i, delivery.FieldError("start", "%s of %s is already rolled up into hours; push newer data",
					p.Start.UTC().Format(time.RFC3339), p.SLO))
			}
			rows, err := tx.QueryContext(ctx, db.q(`SELECT start, width FROM sli_buckets
				WHERE slo = ? AND start > ? AND start < ?`), p.SLO, start-maxSLIWidth.Microseconds(), end)
			if err != nil {
				return fmt.Errorf("store SLI of %s: %w", p.SLO, err)
			}
			replaced, overlap := false, int64(-1)
			for rows.Next() {
				var s, w int64
				if err := rows.Scan(&s, &w); err != nil {
					rows.Close()
					return fmt.Errorf("store SLI of %s: %w", p.SLO, err)
				}
				switch {
				case s == start:
					replaced = true
				case s+w*1e6 > start:
					overlap = s
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("store SLI of %s: %w", p.SLO, err)
			}
			if overlap >= 0 {
				return indexed(i, delivery.FieldError("start", "%s to %s of %s overlaps the stored bucket starting %s",
					p.Start.UTC().Format(time.RFC3339), p.Start.Add(p.Width).UTC().Format(time.RFC3339), p.SLO,
					time.UnixMicro(overlap).UTC().Format(time.RFC3339)))
			}
			if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO sli_buckets (slo, start, width, good, total, version) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (slo, start) DO UPDATE SET width = excluded.width, good = excluded.good, total = excluded.total,
					version = excluded.version`),
				p.SLO, start, int64(p.Width/time.Second), p.Good, p.Total, version); err != nil {
				return fmt.Errorf("store SLI of %s: %w", p.SLO, err)
			}
			if replaced {
				res.Replaced++
			} else {
				res.Added++
			}
		}
		return nil
	})
	if err != nil {
		return SLIResult{}, err
	}
	return res, nil
}

func indexed(i int, err error) error {
	var e *delivery.Error
	if errors.As(err, &e) {
		e.Index = i
	}
	return err
}

// SLIBuckets returns the buckets of an SLO whose start lies in [from, to),
// minutes and hourly roll-ups alike, in time order.
func (db *DB) SLIBuckets(ctx context.Context, slo string, from, to time.Time) ([]SLIBucket, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT start, 3600, good, total, left_good, left_total FROM sli_hours
			WHERE slo = ? AND start >= ? AND start < ?
		UNION ALL
		SELECT start, width, good, total, 0, 0 FROM sli_buckets
			WHERE slo = ? AND start >= ? AND start < ?
		ORDER BY 1`), slo, from.UnixMicro(), to.UnixMicro(), slo, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read SLI of %s: %w", slo, err)
	}
	bs, err := collect(rows, scanBucket)
	if err != nil {
		return nil, fmt.Errorf("read SLI of %s: %w", slo, err)
	}
	return bs, nil
}

// EachSLIBucket calls fn with the buckets of an SLO whose start lies in
// [from, to), in time order, as SLIBuckets returns them, but streamed and
// as integers: a report of one SLO reads thousands and prepares its series
// as they come, without a slice of them or a time.Time each. Each table
// is read in its primary key's order, so the database sorts nothing; the
// few hours are read first and merged with the minutes as they stream.
func (db *DB) EachSLIBucket(ctx context.Context, slo string, from, to time.Time, fn func(SLICount) error) error {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT start, good, total, left_good, left_total FROM sli_hours
		WHERE slo = ? AND start >= ? AND start < ? ORDER BY start`), slo, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return fmt.Errorf("read SLI of %s: %w", slo, err)
	}
	var hours []SLICount
	for rows.Next() {
		h := SLICount{Hour: true, Width: 3600}
		if err := rows.Scan(&h.Start, &h.Good, &h.Total, &h.LeftGood, &h.LeftTotal); err != nil {
			rows.Close()
			return fmt.Errorf("read SLI of %s: %w", slo, err)
		}
		hours = append(hours, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read SLI of %s: %w", slo, err)
	}
	rows, err = db.read.QueryContext(ctx, db.q(`SELECT start, width, good, total FROM sli_buckets
		WHERE slo = ? AND start >= ? AND start < ? ORDER BY start`), slo, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return fmt.Errorf("read SLI of %s: %w", slo, err)
	}
	defer rows.Close()
	var m SLICount
	for rows.Next() {
		if err := rows.Scan(&m.Start, &m.Width, &m.Good, &m.Total); err != nil {
			return fmt.Errorf("read SLI of %s: %w", slo, err)
		}
		for len(hours) > 0 && hours[0].Start <= m.Start {
			if err := fn(hours[0]); err != nil {
				return err
			}
			hours = hours[1:]
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read SLI of %s: %w", slo, err)
	}
	for _, h := range hours {
		if err := fn(h); err != nil {
			return err
		}
	}
	return nil
}

// RawSLIBefore returns the buckets of an SLO not yet rolled up that start
// before before, in time order: what a roll-up folds into hours.
func (db *DB) RawSLIBefore(ctx context.Context, slo string, before time.Time) ([]SLIBucket, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT start, width, good, total, 0, 0 FROM sli_buckets
		WHERE slo = ? AND start < ? ORDER BY start`), slo, before.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read SLI of %s: %w", slo, err)
	}
	bs, err := collect(rows, scanBucket)
	if err != nil {
		return nil, fmt.Errorf("read SLI of %s: %w", slo, err)
	}
	return bs, nil
}

func scanBucket(s interface{ Scan(...any) error }) (SLIBucket, error) {
	var b SLIBucket
	var start, width int64
	err := s.Scan(&start, &width, &b.Good, &b.Total, &b.LeftGood, &b.LeftTotal)
	b.Start = time.UnixMicro(start).UTC()
	b.Width = time.Duration(width) * time.Second
	return b, err
}

// RollUpSLI replaces an SLO's buckets that start before before (a whole
// hour) with hours, in one transaction. Hours already stored are added to,
// so a roll-up run twice over disjoint buckets stays exact.
//
// Only buckets before the end of the last hour given are deleted: a bucket
// pushed after the caller read what it folds, in an hour it did not fold,
// stays for the next roll-up instead of being lost. So every deleted bucket
// lies before an hour this transaction wrote, which is how a reader of
// SLIChanges learns of the deletion.
func (db *DB) RollUpSLI(ctx context.Context, slo string, before time.Time, hours []SLIBucket) error {
	return db.RollUpSLIs(ctx, []SLIRollUp{{SLO: slo, Before: before, Hours: hours}})
}

// SLIRollUp is one SLO's roll-up for RollUpSLIs: its buckets before Before
// (a whole hour) become Hours.
type SLIRollUp struct {
	SLO    string
	Before time.Time
	Hours  []SLIBucket
}

// RollUpSLIs does the roll-ups of several SLOs as RollUpSLI does each, in
// one transaction: the evaluation job rolls every SLO's oldest hour up in
// the same run, once an hour, and one commit costs less than a thousand.
func (db *DB) RollUpSLIs(ctx context.Context, rus []SLIRollUp) error {
	until := make([]time.Time, len(rus))
	for i, ru := range rus {
		if !ru.Before.Equal(ru.Before.Truncate(time.Hour)) {
			return fmt.Errorf("roll up SLI of %s: %s is not a whole hour", ru.SLO, ru.Before.Format(time.RFC3339))
		}
		for _, h := range ru.Hours {
			if !h.Start.Before(ru.Before) || h.Width != time.Hour {
				return fmt.Errorf("roll up SLI of %s: hour %s is not a whole hour before %s", ru.SLO, h.Start.Format(time.RFC3339), ru.Before.Format(time.RFC3339))
			}
			if h.End().After(until[i]) {
				until[i] = h.End()
			}
		}
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		version, err := nextSLIVersion(ctx, db, tx)
		if err != nil {
			return err
		}
		for i, ru := range rus {
			if len(ru.Hours) == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM sli_buckets WHERE slo = ? AND start < ?`), ru.SLO, until[i].UnixMicro()); err != nil {
				return fmt.Errorf("roll up SLI of %s: %w", ru.SLO, err)
			}
			for _, h := range ru.Hours {
				if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO sli_hours (slo, start, good, total, left_good, left_total, version)
					VALUES (?, ?, ?, ?, ?, ?, ?)
					ON CONFLICT (slo, start) DO UPDATE SET good = sli_hours.good + excluded.good, total = sli_hours.total + excluded.total,
						left_good = sli_hours.left_good + excluded.left_good, left_total = sli_hours.left_total + excluded.left_total,
						version = excluded.version`),
					ru.SLO, h.Start.UnixMicro(), h.Good, h.Total, h.LeftGood, h.LeftTotal, version); err != nil {
					return fmt.Errorf("roll up SLI of %s: %w", ru.SLO, err)
				}
			}
		}
		return nil
	})
}

// End returns the end of the bucket, excluded.
func (b SLIBucket) End() time.Time { return b.Start.Add(b.Width) }

// nextSLIVersion takes the version a transaction writing SLI counts stamps
// its rows with. The update locks the counter's row until the transaction
// ends, so versions follow commit order (migration 0015).
func nextSLIVersion(ctx context.Context, db *DB, tx *sql.Tx) (int64, error) {
	var v int64
	if err := tx.QueryRowContext(ctx, `UPDATE sli_version SET n = n + 1 WHERE id = 1 RETURNING n`).Scan(&v); err != nil {
		return 0, fmt.Errorf("take SLI version: %w", err)
	}
	return v, nil
}

// SLIVersion returns the version of the newest committed SLI write: every
// row SLIChanges(after v) does not return is as a read after this call
// sees it.
func (db *DB) SLIVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := db.read.QueryRowContext(ctx, `SELECT n FROM sli_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read SLI version: %w", err)
	}
	return v, nil
}

// SLIRow is a stored bucket of a named SLO: a minute (or a push of a few)
// from sli_buckets, or an hourly roll-up from sli_hours when Hour is set,
// with the version of the transaction that last wrote it.
type SLIRow struct {
	SLO  string
	Hour bool
	SLIBucket
	Version int64
}

// EachSLI calls fn with every stored bucket of every SLO: all the hours,
// then all the minutes, each in the order the table holds them (no sort:
// a full load reads millions of rows, and ordering them costs the
// database an index walk). It streams rather than returning the rows.
// Read SLIVersion before it, and SLIChanges after that version later:
// what changes meanwhile comes again there.
func (db *DB) EachSLI(ctx context.Context, fn func(SLIRow) error) error {
	for _, q := range []string{
		`SELECT slo, 1, start, 3600, good, total, left_good, left_total, version FROM sli_hours`,
		`SELECT slo, 0, start, width, good, total, 0, 0, version FROM sli_buckets`,
	} {
		if err := db.eachSLIRow(ctx, q, nil, fn); err != nil {
			return err
		}
	}
	return nil
}

// SLICount is a stored bucket as the table holds it: integers only, for
// a reader that keeps millions of them (the evaluation job's full load)
// and would otherwise turn each start into a time.Time and back.
type SLICount struct {
	Hour      bool  // an hourly roll-up from sli_hours, else a minute (or a push of a few)
	Start     int64 // unix microseconds
	Width     int64 // seconds
	Good      int64
	Total     int64
	LeftGood  int64
	LeftTotal int64
}

// EachSLICount calls fn with every stored bucket of every SLO, as
// EachSLI does (all the hours, then all the minutes, in table order), but
// reads only the columns a bucket needs and hands them over as integers.
// Consecutive rows of one SLO are given the same name string, so a caller
// can skip its lookup while the name stays the same.
func (db *DB) EachSLICount(ctx context.Context, fn func(slo string, c SLICount) error) error {
	var last string
	names := map[string]string{} // one string per SLO, not one per row
	name := func(v driver.Value) (string, error) {
		var n string
		switch v := v.(type) {
		case string:
			if v == last {
				return last, nil
			}
			n = v
		case []byte:
			if string(v) == last {
				return last, nil
			}
			n = string(v)
		default:
			return "", fmt.Errorf("read SLI: an SLO name of type %T", v)
		}
		if kept, ok := names[n]; ok {
			n = kept
		} else {
			names[n] = n
		}
		last = n
		return n, nil
	}
	hours := func(v []driver.Value) error {
		n, err := name(v[0])
		if err != nil {
			return err
		}
		c := SLICount{Hour: true, Width: 3600}
		if err := driverInts(v[1:], &c.Start, &c.Good, &c.Total, &c.LeftGood, &c.LeftTotal); err != nil {
			return err
		}
		return fn(n, c)
	}
	minutes := func(v []driver.Value) error {
		n, err := name(v[0])
		if err != nil {
			return err
		}
		var c SLICount
		if err := driverInts(v[1:], &c.Start, &c.Width, &c.Good, &c.Total); err != nil {
			return err
		}
		return fn(n, c)
	}
	if err := db.eachDriverRow(ctx, "read SLI", `SELECT slo, start, good, total, left_good, left_total FROM sli_hours`, nil, 6, hours); err != nil {
		return err
	}
	return db.eachDriverRow(ctx, "read SLI", `SELECT slo, start, width, good, total FROM sli_buckets`, nil, 5, minutes)
}

// driverInts sets each of to to its value, an integer as a driver gives it.
func driverInts(vs []driver.Value, to ...*int64) error {
	for i, p := range to {
		switch v := vs[i].(type) {
		case int64:
			*p = v
		case int32:
			*p = int64(v)
		case []byte:
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return fmt.Errorf("read SLI: %w", err)
			}
			*p = n
		default:
			return fmt.Errorf("read SLI: an integer of type %T", v)
		}
	}
	return nil
}

// SLIChanges calls fn with every bucket, minute or hour, written by a
// transaction of a version after after, in version order (hours before
// minutes within one). A minute deleted by a roll-up is not returned: a
// roll-up deletes only the minutes before the end of the newest hour it
// writes, so a reader deletes the minutes before the end of each hour it
// is given.
func (db *DB) SLIChanges(ctx context.Context, after int64, fn func(SLIRow) error) error {
	return db.eachSLIRow(ctx, db.q(`SELECT slo, 1, start, 3600, good, total, left_good, left_total, version FROM sli_hours WHERE version > ?
		UNION ALL
		SELECT slo, 0, start, width, good, total, 0, 0, version FROM sli_buckets WHERE version > ?
		ORDER BY 9, 2 DESC, 1, 3`), []any{after, after}, fn)
}

func (db *DB) eachSLIRow(ctx context.Context, query string, args []any, fn func(SLIRow) error) error {
	rows, err := db.read.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read SLI: %w", err)
	}
	defer rows.Close()
	var r SLIRow
	var name sql.RawBytes
	names := map[string]string{} // one string per SLO, not one per row
	var hour int
	var start, width int64
	for rows.Next() {
		if err := rows.Scan(&name, &hour, &start, &width, &r.Good, &r.Total, &r.LeftGood, &r.LeftTotal, &r.Version); err != nil {
			return fmt.Errorf("read SLI: %w", err)
		}
		if string(name) != r.SLO {
			n, ok := names[string(name)]
			if !ok {
				n = string(name)
				names[n] = n
			}
			r.SLO = n
		}
		r.Hour = hour == 1
		r.Start = time.UnixMicro(start).UTC()
		r.Width = time.Duration(width) * time.Second
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read SLI: %w", err)
	}
	return nil
}

// LastSLIEnd returns where an SLO's newest stored bucket ends, and false
// when none is stored: the cursor a puller resumes from.
func (db *DB) LastSLIEnd(ctx context.Context, slo string) (time.Time, bool, error) {
	var end sql.NullInt64
	err := db.read.QueryRowContext(ctx, db.q(`SELECT MAX(e) FROM (
			SELECT MAX(start + width * 1000000) AS e FROM sli_buckets WHERE slo = ?
			UNION ALL
			SELECT MAX(start) + 3600000000 FROM sli_hours WHERE slo = ?) t`), slo, slo).Scan(&end)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read SLI cursor of %s: %w", slo, err)
	}
	if !end.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMicro(end.Int64).UTC(), true, nil
}

// MaintenanceWindow is a recorded maintenance window. AnnouncedAt is the
// server's clock when it was recorded, never the client's word.
type MaintenanceWindow struct {
	ID          string
	Service     string
	From, To    time.Time
	Reason      string
	AnnouncedAt time.Time
}

// AddMaintenance records a window, stamped with the store's clock, and
// returns it as stored.
func (db *DB) AddMaintenance(ctx context.Context, m MaintenanceWindow) (MaintenanceWindow, error) {
	if err := requiredField("service", m.Service); err != nil {
		return m, err
	}
	if !m.To.After(m.From) {
		return m, delivery.FieldError("to", "is not after from")
	}
	m.AnnouncedAt = db.Now().UTC()
	var id int64
	err := db.write.QueryRowContext(ctx, db.q(`INSERT INTO maintenance (service, from_at, to_at, reason, announced_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`), m.Service, m.From.UnixMicro(), m.To.UnixMicro(), m.Reason, m.AnnouncedAt.UnixMicro()).Scan(&id)
	if err != nil {
		return m, fmt.Errorf("record maintenance of %s: %w", m.Service, err)
	}
	m.ID = strconv.FormatInt(id, 10)
	m.From, m.To = m.From.UTC(), m.To.UTC()
	return m, nil
}

// Maintenance returns the windows of service ("" for every service) that
// overlap [from, to), by start.
func (db *DB) Maintenance(ctx context.Context, service string, from, to time.Time) ([]MaintenanceWindow, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT id, service, from_at, to_at, reason, announced_at FROM maintenance
		WHERE (? = '' OR service = ?) AND to_at > ? AND from_at < ? ORDER BY from_at, id`),
		service, service, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read maintenance: %w", err)
	}
	ms, err := collect(rows, func(s interface{ Scan(...any) error }) (MaintenanceWindow, error) {
		var m MaintenanceWindow
		var id, f, t, a int64
		err := s.Scan(&id, &m.Service, &f, &t, &m.Reason, &a)
		m.ID = strconv.FormatInt(id, 10)
		m.From, m.To, m.AnnouncedAt = time.UnixMicro(f).UTC(), time.UnixMicro(t).UTC(), time.UnixMicro(a).UTC()
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("read maintenance: %w", err)
	}
	return ms, nil
}

// SLOAlert is an alert that fired or resolved.
type SLOAlert struct {
	ID       string
	SLO      string
	Service  string
	Alert    string
	Severity string
	Kind     string // fired or resolved
	Since    time.Time
	At       time.Time
	Reason   string
}

// SLOEvaluation is what one evaluation of an SLO leaves: the alert state
// for the next run and the report as JSON, and the alerts that fired or
// resolved.
type SLOEvaluation struct {
	SLO    string
	State  []byte
	Report []byte
	At     time.Time
	Alerts []SLOAlert
}

// SaveEvaluation stores an evaluation in one transaction, so the state
// and the alerts it produced are never seen apart.
func (db *DB) SaveEvaluation(ctx context.Context, e SLOEvaluation) error {
	return db.SaveEvaluations(ctx, []SLOEvaluation{e})
}

// SaveEvaluations stores the evaluations of one job run in one
// transaction: one commit a run, not one per SLO.
func (db *DB) SaveEvaluations(ctx context.Context, es []SLOEvaluation) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		for _, e := range es {
			if err := db.saveEvaluation(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

func (db *DB) saveEvaluation(ctx context.Context, tx *sql.Tx, e SLOEvaluation) error {
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO slo_state (slo, state, report, evaluated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (slo) DO UPDATE SET state = excluded.state, report = excluded.report, evaluated_at = excluded.evaluated_at`),
		e.SLO, string(e.State), string(e.Report), e.At.UnixMicro()); err != nil {
		return fmt.Errorf("store evaluation of %s: %w", e.SLO, err)
	}
	for _, a := range e.Alerts {
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO slo_alerts (slo, service, alert, severity, kind, since, at, reason)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), e.SLO, a.Service, a.Alert, a.Severity, a.Kind,
			a.Since.UnixMicro(), a.At.UnixMicro(), a.Reason); err != nil {
			return fmt.Errorf("store alert of %s: %w", e.SLO, err)
		}
	}
	return nil
}

// SLOEvaluated is the stored result of an SLO's latest evaluation.
type SLOEvaluated struct {
	SLO         string
	State       []byte
	Report      []byte
	EvaluatedAt time.Time
}

// Evaluations returns the latest evaluation of each SLO of service ("" for
// every service), by SLO name. An SLO not yet evaluated has none.
func (db *DB) Evaluations(ctx context.Context, service string) ([]SLOEvaluated, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT e.slo, e.state, e.report, e.evaluated_at FROM slo_state e
		JOIN slos s ON s.name = e.slo WHERE ? = '' OR s.service = ? ORDER BY e.slo`), service, service)
	if err != nil {
		return nil, fmt.Errorf("read SLO evaluations: %w", err)
	}
	es, err := collect(rows, func(s interface{ Scan(...any) error }) (SLOEvaluated, error) {
		var e SLOEvaluated
		var state, report string
		var at int64
		err := s.Scan(&e.SLO, &state, &report, &at)
		e.State, e.Report, e.EvaluatedAt = []byte(state), []byte(report), time.UnixMicro(at).UTC()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("read SLO evaluations: %w", err)
	}
	return es, nil
}

// SLOAlerts returns the recorded alerts of service ("" for every service)
// at or after since, newest first, at most limit.
func (db *DB) SLOAlerts(ctx context.Context, service string, since time.Time, limit int) ([]SLOAlert, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT id, slo, service, alert, severity, kind, since, at, reason FROM slo_alerts
		WHERE (? = '' OR service = ?) AND at >= ? ORDER BY at DESC, id DESC LIMIT ?`), service, service, since.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("read SLO alerts: %w", err)
	}
	as, err := collect(rows, func(s interface{ Scan(...any) error }) (SLOAlert, error) {
		var a SLOAlert
		var id, since, at int64
		err := s.Scan(&id, &a.SLO, &a.Service, &a.Alert, &a.Severity, &a.Kind, &since, &at, &a.Reason)
		a.ID = strconv.FormatInt(id, 10)
		a.Since, a.At = time.UnixMicro(since).UTC(), time.UnixMicro(at).UTC()
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("read SLO alerts: %w", err)
	}
	return as, nil
}
