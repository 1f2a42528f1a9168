package store_test

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stride-oss/stride/internal/store"
)

// TestUnavailableTellsAnOutageFromABug: the errors PostgreSQL and the
// network give when the database cannot serve are reasons for a 503; a
// constraint violation or a plain error is a bug's 500.
func TestUnavailableTellsAnOutageFromABug(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"postgres disk full", &pgconn.PgError{Code: "53100"}, store.ReasonFull},
		{"postgres out of connections", &pgconn.PgError{Code: "53300"}, store.ReasonBusy},
		{"postgres shutting down", fmt.Errorf("ingest: %w", &pgconn.PgError{Code: "57P01"}), store.ReasonDown},
		{"postgres connection lost", &pgconn.PgError{Code: "08006"}, store.ReasonDown},
		{"postgres data corrupted", &pgconn.PgError{Code: "XX001"}, store.ReasonCorrupt},
		{"connection refused", fmt.Errorf("begin: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), store.ReasonDown},
		{"no space left", fmt.Errorf("write: %w", syscall.ENOSPC), store.ReasonFull},
		{"closed pool", errors.New("begin: sql: database is closed"), store.ReasonDown},
		{"unique violation", &pgconn.PgError{Code: "23505"}, ""},
		{"deadlock (retried, not an outage)", &pgconn.PgError{Code: "40P01"}, ""},
		{"a bug", errors.New("unreadable entity key"), ""},
		{"nil", nil, ""},
	} {
		if got := store.Unavailable(c.err); got != c.want {
			t.Errorf("%s: Unavailable(%v) = %q, want %q", c.name, c.err, got, c.want)
		}
	}
}
