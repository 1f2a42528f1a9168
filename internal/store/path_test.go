package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stride-oss/stride/internal/store"
)

// TestOpenPathWithURICharacters opens SQLite stores at paths holding the
// characters a file: URI gives a meaning ("#", "%"): each is created
// at its own path, not at the prefix before the character (where the
// subtests sqlite#01 and sqlite#02 of every run once shared one file).
func TestOpenPathWithURICharacters(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a#01", "a#02", "c%41"} {
		sub := filepath.Join(dir, name)
		if err := os.Mkdir(sub, 0o700); err != nil {
			t.Fatal(err)
		}
		db, err := store.Open(context.Background(), filepath.Join(sub, "stride.db"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		db.Close()
		if fi, err := os.Stat(filepath.Join(sub, "stride.db")); err != nil || fi.Size() == 0 {
			t.Errorf("%s: the database is not at its path: %v", name, err)
		}
	}
	for _, stray := range []string{"a", "cA"} {
		if _, err := os.Stat(filepath.Join(dir, stray)); err == nil {
			t.Errorf("a database was opened at the prefix %s", stray)
		}
	}
}
