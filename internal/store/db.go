// Package store keeps Stride's state in SQLite (the embedded default) or
// PostgreSQL (for several replicas on one database), chosen by the URL. The
// same queries serve both: they are written with ? placeholders, rebound for
// PostgreSQL, and times are integer microseconds in both.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver (pure Go, no cgo)

	"github.com/stride-oss/stride/internal/delivery"
)

// Dialect is the kind of database behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is Stride's store.
type DB struct {
	dialect Dialect
	// write is the pool writes go through. SQLite allows one writer at a
	// time, so there it holds a single connection and transactions queue in
	// Go instead of failing with SQLITE_BUSY; readers use read, which in WAL
	// mode never blocks on the writer. On PostgreSQL both are one pool.
	write *sql.DB
	read  *sql.DB
	// file is the SQLite file's path, for checks of the file itself ("" on
	// PostgreSQL and for in-memory databases).
	file string
	// group commits concurrent SQLite writes together (see committer).
	group committer
	// stmts keeps the fixed write statements prepared on SQLite, and
	// readStmts the fixed reads.
	stmts     statements
	readStmts readStatements

	// Now is the clock; tests replace it.
	Now func() time.Time
}

// Open opens the database named by url and applies pending migrations. A
// postgres:// or postgresql:// URL selects PostgreSQL; anything else is a
// SQLite file path (an optional "sqlite:" or "file:" prefix is removed).
func Open(ctx context.Context, url string) (*DB, error) {
	db, err := open(url)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// OpenReadOnly opens the database named by url for reading only, without
// migrating it: every statement that would write fails. SQLite opens the
// file read-only with query_only set; PostgreSQL sessions start with
// default_transaction_read_only. It shows that a path reads without
// writing, and suits a replica that only serves reports.
func OpenReadOnly(ctx context.Context, url string) (*DB, error) {
	db, err := openWith(url, true)
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func open(url string) (*DB, error) { return openWith(url, false) }

func openWith(url string, readOnly bool) (*DB, error) {
	db := &DB{Now: time.Now}
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		if readOnly {
			u, err := neturl.Parse(url)
			if err != nil {
				return nil, fmt.Errorf("open postgres: %w", err)
			}
			q := u.Query()
			q.Set("default_transaction_read_only", "on")
			u.RawQuery = q.Encode()
			url = u.String()
		}
		pool, err := sql.Open("pgx", url)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		pool.SetMaxOpenConns(16)
		pool.SetMaxIdleConns(16)
		db.dialect, db.write, db.read = Postgres, pool, pool
		return db, nil
	}
	path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "file:")
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	if err := checkDir(path); err != nil {
		return nil, err
	}
	if err := createPrivate(path); err != nil {
		return nil, err
	}
	// synchronous(FULL): a commit is on disk before Ingest returns, so an
	// acknowledged event survives a power loss, not only a crash (NORMAL
	// in WAL mode would lose the last commits). It costs one fsync a batch.
	// The path goes into a file: URI, where %, ? and # would end or
	// change it (a database named "a#b" was opened as "a"); SQLite
	// decodes the escapes.
	uriPath := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	dsn := func(txlock string) string {
		return "file:" + uriPath + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=cache_size(-65536)&_pragma=mmap_size(268435456)&_txlock=" + txlock
	}
	if readOnly {
		// No journal_mode: setting it is a write. A WAL database stays
		// readable by a read-only connection while its writer runs.
		dsn = func(string) string {
			return "file:" + uriPath + "?mode=ro&_pragma=query_only(1)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=deferred"
		}
	}
	writer := dsn("immediate")
	if !readOnly {
		// temp_store(MEMORY): the journals of savepoints (one per grouped
		// write) and of multi-row statements hold the pages a write may
		// have to undo; they were temporary files, written through a
		// system call per page, and are only ever read back within the
		// transaction, so memory serves them at no cost to durability.
		writer += "&_pragma=temp_store(MEMORY)"
	}
	w, err := sql.Open("sqlite", writer)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn("deferred"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	db.dialect, db.write, db.read = SQLite, w, r
	if !strings.HasPrefix(path, ":memory:") && !strings.Contains(path, "mode=memory") {
		db.file, _, _ = strings.Cut(path, "?")
	}
	return db, nil
}

// checkDir reports a missing or read-only directory of the SQLite file at
// path with the directory's name: SQLite writes the database, its journal
// and its shared-memory file there, and its own error ("unable to open
// database file") names neither the file nor the reason.
func checkDir(path string) error {
	if strings.HasPrefix(path, ":memory:") || strings.Contains(path, "mode=memory") {
		return nil
	}
	file, _, _ := strings.Cut(path, "?")
	dir := filepath.Dir(file)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("open sqlite %s: the directory %s does not exist", path, dir)
	case err != nil:
		return fmt.Errorf("open sqlite %s: %w", path, err)
	case !st.IsDir():
		return fmt.Errorf("open sqlite %s: %s is not a directory", path, dir)
	}
	probe, err := os.CreateTemp(dir, ".stride-write-check-*")
	if err != nil {
		return fmt.Errorf("open sqlite %s: the directory %s is not writable: %w", path, dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// createPrivate creates a missing SQLite file readable by its owner only:
// it holds token digests and every delivery's raw body. SQLite gives the
// -wal and -shm files it makes beside it the database file's mode, so they
// are private too. An existing file keeps its mode (the server warns when
// others can read it).
func createPrivate(path string) error {
	if strings.HasPrefix(path, ":memory:") || strings.Contains(path, "mode=memory") {
		return nil
	}
	file, _, _ := strings.Cut(path, "?")
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create sqlite %s: %w", file, err)
	}
	return f.Close()
}

// Dialect reports which database is behind db.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close closes the database.
func (db *DB) Close() error {
	db.stmts.stop()
	err := db.write.Close()
	err = errors.Join(err, db.stmts.close())
	if db.read != db.write {
		err = errors.Join(err, db.readStmts.close(), db.read.Close())
	}
	return err
}

// Ping checks that the database answers; /readyz calls it.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping %s: %w", db.dialect, err)
	}
	return nil
}

