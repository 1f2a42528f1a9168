package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
)

// IngestResult says what a batch did.
type IngestResult struct {
	// Added counts events whose idempotency key was new.
	Added int
	// Duplicates counts events whose key was seen before (or twice in the
	// batch); they changed nothing.
	Duplicates int
}

// Ingest stores a batch of events in one transaction: all or nothing. An
// event whose idempotency key was stored before changes nothing; a new
// report of a known entity is merged into it with the delivery.Merge rules,
// so the stored state does not depend on arrival order. It returns after the
// commit, so a caller may acknowledge on success.
//
// The store trusts its caller, internal/intake, to have validated and
// normalised the events and stamped their source; it checks only that each
// event has a source and carries the entity of its kind (see checkEvents).
func (db *DB) Ingest(ctx context.Context, events []delivery.Event) (IngestResult, error) {
	var res IngestResult
	err := db.inGroupTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		res, err = db.ingestTx(ctx, tx, events)
		return err
	})
	if err != nil {
		return IngestResult{}, fmt.Errorf("ingest %d events: %w", len(events), err)
	}
	return res, nil
}

// checkEvents is the store's one invariant on what it is given, cheap and
// kept because breaking it corrupts silently: an event without a source
// could never be reprocessed or told apart from another source's, and one
// that does not carry its kind's entity has no key to store it under.
func checkEvents(events []delivery.Event) error {
	for i, e := range events {
		if e.Source == "" || !e.Carries() {
			return fmt.Errorf("event %d (%q, kind %q, source %q): events reach the store validated, through intake", i, e.Key, e.Kind, e.Source)
		}
	}
	return nil
}

// ingestTx applies events inside tx.
func (db *DB) ingestTx(ctx context.Context, tx *sql.Tx, events []delivery.Event) (IngestResult, error) {
	var res IngestResult
	if err := checkEvents(events); err != nil {
		return res, err
	}
	fresh, err := db.recordKeys(ctx, tx, events)
	if err != nil {
		return res, err
	}
	res.Added = len(fresh)
	res.Duplicates = len(events) - len(fresh)
	return res, db.apply(ctx, tx, fresh)
}

// recordKeys stores the idempotency keys of the batch, each with the digest
// of its event's content, and returns the events whose key was new, in
// batch order, each key once. A key already known (stored, or earlier in
// the batch) with the same content is a duplicate; with different content
// it is an ECONFLICT naming the key, never a silent drop of the new
// content. Keys stored before digests existed match any content. Keys are
// written in sorted order, so two transactions inserting the same keys
// wait for each other instead of deadlocking.
func (db *DB) recordKeys(ctx context.Context, tx *sql.Tx, events []delivery.Event) ([]delivery.Event, error) {
	now := db.Now().UnixMicro()
	digests := make(map[string]string, len(events))
	var unique []delivery.Event
	for _, e := range events {
		d, err := eventDigest(e)
		if err != nil {
			return nil, err
		}
		if old, ok := digests[e.Key]; ok {
			if old != d {
				return nil, conflictingKey(e.Key)
			}
			continue
		}
		digests[e.Key] = d
		unique = append(unique, e)
	}
	sorted := slices.Clone(unique)
	slices.SortFunc(sorted, func(a, b delivery.Event) int { return strings.Compare(a.Key, b.Key) })
	inserted := make(map[string]bool, len(unique))
	const cols = 6
	start := 0
	for _, size := range db.rowChunks(len(sorted), 1000) {
		chunk := sorted[start : start+size]
		start += size
		args := make([]any, 0, len(chunk)*cols)
		for _, e := range chunk {
			args = append(args, e.Key, string(e.Kind), e.Source, now, e.EntityKey(), digests[e.Key])
		}
		insert := "INSERT INTO events (key, kind, source, received_at, entity, digest) VALUES " + placeholders(len(chunk), cols) + " ON CONFLICT (key) DO NOTHING"
		if len(chunk) == 1 {
			// One row, as a webhook delivery's: its count of inserted
			// rows says whether it is new, without the cost of RETURNING.
			n, err := rowsAffected(db.exec(ctx, tx, insert, args...))
			if err != nil {
				return nil, fmt.Errorf("record event keys: %w", err)
			}
			inserted[chunk[0].Key] = n == 1
			continue
		}
		rows, err := db.query(ctx, tx, insert+" RETURNING key", args...)
		if err != nil {
			return nil, fmt.Errorf("record event keys: %w", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, fmt.Errorf("record event keys: %w", err)
			}
			inserted[k] = true
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("record event keys: %w", err)
		}
	}
	fresh := unique[:0:0]
	for _, e := range unique {
		if inserted[e.Key] {
			fresh = append(fresh, e)
			continue
		}
		var stored sql.NullString
		if err := db.queryRow(ctx, tx, `SELECT digest FROM events WHERE key = ?`, e.Key).Scan(&stored); err != nil {
			return nil, fmt.Errorf("read digest of event %q: %w", e.Key, err)
		}
		if stored.Valid && stored.String != digests[e.Key] {
			return nil, conflictingKey(e.Key)
		}
	}
	return fresh, nil
}

