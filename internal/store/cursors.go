package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Cursor is where an API collector stopped reading one resource of one
// scope (a repository's pull requests, a project's issues): the next run
// asks the vendor only for what changed after it. A collector saves a
// cursor only after the events of the pages it covers are committed, so a
// run killed midway starts again from the last committed page and, the
// events' keys being idempotent, neither loses nor duplicates anything.
type Cursor struct {
	Source   string // "github", "gitlab", ...
	Scope    string // "acme/api", a project key, a service ID
	Resource string // "pulls", "commits:main", "deployments", ...

	// Since is the newest updated_at committed; the next run asks for
	// what was updated at or after it.
	Since time.Time
	// LastID is the newest id (a commit SHA, a deployment id) committed,
	// for resources listed newest first without an updated-since filter.
	LastID string
	// ETag is the validator of the last full answer, sent back as
	// If-None-Match; GitHub answers 304 without charging the rate limit.
	ETag string
	// UpdatedAt is when the cursor was last saved.
	UpdatedAt time.Time
}

// Cursor returns the saved cursor of (source, scope, resource), or a cursor
// with only those three set when none is saved (a first run).
func (db *DB) Cursor(ctx context.Context, source, scope, resource string) (Cursor, error) {
	c := Cursor{Source: source, Scope: scope, Resource: resource}
	var since sql.NullInt64
	var updated int64
	err := db.read.QueryRowContext(ctx, db.q(`SELECT since, last_id, etag, updated_at FROM collect_cursors
		WHERE source = ? AND scope = ? AND resource = ?`), source, scope, resource).
		Scan(&since, &c.LastID, &c.ETag, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read cursor %s %s %s: %w", source, scope, resource, err)
	}
	c.Since = fromMicros(since)
	c.UpdatedAt = time.UnixMicro(updated).UTC()
	return c, nil
}

// SaveCursor records c, replacing the cursor of its (source, scope,
// resource). Since is kept at microsecond precision, as every stored time.
func (db *DB) SaveCursor(ctx context.Context, c Cursor) error {
	if c.Source == "" || c.Scope == "" || c.Resource == "" {
		return delivery.Errorf(delivery.EINVALID, "a cursor needs a source, a scope and a resource, got %q %q %q", c.Source, c.Scope, c.Resource)
	}
	now := db.Now().UTC().Truncate(time.Microsecond)
	_, err := db.write.ExecContext(ctx, db.q(`INSERT INTO collect_cursors (source, scope, resource, since, last_id, etag, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (source, scope, resource) DO UPDATE SET since = excluded.since, last_id = excluded.last_id,
			etag = excluded.etag, updated_at = excluded.updated_at`),
		c.Source, c.Scope, c.Resource, micros(delivery.NormalizeTime(c.Since)), c.LastID, c.ETag, now.UnixMicro())
	if err != nil {
		return fmt.Errorf("save cursor %s %s %s: %w", c.Source, c.Scope, c.Resource, err)
	}
	return nil
}

// Cursors lists the saved cursors of source, by scope and resource, for a
// collector's progress report and for tests.
func (db *DB) Cursors(ctx context.Context, source string) ([]Cursor, error) {
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT scope, resource, since, last_id, etag, updated_at FROM collect_cursors
		WHERE source = ? ORDER BY scope, resource`), source)
	if err != nil {
		return nil, fmt.Errorf("list cursors of %s: %w", source, err)
	}
	defer rows.Close()
	var out []Cursor
	for rows.Next() {
		c := Cursor{Source: source}
		var since sql.NullInt64
		var updated int64
		if err := rows.Scan(&c.Scope, &c.Resource, &since, &c.LastID, &c.ETag, &updated); err != nil {
			return nil, fmt.Errorf("list cursors of %s: %w", source, err)
		}
		c.Since, c.UpdatedAt = fromMicros(since), time.UnixMicro(updated).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}
