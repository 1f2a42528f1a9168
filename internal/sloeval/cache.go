package sloeval

import (
	"context"
	"slices"
	"time"

	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/store"
)

// counts is the evaluation job's copy of one SLO's stored buckets: its
// hourly roll-ups and its minutes (or pushes of a few minutes), each in
// start order. Values are compact (unix microseconds as stored, no
// time.Time) because a
// thousand SLOs with 30 days each keep some six million of them.
type counts struct {
	hours   []hourCount
	minutes []minuteCount

	// The series prepared from these counts at the last run, kept so the
	// next run only appends the minutes that came after it: it holds the
	// buckets starting in [from, to), for the definition def and the
	// maintenance windows ms. dirty is set when a row before to changed.
	sr       *slo.Series
	def      string
	from, to int64
	ms       []slo.Maintenance
	dirty    bool
}

type hourCount struct{ start, good, total, leftGood, leftTotal int64 }

type minuteCount struct {
	start       int64
	width       int64 // seconds
	good, total int64
}

// sliCache mirrors sli_hours and sli_buckets of every SLO in memory. It is
// loaded once in full and then advanced with the rows written since the
// version it last saw (store.SLIChanges), so a run reads the few rows
// pushed in the last minute instead of 30 days of rows per SLO. A late or
// repeated push for an old minute is a row of a new version like any
// other, and replaces the minute it names; a roll-up comes as its hours,
// each of which deletes the minutes before its end, as the roll-up did in
// the store. A process that starts (a restart, another replica) loads in
// full.
type sliCache struct {
	loaded  bool
	version int64
	slos    map[string]*counts
	// How many series runs took over and prepared again, for tests.
	reused, rebuilt int
}

// refresh brings the cache up to what the store holds now.
func (c *sliCache) refresh(ctx context.Context, db *store.DB) error {
	if !c.loaded {
		return c.load(ctx, db)
	}
	newest := c.version
	err := db.SLIChanges(ctx, c.version, func(r store.SLIRow) error {
		c.apply(r)
		newest = max(newest, r.Version)
		return nil
	})
	if err != nil {
		return err
	}
	c.version = newest
	return nil
}

// load reads every stored bucket. The version is read first: a row
// written while the load reads comes again from SLIChanges, and applying a
// row twice leaves what applying it once does.
func (c *sliCache) load(ctx context.Context, db *store.DB) error {
	v, err := db.SLIVersion(ctx)
	if err != nil {
		return err
	}
	c.slos = map[string]*counts{}
	// The rows come in table order: append, then sort each SLO's rows once
	// (a no-op pass where the table already holds them in order). The
	// store holds no minute before the end of a stored hour (a roll-up
	// deletes them, a push there is refused), so the hours delete nothing.
	// The store gives the rows as integers and one name string per SLO,
	// so a row costs neither a time.Time nor, while the SLO stays the
	// same, a map lookup.
	var last string
	var sc *counts
	if err := db.EachSLICount(ctx, func(name string, r store.SLICount) error {
		if sc == nil || name != last {
			if sc = c.slos[name]; sc == nil {
				sc = &counts{}
				c.slos[name] = sc
			}
			last = name
		}
		if r.Hour {
			sc.hours = append(sc.hours, hourCount{r.Start, r.Good, r.Total, r.LeftGood, r.LeftTotal})
		} else {
			sc.minutes = append(sc.minutes, minuteCount{r.Start, r.Width, r.Good, r.Total})
		}
		return nil
	}); err != nil {
		c.slos = nil
		return err
	}
	for _, sc := range c.slos {
		if !slices.IsSortedFunc(sc.hours, func(a, b hourCount) int { return cmp64(a.start, b.start) }) {
			slices.SortFunc(sc.hours, func(a, b hourCount) int { return cmp64(a.start, b.start) })
		}
		if !slices.IsSortedFunc(sc.minutes, func(a, b minuteCount) int { return cmp64(a.start, b.start) }) {
			slices.SortFunc(sc.minutes, func(a, b minuteCount) int { return cmp64(a.start, b.start) })
		}
	}
	c.loaded, c.version = true, v
	return nil
}

// rows returns how many buckets the cache holds.
func (c *sliCache) rows() int {
	n := 0
	for _, sc := range c.slos {
		n += len(sc.hours) + len(sc.minutes)
	}
	return n
}

// apply sets one stored row in the cache. Rows of an SLO mostly come in
// start order (a full load, the newest minutes), which appends.
func (c *sliCache) apply(r store.SLIRow) {
	sc := c.slos[r.SLO]
	if sc == nil {
		sc = &counts{}
		c.slos[r.SLO] = sc
	}
	start := r.Start.UnixMicro()
	if start < sc.to {
		sc.dirty = true
	}
	if r.Hour {
		h := hourCount{start, r.Good, r.Total, r.LeftGood, r.LeftTotal}
		sc.hours = upsert(sc.hours, h, func(h hourCount) int64 { return h.start })
		// The roll-up that wrote this hour deleted the minutes before its
		// end (store.RollUpSLI).
		end := start + time.Hour.Microseconds()
		k, _ := slices.BinarySearchFunc(sc.minutes, end, func(m minuteCount, t int64) int { return cmp64(m.start, t) })
		if k > 0 {
			sc.minutes = slices.Delete(sc.minutes, 0, k)
		}
		return
	}
	m := minuteCount{start, int64(r.Width / time.Second), r.Good, r.Total}
	sc.minutes = upsert(sc.minutes, m, func(m minuteCount) int64 { return m.start })
}

