package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
)

// entityTable is how the store keeps one kind of entity: its table, the
// columns of its natural key in the order of delivery.KindSpec.Key, and the
// writer that merges a batch of new reports into the table.
type entityTable struct {
	table string
	keys  []keyColumn
	write func(ctx context.Context, db *DB, tx *sql.Tx, events []delivery.Event) error
}

// keyColumn is one column of a natural key; integer columns are compared
// with the number the key's text spells.
type keyColumn struct {
	name    string
	integer bool
}

// kindOrder is the order a batch is applied in, kind by kind.
var kindOrder = []delivery.Kind{delivery.KindChange, delivery.KindDeployment, delivery.KindIncident,
	delivery.KindPullRequest, delivery.KindWorkItem, delivery.KindBuild}

// entityTables declares, once per kind, where the store keeps it.
var entityTables = map[delivery.Kind]entityTable{
	delivery.KindChange: {"changes", []keyColumn{{"repository", false}, {"sha", false}},
		func(ctx context.Context, db *DB, tx *sql.Tx, events []delivery.Event) error {
			return db.applyChanges(ctx, tx, events)
		}},
	delivery.KindDeployment: {"deployments", []keyColumn{{"service", false}, {"environment", false}, {"id", false}},
		func(ctx context.Context, db *DB, tx *sql.Tx, events []delivery.Event) error {
			for _, e := range events {
				if err := db.upsertDeployment(ctx, tx, *e.Deployment); err != nil {
					return err
				}
			}
			return nil
		}},
	delivery.KindIncident: {"incidents", []keyColumn{{"service", false}, {"id", false}},
		func(ctx context.Context, db *DB, tx *sql.Tx, events []delivery.Event) error {
			for _, e := range events {
				if err := db.upsertIncident(ctx, tx, *e.Incident); err != nil {
					return err
				}
			}
			return nil
		}},
	delivery.KindPullRequest: {"pull_requests", []keyColumn{{"repository", false}, {"number", true}},
		func(ctx context.Context, db *DB, tx *sql.Tx, events []delivery.Event) error {
			for _, e := range events {
				p := *e.PullRequest
				if err := upsertJSON(ctx, db, tx, "pull_requests", []string{"repository", "number"}, []any{p.Repository, p.Number}, p, delivery.MergePullRequest,
					func(p delivery.PullRequest) ([]string, []any) {
						return []string{"merged_at", "merge_sha"}, []any{micros(p.MergedAt), p.MergeSHA}
					}); err != nil {
					return err
				}
			}
			return nil
		}},
	delivery.KindWorkItem: {"work_items", []keyColumn{{"tracker", false}, {"key", false}},
		func(ctx context.Context, db *DB, tx *sql.Tx, events []delivery.Event) error {
			for _, e := range events {
				w := *e.WorkItem
				if err := upsertJSON(ctx, db, tx, "work_items", []string{"tracker", "key"}, []any{w.Tracker, w.Key}, w, delivery.MergeWorkItem,
					func(w delivery.WorkItem) ([]string, []any) {
						return []string{"team", "resolved_at"}, []any{w.Team, micros(w.ResolvedAt)}
					}); err != nil {
					return err
				}
			}
			return nil
		}},
	delivery.KindBuild: {"builds", []keyColumn{{"repository", false}, {"id", false}},
		func(ctx context.Context, db *DB, tx *sql.Tx, events []delivery.Event) error {
			for _, e := range events {
				b := *e.Build
				if err := upsertJSON(ctx, db, tx, "builds", []string{"repository", "id"}, []any{b.Repository, b.ID}, b, delivery.MergeBuild,
					func(b delivery.Build) ([]string, []any) {
						return []string{"sha", "finished_at"}, []any{b.SHA, micros(b.FinishedAt)}
					}); err != nil {
					return err
				}
			}
			return nil
		}},
}

// deleteEntity removes one entity named by its key (delivery.EntityKey),
// noting the services and repositories whose shipments it fed.
func (db *DB) deleteEntity(ctx context.Context, tx *sql.Tx, entity string, services, repos map[string]bool) error {
	kind, parts, err := delivery.SplitEntityKey(entity)
	if err != nil {
		return err
	}
	row, ok := entityTables[kind]
	if !ok || len(parts) != len(row.keys) {
		return fmt.Errorf("unreadable entity key %q", strings.ReplaceAll(entity, "\x1f", "/"))
	}
	args := make([]any, len(row.keys))
	where := make([]string, len(row.keys))
	for i, col := range row.keys {
		args[i], where[i] = parts[i], col.name+" = ?"
		if col.integer {
			n, err := strconv.Atoi(parts[i])
			if err != nil {
				return fmt.Errorf("unreadable entity key %q: %w", strings.ReplaceAll(entity, "\x1f", "/"), err)
			}
			args[i] = n
		}
	}
	switch kind {
	case delivery.KindChange:
		repos[parts[0]] = true
	case delivery.KindDeployment:
		services[parts[0]] = true
	}
	if _, err := tx.ExecContext(ctx, db.q("DELETE FROM "+row.table+" WHERE "+strings.Join(where, " AND ")), args...); err != nil {
		return fmt.Errorf("remove %s: %w", strings.ReplaceAll(entity, "\x1f", "/"), err)
	}
	return nil
}
