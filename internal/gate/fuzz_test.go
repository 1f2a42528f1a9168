package gate

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// seed adds every file of a testdata directory to a fuzz corpus.
func seed(f *testing.F, dir string) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// The parsers read foreign input: whatever the bytes, they return a value
// or an error, never panic.

func FuzzParseSARIF(f *testing.F) {
	seed(f, "sarif")
	f.Fuzz(func(t *testing.T, data []byte) { ParseSARIF(bytes.NewReader(data)) })
}

func FuzzParseJUnit(f *testing.F) {
	seed(f, "junit")
	f.Fuzz(func(t *testing.T, data []byte) { ParseJUnit(bytes.NewReader(data)) })
}

func FuzzParseTrivy(f *testing.F) {
	seed(f, "trivy")
	f.Fuzz(func(t *testing.T, data []byte) { ParseTrivy(bytes.NewReader(data)) })
}

func FuzzParseK6(f *testing.F) {
	seed(f, "k6")
	f.Fuzz(func(t *testing.T, data []byte) { ParseK6(bytes.NewReader(data)) })
}

func FuzzParseJMeter(f *testing.F) {
	seed(f, "jmeter")
	f.Fuzz(func(t *testing.T, data []byte) {
		lt, err := ParseJMeter(bytes.NewReader(data))
		if err == nil && (lt.Requests == 0 || lt.ErrorRate < 0 || lt.ErrorRate > 1 || *lt.P95 > *lt.P99) {
			t.Errorf("inconsistent result %+v", lt)
		}
	})
}

func FuzzParseCoverage(f *testing.F) {
	seed(f, "cobertura")
	f.Add([]byte("mode: set\nexample.com/m/a.go:1.1,3.2 3 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, parse := range []func(io.Reader) (Coverage, error){ParseCobertura, ParseCoverprofile} {
			c, err := parse(bytes.NewReader(data))
			if err == nil && (c.Covered < 0 || c.Covered > c.Total) {
				t.Errorf("covered %d of %d", c.Covered, c.Total)
			}
		}
	})
}

func FuzzParseUnifiedDiff(f *testing.F) {
	f.Add([]byte("+++ b/a.go\n@@ -1,0 +2,3 @@\n"))
	f.Fuzz(func(t *testing.T, data []byte) { ParseUnifiedDiff(bytes.NewReader(data)) })
}
