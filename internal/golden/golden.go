// Package golden compares test output with golden files kept under a
// package's testdata/, and rewrites them when the tests run with -update.
// It holds the one -update flag of the module, so every package's golden
// tests are refreshed the same way:
//
//	go test ./internal/dora/ -update
//
// Only tests import it.
package golden

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files instead of comparing with them")

// Updating reports whether the tests run with -update, for a test that
// must do more than Check when the golden files are rewritten.
func Updating() bool { return *update }

// Check compares got with the file at path and reports a difference as a
// test error showing what was produced. With -update it writes got to path
// instead, creating its directory, so a reviewed change is one command.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("update golden file: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden file: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking the change); got:\n%s", path, got)
	}
}

// CheckJSON encodes v as indented JSON (two spaces, a final newline), the
// format of every JSON golden file of the module, and checks it with Check.
func CheckJSON(t testing.TB, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("encode %s: %v", path, err)
	}
	Check(t, path, append(got, '\n'))
}
