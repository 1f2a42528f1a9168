package store

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"

	"github.com/stride-oss/stride/internal/delivery"
)

// keyedByEntity are the kinds whose table's natural key is enough to tell,
// in an import, a report seen before from a new one. A commit's content is
// fixed by its hash, so a re-imported commit is recognised by (repository,
// sha); an events row per commit would only repeat that key, and writing
// it, with its three indexes, was about a quarter of an import's CPU.
// Deployments are not among them: ReplaceDeployments reads the import's
// events of them to know what it reported before.
var keyedByEntity = map[delivery.Kind]bool{delivery.KindChange: true}

// IngestImport stores a batch as Ingest does, for a source that reads its
// facts again whole from where they live, such as `stride import git`:
// its events of a kind in keyedByEntity get no events row. Such an event
// counts as added when it stored a new entity or brought a stored one
// something it lacked (merged with the delivery.Merge rules), and as a
// duplicate otherwise, so a repeated import adds nothing. The entities it
// writes are in repositories recorded as imported, which keeps them when
// another source that reported them too is reprocessed.
func (db *DB) IngestImport(ctx context.Context, events []delivery.Event) (IngestResult, error) {
	var res IngestResult
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkEvents(events); err != nil {
			return err
		}
		var keyed, rest []delivery.Event
		for _, e := range events {
			if keyedByEntity[e.Kind] {
				keyed = append(keyed, e)
			} else {
				rest = append(rest, e)
			}
		}
		r, err := db.ingestTx(ctx, tx, rest)
		if err != nil {
			return err
		}
		inputs := newShipInputs()
		added, err := db.importChanges(ctx, tx, keyed, inputs)
		if err != nil {
			return err
		}
		res = IngestResult{Added: r.Added + added, Duplicates: r.Duplicates + len(keyed) - added}
		return db.mark(ctx, tx, inputs)
	})
	if err != nil {
		return IngestResult{}, fmt.Errorf("ingest %d imported events: %w", len(events), err)
	}
	return res, nil
}

// importChanges writes imported commits: new ones, and known ones the
// merge with the import's report changes, through applyChanges (so every
// column is written as for any other source); a known commit the import
// reports as stored costs its share of a bulk read and no write. It returns how many it
// wrote, records their repositories as imported, and notes the writes in
// inputs.
func (db *DB) importChanges(ctx context.Context, tx *sql.Tx, events []delivery.Event, inputs *shipInputs) (int, error) {
	byKey := make(map[changeKey]int, len(events))
	var all []delivery.Event
	for _, e := range events {
		k := changeKey{e.Change.Repository, e.Change.SHA}
		if i, ok := byKey[k]; ok {
			m := delivery.MergeChange(*all[i].Change, *e.Change)
			all[i].Change = &m
			continue
		}
		byKey[k] = len(all)
		all = append(all, e)
	}
	stored, err := db.storedChanges(ctx, tx, all)
	if err != nil {
		return 0, err
	}
	repos := map[string]bool{}
	var write []delivery.Event
	for _, e := range all {
		c := *e.Change
		if old, ok := stored[changeKey{c.Repository, c.SHA}]; ok && reflect.DeepEqual(old, delivery.MergeChange(old, c)) {
			continue
		}
		write = append(write, e)
		repos[c.Repository] = true
	}
	if err := db.applyChanges(ctx, tx, write, inputs); err != nil {
		return 0, err
	}
	for repo := range repos {
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO imported_repositories (repository) VALUES (?) ON CONFLICT (repository) DO NOTHING`), repo); err != nil {
			return 0, fmt.Errorf("record imported repository %s: %w", repo, err)
		}
	}
	return len(write), nil
}

// storedChanges reads the stored rows of the commits of events, 500 a
// query rather than one each (a repeated import finds every commit known),
// read as db.change reads one: the two must read the same columns.
func (db *DB) storedChanges(ctx context.Context, tx *sql.Tx, events []delivery.Event) (map[changeKey]delivery.Change, error) {
	byRepo := map[string][]string{}
	for _, e := range events {
		byRepo[e.Change.Repository] = append(byRepo[e.Change.Repository], e.Change.SHA)
	}
	out := map[changeKey]delivery.Change{}
	for repo, shas := range byRepo {
		for start := 0; start < len(shas); start += 500 {
			list, args := inList(shas[start:min(start+500, len(shas))])
			rows, err := tx.QueryContext(ctx, db.q(`SELECT `+changeColumns+` FROM changes
				WHERE repository = ? AND sha IN `+list), append([]any{repo}, args...)...)
			if err != nil {
				return nil, fmt.Errorf("read changes of %s: %w", repo, err)
			}
			for rows.Next() {
				c, err := scanChange(repo, rows)
				if err != nil {
					rows.Close()
					return nil, fmt.Errorf("read changes of %s: %w", repo, err)
				}
				out[changeKey{repo, c.SHA}] = c
			}
			if err := rows.Close(); err != nil {
				return nil, fmt.Errorf("read changes of %s: %w", repo, err)
			}
		}
	}
	return out, nil
}
