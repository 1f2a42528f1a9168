package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

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
// writes are marked imported, which keeps them when another source that
// reported them too is reprocessed.
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
		added, repos, err := db.importChanges(ctx, tx, keyed)
		if err != nil {
			return err
		}
		res = IngestResult{Added: r.Added + added, Duplicates: r.Duplicates + len(keyed) - added}
		return db.markServicesStale(ctx, tx, map[string]bool{}, repos)
	})
	if err != nil {
		return IngestResult{}, fmt.Errorf("ingest %d imported events: %w", len(events), err)
	}
	return res, nil
}

// importChanges writes imported commits: new ones in bulk, known ones
// merged and written back only when the merge changed them. It returns
// how many were added or changed and their repositories.
func (db *DB) importChanges(ctx context.Context, tx *sql.Tx, events []delivery.Event) (int, map[string]bool, error) {
	byKey := make(map[changeKey]int, len(events))
	var all []delivery.Change
	for _, e := range events {
		k := changeKey{e.Change.Repository, e.Change.SHA}
		if i, ok := byKey[k]; ok {
			all[i] = delivery.MergeChange(all[i], *e.Change)
			continue
		}
		byKey[k] = len(all)
		all = append(all, *e.Change)
	}
	repos := map[string]bool{}
	added := 0
	const cols = 10
	var known []delivery.Change
	for start := 0; start < len(all); start += 500 {
		chunk := all[start:min(start+500, len(all))]
		args := make([]any, 0, len(chunk)*cols)
		for _, c := range chunk {
			args = append(args, c.Repository, c.SHA, strings.Join(c.Parents, " "), c.Author, micros(c.AuthorTime), c.CommitTime.UnixMicro(), c.Title, c.Incident, encodePaths(c.Paths), 1)
		}
		rows, err := tx.QueryContext(ctx, db.q(`INSERT INTO changes (repository, sha, parents, author, author_time, commit_time, title, incident, paths, imported) VALUES `+
			placeholders(len(chunk), cols)+` ON CONFLICT (repository, sha) DO NOTHING RETURNING repository, sha`), args...)
		if err != nil {
			return 0, nil, fmt.Errorf("insert imported changes: %w", err)
		}
		inserted := make(map[changeKey]bool, len(chunk))
		for rows.Next() {
			var k changeKey
			if err := rows.Scan(&k.repository, &k.sha); err != nil {
				rows.Close()
				return 0, nil, fmt.Errorf("insert imported changes: %w", err)
			}
			inserted[k] = true
			repos[k.repository] = true
		}
		if err := rows.Close(); err != nil {
			return 0, nil, fmt.Errorf("insert imported changes: %w", err)
		}
		added += len(inserted)
		for _, c := range chunk {
			if !inserted[changeKey{c.Repository, c.SHA}] {
				known = append(known, c)
			}
		}
	}
	stored, err := db.changesOf(ctx, tx, known)
	if err != nil {
		return 0, nil, err
	}
	for _, c := range known {
		old, ok := stored[changeKey{c.Repository, c.SHA}]
		if !ok {
			return 0, nil, fmt.Errorf("change %s of %s: the insert found it but the read did not", c.SHA, c.Repository)
		}
		m := delivery.MergeChange(old, c)
		same := sameChange(old, m)
		if same {
			// Only the mark, when another source wrote the commit first.
			if _, err := tx.ExecContext(ctx, db.q(`UPDATE changes SET imported = 1 WHERE repository = ? AND sha = ? AND imported = 0`), c.Repository, c.SHA); err != nil {
				return 0, nil, fmt.Errorf("mark change %s imported: %w", c.SHA, err)
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE changes SET parents = ?, author = ?, author_time = ?, commit_time = ?, title = ?, incident = ?, paths = ?, imported = 1
			WHERE repository = ? AND sha = ?`),
			strings.Join(m.Parents, " "), m.Author, micros(m.AuthorTime), m.CommitTime.UnixMicro(), m.Title, m.Incident, encodePaths(m.Paths), m.Repository, m.SHA); err != nil {
			return 0, nil, fmt.Errorf("update change %s: %w", c.SHA, err)
		}
		added++
		repos[c.Repository] = true
	}
	return added, repos, nil
}

// sameChange says whether two reports of a commit store the same row.
func sameChange(a, b delivery.Change) bool {
	return slices.Equal(a.Parents, b.Parents) && a.Author == b.Author && a.AuthorTime.Equal(b.AuthorTime) &&
		a.CommitTime.Equal(b.CommitTime) && a.Title == b.Title && a.Incident == b.Incident &&
		(a.Paths == nil) == (b.Paths == nil) && slices.Equal(a.Paths, b.Paths)
}

// changesOf reads the stored rows of changes, 500 a query rather than one
// each: a repeated import finds every commit known.
func (db *DB) changesOf(ctx context.Context, tx *sql.Tx, changes []delivery.Change) (map[changeKey]delivery.Change, error) {
	out := make(map[changeKey]delivery.Change, len(changes))
	byRepo := map[string][]string{}
	for _, c := range changes {
		byRepo[c.Repository] = append(byRepo[c.Repository], c.SHA)
	}
	for repo, shas := range byRepo {
		for start := 0; start < len(shas); start += 500 {
			list, args := inList(shas[start:min(start+500, len(shas))])
			rows, err := tx.QueryContext(ctx, db.q(`SELECT sha, parents, author, author_time, commit_time, title, incident, paths FROM changes
				WHERE repository = ? AND sha IN `+list), append([]any{repo}, args...)...)
			if err != nil {
				return nil, fmt.Errorf("read changes of %s: %w", repo, err)
			}
			for rows.Next() {
				c := delivery.Change{Repository: repo}
				var parents string
				var at, ct sql.NullInt64
				var paths sql.NullString
				if err := rows.Scan(&c.SHA, &parents, &c.Author, &at, &ct, &c.Title, &c.Incident, &paths); err != nil {
					rows.Close()
					return nil, fmt.Errorf("read changes of %s: %w", repo, err)
				}
				c.Parents = strings.Fields(parents)
				c.AuthorTime, c.CommitTime = fromMicros(at), fromMicros(ct)
				if c.Paths, err = decodePaths(paths); err != nil {
					rows.Close()
					return nil, fmt.Errorf("read change %s: %w", c.SHA, err)
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
