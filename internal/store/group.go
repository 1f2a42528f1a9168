package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// maxGroup bounds how many writes one grouped transaction holds, so a
// burst does not make one transaction (and the wait of its first writer)
// unbounded.
const maxGroup = 64

// committer groups concurrent writes into one transaction on SQLite (group
// commit). SQLite has one writer: concurrent writes queue for it anyway, and
// each of its commits costs an fsync, the largest part of a small write's
// time. Writes that queued while the previous transaction committed share
// the next one and its fsync; each runs in a savepoint of its own, so one
// write's failure undoes only that write, and each caller is answered only
// after the commit that holds its data, as a write of its own would be.
//
// There is no goroutine to start or stop: the first writer to find no
// group running leads, runs one group, and hands the lead to a new
// goroutine if more writes queued meanwhile, so no caller waits for more
// than the group it is in.
type committer struct {
	mu      sync.Mutex
	pending []*groupedWrite
	leading bool
	// largest is the most writes one transaction has held, for tests.
	largest int
}

type groupedWrite struct {
	ctx  context.Context
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// inGroupTx runs fn in a write transaction as inTx does and returns after
// that transaction committed or failed. On SQLite the transaction may hold
// other callers' writes too (see committer); fn must not depend on
// running alone in it, and it gets a context that is not cancelled with
// the caller's, since interrupting a statement would roll back the
// writes of the others. On PostgreSQL, whose writers run in parallel and
// commit together on their own, it is inTx.
func (db *DB) inGroupTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if db.dialect != SQLite {
		return db.inTx(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
	}
	w := &groupedWrite{ctx: ctx, fn: fn, done: make(chan error, 1)}
	c := &db.group
	c.mu.Lock()
	c.pending = append(c.pending, w)
	lead := !c.leading
	c.leading = true
	c.mu.Unlock()
	if lead {
		db.lead()
	}
	return <-w.done
}

// lead runs the next group of pending writes, then passes the lead on or
// gives it up. Whoever leads while pending is non-empty holds leading, so
// a writer that finds leading false finds its own write first in line.
func (db *DB) lead() {
	c := &db.group
	c.mu.Lock()
	n := min(len(c.pending), maxGroup)
	group := make([]*groupedWrite, n)
	copy(group, c.pending)
	c.pending = append(c.pending[:0], c.pending[n:]...)
	c.largest = max(c.largest, n)
	c.mu.Unlock()

	db.commitGroup(group)

	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		c.leading = false
		return
	}
	go db.lead()
}

// commitGroup runs the writes of group in one transaction, each in a
// savepoint, and answers each: with its own error when it failed (its
// writes undone), with the transaction's when that failed (nothing of the
// group stored), else nil after the commit.
func (db *DB) commitGroup(group []*groupedWrite) {
	errs := make([]error, len(group))
	err := db.inTx(context.Background(), func(tx *sql.Tx) error {
		for i, w := range group {
			errs[i] = w.ctx.Err()
			if errs[i] != nil {
				continue
			}
			ctx := context.WithoutCancel(w.ctx)
			if len(group) == 1 {
				// Alone: its failure is the transaction's, as in inTx.
				errs[i] = w.fn(ctx, tx)
				return errs[i]
			}
			if _, err := db.exec(ctx, tx, "SAVEPOINT grouped_write"); err != nil {
				return fmt.Errorf("group commit: savepoint: %w", err)
			}
			if errs[i] = w.fn(ctx, tx); errs[i] != nil {
				if _, err := db.exec(ctx, tx, "ROLLBACK TO grouped_write"); err != nil {
					return fmt.Errorf("group commit: undo a failed write: %w", errors.Join(errs[i], err))
				}
			}
			if _, err := db.exec(ctx, tx, "RELEASE grouped_write"); err != nil {
				return fmt.Errorf("group commit: release: %w", err)
			}
		}
		return nil
	})
	for i, w := range group {
		switch {
		case err == nil:
			w.done <- classify(errs[i])
		case errs[i] == nil || len(group) == 1:
			// The group failed (for a lone write, err is its own
			// failure): nothing of it was stored.
			w.done <- err
		default:
			w.done <- classify(errors.Join(errs[i], err))
		}
	}
}