// upsert puts v into xs, sorted by key, replacing the element of its key.
func upsert[T any](xs []T, v T, key func(T) int64) []T {
	k := key(v)
	if n := len(xs); n == 0 || key(xs[n-1]) < k {
		return append(xs, v)
	}
	i, found := slices.BinarySearchFunc(xs, k, func(x T, t int64) int { return cmp64(key(x), t) })
	if found {
		xs[i] = v
		return xs
	}
	return slices.Insert(xs, i, v)
}

func cmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// series returns what Series would load from the store for s at now:
// the buckets starting in [loadFrom, now), hours and minutes in start
// order, with the maintenance windows ms (those of the service overlapping
// that span, in the store's order). def is the SLO's stored definition.
//
// When nothing before the last run's end changed, no bucket left the
// front of the span, and the definition and maintenance are the same, the
// series of the last run is given the buckets since, in order: Append on
// the same buckets in the same order is NewSeries, so it is the series a
// fresh load would make. Otherwise the series is prepared again from the
// cached counts: once an hour, when the oldest hour leaves a 30-day
// window, or after a late push or a roll-up.
func (c *sliCache) series(s slo.SLO, def string, now time.Time, ms []slo.Maintenance) (*slo.Series, error) {
	from, to := loadFrom(s, now).UnixMicro(), now.UnixMicro()
	sc := c.slos[s.Name]
	if sc == nil {
		sc = &counts{}
		c.slos[s.Name] = sc
	}
	if sc.sr != nil && !sc.dirty && sc.def == def && to >= sc.to && from >= sc.from &&
		sc.none(sc.from, from) && slices.EqualFunc(sc.ms, ms, sameMaintenance) {
		c.reused++
		return sc.sr, sc.appendTo(sc.sr, sc.to, to)
	}
	if sc.sr == nil {
		sc.sr = &slo.Series{}
	}
	sc.sr.Reset(s, ms)
	sc.def, sc.from, sc.to, sc.ms, sc.dirty = def, from, to, slices.Clone(ms), false
	c.rebuilt++
	return sc.sr, sc.appendTo(sc.sr, from, to)
}

// appendTo appends the buckets starting in [from, to) to sr, in start
// order, and records to as the series' end.
func (sc *counts) appendTo(sr *slo.Series, from, to int64) error {
	hi, mi := sc.index(from)
	for {
		hourNext := hi < len(sc.hours) && sc.hours[hi].start < to
		minuteNext := mi < len(sc.minutes) && sc.minutes[mi].start < to
		var b slo.Bucket
		switch {
		case hourNext && (!minuteNext || sc.hours[hi].start <= sc.minutes[mi].start):
			h := sc.hours[hi]
			b = slo.Bucket{Start: time.UnixMicro(h.start).UTC(), Width: time.Hour, Good: h.good, Total: h.total, LeftGood: h.leftGood, LeftTotal: h.leftTotal}
			hi++
		case minuteNext:
			m := sc.minutes[mi]
			b = slo.Bucket{Start: time.UnixMicro(m.start).UTC(), Width: time.Duration(m.width) * time.Second, Good: m.good, Total: m.total}
			mi++
		default:
			sc.to = to
			return nil
		}
		if err := sr.Append(b); err != nil {
			sc.sr = nil // half built: prepare it again next time
			return err
		}
	}
}

// index returns the first hour and the first minute starting at or after t.
func (sc *counts) index(t int64) (hour, minute int) {
	hour, _ = slices.BinarySearchFunc(sc.hours, t, func(h hourCount, t int64) int { return cmp64(h.start, t) })
	minute, _ = slices.BinarySearchFunc(sc.minutes, t, func(m minuteCount, t int64) int { return cmp64(m.start, t) })
	return hour, minute
}

// none reports whether no bucket starts in [from, to).
func (sc *counts) none(from, to int64) bool {
	h0, m0 := sc.index(from)
	h1, m1 := sc.index(to)
	return h0 == h1 && m0 == m1
}

func sameMaintenance(a, b slo.Maintenance) bool {
	return a.Service == b.Service && a.From.Equal(b.From) && a.To.Equal(b.To) && a.Reason == b.Reason && a.AnnouncedAt.Equal(b.AnnouncedAt)
}

// firstRaw returns the start of the SLO's oldest minute, false if it has
// none.
func (c *sliCache) firstRaw(name string) (time.Time, bool) {
	sc := c.slos[name]
	if sc == nil || len(sc.minutes) == 0 {
		return time.Time{}, false
	}
	return time.UnixMicro(sc.minutes[0].start).UTC(), true
}

// rawBefore returns the SLO's minutes starting before t, which a roll-up
// to t folds, as the store's RawSLIBefore would.
func (c *sliCache) rawBefore(name string, t time.Time) []slo.Bucket {
	sc := c.slos[name]
	if sc == nil {
		return nil
	}
	var out []slo.Bucket
	for _, m := range sc.minutes {
		if m.start >= t.UnixMicro() {
			break
		}
		out = append(out, slo.Bucket{Start: time.UnixMicro(m.start).UTC(), Width: time.Duration(m.width) * time.Second, Good: m.good, Total: m.total})
	}
	return out
}
