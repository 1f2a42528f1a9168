package flow

import (
	"testing"
	"time"
)

func TestStatistics(t *testing.T) {
	tests := []struct {
		name   string
		values []int64 // given unsorted on purpose: the helpers sort
		median float64
		p90    float64
	}{
		// n=1: the only value is both.
		{"one value is its own median and p90", []int64{7}, 7, 7},
		// n=2: median (3+4)/2 = 3.5; p90 rank ⌈1.8⌉ = 2 → 4.
		{"two values average in the median", []int64{4, 3}, 3.5, 4},
		// n=3: median is the 2nd = 5; p90 rank ⌈2.7⌉ = 3 → 9.
		{"an odd count takes the middle value", []int64{9, 1, 5}, 5, 9},
		// n=4: median (2+3)/2 = 2.5; p90 rank ⌈3.6⌉ = 4 → 100.
		{"an even count averages the two middle values", []int64{100, 3, 1, 2}, 2.5, 100},
		// n=10 (1..10): median (5+6)/2 = 5.5; p90 rank ⌈9⌉ = 9 → 9.
		{"ten values take the ninth as p90", seq(10), 5.5, 9},
		// n=11 (1..11): median 6th = 6; p90 rank ⌈9.9⌉ = 10 → 10.
		{"eleven values take the tenth as p90", seq(11), 6, 10},
		// n=30 (1..30): median (15+16)/2 = 15.5; p90 rank ⌈27⌉ = 27 → 27
		// (a rank that lands on a whole number is not rounded up).
		{"thirty values take the 27th as p90", seq(30), 15.5, 27},
		// Equal values: median and p90 are that value.
		{"ties", []int64{2, 2, 2, 2}, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := countStat(append([]int64(nil), tt.values...))
			if c == nil || c.Median != tt.median || c.P90 != tt.p90 || c.Count != len(tt.values) {
				t.Fatalf("countStat(%v) = %+v, want median %v p90 %v count %d", tt.values, c, tt.median, tt.p90, len(tt.values))
			}
			// The same values as seconds give the same figures in seconds.
			secs := make([]int64, len(tt.values))
			for i, v := range tt.values {
				secs[i] = v * int64(time.Second)
			}
			d := durationStat(secs)
			if d == nil || d.MedianSeconds != tt.median || d.P90Seconds != tt.p90 || d.Count != len(tt.values) {
				t.Fatalf("durationStat = %+v, want median %v p90 %v", d, tt.median, tt.p90)
			}
		})
	}
	t.Run("no values give no figure, not zero", func(t *testing.T) {
		if d := durationStat(nil); d != nil {
			t.Errorf("durationStat(nil) = %+v, want nil", d)
		}
		if c := countStat(nil); c != nil {
			t.Errorf("countStat(nil) = %+v, want nil", c)
		}
	})
	t.Run("the median of two huge durations does not overflow", func(t *testing.T) {
		// (max + max-1)/2 would overflow int64 when added first.
		const m = int64(^uint64(0) >> 1)
		if got := median([]int64{m - 1, m}); got != float64(m-1)+0.5 {
			t.Errorf("median = %v", got)
		}
	})
}

// seq returns 1..n in descending order.
func seq(n int) []int64 {
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(n - i)
	}
	return v
}
