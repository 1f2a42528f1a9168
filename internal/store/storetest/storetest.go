// Package storetest opens real databases for tests: SQLite in a temporary
// directory always, and PostgreSQL when STRIDE_TEST_POSTGRES names a server,
// each test in its own schema, dropped afterwards. There is no mock store.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/jobs"
	"github.com/stride-oss/stride/internal/store"
)

// PostgresURL returns the server URL tests use, "" when unset.
func PostgresURL() string { return os.Getenv("STRIDE_TEST_POSTGRES") }

// ForEach runs fn once per configured database, as subtests named sqlite
// and postgres.
func ForEach(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	if PostgresURL() != "" {
		t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
	}
}

// URLs returns a fresh database URL per configured database, for tests that
// start the stride binary or server themselves.
func URLs(t *testing.T) map[string]string {
	t.Helper()
	urls := map[string]string{"sqlite": filepath.Join(t.TempDir(), "stride.db")}
	if PostgresURL() != "" {
		urls["postgres"] = PostgresSchemaURL(t)
	}
	return urls
}

// SQLite opens a migrated store in a temporary directory.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "stride.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Postgres opens a migrated store in a new schema of the test server. It
// fails the test, rather than skipping it, when the server does not answer:
// a suite that was asked to run on PostgreSQL must not pass without it.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), PostgresSchemaURL(t))
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresSchemaURL creates a schema for the test, drops it at cleanup, and
// returns a URL whose connections use it.
func PostgresSchemaURL(t testing.TB) string {
	t.Helper()
	base := PostgresURL()
	if base == "" {
		t.Fatal("STRIDE_TEST_POSTGRES is not set")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres %s: %v", base, err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "stride_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("postgres at %s did not answer (STRIDE_TEST_POSTGRES is set, so this fails rather than skips): %v", base, err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		a.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Fresh is the read path's hook as the binary wires it: run the runner's
// shipment job now and wait. Tests that read reports pass it as
// report.Reader.Fresh, so they derive shipments the way serve does.
func Fresh(db *store.DB) func(ctx context.Context) error {
	runner := jobs.New(nil)
	// Add fails only on a malformed task; ShipmentsTask is well formed.
	_ = runner.Add(intake.New(db, nil).ShipmentsTask())
	return runner.Hook(intake.TaskShipments)
}
