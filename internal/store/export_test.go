package store

import (
	"context"
	"fmt"
	"strings"
)

// ExecForTest runs a statement, for tests that set up states the API cannot
// reach (a schema from the future).
func (db *DB) ExecForTest(ctx context.Context, query string) error {
	_, err := db.write.ExecContext(ctx, query)
	return err
}

// CountForTest runs a COUNT query.
func (db *DB) CountForTest(ctx context.Context, query string) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, query).Scan(&n)
	return n, err
}

// StringForTest runs a query returning one text value.
func (db *DB) StringForTest(ctx context.Context, query string) (string, error) {
	var s string
	err := db.read.QueryRowContext(ctx, query).Scan(&s)
	return s, err
}

// ReapplyMigrationForTest runs again the one migration whose file name ends
// in suffix, as Migrate would on a database an older binary wrote, whatever
// migrations came after it.
func (db *DB) ReapplyMigrationForTest(ctx context.Context, suffix string) error {
	ms, err := db.migrations()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if strings.HasSuffix(m.name, suffix) {
			_, err := db.write.ExecContext(ctx, m.sql)
			return err
		}
	}
	return fmt.Errorf("no migration ends in %q", suffix)
}

// HoldWriterForTest takes SQLite's one write connection until release is
// called, so writes queue behind it as they do behind a long commit.
func (db *DB) HoldWriterForTest(ctx context.Context) (release func(), err error) {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return nil, err
	}
	return func() { conn.Close() }, nil
}

// GroupForTest reports how many writes wait for the group committer and
// the most one of its transactions has held.
func (db *DB) GroupForTest() (pending, largest int) {
	db.group.mu.Lock()
	defer db.group.mu.Unlock()
	return len(db.group.pending), db.group.largest
}

// PreparedForTest reports how many statements the write connection keeps
// prepared (see statements), once those asked for are.
func (db *DB) PreparedForTest() int {
	db.stmts.running.Wait()
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	return len(db.stmts.prepared)
}
