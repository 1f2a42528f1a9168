package incident

import "slices"

// These follow the "Statistics" definitions of docs/metrics.md. The dora
// package has the same two figures (medianP90, p90Rank) but unexported; they
// should move to one shared pure package so that the definitions live once.
// Until then this sorts, which is plenty for the incidents of a period.

// summarize sorts v (durations in nanoseconds) and returns its figure.
func summarize(v []int64) Summary {
	n := len(v)
	if n == 0 {
		return Summary{}
	}
	slices.Sort(v)
	med := float64(v[n/2])
	if n%2 == 0 {
		med = (float64(v[n/2-1]) + float64(v[n/2])) / 2
	}
	p90 := float64(v[(9*n+9)/10-1])
	return Summary{Median: ptr(med / 1e9), P90: ptr(p90 / 1e9), Count: n}
}

func ptr[T any](v T) *T { return &v }
