package slo

import (
	"fmt"
	"slices"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Bucket is the good and total call counts of one SLO over [Start,
// Start+Width): a minute as pushed or pulled, or an hourly roll-up.
//
// LeftGood and LeftTotal are calls Rollup already left out for scheduled
// maintenance, so a roll-up only partly inside a maintenance window is
// exact and its left-out calls are still reported.
type Bucket struct {
	Start     time.Time     `json:"start"`
	Width     time.Duration `json:"width"`
	Good      int64         `json:"good"`
	Total     int64         `json:"total"`
	LeftGood  int64         `json:"left_good,omitempty"`
	LeftTotal int64         `json:"left_total,omitempty"`
}

// Bad returns the calls that were not good.
func (b Bucket) Bad() int64 { return b.Total - b.Good }

// End returns the end of the bucket, excluded.
func (b Bucket) End() time.Time { return b.Start.Add(b.Width) }

// AnnounceAhead is how long before its start a maintenance window must be
// announced to count as scheduled (docs/metrics.md: at least 7 days).
const AnnounceAhead = 7 * 24 * time.Hour

// Maintenance is a maintenance window of a service. Calls inside it are
// left out of good and total when it was announced at least AnnounceAhead
// before From; a later announcement is recorded and shown but changes
// nothing.
type Maintenance struct {
	Service     string    `json:"service"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Reason      string    `json:"reason"`
	AnnouncedAt time.Time `json:"announced_at"`
}

// Scheduled reports whether the window was announced early enough to be
// left out of the SLI.
func (m Maintenance) Scheduled() bool { return m.From.Sub(m.AnnouncedAt) >= AnnounceAhead }

// Validate checks a maintenance window before it is stored.
func (m Maintenance) Validate() error {
	switch {
	case m.Service == "":
		return delivery.FieldError("service", "is required")
	case m.From.IsZero():
		return delivery.FieldError("from", "is required")
	case !m.To.After(m.From):
		return delivery.FieldError("to", "%s is not after from", m.To.Format(time.RFC3339))
	case m.AnnouncedAt.IsZero():
		return delivery.FieldError("announced_at", "is required")
	}
	return nil
}

// Series is an SLO's counts prepared for evaluation: buckets in time order
// with prefix sums, so the counts of any window cost two binary searches
// however many minutes it spans. For Timeslices SLOs the buckets are time
// slices, each counting 1 when its ratio met the slice target (or its
// width in slices for a roll-up coarser than a slice).
//
// A Series is not safe for concurrent use: the job that appends to it
// owns it, and hands reports, not the series, to readers.
//
// The caller gives minute buckets where window edges fall (at least the
// last 3 days, the longest alert window) and hourly roll-ups for older
// data; a bucket counts in a window when its start lies inside it.
type Series struct {
	slo        SLO
	start, end []int64 // unix seconds
	// cumGood[i], cumTotal[i] and cumCalls[i] sum buckets [0, i). Calls are
	// the raw calls behind a bucket, equal to Total for Occurrences.
	cumGood, cumTotal, cumCalls []int64
	maintenance                 []maintenanceUse
	partial                     []string // maintenance that overlaps a coarse bucket it cannot split
	// The raw counts of the last, possibly unfinished, time slice.
	sliceGood, sliceTotal int64
	// lastEnd is where the last raw bucket given to Append ended.
	appended bool
	lastEnd  int64
	// runFrom is the first bucket of the newest run of back-to-back buckets
	// runStep seconds wide, which index finds without searching.
	runFrom int
	runStep int64
	// coarseEnd is where the last roll-up wider than a minute (or a time
	// slice) ended; alert windows after it are exact.
	coarseEnd time.Time
}

type maintenanceUse struct {
	Maintenance
	left []Bucket // raw buckets left out of the SLI
}

// NewSeries prepares buckets (in any order, not overlapping) for the SLO,
// leaving out calls inside the service's scheduled maintenance windows;
// windows of other services are ignored.
func NewSeries(s SLO, buckets []Bucket, maintenance []Maintenance) (*Series, error) {
	sr := &Series{}
	sr.Reset(s, maintenance)
	sorted := slices.Clone(buckets)
	slices.SortFunc(sorted, func(a, b Bucket) int { return a.Start.Compare(b.Start) })
	for _, b := range sorted {
		if err := sr.Append(b); err != nil {
			return nil, err
		}
	}
	return sr, nil
}

// Reset empties the series for the SLO and the service's maintenance
// windows, as NewSeries without buckets would, but keeps the memory it
// holds: a job that prepares a thousand series a minute prepares each in
// the last one's arrays instead of growing new ones.
func (sr *Series) Reset(s SLO, maintenance []Maintenance) {
	*sr = Series{
		slo:      s,
		start:    sr.start[:0],
		end:      sr.end[:0],
		cumGood:  append(sr.cumGood[:0], 0),
		cumTotal: append(sr.cumTotal[:0], 0),
		cumCalls: append(sr.cumCalls[:0], 0),
	}
	for _, m := range maintenance {
		if m.Service == s.Service {
			sr.maintenance = append(sr.maintenance, maintenanceUse{Maintenance: m})
		}
	}
}

// Append adds a bucket after the last one, so a job can keep a series in
// memory and add each new minute in constant time.
func (sr *Series) Append(b Bucket) error {
	switch {
	case b.Width <= 0:
		return delivery.FieldError("width", "bucket at %s has no width", b.Start.Format(time.RFC3339))
	case b.Total < 0 || b.Good < 0 || b.Good > b.Total:
		return delivery.FieldError("good", "bucket at %s: good %d and total %d are not 0 ≤ good ≤ total", b.Start.Format(time.RFC3339), b.Good, b.Total)
	}
	if sr.appended && b.Start.Unix() < sr.lastEnd {
		return delivery.FieldError("start", "bucket at %s overlaps the one before it", b.Start.Format(time.RFC3339))
	}
	sr.appended, sr.lastEnd = true, b.End().Unix()
	if b.Width > time.Minute && b.Width > sr.slo.SliceWindow {
		sr.coarseEnd = b.End()
	}
	if sr.leaveOut(b) {
		return nil
	}
	if sr.slo.Method == Timeslices {
		sr.appendSlice(b)
		return nil
	}
	sr.push(b.Start.Unix(), b.End().Unix(), b.Good, b.Total, b.Total)
	return nil
}

func (sr *Series) push(start, end, good, total, calls int64) {
	n := len(sr.start)
	if !(sr.runFrom < n && start == sr.end[n-1] && end-start == sr.runStep) {
		sr.runFrom, sr.runStep = n, end-start
	}
	sr.start = append(sr.start, start)
	sr.end = append(sr.end, end)
	sr.cumGood = append(sr.cumGood, sr.cumGood[n]+good)
	sr.cumTotal = append(sr.cumTotal, sr.cumTotal[n]+total)
	sr.cumCalls = append(sr.cumCalls, sr.cumCalls[n]+calls)
}

// leaveOut records and drops a bucket that lies wholly inside a scheduled
// maintenance window. A coarse bucket only partly inside is kept, with a
// warning, since its calls cannot be split.
func (sr *Series) leaveOut(b Bucket) bool {
	for i := range sr.maintenance {
		m := &sr.maintenance[i]
		if !m.Scheduled() || !b.Start.Before(m.To) || !b.End().After(m.From) {
			continue
		}
		if !b.Start.Before(m.From) && !b.End().After(m.To) {
			m.left = append(m.left, Bucket{Start: b.Start, Width: b.Width, Good: b.Good + b.LeftGood, Total: b.Total + b.LeftTotal})
			return true
		}
		if b.LeftTotal > 0 {
			// Rollup took the window's minutes out already.
			m.left = append(m.left, Bucket{Start: b.Start, Width: b.Width, Good: b.LeftGood, Total: b.LeftTotal})
			continue
		}
		sr.partial = append(sr.partial, fmt.Sprintf("the bucket at %s (%s) is only partly inside the maintenance window from %s: its calls count",
			b.Start.UTC().Format(time.RFC3339), b.Width, m.From.UTC().Format(time.RFC3339)))
	}
	return false
}

// appendSlice folds a bucket into time slices. Buckets inside one slice are
// added up and the slice judged again; a bucket as wide as several slices
// is judged as a whole and counts as that many slices.
func (sr *Series) appendSlice(b Bucket) {
	w := int64(sr.slo.SliceWindow / time.Second)
	start := b.Start.Unix()
	sliceStart := start - mod(start, w)
	good := func(g, t int64) bool { return t > 0 && atLeast(g, t, sr.slo.SliceTarget) }
	if b.Width/time.Second >= time.Duration(w) {
		k := int64(b.Width/time.Second) / w
		var g int64
		if good(b.Good, b.Total) {
			g = k
		}
		if b.Total > 0 {
			sr.push(start, b.End().Unix(), g, k, b.Total)
		}
		sr.sliceGood, sr.sliceTotal = 0, 0
		return
	}
	n := len(sr.start)
	if n > 0 && sr.start[n-1] == sliceStart && sr.end[n-1]-sr.start[n-1] == w {
		// The same slice again: undo it and judge it with the new calls.
		sr.start, sr.end = sr.start[:n-1], sr.end[:n-1]
		sr.cumGood, sr.cumTotal, sr.cumCalls = sr.cumGood[:n], sr.cumTotal[:n], sr.cumCalls[:n]
	} else {
		sr.sliceGood, sr.sliceTotal = 0, 0
	}
	sr.sliceGood += b.Good
	sr.sliceTotal += b.Total
	if sr.sliceTotal == 0 {
		return // a slice without calls is neither good nor bad
	}
	var g int64
	if good(sr.sliceGood, sr.sliceTotal) {
		g = 1
	}
	sr.push(sliceStart, sliceStart+w, g, 1, sr.sliceTotal)
}

func mod(a, b int64) int64 { return ((a % b) + b) % b }

// Counts are the good and total of a window. For Timeslices they count
// slices; Calls is always the calls behind them.
type Counts struct {
	Good  int64 `json:"good"`
	Total int64 `json:"total"`
	Calls int64 `json:"calls"`
}

// Bad returns Total − Good.
func (c Counts) Bad() int64 { return c.Total - c.Good }

// Sum returns the counts of the buckets starting in [from, to).
func (sr *Series) Sum(from, to time.Time) Counts {
	i, j := sr.index(from.Unix()), sr.index(to.Unix())
	if j < i {
		j = i
	}
	return Counts{
		Good:  sr.cumGood[j] - sr.cumGood[i],
		Total: sr.cumTotal[j] - sr.cumTotal[i],
		Calls: sr.cumCalls[j] - sr.cumCalls[i],
	}
}

// index returns the first bucket starting at or after t (unix seconds).
// Inside the newest run of back-to-back buckets of one width (the minutes
// of the last days) it is arithmetic; before it, a binary search.
func (sr *Series) index(t int64) int {
	n := len(sr.start)
	if sr.runFrom < n {
		if t0 := sr.start[sr.runFrom]; t > t0 {
			return min(n, sr.runFrom+int((t-t0+sr.runStep-1)/sr.runStep))
		}
	}
	i, _ := slices.BinarySearch(sr.start, t)
	return i
}

// Len returns the number of buckets (slices for Timeslices) kept.
func (sr *Series) Len() int { return len(sr.start) }

// bucket returns the i-th kept bucket with its counts.
func (sr *Series) bucket(i int) Bucket {
	return Bucket{
		Start: time.Unix(sr.start[i], 0).UTC(),
		Width: time.Duration(sr.end[i]-sr.start[i]) * time.Second,
		Good:  sr.cumGood[i+1] - sr.cumGood[i],
		Total: sr.cumTotal[i+1] - sr.cumTotal[i],
	}
}

// first and last return the span of the data, ok false when there is none.
func (sr *Series) span() (first, last time.Time, ok bool) {
	if len(sr.start) == 0 {
		return time.Time{}, time.Time{}, false
	}
	return time.Unix(sr.start[0], 0).UTC(), time.Unix(sr.end[len(sr.end)-1], 0).UTC(), true
}

// Rollup adds buckets (minutes, in time order or not) up into buckets of
// width aligned to the Unix epoch (whole UTC hours for time.Hour), as the
// store keeps them for long windows. Minutes inside the SLO service's
// scheduled maintenance are left out of good and total and counted in
// LeftGood and LeftTotal instead, so the roll-up stays exact when a window
// covers part of it. Maintenance must therefore be recorded before its
// minutes are rolled up, which a 7-day announcement guarantees.
func Rollup(s SLO, buckets []Bucket, maintenance []Maintenance, width time.Duration) []Bucket {
	w := int64(width / time.Second)
	var scheduled []Maintenance
	for _, m := range maintenance {
		if m.Service == s.Service && m.Scheduled() {
			scheduled = append(scheduled, m)
		}
	}
	byStart := map[int64]*Bucket{}
	var starts []int64
	for _, b := range buckets {
		t := b.Start.Unix()
		t -= mod(t, w)
		out, ok := byStart[t]
		if !ok {
			out = &Bucket{Start: time.Unix(t, 0).UTC(), Width: width}
			byStart[t] = out
			starts = append(starts, t)
		}
		inside := slices.ContainsFunc(scheduled, func(m Maintenance) bool {
			return !b.Start.Before(m.From) && !b.End().After(m.To)
		})
		if inside {
			out.LeftGood += b.Good + b.LeftGood
			out.LeftTotal += b.Total + b.LeftTotal
		} else {
			out.Good += b.Good
			out.Total += b.Total
			out.LeftGood += b.LeftGood
			out.LeftTotal += b.LeftTotal
		}
	}
	slices.Sort(starts)
	out := make([]Bucket, len(starts))
	for i, t := range starts {
		out[i] = *byStart[t]
	}
	return out
}
