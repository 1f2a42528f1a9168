package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
)

// TestSQLitePathsWithURICharacters: two databases whose paths differ only
// after a "#" (as the temporary directories of subtests sqlite#01 and
// sqlite#02 do) are two databases at those paths, not one shared file
// named by the part before the "#".
func TestSQLitePathsWithURICharacters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{"a#01", "a#02", "b?x=1", "c%41"} {
		p := filepath.Join(dir, name, "stride.db")
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	for i, p := range paths {
		db, err := store.Open(ctx, p)
		if err != nil {
			t.Fatalf("open %s: %v", p, err)
		}
		if i == 0 {
			if err := db.SetService(ctx, delivery.Service{Name: "only-in-a01"}, nil); err != nil {
				t.Fatal(err)
			}
		}
		n, err := db.CountForTest(ctx, "SELECT COUNT(*) FROM services")
		db.Close()
		if want := map[bool]int{true: 1, false: 0}[i == 0]; err != nil || n != want {
			t.Errorf("%s: %d services (%v), want %d", p, n, err, want)
		}
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: the database is not at its path: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); err == nil {
		t.Error("a file named by the path before the # was created")
	}
}
