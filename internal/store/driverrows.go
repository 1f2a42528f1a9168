package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// eachDriverRow runs a query on one read connection and calls fn with each
// row's values as the driver gives them; what names the read in errors. It
// goes around database/sql's Scan, whose conversions and locking are a
// third of the cost of a row when a read is millions of rows, or a report's
// budget is a few milliseconds over its rows. Both drivers the store opens
// (modernc.org/sqlite, pgx's stdlib) answer queries directly and give
// integers as int64, text as string and blobs as []byte, which fn may keep
// only until it returns.
func (db *DB) eachDriverRow(ctx context.Context, what, query string, args []any, columns int, fn func([]driver.Value) error) error {
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		v, err := driver.DefaultParameterConverter.ConvertValue(a)
		if err != nil {
			return fmt.Errorf("%s: argument %d: %w", what, i+1, err)
		}
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	conn, err := db.read.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("%s: the %T driver cannot be queried directly", what, dc)
		}
		rows, err := q.QueryContext(ctx, query, named)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		defer rows.Close()
		if n := len(rows.Columns()); n != columns {
			return fmt.Errorf("%s: %d columns, want %d", what, n, columns)
		}
		v := make([]driver.Value, columns)
		for {
			if err := rows.Next(v); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			if err := fn(v); err != nil {
				return err
			}
		}
	})
}

// driverValues sets each of to from the value of its column, as a driver
// gives it: to holds *string (text), *[]byte (a blob, kept only while the
// row is) and *int64 (an integer) pointers. A NULL is an error.
func driverValues(vs []driver.Value, to ...any) error {
	for i, p := range to {
		switch p := p.(type) {
		case *string:
			switch v := vs[i].(type) {
			case string:
				*p = v
			case []byte:
				*p = string(v)
			default:
				return fmt.Errorf("column %d: text of type %T", i+1, vs[i])
			}
		case *[]byte:
			switch v := vs[i].(type) {
			case []byte:
				*p = v
			case string:
				*p = []byte(v)
			default:
				return fmt.Errorf("column %d: a blob of type %T", i+1, vs[i])
			}
		case *int64:
			switch v := vs[i].(type) {
			case int64:
				*p = v
			case int32:
				*p = int64(v)
			case []byte:
				n, err := strconv.ParseInt(string(v), 10, 64)
				if err != nil {
					return fmt.Errorf("column %d: %w", i+1, err)
				}
				*p = n
			default:
				return fmt.Errorf("column %d: an integer of type %T", i+1, vs[i])
			}
		default:
			// Not naming p's type keeps the destinations off the heap.
			return fmt.Errorf("column %d: no reading into that type", i+1)
		}
	}
	return nil
}
