package slo

import (
	"math/rand/v2"
	"testing"
	"time"
)

// row is one stored bucket as the reference scan reads it.
type row struct {
	start       int64
	good, total int64
}

// benchData builds what the store would hand the job for n SLOs with 30
// days of data: hourly roll-ups for the oldest 27 days less an hour, then
// minutes for the last 3 days and an hour (the longest alert window and a
// margin), 5,028 buckets standing for 43,200 minutes each.
func benchData(b *testing.B, n int, now time.Time) ([]*Series, [][]row) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	minuteFrom := now.Add(-73 * time.Hour)
	series := make([]*Series, n)
	rows := make([][]row, n)
	for i := range n {
		s := rolling("slo", Fraction{999, 1000}, 30*day)
		s.Name = s.Name + string(rune('a'+i%26))
		var buckets []Bucket
		for t := now.Add(-30 * day); t.Before(minuteFrom); t = t.Add(time.Hour) {
			total := int64(60_000)
			buckets = append(buckets, Bucket{Start: t, Width: time.Hour, Total: total, Good: total - rng.Int64N(40)})
		}
		for t := minuteFrom; t.Before(now); t = t.Add(time.Minute) {
			buckets = append(buckets, Bucket{Start: t, Width: time.Minute, Total: 1000, Good: 1000 - rng.Int64N(3)})
		}
		sr, err := NewSeries(s, buckets, nil)
		if err != nil {
			b.Fatal(err)
		}
		series[i] = sr
		rows[i] = make([]row, len(buckets))
		for j, bk := range buckets {
			rows[i][j] = row{bk.Start.Unix(), bk.Good, bk.Total}
		}
	}
	return series, rows
}

// sumWindows is the reference: for each window, walk back from the newest
// row and add up the rows inside it, as an indexed SUM would.
func sumWindows(rs []row, now int64, windows []int64) int64 {
	var sink int64
	for _, w := range windows {
		from := now - w
		var good, total int64
		for k := len(rs) - 1; k >= 0 && rs[k].start >= from; k-- {
			if rs[k].start < now {
				good += rs[k].good
				total += rs[k].total
			}
		}
		sink += good + total
	}
	return sink
}

// BenchmarkEvaluate1000SLOs is one run of the alert job over 1,000 SLOs
// with 30 days of data each (43.2 million minutes, held as 5.0 million
// minute and hourly buckets): Assess and Evaluate for every SLO. Two
// references sum the rows of the same eight windows (the SLO window and the
// seven alert windows) per SLO: rows/assess over the same minute and hourly
// rows, minutes/assess over 30 days of raw minutes. The raw minutes are 100
// SLOs' worth (69 MB) scanned ten times over rather than 1,000 (690 MB), the
// same work per SLO. ns/job is the whole run of ours.
func BenchmarkEvaluate1000SLOs(b *testing.B) {
	const n = 1000
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	series, rows := benchData(b, n, now)
	raw := make([][]row, 100)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range raw {
		raw[i] = make([]row, 43200)
		for j := range raw[i] {
			raw[i][j] = row{now.Add(-30*day).Unix() + int64(j)*60, 1000 - rng.Int64N(3), 1000}
		}
	}
	states := make([]State, n)
	windows := []int64{int64(30 * day / time.Second)}
	for _, w := range BurnWindows {
		windows = append(windows, int64(w.Duration/time.Second))
	}
	var ours, scanRows, scanMinutes time.Duration
	var sink int64
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		for i, sr := range series {
			r := Assess(sr, now, Options{})
			states[i], _ = Evaluate(states[i], now, r)
		}
		ours += time.Since(start)

		start = time.Now()
		for _, rs := range rows {
			sink += sumWindows(rs, now.Unix(), windows)
		}
		scanRows += time.Since(start)

		start = time.Now()
		for i := range n {
			sink += sumWindows(raw[i%len(raw)], now.Unix(), windows)
		}
		scanMinutes += time.Since(start)
	}
	if sink == 0 {
		b.Fatal("the scans summed nothing")
	}
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N), "ns/job")
	b.ReportMetric(float64(ours.Nanoseconds())/float64(b.N)/n, "ns/slo")
	b.ReportMetric(float64(scanRows)/float64(ours), "rows/assess")
	b.ReportMetric(float64(scanMinutes)/float64(ours), "minutes/assess")
}

// BenchmarkAppendMinute is the cost of adding one new minute to a series
// kept in memory between job runs.
func BenchmarkAppendMinute(b *testing.B) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	series, _ := benchData(b, 1, now)
	sr := series[0]
	t := now
	b.ResetTimer()
	for b.Loop() {
		if err := sr.Append(Bucket{Start: t, Width: time.Minute, Good: 999, Total: 1000}); err != nil {
			b.Fatal(err)
		}
		t = t.Add(time.Minute)
	}
}

// BenchmarkReportOneSLO is the report of one SLO with its explanation (the
// 20 costliest buckets), which scans the SLO window once.
func BenchmarkReportOneSLO(b *testing.B) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	series, _ := benchData(b, 1, now)
	b.ResetTimer()
	for b.Loop() {
		r := Assess(series[0], now, Options{})
		if len(Explain(series[0], now, 20)) == 0 || r.Total == 0 {
			b.Fatal("nothing to explain")
		}
	}
}
