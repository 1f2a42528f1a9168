package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/store"
)

func TestOpenNamesTheDirectoryItCannotWriteIn(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	_, err := store.Open(context.Background(), filepath.Join(missing, "stride.db"))
	if err == nil || !strings.Contains(err.Error(), "the directory "+missing+" does not exist") {
		t.Errorf("a missing directory: %v", err)
	}

	notDir := filepath.Join(dir, "a-file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(context.Background(), filepath.Join(notDir, "stride.db"))
	if err == nil || !strings.Contains(err.Error(), notDir+" is not a directory") {
		t.Errorf("a file for a directory: %v", err)
	}

	if os.Geteuid() == 0 {
		t.Skip("root writes in a read-only directory")
	}
	readOnly := filepath.Join(dir, "ro")
	if err := os.Mkdir(readOnly, 0o555); err != nil {
		t.Fatal(err)
	}
	_, err = store.Open(context.Background(), filepath.Join(readOnly, "stride.db"))
	if err == nil || !strings.Contains(err.Error(), "the directory "+readOnly+" is not writable") {
		t.Errorf("a read-only directory: %v", err)
	}
}

// A path is a file name, not a URI: %, ? and # in it name the file
// literally, for the writer and for a read-only reader.
func TestOpenTakesAPathWithURICharactersLiterally(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, name := range []string{"a#b.db", "a?mode=memory.db", "100%25.db", "x #1?y.db"} {
		path := filepath.Join(dir, name)
		db, err := store.Open(ctx, path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := db.ExecForTest(ctx, `CREATE TABLE kept (x INTEGER)`); err != nil {
			t.Fatal(err)
		}
		if err := db.ExecForTest(ctx, `INSERT INTO kept VALUES (7)`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%s: the database is not at its path: %v", name, err)
		}
		ro, err := store.OpenReadOnly(ctx, path)
		if err != nil {
			t.Fatalf("%s read-only: %v", name, err)
		}
		n, err := ro.CountForTest(ctx, `SELECT COUNT(*) FROM kept WHERE x = 7`)
		ro.Close()
		if err != nil || n != 1 {
			t.Errorf("%s read-only: %d rows, %v", name, n, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); n == "a" || n == "x " || n == "100" {
			t.Errorf("a file %q was created: the path was cut at a URI character", n)
		}
	}
}