// rowsAffected is the count of rows a statement changed.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// conflictingKey is the error for a known idempotency key sent with other
// content: one of the two reports is wrong, and only the sender knows which.
func conflictingKey(key string) error {
	return delivery.Errorf(delivery.ECONFLICT, "event key %q was stored before with different content: a key names one report; send a changed report under a new key", key)
}

// eventDigest is the SHA-256 of an event's canonical content: its kind and
// its entity as JSON, after intake normalised it (times in UTC at
// microseconds, defaults filled), so the same report digests the same
// whoever sends it and in whatever order its fields came.
func eventDigest(e delivery.Event) (string, error) {
	var entity any
	switch {
	case e.Change != nil:
		entity = e.Change
	case e.Deployment != nil:
		entity = e.Deployment
	case e.Incident != nil:
		entity = e.Incident
	case e.PullRequest != nil:
		entity = e.PullRequest
	case e.WorkItem != nil:
		entity = e.WorkItem
	case e.Build != nil:
		entity = e.Build
	}
	b, err := json.Marshal(struct {
		Kind   delivery.Kind
		Entity any
	}{e.Kind, entity})
	if err != nil {
		return "", fmt.Errorf("digest event %q: %w", e.Key, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

type changeKey struct{ repository, sha string }

// mergeBatch merges the entities of events within the batch, by kind and
// entity key, so each entity is read and written once.
func mergeBatch(events []delivery.Event) map[delivery.Kind]map[string]delivery.Event {
	b := map[delivery.Kind]map[string]delivery.Event{}
	for _, e := range events {
		byKey := b[e.Kind]
		if byKey == nil {
			byKey = map[string]delivery.Event{}
			b[e.Kind] = byKey
		}
		k := e.EntityKey()
		if old, ok := byKey[k]; ok {
			e = delivery.Kinds[e.Kind].Merge(old, e)
		}
		byKey[k] = e
	}
	return b
}

// apply merges the entities of events into the store, each kind by the
// writer its table entry names, in the order of their entity keys: two
// transactions writing the same rows then lock them in the same order and
// one waits for the other, where Go's map order let them deadlock.
func (db *DB) apply(ctx context.Context, tx *sql.Tx, events []delivery.Event) error {
	b := mergeBatch(events)
	inputs := newShipInputs()
	for _, kind := range kindOrder {
		if len(b[kind]) == 0 {
			continue
		}
		byKey := b[kind]
		ordered := make([]delivery.Event, 0, len(byKey))
		for _, k := range slices.Sorted(maps.Keys(byKey)) {
			ordered = append(ordered, byKey[k])
		}
		if err := entityTables[kind].write(ctx, db, tx, ordered, inputs); err != nil {
			return err
		}
	}
	return db.mark(ctx, tx, inputs)
}

// applyChanges inserts new commits in bulk; a commit already known is read,
// merged and written back, which is rare (a commit does not change). It
// notes each in inputs.
func (db *DB) applyChanges(ctx context.Context, tx *sql.Tx, events []delivery.Event, inputs *shipInputs) error {
	all := make([]delivery.Change, 0, len(events))
	for _, e := range events {
		all = append(all, *e.Change)
	}
	const cols = 11
	inserted := make(map[changeKey]bool, len(all))
	start := 0
	for _, size := range db.rowChunks(len(all), 500) {
		chunk := all[start : start+size]
		start += size
		args := make([]any, 0, len(chunk)*cols)
		for _, c := range chunk {
			args = append(args, c.Repository, c.SHA, strings.Join(c.Parents, " "), c.Author, micros(c.AuthorTime), c.CommitTime.UnixMicro(), c.Title, c.Incident, encodePaths(c.Paths),
				string(c.Ancestry), strings.Join(c.ProvenAncestors, " "))
		}
		insert := `INSERT INTO changes (repository, sha, parents, author, author_time, commit_time, title, incident, paths, ancestry, proven_ancestors) VALUES ` +
			placeholders(len(chunk), cols) + ` ON CONFLICT (repository, sha) DO NOTHING`
		if len(chunk) == 1 {
			// As in recordKeys: one row is told by its count.
			n, err := rowsAffected(db.exec(ctx, tx, insert, args...))
			if err != nil {
				return fmt.Errorf("insert changes: %w", err)
			}
			inserted[changeKey{chunk[0].Repository, chunk[0].SHA}] = n == 1
			continue
		}
		rows, err := db.query(ctx, tx, insert+` RETURNING repository, sha`, args...)
		if err != nil {
			return fmt.Errorf("insert changes: %w", err)
		}
		for rows.Next() {
			var k changeKey
			if err := rows.Scan(&k.repository, &k.sha); err != nil {
				rows.Close()
				return fmt.Errorf("insert changes: %w", err)
			}
			inserted[k] = true
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("insert changes: %w", err)
		}
	}
	for _, c := range all {
		if inserted[changeKey{c.Repository, c.SHA}] {
			inputs.change(delivery.Change{}, false, c)
			continue
		}
		if err := db.lockEntity(ctx, tx, "changes", c.Repository, c.SHA); err != nil {
			return err
		}
		old, err := db.change(ctx, tx, c.Repository, c.SHA)
		if err != nil {
			return err
		}
		m := delivery.MergeChange(old, c)
		inputs.change(old, true, m)
		if _, err := db.exec(ctx, tx, `UPDATE changes SET parents = ?, author = ?, author_time = ?, commit_time = ?, title = ?, incident = ?, paths = ?, ancestry = ?, proven_ancestors = ?
			WHERE repository = ? AND sha = ?`,
			strings.Join(m.Parents, " "), m.Author, micros(m.AuthorTime), m.CommitTime.UnixMicro(), m.Title, m.Incident, encodePaths(m.Paths),
			string(m.Ancestry), strings.Join(m.ProvenAncestors, " "), m.Repository, m.SHA); err != nil {
			return fmt.Errorf("update change %s: %w", c.SHA, err)
		}
	}
	return nil
}

// lockEntity makes the read-merge-write of one entity exclusive on
// PostgreSQL: under READ COMMITTED two transactions merging reports of the
// same deployment would each read the row as it was before either and the
// second write would drop the first's report (a new row has nothing to
// lock with SELECT FOR UPDATE, hence an advisory lock on the key, held to
// the end of the transaction). Writers take them in key order (apply), so
// they queue rather than deadlock. SQLite has one writer and needs none.
func (db *DB) lockEntity(ctx context.Context, tx *sql.Tx, table string, key ...string) error {
	if db.dialect != Postgres {
		return nil
	}
	name := table + "\x1f" + strings.Join(key, "\x1f")
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, name); err != nil {
		return fmt.Errorf("lock %s %v: %w", table, key, err)
	}
	return nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (db *DB) change(ctx context.Context, q querier, repository, sha string) (delivery.Change, error) {
	c, err := scanChange(repository, q.QueryRowContext(ctx, db.q(`SELECT `+changeColumns+` FROM changes WHERE repository = ? AND sha = ?`), repository, sha))
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("change %s of %s not found", sha, repository)
	}
	if err != nil {
		return c, fmt.Errorf("read change %s: %w", sha, err)
	}
	return c, nil
}

// changeColumns are the columns scanChange reads, in its order.
const changeColumns = "sha, parents, author, author_time, commit_time, title, incident, paths, ancestry, proven_ancestors"

// scanChange reads one stored change of repository, as every reader of
// whole changes must, so that a merge sees all of what was stored.
func scanChange(repository string, s interface{ Scan(...any) error }) (delivery.Change, error) {
	c := delivery.Change{Repository: repository}
	var parents, ancestry, proven string
	var at, ct sql.NullInt64
	var paths sql.NullString
	if err := s.Scan(&c.SHA, &parents, &c.Author, &at, &ct, &c.Title, &c.Incident, &paths, &ancestry, &proven); err != nil {
		return c, err
	}
	c.Parents = strings.Fields(parents)
	c.Ancestry = delivery.Ancestry(ancestry)
	if c.Ancestry == delivery.AncestryProven {
		c.ProvenAncestors = strings.Fields(proven)
	}
	c.AuthorTime, c.CommitTime = fromMicros(at), fromMicros(ct)
	var err error
	if c.Paths, err = decodePaths(paths); err != nil {
		return c, fmt.Errorf("change %s: %w", c.SHA, err)
	}
	return c, nil
}

// encodePaths stores a change's paths as a JSON array, which keeps any byte
// a file name may hold; NULL when they are unknown.
func encodePaths(paths []string) sql.NullString {
	if paths == nil {
		return sql.NullString{}
	}
	b, _ := json.Marshal(paths) // a []string always encodes
	return sql.NullString{String: string(b), Valid: true}
}

// decodePaths is the inverse of encodePaths: nil for NULL, and never nil
// for an empty array.
func decodePaths(v sql.NullString) ([]string, error) {
	if !v.Valid {
		return nil, nil
	}
	paths := []string{}
	if err := json.Unmarshal([]byte(v.String), &paths); err != nil {
		return nil, fmt.Errorf("paths: %w", err)
	}
	return paths, nil
}

const deploymentColumns = "service, environment, id, status, started_at, finished_at, sha, repository, ring, hotfix, rollback, updated_at"

func scanDeployment(s interface{ Scan(...any) error }) (delivery.Deployment, error) {
	var d delivery.Deployment
	var status string
	var started, finished, updated sql.NullInt64
	var hotfix, rollback int
	err := s.Scan(&d.Service, &d.Environment, &d.ID, &status, &started, &finished, &d.SHA, &d.Repository, &d.Ring, &hotfix, &rollback, &updated)
	d.Status = delivery.DeploymentStatus(status)
	d.StartedAt, d.FinishedAt, d.UpdatedAt = fromMicros(started), fromMicros(finished), fromMicros(updated)
	d.Hotfix, d.Rollback = hotfix != 0, rollback != 0
	return d, err
}

// applyDeployments merges reports of deployments, one per key and in key
// order, into the store. The stored rows are read in one query per chunk
// of keys, not one per deployment, after the entities are locked
// (lockEntity); each service a report names is recorded once. Each write
// is noted in inputs.
func (db *DB) applyDeployments(ctx context.Context, tx *sql.Tx, ds []delivery.Deployment, inputs *shipInputs) error {
	keys := make([][]string, len(ds))
	for i, d := range ds {
		if err := db.lockEntity(ctx, tx, "deployments", d.Service, d.Environment, d.ID); err != nil {
			return err
		}
		keys[i] = []string{d.Service, d.Environment, d.ID}
	}
	stored := make(map[delivery.DeploymentKey]delivery.Deployment, len(ds))
	err := db.readStored(ctx, tx, "deployments", deploymentKeys, deploymentColumns, keys, func(s interface{ Scan(...any) error }) error {
		d, err := scanDeployment(s)
		stored[d.Key()] = d
		return err
	})
	if err != nil {
		return fmt.Errorf("read deployments: %w", err)
	}
	services := map[[2]string]bool{}
	for _, d := range ds {
		old, found := stored[d.Key()]
		if err := db.upsertDeployment(ctx, tx, old, found, d, inputs); err != nil {
			return err
		}
		services[[2]string{d.Service, d.Repository}] = true
	}
	return db.ensureServices(ctx, tx, services)
}

// upsertDeployment merges d into old, the stored deployment of its key when
// found, and writes the result; a merge that changes nothing writes
// nothing.
func (db *DB) upsertDeployment(ctx context.Context, tx *sql.Tx, old delivery.Deployment, found bool, d delivery.Deployment, inputs *shipInputs) error {
	if found {
		d = delivery.MergeDeployment(old, d)
	}
	inputs.deployment(old, found, d)
	row := deploymentRow(d)
	if found && slices.Equal(row, deploymentRow(old)) {
		return nil
	}
	_, err := db.exec(ctx, tx, `INSERT INTO deployments (`+deploymentColumns+`) VALUES `+placeholders(1, 12)+`
		ON CONFLICT (service, environment, id) DO UPDATE SET status = excluded.status, started_at = excluded.started_at,
		finished_at = excluded.finished_at, sha = excluded.sha, repository = excluded.repository, ring = excluded.ring,
		hotfix = excluded.hotfix, rollback = excluded.rollback, updated_at = excluded.updated_at`, row...)
	if err != nil {
		return fmt.Errorf("write deployment %s: %w", d.Key(), err)
	}
	return nil
}

// deploymentRow is what is stored of d, in the order of deploymentColumns.
func deploymentRow(d delivery.Deployment) []any {
	return []any{d.Service, d.Environment, d.ID, string(d.Status), micros(d.StartedAt), micros(d.FinishedAt), d.SHA, d.Repository, d.Ring,
		boolInt(d.Hotfix), boolInt(d.Rollback), micros(d.UpdatedAt)}
}

const incidentColumns = "service, id, title, severity, opened_at, acknowledged_at, resolved_at, cause_deployment, updated_at, status, status_at, severity_at, source, origin, acknowledged_by"

func scanIncident(s interface{ Scan(...any) error }) (delivery.Incident, error) {
	var in delivery.Incident
	var opened, acked, resolved, updated, statusAt, severityAt sql.NullInt64
	var status, origin string
	err := s.Scan(&in.Service, &in.ID, &in.Title, &in.Severity, &opened, &acked, &resolved, &in.CauseDeployment, &updated, &status, &statusAt, &severityAt,
		&in.Source, &origin, &in.AcknowledgedBy)
	in.Origin = delivery.IncidentOrigin(origin)
	in.SeverityAt = fromMicros(severityAt)
	in.OpenedAt, in.AcknowledgedAt, in.ResolvedAt, in.UpdatedAt = fromMicros(opened), fromMicros(acked), fromMicros(resolved), fromMicros(updated)
	in.Status, in.StatusAt = delivery.IncidentStatus(status), fromMicros(statusAt)
	return in, err
}

// applyIncidents merges reports of incidents, one per key and in key
// order, into the store, reading the stored rows as applyDeployments does.
func (db *DB) applyIncidents(ctx context.Context, tx *sql.Tx, incidents []delivery.Incident) error {
	keys := make([][]string, len(incidents))
	for i, in := range incidents {
		if err := db.lockEntity(ctx, tx, "incidents", in.Service, in.ID); err != nil {
			return err
		}
		keys[i] = []string{in.Service, in.ID}
	}
	type incidentKey struct{ service, id string }
	stored := make(map[incidentKey]delivery.Incident, len(incidents))
	err := db.readStored(ctx, tx, "incidents", incidentKeys, incidentColumns, keys, func(s interface{ Scan(...any) error }) error {
		in, err := scanIncident(s)
		stored[incidentKey{in.Service, in.ID}] = in
		return err
	})
	if err != nil {
		return fmt.Errorf("read incidents: %w", err)
	}
	services := map[[2]string]bool{}
	for _, in := range incidents {
		old, found := stored[incidentKey{in.Service, in.ID}]
		if err := db.upsertIncident(ctx, tx, old, found, in); err != nil {
			return err
		}
		services[[2]string{in.Service, ""}] = true
	}
	return db.ensureServices(ctx, tx, services)
}

// upsertIncident merges in into old, the stored incident of its key when
// found, and writes the result; a merge that changes nothing writes
// nothing.
func (db *DB) upsertIncident(ctx context.Context, tx *sql.Tx, old delivery.Incident, found bool, in delivery.Incident) error {
	if found {
		in = delivery.MergeIncident(old, in)
	}
	// Stored as reported: an incident no report gave a severity keeps
	// SeverityUnknown, and readers count it as the default
	// (delivery.Incident.SeverityOrDefault).
	row := incidentRow(in)
	if found && slices.Equal(row, incidentRow(old)) {
		return nil
	}
	_, err := db.exec(ctx, tx, `INSERT INTO incidents (`+incidentColumns+`) VALUES `+placeholders(1, 15)+`
		ON CONFLICT (service, id) DO UPDATE SET title = excluded.title, severity = excluded.severity, opened_at = excluded.opened_at,
		acknowledged_at = excluded.acknowledged_at, resolved_at = excluded.resolved_at, cause_deployment = excluded.cause_deployment,
		updated_at = excluded.updated_at, status = excluded.status, status_at = excluded.status_at,
		severity_at = excluded.severity_at, source = excluded.source, origin = excluded.origin,
		acknowledged_by = excluded.acknowledged_by`, row...)
	if err != nil {
		return fmt.Errorf("write incident %s/%s: %w", in.Service, in.ID, err)
	}
	if found && slaFactsChanged(old, in) {
		// The breach job judged the incident on the reports it had; have it
		// judge again on the merged ones (see migration incident_sla_changes).
		if _, err := db.exec(ctx, tx, `UPDATE incident_sla SET changes = changes + 1 WHERE service = ? AND incident = ?`, in.Service, in.ID); err != nil {
			return fmt.Errorf("mark SLA of incident %s/%s to judge again: %w", in.Service, in.ID, err)
		}
	}
	return nil
}

// incidentRow is what is stored of in, in the order of incidentColumns.
func incidentRow(in delivery.Incident) []any {
	return []any{in.Service, in.ID, in.Title, in.Severity, micros(in.OpenedAt), micros(in.AcknowledgedAt), micros(in.ResolvedAt), in.CauseDeployment, micros(in.UpdatedAt),
		string(in.Status), micros(in.StatusAt), micros(in.SeverityAt), in.Source, string(in.Origin), in.AcknowledgedBy}
}

// slaFactsChanged reports whether a merge changed what the acknowledgement
// SLA of an incident reads.
func slaFactsChanged(old, merged delivery.Incident) bool {
	return !old.OpenedAt.Equal(merged.OpenedAt) || !old.AcknowledgedAt.Equal(merged.AcknowledgedAt) ||
		!old.ResolvedAt.Equal(merged.ResolvedAt) || old.Severity != merged.Severity || old.Status != merged.Status
}

// ensureServices records the services of a batch, each with the repository
// it was deployed from ("" for none), each pair once and in sorted order.
func (db *DB) ensureServices(ctx context.Context, tx *sql.Tx, services map[[2]string]bool) error {
	pairs := slices.SortedFunc(maps.Keys(services), func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	})
	for _, p := range pairs {
		if err := db.ensureService(ctx, tx, p[0], p[1]); err != nil {
			return err
		}
	}
	return nil
}

// ensureService records a service first seen in an event, so it can be
// listed and given a team later, and the repository it was deployed from.
func (db *DB) ensureService(ctx context.Context, tx *sql.Tx, name, repository string) error {
	if _, err := db.exec(ctx, tx, `INSERT INTO services (name, repositories) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, repository); err != nil {
		return fmt.Errorf("record service %s: %w", name, err)
	}
	return db.recordServiceRepository(ctx, tx, name, repository)
}

// recordServiceRepository notes that service is deployed from repository,
// so that commits to it mark the service stale (see markServicesStale).
func (db *DB) recordServiceRepository(ctx context.Context, tx *sql.Tx, service, repository string) error {
	if repository == "" {
		return nil
	}
	if _, err := db.exec(ctx, tx, `INSERT INTO service_repositories (repository, service) VALUES (?, ?)
		ON CONFLICT (repository, service) DO NOTHING`, repository, service); err != nil {
		return fmt.Errorf("record repository %s of %s: %w", repository, service, err)
	}
	return nil
}

// readStored reads the stored rows of table whose natural keys, in the
// columns keyCols, are among keys
// (each the key's parts, as delivery.KindSpec.Key gives them): columns of
// each, in one query per chunk of keys; scan reads one row.
func (db *DB) readStored(ctx context.Context, tx *sql.Tx, table string, keyCols []keyColumn, columns string, keys [][]string, scan func(s interface{ Scan(...any) error }) error) error {
	t := entityTable{table: table, keys: keyCols}
	names := make([]string, len(t.keys))
	marks := make([]string, len(t.keys))
	for i, col := range t.keys {
		names[i], marks[i] = col.name, "?"
		if col.integer {
			// PostgreSQL types a bare placeholder in VALUES as text.
			marks[i] = "CAST(? AS INTEGER)"
		}
	}
	one := "(" + strings.Join(marks, ", ") + ")"
	start := 0
	for _, size := range db.rowChunks(len(keys), 500) {
		args := make([]any, 0, size*len(t.keys))
		for _, parts := range keys[start : start+size] {
			a, err := t.keyArgs(parts)
			if err != nil {
				return fmt.Errorf("%s: %w", t.table, err)
			}
			args = append(args, a...)
		}
		start += size
		rows, err := db.query(ctx, tx, "SELECT "+columns+" FROM "+t.table+" WHERE ("+strings.Join(names, ", ")+") IN (VALUES "+
			strings.TrimSuffix(strings.Repeat(one+", ", size), ", ")+")", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	return nil
}

// upsertJSON merges an entity kept as JSON with the stored one, data when
// found, and writes it back with its indexed columns.
func upsertJSON[T any](ctx context.Context, db *DB, tx *sql.Tx, table string, keyCols []string, keyVals []any, data string, found bool, v T, merge func(a, b T) T, columns func(T) ([]string, []any)) error {
	if found {
		var old T
		if err := json.Unmarshal([]byte(data), &old); err != nil {
			return fmt.Errorf("read %s %v: %w", table, keyVals, err)
		}
		v = merge(old, v)
	}
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %v: %w", table, keyVals, err)
	}
	extra, extraVals := columns(v)
	cols := append(append(append([]string{}, keyCols...), extra...), "data")
	vals := append(append(append([]any{}, keyVals...), extraVals...), string(body))
	set := make([]string, 0, len(extra)+1)
	for _, c := range append(extra, "data") {
		set = append(set, c+" = excluded."+c)
	}
	_, err = db.exec(ctx, tx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+") VALUES "+placeholders(1, len(cols))+
		" ON CONFLICT ("+strings.Join(keyCols, ", ")+") DO UPDATE SET "+strings.Join(set, ", "), vals...)
	if err != nil {
		return fmt.Errorf("write %s %v: %w", table, keyVals, err)
	}
	return nil
}

// markServicesStale flags services, and the services deployed from repos,
// as needing their shipments recomputed from the whole history: the
// writers that call it removed or moved what a refresh had counted.
func (db *DB) markServicesStale(ctx context.Context, tx *sql.Tx, services, repos map[string]bool) error {
	in := newShipInputs()
	maps.Copy(in.recompute, services)
	maps.Copy(in.recomputeRepos, repos)
	return db.mark(ctx, tx, in)
}
