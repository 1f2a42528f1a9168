package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/stride-oss/stride/internal/delivery"
)

// Ready reports whether a write can succeed now, which is what a load
// balancer asks /readyz: it upserts the one row of the readiness table in a
// transaction of its own, so a full disk, a corrupt or read-only file and a
// database that is down all fail it, where a SELECT 1 would still answer
// from a cached page. Its error is EUNAVAILABLE with the reason (see
// Unavailable), or an internal error for anything else.
func (db *DB) Ready(ctx context.Context) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO readiness (id, checked_at) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at`), db.Now().UnixMicro()); err != nil {
			return fmt.Errorf("write probe: %w", err)
		}
		if db.dialect == SQLite {
			if err := db.sqliteHeader(); err != nil {
				return err
			}
			return sqliteRoom(ctx, tx)
		}
		return nil
	})
}

// sqliteHeader reads the first bytes of the SQLite file from disk: an open
// connection keeps page 1 cached and would go on writing to a file whose
// header was overwritten, which no new connection (nor a restart) can open.
func (db *DB) sqliteHeader() error {
	if db.file == "" {
		return nil
	}
	f, err := os.Open(db.file)
	if err != nil {
		return fmt.Errorf("read the header of %s: %w", db.file, err)
	}
	defer f.Close()
	head := make([]byte, 16)
	if _, err := io.ReadFull(f, head); err != nil || string(head) != "SQLite format 3\x00" {
		return delivery.Errorf(delivery.EUNAVAILABLE, "the database is unavailable (%s): %s does not start with a SQLite header", ReasonCorrupt, db.file)
	}
	return nil
}

// sqliteRoom fails with SQLITE_FULL's reason when the file cannot grow by
// a batch: an upsert of the probe row rewrites a page it already has, so
// it succeeds on a full disk that the next batch of events will not. The
// file may grow to max_page_count pages (plus pages on its free list).
func sqliteRoom(ctx context.Context, tx *sql.Tx) error {
	var pages, limit, free int64
	for _, p := range []struct {
		name string
		v    *int64
	}{{"page_count", &pages}, {"max_page_count", &limit}, {"freelist_count", &free}} {
		if err := tx.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(p.v); err != nil {
			return fmt.Errorf("read %s: %w", p.name, err)
		}
	}
	if limit-pages+free < minFreePages {
		return delivery.Errorf(delivery.EUNAVAILABLE, "the database is unavailable (%s): %d of at most %d pages used", ReasonFull, pages, limit)
	}
	return nil
}

// minFreePages is the room /readyz asks of a SQLite file: a batch of a
// thousand events takes about this many 4 KiB pages.
const minFreePages = 256

// Reasons an Unavailable error gives, in its message and as the reason of
// /readyz, so an operator can tell a full disk from a dead database.
const (
	ReasonDown    = "database unreachable"
	ReasonFull    = "disk full"
	ReasonCorrupt = "database file corrupt"
	ReasonBusy    = "database busy"
)

// Unavailable returns the reason err means the database cannot serve now
// (one of the Reason constants), or "" when err is something else: a bug,
// a bad query, a conflict. The HTTP layer answers the first 503 with
// Retry-After, the second 500.
func Unavailable(err error) string {
	if err == nil {
		return ""
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case 13: // SQLITE_FULL
			return ReasonFull
		case 11, 26: // SQLITE_CORRUPT, SQLITE_NOTADB
			return ReasonCorrupt
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED: past busy_timeout
			return ReasonBusy
		case 10, 14, 8: // SQLITE_IOERR, SQLITE_CANTOPEN, SQLITE_READONLY
			if errors.Is(err, syscall.ENOSPC) {
				return ReasonFull
			}
			return ReasonDown
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100": // disk_full
			return ReasonFull
		case strings.HasPrefix(pe.Code, "53"): // insufficient resources
			return ReasonBusy
		case strings.HasPrefix(pe.Code, "08"), pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03":
			return ReasonDown
		case pe.Code == "XX001", pe.Code == "XX002": // data_corrupted, index_corrupted
			return ReasonCorrupt
		}
		return ""
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ENOSPC):
		return ReasonFull
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, fs.ErrNotExist) && strings.Contains(err.Error(), "dial"):
		return ReasonDown
	case strings.Contains(err.Error(), "sql: database is closed"), strings.Contains(err.Error(), "driver: bad connection"):
		return ReasonDown
	}
	return ""
}

// classify turns an error meaning the database is unavailable into the
// domain's EUNAVAILABLE, keeping the cause in the chain for the log; other
// errors pass unchanged. Deadlocks still failing after txAttempts tries are
// unavailable too: the caller may retry them.
func classify(err error) error {
	if err == nil || delivery.ErrorCode(err) != delivery.EINTERNAL {
		return err
	}
	reason := Unavailable(err)
	if reason == "" && retryable(err) {
		reason = ReasonBusy
	}
	if reason == "" {
		return err
	}
	return fmt.Errorf("%w: %w", delivery.Errorf(delivery.EUNAVAILABLE, "the database is unavailable (%s); nothing was stored, retry later", reason), err)
}

// retryable reports a transaction PostgreSQL aborted only to let another
// proceed: a deadlock victim (40P01) or a serialization failure (40001).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}
