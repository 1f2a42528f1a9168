package dora

import "slices"

// medianP90 sorts v in place and returns its median (the mean of the two
// middle values when the count is even) and its nearest-rank p90 (the
// ⌈0.9·n⌉-th smallest value). Values are nanoseconds; ok is false for an
// empty slice, which has no median: empty is not zero.
func medianP90(v []int64) (median, p90 float64, ok bool) {
	n := len(v)
	if n == 0 {
		return 0, 0, false
	}
	slices.Sort(v)
	return medianSorted(v), float64(v[p90Rank(n)-1]), true
}

// medianSorted is the median of an ascending, non-empty slice. The mean of
// two middle values is taken in float64 so that two large int64 durations
// cannot overflow when added.
func medianSorted[T int64 | int](v []T) float64 {
	n := len(v)
	if n%2 == 1 {
		return float64(v[n/2])
	}
	return (float64(v[n/2-1]) + float64(v[n/2])) / 2
}

// p90Rank is ⌈0.9·n⌉ in integer arithmetic, so that no float rounding can
// move the rank at exact multiples of ten.
func p90Rank(n int) int {
	return (9*n + 9) / 10
}

// seconds converts nanoseconds to seconds for the report.
func seconds(nanos float64) float64 { return nanos / 1e9 }

// ptr returns a pointer to v, for figures that are null when there is no data.
func ptr[T any](v T) *T { return &v }
