package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"
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

// RowsForTest runs a query and returns each row's columns joined by "|",
// NULL as "∅".
func (db *DB) RowsForTest(ctx context.Context, query string) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			parts[i] = "∅"
			if v.Valid {
				parts[i] = fmt.Sprintf("%x", v.String)
				if utf8.ValidString(v.String) {
					parts[i] = v.String
				}
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out, rows.Err()
}

// PreparedForTest reports how many statements the write connection keeps
// prepared (see statements), once those asked for are.
func (db *DB) PreparedForTest() int {
	db.stmts.running.Wait()
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	return len(db.stmts.prepared)
}