// q rewrites a query written with ? placeholders for the dialect: PostgreSQL
// wants $1, $2, ... Queries here never hold a literal question mark.
func (db *DB) q(query string) string {
	if db.dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// txAttempts bounds how often inTx runs a transaction that PostgreSQL
// aborted as a deadlock victim or a serialization failure.
const txAttempts = 5

// inTx runs fn in a write transaction, committing when it returns nil. A
// transaction PostgreSQL aborted to break a deadlock or a serialization
// conflict (SQLSTATE 40P01, 40001) is run again, up to txAttempts times
// with a jittered pause, so callers never see an error that only meant
// "try again": fn must therefore be safe to run more than once (it is
// rolled back each time). An error meaning the database cannot take
// writes now (down, full, corrupt, busy) comes back as EUNAVAILABLE.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = db.tryTx(ctx, fn)
		if err == nil || attempt == txAttempts || !retryable(err) {
			break
		}
		// 5-10 ms, 10-20 ms, 20-40 ms, ...: the other transaction holds its
		// locks until it commits, which is rarely longer.
		pause := time.Duration(5<<(attempt-1)) * time.Millisecond
		pause += time.Duration(rand.Int64N(int64(pause)))
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(pause):
		}
	}
	return classify(err)
}

func (db *DB) tryTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// micros turns a time into the stored integer; the zero time is NULL.
func micros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// fromMicros is the inverse of micros.
func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// placeholders returns "(?, ?, ?), (?, ?, ?)" for rows rows of n columns.
func placeholders(rows, n int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// notFound returns the domain's not-found error.
func notFound(format string, args ...any) error {
	return delivery.Errorf(delivery.ENOTFOUND, format, args...)
}
