package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
)

// entitySep separates the parts of an entity key; it cannot occur in the
// identifiers sources send as text.
const entitySep = "\x1f"

// entityOf names the entity an event reports: its kind and natural key.
func entityOf(e delivery.Event) string {
	parts := []string{string(e.Kind)}
	switch {
	case e.Change != nil:
		parts = append(parts, e.Change.Repository, e.Change.SHA)
	case e.Deployment != nil:
		parts = append(parts, e.Deployment.Service, e.Deployment.Environment, e.Deployment.ID)
	case e.Incident != nil:
		parts = append(parts, e.Incident.Service, e.Incident.ID)
	case e.PullRequest != nil:
		parts = append(parts, e.PullRequest.Repository, strconv.Itoa(e.PullRequest.Number))
	case e.WorkItem != nil:
		parts = append(parts, e.WorkItem.Tracker, e.WorkItem.Key)
	case e.Build != nil:
		parts = append(parts, e.Build.Repository, e.Build.ID)
	}
	return strings.Join(parts, entitySep)
}

// entityRow says how to delete one kind of entity by its key parts.
var entityRow = map[delivery.Kind]struct {
	table string
	keys  []string
}{
	delivery.KindChange:      {"changes", []string{"repository", "sha"}},
	delivery.KindDeployment:  {"deployments", []string{"service", "environment", "id"}},
	delivery.KindIncident:    {"incidents", []string{"service", "id"}},
	delivery.KindPullRequest: {"pull_requests", []string{"repository", "number"}},
	delivery.KindWorkItem:    {"work_items", []string{"tracker", "key"}},
	delivery.KindBuild:       {"builds", []string{"repository", "id"}},
}

// ReprocessResult says what a reprocessing did.
type ReprocessResult struct {
	Deliveries int // stored deliveries read
	Ignored    int // of which the source now ignores or cannot read
	Events     int // events derived from them
	Rebuilt    int // entities only this source reported, removed and derived again
	Kept       int // entities other sources reported too, merged into as before
}

// Reprocess derives again, with translate, every stored delivery of source,
// in one transaction. The entities only this source ever reported are
// removed first and rebuilt from the deliveries, so a mapping change (a
// repository moved to another service) leaves nothing behind under the old
// mapping. An entity another source also reported cannot be rebuilt (that
// source's reports are not stored raw); the new reports are merged into it.
func (db *DB) Reprocess(ctx context.Context, source string, translate func(RawDelivery) ([]delivery.Event, error)) (ReprocessResult, error) {
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
		return db.replayDeliveries(ctx, tx, source, translate, &res)
	})
	if err != nil {
		return ReprocessResult{}, fmt.Errorf("reprocess %s: %w", source, err)
	}
	return res, nil
}

// deleteEntity removes one entity named by its key, noting the services and
// repositories whose shipments it fed.
func (db *DB) deleteEntity(ctx context.Context, tx *sql.Tx, entity string, services, repos map[string]bool) error {
	parts := strings.Split(entity, entitySep)
	kind := delivery.Kind(parts[0])
	row, ok := entityRow[kind]
	if !ok || len(parts)-1 != len(row.keys) {
		return fmt.Errorf("unreadable entity key %q", entity)
	}
	args := make([]any, len(row.keys))
	for i := range row.keys {
		args[i] = parts[i+1]
	}
	if kind == delivery.KindPullRequest {
		n, err := strconv.Atoi(parts[2])
		if err != nil {
			return fmt.Errorf("unreadable entity key %q: %w", entity, err)
		}
		args[1] = n
	}
	switch kind {
	case delivery.KindChange:
		repos[parts[1]] = true
	case delivery.KindDeployment:
		services[parts[1]] = true
	}
	where := strings.Join(row.keys, " = ? AND ") + " = ?"
	if _, err := tx.ExecContext(ctx, db.q("DELETE FROM "+row.table+" WHERE "+where), args...); err != nil {
		return fmt.Errorf("remove %s: %w", strings.ReplaceAll(entity, entitySep, "/"), err)
	}
	return nil
}

// replayDeliveries translates every stored delivery of source again and
// ingests the events in batches inside tx, recording each delivery's new
// outcome.
func (db *DB) replayDeliveries(ctx context.Context, tx *sql.Tx, source string, translate func(RawDelivery) ([]delivery.Event, error), res *ReprocessResult) error {
	rows, err := tx.QueryContext(ctx, db.q(`SELECT delivery_id, headers, body FROM raw_deliveries WHERE source = ? ORDER BY received_at, delivery_id`), source)
	if err != nil {
		return fmt.Errorf("read deliveries of %s: %w", source, err)
	}
	// Read the deliveries before writing: one connection cannot interleave
	// a result set with statements on every driver.
	var deliveries []RawDelivery
	for rows.Next() {
		d := RawDelivery{Source: source}
		var headers string
		if err := rows.Scan(&d.DeliveryID, &headers, &d.Body); err != nil {
			rows.Close()
			return fmt.Errorf("read deliveries of %s: %w", source, err)
		}
		if err := json.Unmarshal([]byte(headers), &d.Headers); err != nil {
			rows.Close()
			return fmt.Errorf("read delivery %s: headers: %w", d.DeliveryID, err)
		}
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
		events, err := translate(d)
		outcome := "accepted"
		if err != nil {
			res.Ignored++
			outcome = "ignored: " + err.Error()
			events = nil
		}
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE raw_deliveries SET outcome = ? WHERE source = ? AND delivery_id = ?`), outcome, source, d.DeliveryID); err != nil {
			return fmt.Errorf("record outcome of %s: %w", d.DeliveryID, err)
		}
		if len(pending)+len(events) > MaxBatch {
			if err := flush(); err != nil {
				return err
			}
		}
		for i := range events {
			events[i].Source = source
		}
		pending = append(pending, events...)
		res.Events += len(events)
	}
	return flush()
}

func stringsOf(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(s interface{ Scan(...any) error }) (string, error) {
		var v string
		return v, s.Scan(&v)
	})
}
