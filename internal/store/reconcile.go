package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
)

// ReconcileResult says how ReplaceDeployments changed the stored
// deployments, by deployment ID, each list sorted.
type ReconcileResult struct {
	// Added were not reported by the source before.
	Added []string
	// Moved were, with another commit, time, status or repository; they
	// now hold what the source reports.
	Moved []string
	// Removed were reported by the source before and are not now; they
	// are deleted with the source's record of them.
	Removed []string
	// Kept are not reported now but stay, because another source reported
	// them too: only this source's record of them is forgotten.
	Kept []string
	// Unchanged counts the deployments reported as they were stored.
	Unchanged int
}

// ReplaceDeployments makes events the complete set of production
// deployments source reports for service, in one transaction. It is for a
// source that reads its facts from somewhere it can read again whole, such
// as `stride import git` from the tags of a repository: that place is the
// source of truth for what the source reported. Compared with the
// deployments the source reported before (the events it recorded):
//
//   - a deployment no longer in the set is removed, with the source's
//     events of it, so that a later report of it adds it again (unless
//     another source reported it too: then only this source's record of it
//     goes, and it is Kept);
//   - a deployment at another commit or time is moved: its row is replaced
//     by the new report, not merged, since the old report is withdrawn;
//   - a new deployment is added as Ingest would add it, merged into a row
//     another source may have written.
//
// The service's shipments are marked stale when anything changed, so the
// next refresh recomputes what each deployment ships.
func (db *DB) ReplaceDeployments(ctx context.Context, source, service string, events []delivery.Event) (ReconcileResult, error) {
	var res ReconcileResult
	next := make(map[string]delivery.Event, len(events))
	if err := checkEvents(events); err != nil {
		return res, fmt.Errorf("replace deployments of %s: %w", service, err)
	}
	for i := range events {
		e := &events[i]
		if e.Source != source {
			return res, fmt.Errorf("replace deployments of %s: event %s is from %q, not %q", service, e.Key, e.Source, source)
		}
		d := e.Deployment
		if e.Kind != delivery.KindDeployment || d == nil || d.Service != service || d.Environment != delivery.EnvironmentProduction {
			return res, delivery.Errorf(delivery.EINVALID, "replace deployments of %s: event %s is not a production deployment of %s", service, e.Key, service)
		}
		if _, dup := next[d.ID]; dup {
			return res, delivery.Errorf(delivery.EINVALID, "replace deployments of %s: deployment %s is given twice", service, d.ID)
		}
		next[d.ID] = *e
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		claimed, shared, err := db.claimedDeployments(ctx, tx, source, service)
		if err != nil {
			return err
		}
		stored, err := db.productionDeployments(ctx, tx, service)
		if err != nil {
			return err
		}
		for id := range claimed {
			if _, ok := next[id]; ok {
				continue
			}
			ent := deploymentEntity(service, id)
			if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM events WHERE source = ? AND entity = ?`), source, ent); err != nil {
				return fmt.Errorf("forget %s's report of deployment %s: %w", source, id, err)
			}
			if shared[id] {
				res.Kept = append(res.Kept, id)
				continue
			}
			if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM deployments WHERE service = ? AND environment = ? AND id = ?`),
				service, delivery.EnvironmentProduction, id); err != nil {
				return fmt.Errorf("remove deployment %s: %w", id, err)
			}
			res.Removed = append(res.Removed, id)
		}
		var fresh []delivery.Event // new to the source, or reported under a new key
		inputs := newShipInputs()
		for id, e := range next {
			old, exists := stored[id]
			switch {
			case !claimed[id] || !exists:
				if err := db.applyDeployments(ctx, tx, []delivery.Deployment{*e.Deployment}, inputs); err != nil {
					return err
				}
				res.Added = append(res.Added, id)
			case sameReport(old, *e.Deployment):
				res.Unchanged++
			default:
				if err := db.replaceDeployment(ctx, tx, old, *e.Deployment); err != nil {
					return err
				}
				res.Moved = append(res.Moved, id)
			}
			fresh = append(fresh, e)
		}
		if err := db.recordClaims(ctx, tx, fresh); err != nil {
			return err
		}
		// An added deployment is noted as Ingest notes it (a refresh may
		// continue with it); one moved or removed was counted, and makes the
		// service recompute.
		if len(res.Moved)+len(res.Removed) > 0 {
			inputs.recompute[service] = true
		}
		if len(res.Added)+len(res.Moved)+len(res.Removed) > 0 {
			return db.mark(ctx, tx, inputs)
		}
		return nil
	})
	if err != nil {
		return ReconcileResult{}, fmt.Errorf("replace deployments of %s from %s: %w", service, source, err)
	}
	slices.Sort(res.Added)
	slices.Sort(res.Moved)
	slices.Sort(res.Removed)
	slices.Sort(res.Kept)
	return res, nil
}

