package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records failures instead of stopping the
// test, so Check's verdicts can be asserted. Check calls no other method.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }

func TestCheck(t *testing.T) {
	if Updating() {
		t.Skip("-update rewrites instead of comparing")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	if err := os.WriteFile(path, []byte("{\n  \"a\": 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		path   string
		check  func(tb testing.TB, path string)
		failed bool
	}{
		{"equal bytes pass", path, func(tb testing.TB, p string) { Check(tb, p, []byte("{\n  \"a\": 1\n}\n")) }, false},
		{"one byte more fails", path, func(tb testing.TB, p string) { Check(tb, p, []byte("{\n  \"a\": 1\n}\n\n")) }, true},
		{"a missing golden file fails", filepath.Join(dir, "none.json"), func(tb testing.TB, p string) { Check(tb, p, nil) }, true},
		{"JSON is indented by two spaces with a final newline", path, func(tb testing.TB, p string) { CheckJSON(tb, p, map[string]int{"a": 1}) }, false},
		{"JSON of another value fails", path, func(tb testing.TB, p string) { CheckJSON(tb, p, map[string]int{"a": 2}) }, true},
		{"a value JSON cannot encode fails", path, func(tb testing.TB, p string) { CheckJSON(tb, p, func() {}) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			tt.check(r, tt.path)
			if r.failed != tt.failed {
				t.Errorf("failed = %v, want %v", r.failed, tt.failed)
			}
		})
	}
}
