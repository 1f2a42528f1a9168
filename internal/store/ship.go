package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
)

// Shipments are derived data: which deployment shipped which change. Ingest
// only marks a service stale (cheap, in the request path); the assignment is
// recomputed from the whole commit graph before the next read, or by the
// server's background refresher. A full recomputation is simple and exact
// whatever order commits and deployments arrived in.
//
// shipping_state.dirty is a generation counter: ingest increments it, and a
// refresh clears it only if it did not move meanwhile, so a batch committed
// by another replica during a refresh is never lost.

// RefreshShipments recomputes the shipments of every stale service among
// services (all stale services when services is empty) and returns how many
// it recomputed.
func (db *DB) RefreshShipments(ctx context.Context, services ...string) (int, error) {
	q := `SELECT service, dirty FROM shipping_state WHERE dirty > 0`
	var args []any
	if len(services) > 0 {
		q += ` AND service IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(services)), ", ") + `)`
		for _, s := range services {
			args = append(args, s)
		}
	}
	rows, err := db.read.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return 0, fmt.Errorf("find stale services: %w", err)
	}
	stale := map[string]int64{}
	for rows.Next() {
		var s string
		var gen int64
		if err := rows.Scan(&s, &gen); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find stale services: %w", err)
		}
		stale[s] = gen
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("find stale services: %w", err)
	}
	for s, gen := range stale {
		if err := db.ship(ctx, s, gen); err != nil {
			return 0, err
		}
	}
	return len(stale), nil
}

// shipmentRow is one stored shipment, keyed by (repository, sha).
type shipmentRow struct {
	environment, deploymentID string
	commitTime, finishedAt    int64
	incident                  string
}

// ship recomputes one service's shipments. The inputs are read outside the
// write transaction, so a refresh of a large history does not hold the
// writer (SQLite has one) while it reads and computes; the write applies
// only the difference to what is stored, and only if the inputs did not
// change meanwhile (the generation is still gen). Otherwise the service
// stays stale and the next refresh starts over.
func (db *DB) ship(ctx context.Context, service string, gen int64) error {
	deployments, err := db.successfulDeployments(ctx, db.read, service)
	if err != nil {
		return err
	}
	var base, prefixList string
	err = db.read.QueryRowContext(ctx, db.q(`SELECT base, paths FROM services WHERE name = ?`), service).Scan(&base, &prefixList)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read service %s: %w", service, err)
	}
	var prefixes []string
	if prefixList != "" {
		prefixes = strings.Split(prefixList, "\n")
	}
	byRepo := map[string][]delivery.Deployment{}
	for _, d := range deployments {
		byRepo[d.Repository] = append(byRepo[d.Repository], d)
	}
	type rowKey struct{ repository, sha string }
	want := map[rowKey]shipmentRow{}
	missing := 0
	for repo, ds := range byRepo {
		graph, err := db.graph(ctx, db.read, repo, len(prefixes) > 0)
		if err != nil {
			return err
		}
		shipping := delivery.ShipChanges(graph.parents, ds, strings.Fields(base))
		missing += len(shipping.Missing)
		finished := make(map[delivery.DeploymentKey]int64, len(ds))
		for _, d := range ds {
			finished[d.Key()] = d.FinishedAt.UnixMicro()
		}
		// The walk runs over the whole graph, so which deployment first
		// contains a commit stays exact; a monorepo service then keeps only
		// the shipped changes that touch its paths (or whose paths are
		// unknown).
		for key, shas := range shipping.Changes {
			for _, sha := range shas {
				c := graph.info[sha]
				if !delivery.Touches(c.paths, prefixes) {
					continue
				}
				want[rowKey{repo, sha}] = shipmentRow{key.Environment, key.ID, c.commitTime, finished[key], c.incident}
			}
		}
	}
	// Each deployment's commit times, for the summary rows; and which
	// deployments' sets changed, so only their summaries are rewritten.
	summaries := map[delivery.DeploymentKey][]int64{}
	finishedAt := map[delivery.DeploymentKey]int64{}
	for _, r := range want {
		k := delivery.DeploymentKey{Service: service, Environment: r.environment, ID: r.deploymentID}
		finishedAt[k] = r.finishedAt
		if r.incident == "" {
			summaries[k] = append(summaries[k], r.commitTime)
		}
	}
	changed := map[delivery.DeploymentKey]bool{}
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT repository, sha, environment, deployment_id, commit_time, finished_at, incident
		FROM shipments WHERE service = ?`), service)
	if err != nil {
		return fmt.Errorf("read shipments of %s: %w", service, err)
	}
	var stale []rowKey
	for rows.Next() {
		var k rowKey
		var r shipmentRow
		if err := rows.Scan(&k.repository, &k.sha, &r.environment, &r.deploymentID, &r.commitTime, &r.finishedAt, &r.incident); err != nil {
			rows.Close()
			return fmt.Errorf("read shipments of %s: %w", service, err)
		}
		if w, ok := want[k]; !ok {
			stale = append(stale, k)
			changed[delivery.DeploymentKey{Service: service, Environment: r.environment, ID: r.deploymentID}] = true
		} else if w == r {
			delete(want, k) // already stored as it should be
		} else {
			changed[delivery.DeploymentKey{Service: service, Environment: r.environment, ID: r.deploymentID}] = true
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read shipments of %s: %w", service, err)
	}

	written := 0
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		var current int64
		if err := tx.QueryRowContext(ctx, db.q(`SELECT dirty FROM shipping_state WHERE service = ?`), service).Scan(&current); err != nil {
			return fmt.Errorf("read state of %s: %w", service, err)
		}
		if current != gen {
			return nil // new events arrived while computing: leave it stale
		}
		for _, k := range stale {
			if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM shipments WHERE service = ? AND repository = ? AND sha = ?`), service, k.repository, k.sha); err != nil {
				return fmt.Errorf("delete shipment of %s: %w", service, err)
			}
		}
		const cols = 8
		args := make([]any, 0, 500*cols)
		flush := func() error {
			if len(args) == 0 {
				return nil
			}
			_, err := tx.ExecContext(ctx, db.q(`INSERT INTO shipments (service, environment, deployment_id, repository, sha, commit_time, finished_at, incident) VALUES `+
				placeholders(len(args)/cols, cols)+` ON CONFLICT (service, repository, sha) DO UPDATE SET environment = excluded.environment,
				deployment_id = excluded.deployment_id, commit_time = excluded.commit_time, finished_at = excluded.finished_at, incident = excluded.incident`), args...)
			args = args[:0]
			if err != nil {
				return fmt.Errorf("write shipments of %s: %w", service, err)
			}
			return nil
		}
		for k, r := range want {
			changed[delivery.DeploymentKey{Service: service, Environment: r.environment, ID: r.deploymentID}] = true
			args = append(args, service, r.environment, r.deploymentID, k.repository, k.sha, r.commitTime, r.finishedAt, r.incident)
			if len(args) >= 500*cols {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		if err := db.writeSummaries(ctx, tx, changed, summaries, finishedAt); err != nil {
			return err
		}
		written = len(stale) + len(want)
		_, err := tx.ExecContext(ctx, db.q(`UPDATE shipping_state SET dirty = 0, computed_at = ?, missing = ? WHERE service = ? AND dirty = ?`),
			db.Now().UnixMicro(), missing, service, gen)
		if err != nil {
			return fmt.Errorf("mark %s fresh: %w", service, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// After a large rewrite (a first import), refresh PostgreSQL's planner
	// statistics now rather than when autovacuum gets to it: with none, it
	// plans for empty tables.
	if db.dialect == Postgres && written >= 10000 {
		if _, err := db.write.ExecContext(ctx, `ANALYZE changes, deployments, shipments, deployment_changes`); err != nil {
			return fmt.Errorf("analyze after refreshing %s: %w", service, err)
		}
	}
	return nil
}

func (db *DB) successfulDeployments(ctx context.Context, q querier, service string) ([]delivery.Deployment, error) {
	rows, err := q.QueryContext(ctx, db.q(`SELECT `+deploymentColumns+` FROM deployments
		WHERE service = ? AND environment = ? AND status = ?`), service, delivery.EnvironmentProduction, string(delivery.DeploymentSuccess))
	if err != nil {
		return nil, fmt.Errorf("read deployments of %s: %w", service, err)
	}
	defer rows.Close()
	var out []delivery.Deployment
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			return nil, fmt.Errorf("read deployments of %s: %w", service, err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

type commitInfo struct {
	commitTime int64
	incident   string
	paths      []string // read only for services with path prefixes
}

type commitGraph struct {
	parents map[string][]string
	info    map[string]commitInfo
}

// graph reads the commit graph of a repository; withPaths also reads the
// files each commit touched, which only monorepo services need and which
// would otherwise cost every refresh a large column.
func (db *DB) graph(ctx context.Context, q querier, repository string, withPaths bool) (commitGraph, error) {
	g := commitGraph{parents: map[string][]string{}, info: map[string]commitInfo{}}
	pathsColumn := "NULL"
	if withPaths {
		pathsColumn = "paths"
	}
	rows, err := q.QueryContext(ctx, db.q(`SELECT sha, parents, commit_time, incident, `+pathsColumn+` FROM changes WHERE repository = ?`), repository)
	if err != nil {
		return g, fmt.Errorf("read commit graph of %s: %w", repository, err)
	}
	defer rows.Close()
	for rows.Next() {
		var sha, parents, incident string
		var ct int64
		var pathsJSON sql.NullString
		if err := rows.Scan(&sha, &parents, &ct, &incident, &pathsJSON); err != nil {
			return g, fmt.Errorf("read commit graph of %s: %w", repository, err)
		}
		paths, err := decodePaths(pathsJSON)
		if err != nil {
			return g, fmt.Errorf("read commit graph of %s: %s: %w", repository, sha, err)
		}
		g.parents[sha] = strings.Fields(parents)
		g.info[sha] = commitInfo{commitTime: ct, incident: incident, paths: paths}
	}
	return g, rows.Err()
}

// writeSummaries rewrites the deployment_changes rows of the deployments
// whose shipped changes changed.
func (db *DB) writeSummaries(ctx context.Context, tx *sql.Tx, changed map[delivery.DeploymentKey]bool, summaries map[delivery.DeploymentKey][]int64, finishedAt map[delivery.DeploymentKey]int64) error {
	for k := range changed {
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM deployment_changes WHERE service = ? AND environment = ? AND deployment_id = ?`),
			k.Service, k.Environment, k.ID); err != nil {
			return fmt.Errorf("clear summary of %s: %w", k, err)
		}
		times := summaries[k]
		if len(times) == 0 {
			continue
		}
		packed := make([]byte, 8*len(times))
		for i, t := range times {
			binary.LittleEndian.PutUint64(packed[8*i:], uint64(t))
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO deployment_changes (service, environment, deployment_id, finished_at, commit_times) VALUES (?, ?, ?, ?, ?)`),
			k.Service, k.Environment, k.ID, finishedAt[k], packed); err != nil {
			return fmt.Errorf("write summary of %s: %w", k, err)
		}
	}
	return nil
}