// deploymentEntity is the entity key of a production deployment of service,
// as Event.EntityKey writes it.
func deploymentEntity(service, id string) string {
	return (delivery.Event{Kind: delivery.KindDeployment,
		Deployment: &delivery.Deployment{Service: service, Environment: delivery.EnvironmentProduction, ID: id}}).EntityKey()
}

// claimedDeployments returns the IDs of the production deployments of
// service that source reported (it recorded an event of them), and of those
// the ones another source reported too.
func (db *DB) claimedDeployments(ctx context.Context, tx *sql.Tx, source, service string) (claimed, shared map[string]bool, err error) {
	prefix := deploymentEntity(service, "")
	ids := func(entities []string) map[string]bool {
		out := make(map[string]bool)
		for _, ent := range entities {
			if id, ok := strings.CutPrefix(ent, prefix); ok {
				out[id] = true
			}
		}
		return out
	}
	// The entities of every service's deployments come back, filtered
	// here: a prefix in LIKE would need escaping of the service's name, and
	// a source reports deployments of few services.
	mine, err := stringsOf(ctx, tx, db.q(`SELECT DISTINCT entity FROM events WHERE source = ? AND kind = ?`), source, string(delivery.KindDeployment))
	if err != nil {
		return nil, nil, fmt.Errorf("find the deployments %s reported: %w", source, err)
	}
	claimed = ids(mine)
	// Which of them other sources reported too, looked up by entity (an
	// indexed column) a chunk at a time.
	var entities []string
	for id := range claimed {
		entities = append(entities, prefix+id)
	}
	shared = make(map[string]bool)
	for start := 0; start < len(entities); start += 500 {
		list, args := inList(entities[start:min(start+500, len(entities))])
		others, err := stringsOf(ctx, tx, db.q(`SELECT DISTINCT entity FROM events WHERE entity IN `+list+` AND source <> ?`), append(args, source)...)
		if err != nil {
			return nil, nil, fmt.Errorf("find the deployments %s shares: %w", source, err)
		}
		maps.Copy(shared, ids(others))
	}
	return claimed, shared, nil
}

// productionDeployments reads the stored production deployments of service
// by ID.
func (db *DB) productionDeployments(ctx context.Context, tx *sql.Tx, service string) (map[string]delivery.Deployment, error) {
	rows, err := tx.QueryContext(ctx, db.q(`SELECT `+deploymentColumns+` FROM deployments WHERE service = ? AND environment = ?`),
		service, delivery.EnvironmentProduction)
	if err != nil {
		return nil, fmt.Errorf("read deployments of %s: %w", service, err)
	}
	ds, err := collect(rows, scanDeployment)
	if err != nil {
		return nil, fmt.Errorf("read deployments of %s: %w", service, err)
	}
	out := make(map[string]delivery.Deployment, len(ds))
	for _, d := range ds {
		out[d.ID] = d
	}
	return out, nil
}

// sameReport reports whether the stored deployment holds what the new report
// says: the fields a source that reads its facts again whole controls.
func sameReport(old, d delivery.Deployment) bool {
	return old.SHA == d.SHA && old.Status == d.Status && old.Repository == d.Repository &&
		old.StartedAt.Equal(d.StartedAt) && old.FinishedAt.Equal(d.FinishedAt)
}

// replaceDeployment writes the new report over the stored deployment. The
// ring, hotfix and rollback marks are kept: the source that reads its facts
// again does not report them, a promotion or another report gave them.
func (db *DB) replaceDeployment(ctx context.Context, tx *sql.Tx, old, d delivery.Deployment) error {
	_, err := tx.ExecContext(ctx, db.q(`UPDATE deployments SET status = ?, started_at = ?, finished_at = ?, sha = ?, repository = ?, updated_at = ?
		WHERE service = ? AND environment = ? AND id = ?`),
		string(d.Status), micros(d.StartedAt), micros(d.FinishedAt), d.SHA, d.Repository, micros(d.UpdatedAt),
		old.Service, old.Environment, old.ID)
	if err != nil {
		return fmt.Errorf("move deployment %s: %w", d.Key(), err)
	}
	return db.recordServiceRepository(ctx, tx, old.Service, d.Repository)
}

// recordClaims records the events of the reported deployments, so that the
// next ReplaceDeployments knows what the source reported. A key recorded
// before without its entity (by a Stride older than entity keys) gets it.
func (db *DB) recordClaims(ctx context.Context, tx *sql.Tx, events []delivery.Event) error {
	now := db.Now().UnixMicro()
	const cols = 5
	for start := 0; start < len(events); start += 1000 {
		chunk := events[start:min(start+1000, len(events))]
		args := make([]any, 0, len(chunk)*cols)
		for _, e := range chunk {
			args = append(args, e.Key, string(e.Kind), e.Source, now, e.EntityKey())
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO events (key, kind, source, received_at, entity) VALUES `+
			placeholders(len(chunk), cols)+` ON CONFLICT (key) DO UPDATE SET entity = excluded.entity WHERE events.entity = ''`), args...); err != nil {
			return fmt.Errorf("record deployment events: %w", err)
		}
	}
	return nil
}
