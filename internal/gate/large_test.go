package gate

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// writeLargeSARIF writes a SARIF log of at least size bytes into dir: one
// run whose results cycle through three levels and 50 rules, with the rules
// written after the results so that default levels must be resolved late.
// It returns the path and how many results of each level it wrote.
func writeLargeSARIF(tb testing.TB, dir string, size int64) (string, map[string]int) {
	tb.Helper()
	path := filepath.Join(dir, "large.sarif")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprint(w, `{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[{"results":[`)
	levels := map[string]int{}
	var written int64
	for i := 0; written < size; i++ {
		if i > 0 {
			w.WriteByte(',')
		}
		rule := i % 50
		level := []string{"error", "warning", "note", ""}[i%4]
		levelField := ""
		if level != "" {
			levelField = `"level":"` + level + `",`
		} else {
			level = "warning" // rule default below
		}
		levels[level]++
		n, _ := fmt.Fprintf(w, `{"ruleId":"R%03d",%s"message":{"text":"finding %d: value may be nil when the cache is cold; check before use"},`+
			`"locations":[{"physicalLocation":{"artifactLocation":{"uri":"internal/pkg%03d/file%03d.go"},"region":{"startLine":%d,"startColumn":3,"endLine":%d}}}],`+
			`"partialFingerprints":{"primaryLocationLineHash":"%016x"}}`,
			rule, levelField, i, i%97, i%13, i%900+1, i%900+3, uint64(i)*0x9e3779b97f4a7c15)
		written += int64(n) + 1
	}
	fmt.Fprint(w, `],"tool":{"driver":{"name":"gen","rules":[`)
	for r := 0; r < 50; r++ {
		if r > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, `{"id":"R%03d","defaultConfiguration":{"level":"warning"}}`, r)
	}
	fmt.Fprint(w, `]}}}]}`)
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path, levels
}

// writeLargeJTL writes a CSV JTL with n samples; every 50th fails and
// elapsed cycles through 1..1000 ms.
func writeLargeJTL(tb testing.TB, dir string, n int) string {
	tb.Helper()
	path := filepath.Join(dir, "large.jtl")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,failureMessage,bytes,sentBytes,grpThreads,allThreads,URL,Latency,IdleTime,Connect")
	for i := 0; i < n; i++ {
		ok := i%50 != 0
		code := "200"
		if !ok {
			code = "500"
		}
		fmt.Fprintf(w, "%d,%d,GET /items/{id},%s,OK,Thread Group 1-%d,text,%t,,512,120,8,8,http://api.example.com/items/%d,%d,0,3\n",
			1700000000000+int64(i)*10, i%1000+1, code, i%8+1, ok, i%5000, i%1000)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// peakHeap samples the bytes of live and not yet swept heap objects while
// fn runs and returns the largest sample. Sampling can miss a short peak,
// never invent one, so it can only understate memory use.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	read := func() {
		metrics.Read(sample)
		peak = max(peak, sample[0].Value.Uint64())
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read()
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	read()
	return peak
}

// TestLargeSARIFIsStreamed parses a 50 MB log. Its counts must be exact and
// the heap must stay far below the file's size: a reader that loaded the
// whole file would hold at least 50 MB.
func TestLargeSARIFIsStreamed(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 50 MB file")
	}
	const size = 50 << 20
	path, levels := writeLargeSARIF(t, t.TempDir(), size)
	var got SARIF
	var err error
	peak := peakHeap(func() { got, err = ReadSARIF(path) })
	if err != nil {
		t.Fatal(err)
	}
	total := levels["error"] + levels["warning"] + levels["note"]
	if got.Results != total || got.ByLevel["error"] != levels["error"] || got.ByLevel["warning"] != levels["warning"] || got.ByLevel["note"] != levels["note"] {
		t.Errorf("got %d results %v, want %d %v", got.Results, got.ByLevel, total, levels)
	}
	if len(got.ByRule) != 50 || len(got.ByFile) != 97*13 {
		t.Errorf("%d rules and %d files, want 50 and %d", len(got.ByRule), len(got.ByFile), 97*13)
	}
	if peak > 24<<20 {
		t.Errorf("peak heap %d MB while parsing a 50 MB file: the log is not streamed", peak>>20)
	}
	t.Logf("%d results, peak heap %.1f MB", got.Results, float64(peak)/(1<<20))
}

func BenchmarkParseSARIF50MB(b *testing.B) {
	path, _ := writeLargeSARIF(b, b.TempDir(), 50<<20)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		peak = max(peak, peakHeap(func() {
			if _, err := ReadSARIF(path); err != nil {
				b.Fatal(err)
			}
		}))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

func BenchmarkParseJTL1M(b *testing.B) {
	path := writeLargeJTL(b, b.TempDir(), 1_000_000)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		peak = max(peak, peakHeap(func() {
			lt, err := ReadJMeter(path)
			if err != nil {
				b.Fatal(err)
			}
			if lt.Requests != 1_000_000 || lt.ErrorRate != 0.02 {
				b.Fatalf("read %d requests at error rate %v", lt.Requests, lt.ErrorRate)
			}
		}))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
