package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// statements keeps the store's fixed write statements prepared on the
// SQLite write connection. modernc.org/sqlite compiles every statement each
// time it runs and has no statement cache of its own; compiling was the
// largest single cost of a webhook delivery's writes (a fifth of its CPU).
// A statement run through exec, query or queryRow is prepared once and
// reused by every later transaction (Tx.StmtContext reuses a statement
// already prepared on the transaction's connection).
//
// It is prepared lazily, never by the transaction that runs it: the write
// pool holds one connection, which that transaction has, so preparing on
// the pool there would wait for itself. The transaction runs the statement
// unprepared and asks for it (wanted); a goroutine of the DB (see
// prepareWanted) prepares what was asked for once the connection is free,
// so no write waits for it, nor its acknowledgement.
//
// Only statements whose text is fixed go through it (multi-row statements
// are cut into a few fixed sizes, see rowChunks), and maxPrepared bounds it
// all the same. PostgreSQL needs none of it: pgx keeps its own cache of
// prepared statements per connection.
type statements struct {
	mu       sync.Mutex
	prepared map[string]*sql.Stmt
	wanted   map[string]bool
	// preparing is set while the goroutine preparing wanted runs;
	// running is how Close waits for it.
	preparing bool
	closed    bool
	running   sync.WaitGroup
}

// maxPrepared bounds how many statements the write connection keeps
// prepared; the store's fixed write statements are a few dozen.
const maxPrepared = 256

// stmt returns query prepared for tx, or nil when it is not prepared yet
// (it is then asked for) or the dialect needs no preparing.
func (db *DB) stmt(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	if db.dialect != SQLite {
		return nil
	}
	c := &db.stmts
	c.mu.Lock()
	s := c.prepared[query]
	if s == nil && !c.closed && !c.wanted[query] && len(c.prepared)+len(c.wanted) < maxPrepared {
		if c.wanted == nil {
			c.wanted = map[string]bool{}
		}
		c.wanted[query] = true
		if !c.preparing {
			c.preparing = true
			c.running.Add(1)
			go db.prepareWanted()
		}
	}
	c.mu.Unlock()
	if s == nil {
		return nil
	}
	return tx.StmtContext(ctx, s)
}

// exec runs a fixed statement, written with ? placeholders, in tx.
func (db *DB) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if s := db.stmt(ctx, tx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, db.q(query), args...)
}

// query runs a fixed query, written with ? placeholders, in tx. Its rows
// must be closed before the same query runs again.
func (db *DB) query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if s := db.stmt(ctx, tx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, db.q(query), args...)
}

// queryRow runs a fixed query of one row, written with ? placeholders, in
// tx.
func (db *DB) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if s := db.stmt(ctx, tx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, db.q(query), args...)
}

// prepareWanted prepares on the write pool, one by one, the statements
// transactions asked for, until none is left; it waits for the write
// connection as any writer does, so the transaction that asked ends first.
// A statement that fails to prepare is asked for again by its next use
// (which runs it unprepared meanwhile, as before). Close stops it: a wait
// for the connection of a closed pool fails at once.
func (db *DB) prepareWanted() {
	c := &db.stmts
	defer c.running.Done()
	for {
		c.mu.Lock()
		var query string
		for q := range c.wanted {
			query = q
			break
		}
		if query == "" || c.closed {
			c.preparing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		s, err := db.write.PrepareContext(context.Background(), query)
		c.mu.Lock()
		delete(c.wanted, query)
		if err == nil {
			if c.prepared == nil {
				c.prepared = map[string]*sql.Stmt{}
			}
			c.prepared[query] = s
		}
		c.mu.Unlock()
	}
}

// stop ends the preparing of statements: the goroutine preparing them
// stops at its next statement, or at once when the write pool, closed
// meanwhile, refuses it the connection.
func (c *statements) stop() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

// close waits for the goroutine preparing statements, once stop was
// called and the write pool closed, and closes the statements.
func (c *statements) close() error {
	c.running.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	for _, s := range c.prepared {
		err = errors.Join(err, s.Close())
	}
	c.prepared, c.wanted = nil, nil
	return err
}

// Multi-row statements on SQLite come in these row counts, largest first,
// so that a batch of any size runs statements of a few fixed texts, each
// prepared once: a 1,000-row statement compiled for every batch cost as
// much as writing its rows, and rows of 64 run as fast as any size.
var sqliteChunks = []int{64, 8, 1}

// rowChunks splits n rows into the row counts of the multi-row statements
// that write them, none above most. On SQLite they are the fixed sizes of
// sqliteChunks; PostgreSQL, whose round trips cost more than compiling,
// writes up to most rows a statement.
func (db *DB) rowChunks(n, most int) []int {
	var sizes []int
	if db.dialect != SQLite {
		for ; n > 0; n -= min(n, most) {
			sizes = append(sizes, min(n, most))
		}
		return sizes
	}
	for _, size := range sqliteChunks {
		size = min(size, most)
		for ; n >= size; n -= size {
			sizes = append(sizes, size)
		}
	}
	return sizes
}

// readStatements keeps the fixed queries of the refresh and of the reports
// prepared on the SQLite read pool, for the reason statements keeps the
// writes'. A statement of a pool is prepared once on each connection it
// runs on (database/sql does that), and preparing it takes a read
// connection for a moment, which no caller holds while it asks: there is
// nothing to wait for but a free connection, as for any read.
type readStatements struct {
	mu       sync.Mutex
	prepared map[string]*sql.Stmt
	closed   bool
}

// readStmt returns query prepared on the read pool, preparing it on first
// use; nil when the dialect needs no preparing or the cache is full.
func (db *DB) readStmt(ctx context.Context, query string) *sql.Stmt {
	if db.dialect != SQLite {
		return nil
	}
	c := &db.readStmts
	c.mu.Lock()
	s, full := c.prepared[query], len(c.prepared) >= maxPrepared || c.closed
	c.mu.Unlock()
	if s != nil || full {
		return s
	}
	s, err := db.read.PrepareContext(ctx, query)
	if err != nil {
		return nil // run it unprepared; the next use tries again
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.prepared[query]; old != nil || c.closed {
		s.Close() // another caller prepared it meanwhile, or the store closed
		return old
	}
	if c.prepared == nil {
		c.prepared = map[string]*sql.Stmt{}
	}
	c.prepared[query] = s
	return s
}

// readQuery runs a fixed query, written with ? placeholders, on the read
// pool.
func (db *DB) readQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := db.readStmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return db.read.QueryContext(ctx, db.q(query), args...)
}

// readQueryRow runs a fixed query of one row on the read pool.
func (db *DB) readQueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if s := db.readStmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return db.read.QueryRowContext(ctx, db.q(query), args...)
}

// close closes the prepared read statements; later uses run unprepared.
func (c *readStatements) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var err error
	for _, s := range c.prepared {
		err = errors.Join(err, s.Close())
	}
	c.prepared = nil
	return err
}
