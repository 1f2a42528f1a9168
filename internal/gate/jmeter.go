package gate

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// ReadJMeter reads a JMeter JTL file in CSV format.
func ReadJMeter(path string) (LoadTest, error) {
	f, err := os.Open(path)
	if err != nil {
		return LoadTest{}, fmt.Errorf("jmeter: %w", err)
	}
	defer f.Close()
	lt, err := ParseJMeter(f)
	if err != nil {
		return LoadTest{}, fmt.Errorf("jmeter %s: %w", path, err)
	}
	return lt, nil
}

// ParseJMeter streams a CSV JTL one record at a time. Columns are found by
// the header line (JMeter's saveservice settings reorder and drop columns),
// and only "elapsed" and "success" are required. Percentiles are exact
// (nearest rank) from a histogram of whole milliseconds, so memory grows
// with the number of distinct latencies, not with the number of samples.
func ParseJMeter(r io.Reader) (LoadTest, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 256*1024))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return LoadTest{}, errors.New("empty file")
	}
	if err != nil {
		return LoadTest{}, fmt.Errorf("header: %w", err)
	}
	elapsedCol, successCol := -1, -1
	for i, name := range header {
		switch strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")) {
		case "elapsed":
			elapsedCol = i
		case "success":
			successCol = i
		}
	}
	if elapsedCol < 0 || successCol < 0 {
		return LoadTest{}, errors.New("header has no elapsed and success columns (is the JTL written as CSV with a header?)")
	}
	hist := map[int64]int64{}
	var total, failed int64
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return LoadTest{}, fmt.Errorf("record: %w", err)
		}
		line, _ := cr.FieldPos(0)
		ms, err := strconv.ParseInt(rec[elapsedCol], 10, 64)
		if err != nil || ms < 0 {
			return LoadTest{}, fmt.Errorf("line %d: elapsed %q: not a duration in ms", line, rec[elapsedCol])
		}
		ok, err := strconv.ParseBool(rec[successCol])
		if err != nil {
			return LoadTest{}, fmt.Errorf("line %d: success %q: %w", line, rec[successCol], err)
		}
		hist[ms]++
		total++
		if !ok {
			failed++
		}
	}
	if total == 0 {
		return LoadTest{}, errors.New("no samples")
	}
	keys := make([]int64, 0, len(hist))
	for k := range hist {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	p95 := percentile(keys, hist, total, 0.95)
	p99 := percentile(keys, hist, total, 0.99)
	return LoadTest{Tool: "jmeter", Requests: total, P95: &p95, P99: &p99, ErrorRate: float64(failed) / float64(total)}, nil
}

// percentile returns the nearest-rank percentile: the ⌈q·n⌉-th smallest
// value, as docs/metrics.md defines p90.
func percentile(keys []int64, hist map[int64]int64, n int64, q float64) float64 {
	rank := int64(math.Ceil(q * float64(n)))
	var seen int64
	for _, k := range keys {
		seen += hist[k]
		if seen >= rank {
			return float64(k)
		}
	}
	return float64(keys[len(keys)-1])
}
