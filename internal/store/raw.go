package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// RawDelivery is a webhook delivery as received: kept so that a change of
// mapping can be applied to history by reprocessing, with nothing re-sent.
type RawDelivery struct {
	Source     string
	DeliveryID string
	ReceivedAt time.Time
	// EventType is the source's name for what the delivery reports (such
	// as GitHub's "push"), set by the writer, which knows the source.
	EventType string
	// Headers are the request headers kept, by canonical name.
	Headers map[string][]string
	Body    []byte
	// Outcome is the delivery's verdict: "accepted", "ignored: <reason>"
	// or "malformed: <reason>" (see internal/intake).
	Outcome string
}

// IngestDelivery stores a raw delivery and the events translated from it in
// one transaction. A redelivery (same source and delivery id) keeps the first
// raw copy; its events are deduplicated by their keys as usual. Like Ingest
// it trusts the events to be validated and stamped with their source.
func (db *DB) IngestDelivery(ctx context.Context, raw RawDelivery, events []delivery.Event) (IngestResult, error) {
	headers, err := json.Marshal(raw.Headers)
	if err != nil {
		return IngestResult{}, fmt.Errorf("encode headers: %w", err)
	}
	var res IngestResult
	err = db.inGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := db.exec(ctx, tx, `INSERT INTO raw_deliveries (source, delivery_id, received_at, event_type, headers, body, outcome)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, delivery_id) DO NOTHING`,
			raw.Source, raw.DeliveryID, db.Now().UnixMicro(), raw.EventType, string(headers), raw.Body, raw.Outcome)
		if err != nil {
			return fmt.Errorf("store raw %s delivery %s: %w", raw.Source, raw.DeliveryID, err)
		}
		if len(events) == 0 {
			return nil
		}
		res, err = db.ingestTx(ctx, tx, events)
		return err
	})
	if err != nil {
		return IngestResult{}, fmt.Errorf("ingest %s delivery: %w", raw.Source, err)
	}
	return res, nil
}

// IngestGateDelivery stores a raw delivery whose content is a gate result
// (a source such as SonarQube reports a gate, not events) and the result,
// in one transaction. A redelivery (same source and delivery id) keeps the
// first raw copy and records no second result; added says whether this one
// was recorded, and id is its gate result's id then.
func (db *DB) IngestGateDelivery(ctx context.Context, raw RawDelivery, g GateRecord) (id string, added bool, err error) {
	if err := checkGate(g); err != nil {
		return "", false, err
	}
	headers, err := json.Marshal(raw.Headers)
	if err != nil {
		return "", false, fmt.Errorf("encode headers: %w", err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`INSERT INTO raw_deliveries (source, delivery_id, received_at, event_type, headers, body, outcome)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, delivery_id) DO NOTHING`),
			raw.Source, raw.DeliveryID, db.Now().UnixMicro(), raw.EventType, string(headers), raw.Body, raw.Outcome)
		if err != nil {
			return fmt.Errorf("store raw %s delivery %s: %w", raw.Source, raw.DeliveryID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("store raw %s delivery %s: %w", raw.Source, raw.DeliveryID, err)
		}
		if n == 0 {
			return nil
		}
		id, err = db.insertGate(ctx, tx, g)
		added = err == nil
		return err
	})
	if err != nil {
		return "", false, fmt.Errorf("ingest %s delivery: %w", raw.Source, err)
	}
	return id, added, nil
}
