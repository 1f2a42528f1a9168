package slo

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestIndexAgreesWithABinarySearch checks the arithmetic shortcut of the
// newest run of buckets against a plain search, on series of hourly
// roll-ups, minutes, gaps and time slices.
func TestIndexAgreesWithABinarySearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, method := range []Method{Occurrences, Timeslices} {
		s := rolling("x", Fraction{99, 100}, 30*day)
		if method == Timeslices {
			s.Method, s.SliceTarget, s.SliceWindow = Timeslices, Fraction{9, 10}, 5*time.Minute
		}
		for trial := 0; trial < 50; trial++ {
			var buckets []Bucket
			at := now.Add(-10 * day)
			for len(buckets) < 300 {
				w := time.Minute
				switch rng.IntN(10) {
				case 0:
					w = time.Hour
				case 1:
					at = at.Add(time.Duration(rng.IntN(90)) * time.Minute) // a gap
				}
				total := int64(rng.IntN(3)) * 10 // some empty buckets
				buckets = append(buckets, Bucket{Start: at, Width: w, Good: total - int64(rng.IntN(2)), Total: total})
				if total == 0 {
					buckets[len(buckets)-1].Good = 0
				}
				at = at.Add(w)
			}
			sr := mustSeries(t, s, buckets, nil)
			lo, hi := buckets[0].Start.Add(-time.Hour).Unix(), at.Add(time.Hour).Unix()
			for q := lo; q <= hi; q += 17 {
				want, _ := slices.BinarySearch(sr.start, q)
				if got := sr.index(q); got != want {
					t.Fatalf("%s trial %d: index(%d) = %d, want %d", method, trial, q, got, want)
				}
			}
		}
	}
}
