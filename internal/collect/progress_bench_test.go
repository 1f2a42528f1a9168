package collect

import (
	"testing"
	"time"
)

// BenchmarkTrackerPage measures what counting a page costs a collector:
// the tracker's update with a report callback, against the reference of
// reading the client's stats alone (which every update does), measured in
// the same run. A page costs a request of tens of milliseconds; this is to
// show the count adds nothing worth noticing.
func BenchmarkTrackerPage(b *testing.B) {
	c := NewClient(4, nil)
	c.note(map[string][]string{"Ratelimit-Remaining": {"1999"}, "Ratelimit-Limit": {"2000"}})
	const n = 100_000
	start := time.Now()
	for range n {
		_ = c.Stats()
	}
	ref := time.Since(start) / n
	var seen int
	tr := NewTracker(c, func(p Progress) { seen = p.Pages })
	tr.Start(1)
	b.ResetTimer()
	for b.Loop() {
		tr.Page()
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(max(b.N, 1))
	if seen == 0 {
		b.Fatal("no page reported")
	}
	b.ReportMetric(float64(per)/float64(max(ref, 1)), "x-stats-read")
	b.ReportMetric(float64(ref.Nanoseconds()), "ns-stats-read")
}
