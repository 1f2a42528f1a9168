package slo

import (
	"bytes"
	"os"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
)

// FuzzParseOpenSLO feeds the parser arbitrary YAML: it must never panic,
// and whatever it rejects is an invalid-input error, never an internal one.
func FuzzParseOpenSLO(f *testing.F) {
	seed, err := os.ReadFile("testdata/slos.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(validSLO))
	f.Add([]byte("kind: SLO\n---\n[1, 2]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		slos, err := ParseOpenSLO(bytes.NewReader(data))
		if err != nil {
			if code := delivery.ErrorCode(err); code != delivery.EINVALID {
				t.Fatalf("error %v has code %s, want %s", err, code, delivery.EINVALID)
			}
			return
		}
		for _, s := range slos {
			if s.Objective.Num <= 0 || s.Objective.Num >= s.Objective.Den || s.Name == "" || s.Service == "" {
				t.Fatalf("accepted %+v", s)
			}
		}
	})
}
