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
	write func(ctx context.Context, db *DB, tx *sql.Tx, events []delivery.Event, inputs *shipInputs) error
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

// The natural keys of deployments and incidents, which their writers read
// by.
var (
	deploymentKeys = []keyColumn{{"service", false}, {"environment", false}, {"id", false}}
	incidentKeys   = []keyColumn{{"service", false}, {"id", false}}
)

// entityTables declares, once per kind, where the store keeps it.
var entityTables = map[delivery.Kind]entityTable{
	delivery.KindChange: {"changes", []keyColumn{{"repository", false}, {"sha", false}},
		func(ctx context.Context, db *DB, tx *sql.Tx, events []delivery.Event, inputs *shipInputs) error {
			return db.applyChanges(ctx, tx, events, inputs)
		}},
	delivery.KindDeployment: {"deployments", deploymentKeys,
		func(ctx context.Context, db *DB, tx *sql.Tx, events []delivery.Event, inputs *shipInputs) error {
			ds := make([]delivery.Deployment, len(events))
			for i, e := range events {
				ds[i] = *e.Deployment
			}
			return db.applyDeployments(ctx, tx, ds, inputs)
		}},
	delivery.KindIncident: {"incidents", incidentKeys,
		func(ctx context.Context, db *DB, tx *sql.Tx, events []delivery.Event, _ *shipInputs) error {
			incidents := make([]delivery.Incident, len(events))
			for i, e := range events {
				incidents[i] = *e.Incident
			}
			return db.applyIncidents(ctx, tx, incidents)
		}},
	delivery.KindPullRequest: withCommitIndex(jsonTable("pull_requests", []keyColumn{{"repository", false}, {"number", true}},
		func(e delivery.Event) delivery.PullRequest { return *e.PullRequest }, delivery.MergePullRequest,
		func(p delivery.PullRequest) ([]string, []any) {
			return []string{"merged_at", "merge_sha"}, []any{micros(p.MergedAt), p.MergeSHA}
		})),
	delivery.KindWorkItem: jsonTable("work_items", []keyColumn{{"tracker", false}, {"key", false}},
		func(e delivery.Event) delivery.WorkItem { return *e.WorkItem }, delivery.MergeWorkItem,
		func(w delivery.WorkItem) ([]string, []any) {
			services := ""
			if len(w.Services) > 0 {
				services = " " + strings.Join(w.Services, " ") + " "
			}
			return []string{"team", "resolved_at", "category", "item_type", "priority", "services"},
				[]any{w.Team, micros(w.ResolvedAt), string(w.Category), w.Type, w.Priority, services}
		}),
	delivery.KindBuild: jsonTable("builds", []keyColumn{{"repository", false}, {"id", false}},
		func(e delivery.Event) delivery.Build { return *e.Build }, delivery.MergeBuild,
		func(b delivery.Build) ([]string, []any) {
			// Every field store.Builds reads, so it need not decode data.
			return []string{"sha", "finished_at", "attempt", "name", "branch", "status", "started_at", "updated_at", "default_branch"},
				[]any{b.SHA, micros(b.FinishedAt), b.Attempt, b.Name, b.Branch, string(b.Status), micros(b.StartedAt), micros(b.UpdatedAt), b.DefaultBranch}
		}),
}

// jsonTable declares a kind kept as JSON (its json tags are the persisted
// schema) with some columns beside it for indexes: its writer merges each
// new report with the stored row.
func jsonTable[T any](table string, keys []keyColumn, entity func(delivery.Event) T, merge func(a, b T) T, columns func(T) ([]string, []any)) entityTable {
	t := entityTable{table: table, keys: keys}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.name
	}
	t.write = func(ctx context.Context, db *DB, tx *sql.Tx, events []delivery.Event, _ *shipInputs) error {
		entityKeys := make([][]string, len(events))
		for i, e := range events {
			entityKeys[i] = delivery.Kinds[e.Kind].Key(e)
			if err := db.lockEntity(ctx, tx, table, entityKeys[i]...); err != nil {
				return err
			}
		}
		// The key columns are read as text, whatever their type, to be
		// matched with the parts of the events' keys (delivery.KindSpec.Key
		// spells a number as strconv.Itoa does, as the database does).
		stored := make(map[string]string, len(events))
		parts := make([]string, len(names))
		dest := make([]any, len(names)+1)
		var data string
		for i := range names {
			dest[i] = &parts[i]
		}
		dest[len(names)] = &data
		err := db.readStored(ctx, tx, table, keys, strings.Join(names, ", ")+", data", entityKeys, func(s interface{ Scan(...any) error }) error {
			err := s.Scan(dest...)
			stored[strings.Join(parts, "\x1f")] = data
			return err
		})
		if err != nil {
			return fmt.Errorf("read %s: %w", table, err)
		}
		for i, e := range events {
			args, err := t.keyArgs(entityKeys[i])
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			data, found := stored[strings.Join(entityKeys[i], "\x1f")]
			if err := upsertJSON(ctx, db, tx, table, names, args, data, found, entity(e), merge, columns); err != nil {
				return err
			}
		}
		return nil
	}
	return t
}

// keyArgs turns the parts of a natural key into the query arguments of the
// table's key columns.
func (t entityTable) keyArgs(parts []string) ([]any, error) {
	if len(parts) != len(t.keys) {
		return nil, fmt.Errorf("a key of %d parts for %d columns", len(parts), len(t.keys))
	}
	args := make([]any, len(parts))
	for i, col := range t.keys {
		args[i] = parts[i]
		if col.integer {
			n, err := strconv.Atoi(parts[i])
			if err != nil {
				return nil, fmt.Errorf("key column %s: %w", col.name, err)
			}
			args[i] = n
		}
	}
	return args, nil
}

// deleteEntity removes one entity named by its key (delivery.EntityKey),
// noting the services and repositories whose shipments it fed.
func (db *DB) deleteEntity(ctx context.Context, tx *sql.Tx, entity string, services, repos map[string]bool) error {
	kind, parts, err := delivery.SplitEntityKey(entity)
	if err != nil {
		return err
	}
	row, ok := entityTables[kind]
	if !ok {
		return fmt.Errorf("unreadable entity key %q", strings.ReplaceAll(entity, "\x1f", "/"))
	}
	args, err := row.keyArgs(parts)
	if err != nil {
		return fmt.Errorf("unreadable entity key %q: %w", strings.ReplaceAll(entity, "\x1f", "/"), err)
	}
	where := make([]string, len(row.keys))
	for i, col := range row.keys {
		where[i] = col.name + " = ?"
	}
	switch kind {
	case delivery.KindChange:
		repos[parts[0]] = true
		// A commit of an imported repository was reported by the import
		// too, which keeps no events row of it (see keyedByEntity): it
		// stays, and the replayed reports are merged into it.
		where = append(where, "repository NOT IN (SELECT repository FROM imported_repositories)")
	case delivery.KindDeployment:
		services[parts[0]] = true
	}
	if _, err := tx.ExecContext(ctx, db.q("DELETE FROM "+row.table+" WHERE "+strings.Join(where, " AND ")), args...); err != nil {
		return fmt.Errorf("remove %s: %w", strings.ReplaceAll(entity, "\x1f", "/"), err)
	}
	return nil
}
