package flow

import (
	"slices"
	"time"
)

// DurationStat summarises durations. Seconds rather than Go durations keep
// the JSON readable by any client; the median is fractional when the count
// is even and the two middle values differ by an odd number of seconds.
type DurationStat struct {
	MedianSeconds float64 `json:"median_seconds"`
	P90Seconds    float64 `json:"p90_seconds"`
	Count         int     `json:"count"`
}

// CountStat summarises integer quantities such as lines changed. The median
// is a float64 for the same reason as DurationStat's.
type CountStat struct {
	Median float64 `json:"median"`
	P90    float64 `json:"p90"`
	Count  int     `json:"count"`
}

// median sorts v in place and returns its median, the mean of the two
// middle values when len(v) is even. v must not be empty.
func median(v []int64) float64 {
	n := len(v)
	if n%2 == 1 {
		return float64(v[n/2])
	}
	a, b := v[n/2-1], v[n/2]
	// a + (b-a)/2 cannot overflow where (a+b)/2 could; the half that
	// integer division drops is added back in floating point.
	return float64(a+(b-a)/2) + float64((b-a)%2)/2
}

// p90 returns the nearest-rank 90th percentile of the sorted v: its
// ⌈0.9·n⌉-th smallest value. The rank is computed in integers,
// ⌈9n/10⌉ = ⌊(9n+9)/10⌋, so it is exact by construction rather than by the
// luck of floating-point rounding.
func p90(v []int64) int64 {
	rank := (9*len(v) + 9) / 10
	return v[rank-1]
}

// durationStat returns nil for no values, the "no data" of docs/metrics.md.
func durationStat(v []int64) *DurationStat {
	if len(v) == 0 {
		return nil
	}
	slices.Sort(v)
	return &DurationStat{
		MedianSeconds: median(v) / float64(time.Second),
		P90Seconds:    time.Duration(p90(v)).Seconds(),
		Count:         len(v),
	}
}

func countStat(v []int64) *CountStat {
	if len(v) == 0 {
		return nil
	}
	slices.Sort(v)
	return &CountStat{Median: median(v), P90: float64(p90(v)), Count: len(v)}
}
