package dora

import (
	"math/bits"
	"slices"
)

// medianP90 reorders v and returns its median (the mean of the two middle
// values when the count is even) and its nearest-rank p90 (the ⌈0.9·n⌉-th
// smallest value). Values are nanoseconds; ok is false for an empty slice,
// which has no median: empty is not zero. It selects rather than sorts, in
// linear time, because a year of changes is hundreds of thousands of values
// and the report has a budget of 100 ms.
func medianP90(v []int64) (median, p90 float64, ok bool) {
	n := len(v)
	if n == 0 {
		return 0, 0, false
	}
	mid := n / 2
	selectNth(v, mid)
	median = float64(v[mid])
	if n%2 == 0 {
		// v[:mid] holds the mid smallest values; the largest is the lower
		// middle. Adding in float64 cannot overflow.
		median = (float64(slices.Max(v[:mid])) + median) / 2
	}
	r := p90Rank(n) - 1 // ≥ mid for every n ≥ 1
	selectNth(v[mid:], r-mid)
	return median, float64(v[r]), true
}

// selectNth reorders v so that v[k] is the value a sort would put there,
// with no greater value before it and no smaller one after. It is
// quickselect with a median-of-three pivot; past 2·log₂n rounds (an input
// built to defeat the pivot) it sorts what is left, so it stays O(n log n)
// at worst.
func selectNth(v []int64, k int) {
	budget := 2 * bits.Len(uint(len(v)))
	lo, hi := 0, len(v)-1
	for hi-lo > 16 {
		if budget == 0 {
			slices.Sort(v[lo : hi+1])
			return
		}
		budget--
		// Median of three to v[lo], then Hoare partition around it.
		m := lo + (hi-lo)/2
		if v[m] < v[lo] {
			v[m], v[lo] = v[lo], v[m]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[m] {
			v[hi], v[m] = v[m], v[hi]
		}
		pivot := v[m]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		// Now v[lo..j] ≤ pivot ≤ v[i..hi], and any v[j+1..i-1] equal it.
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
	slices.Sort(v[lo : hi+1])
}

// medianSorted is the median of an ascending, non-empty slice.
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
