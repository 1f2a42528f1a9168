package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/stride-oss/stride/internal/delivery"
)

// ReprocessResult says what a reprocessing did.
type ReprocessResult struct {
	Deliveries int // stored deliveries read
	Events     int // events derived from them
	Rebuilt    int // entities only this source reported, removed and derived again
	Kept       int // entities other sources reported too, merged into as before
}

// Replay is what a stored delivery translates to now.
type Replay struct {
	// Outcome is recorded on the raw delivery (see RawDelivery.Outcome).
	Outcome string
	// Events are derived from the delivery: validated, stamped with the
	// source, and none unless the delivery is accepted.
	Events []delivery.Event
}

// Reprocess derives again, with replay, every stored delivery of source, in
// one transaction. The entities only this source ever reported are
// removed first and rebuilt from the deliveries, so a mapping change (a
// repository moved to another service) leaves nothing behind under the old
// mapping. An entity another source also reported cannot be rebuilt (that
// source's reports are not stored raw); the new reports are merged into it.
func (db *DB) Reprocess(ctx context.Context, source string, replay func(RawDelivery) Replay) (ReprocessResult, error) {
	var res ReprocessResult
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		entities, err := stringsOf(ctx, tx, db.q(`SELECT DISTINCT entity FROM events WHERE source = ? AND entity <> ''`), source)
		if err != nil {
			return fmt.Errorf("find entities of %s: %w", source, err)
		}
		shared, err := stringsOf(ctx, tx, db.q(`SELECT DISTINCT e.entity FROM events e
			WHERE e.source <> ? AND e.entity IN (SELECT entity FROM events WHERE source = ? AND entity <> '')`), source, source)
		if err != nil {
			return fmt.Errorf("find shared entities of %s: %w", source, err)
		}
		isShared := make(map[string]bool, len(shared))
		for _, e := range shared {
			isShared[e] = true
		}
		services, repos := map[string]bool{}, map[string]bool{}
		for _, ent := range entities {
			if isShared[ent] {
				res.Kept++
				continue
			}
			if err := db.deleteEntity(ctx, tx, ent, services, repos); err != nil {
				return err
			}
			res.Rebuilt++
		}
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM events WHERE source = ?`), source); err != nil {
			return fmt.Errorf("forget events of %s: %w", source, err)
		}
		if err := db.markServicesStale(ctx, tx, services, repos); err != nil {
			return err
		}
		return db.replayDeliveries(ctx, tx, source, replay, &res)
	})
	if err != nil {
		return ReprocessResult{}, fmt.Errorf("reprocess %s: %w", source, err)
	}
	return res, nil
}

// replayDeliveries replays every stored delivery of source and ingests the
// events in batches inside tx, recording each delivery's new
// outcome.
func (db *DB) replayDeliveries(ctx context.Context, tx *sql.Tx, source string, replay func(RawDelivery) Replay, res *ReprocessResult) error {
	rows, err := tx.QueryContext(ctx, db.q(`SELECT delivery_id, received_at, event_type, headers, body FROM raw_deliveries WHERE source = ? ORDER BY received_at, delivery_id`), source)
	if err != nil {
		return fmt.Errorf("read deliveries of %s: %w", source, err)
	}
	// Read the deliveries before writing: one connection cannot interleave
	// a result set with statements on every driver.
	var deliveries []RawDelivery
	for rows.Next() {
		d := RawDelivery{Source: source}
		var headers string
		var received sql.NullInt64
		var eventType sql.NullString
		if err := rows.Scan(&d.DeliveryID, &received, &eventType, &headers, &d.Body); err != nil {
			rows.Close()
			return fmt.Errorf("read deliveries of %s: %w", source, err)
		}
		if err := json.Unmarshal([]byte(headers), &d.Headers); err != nil {
			rows.Close()
			return fmt.Errorf("read delivery %s: headers: %w", d.DeliveryID, err)
		}
		d.ReceivedAt, d.EventType = fromMicros(received), eventType.String
		deliveries = append(deliveries, d)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read deliveries of %s: %w", source, err)
	}
	var pending []delivery.Event
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		_, err := db.ingestTx(ctx, tx, pending)
		pending = pending[:0]
		return err
	}
	for _, d := range deliveries {
		res.Deliveries++
		r := replay(d)
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE raw_deliveries SET outcome = ? WHERE source = ? AND delivery_id = ?`), r.Outcome, source, d.DeliveryID); err != nil {
			return fmt.Errorf("record outcome of %s: %w", d.DeliveryID, err)
		}
		if len(pending)+len(r.Events) > delivery.MaxBatch {
			if err := flush(); err != nil {
				return err
			}
		}
		pending = append(pending, r.Events...)
		res.Events += len(r.Events)
	}
	return flush()
}

// stringsOf reads the one text column of query's rows, in a transaction or
// not.
func stringsOf(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	return textColumn(q.QueryContext(ctx, query, args...))
}

// textColumn reads the one text column of rows, which a query returned
// with err, and closes them.
func textColumn(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (string, error) {
		var v string
		return v, s.Scan(&v)
	})
}
