package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
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
	var base, prefixList, repoList string
	err = db.read.QueryRowContext(ctx, db.q(`SELECT base, paths, repositories FROM services WHERE name = ?`), service).Scan(&base, &prefixList, &repoList)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read service %s: %w", service, err)
	}
	var prefixes []string
	if prefixList != "" {
		prefixes = strings.Split(prefixList, "\n")
	}
	graphs := map[string]commitGraph{}
	graphOf := func(repo string) (commitGraph, error) {
		if g, ok := graphs[repo]; ok {
			return g, nil
		}
		g, err := db.graph(ctx, db.read, repo, len(prefixes) > 0)
		graphs[repo] = g
		return g, err
	}
	unknown, err := homeDeployments(deployments, service, strings.Fields(repoList), graphOf)
	if err != nil {
		return err
	}
	byRepo := map[string][]delivery.Deployment{}
	for _, d := range deployments {
		byRepo[d.Repository] = append(byRepo[d.Repository], d)
	}
	// The new assignment, grouped by deployment.
	want := map[delivery.DeploymentKey][]shipment{}
	missing := 0
	var unknownAncestry, unknownCommit []string
	for repo, ds := range byRepo {
		graph, err := graphOf(repo)
		if err != nil {
			return err
		}
		delete(graphs, repo) // read once: free it before the next repository's
		shipping := delivery.ShipGraph(graph.reachable, ds, strings.Fields(base))
		missing += len(shipping.Missing)
		for _, k := range shipping.UnknownAncestry {
			unknownAncestry = append(unknownAncestry, k.Environment+"/"+k.ID)
		}
		for _, k := range shipping.UnknownCommit {
			unknownCommit = append(unknownCommit, k.Environment+"/"+k.ID)
		}
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
				want[key] = append(want[key], shipment{repo, sha, c.commitTime, finished[key], c.incident})
			}
		}
	}
	digests := make(map[delivery.DeploymentKey]string, len(want))
	for k, rows := range want {
		digests[k] = digestShipments(rows)
	}
	// Which deployments' shipments differ from what is stored: compared by
	// digest, so a refresh does not read back every stored shipment.
	rows, err := db.read.QueryContext(ctx, db.q(`SELECT environment, deployment_id, digest FROM deployment_changes WHERE service = ?`), service)
	if err != nil {
		return fmt.Errorf("read summaries of %s: %w", service, err)
	}
	changed := map[delivery.DeploymentKey]bool{}
	stored := map[delivery.DeploymentKey]bool{}
	for rows.Next() {
		k := delivery.DeploymentKey{Service: service}
		var digest string
		if err := rows.Scan(&k.Environment, &k.ID, &digest); err != nil {
			rows.Close()
			return fmt.Errorf("read summaries of %s: %w", service, err)
		}
		stored[k] = true
		if digests[k] != digest {
			changed[k] = true
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("read summaries of %s: %w", service, err)
	}
	for k := range want {
		if !stored[k] {
			changed[k] = true
		}
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
		// Clear every changed deployment first: a change that moved from one
		// deployment to another must be gone from the first before it is
		// written under the second.
		for k := range changed {
			if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM shipments WHERE service = ? AND environment = ? AND deployment_id = ?`), k.Service, k.Environment, k.ID); err != nil {
				return fmt.Errorf("clear shipments of %s: %w", k, err)
			}
			if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM deployment_changes WHERE service = ? AND environment = ? AND deployment_id = ?`), k.Service, k.Environment, k.ID); err != nil {
				return fmt.Errorf("clear summary of %s: %w", k, err)
			}
		}
		const cols = 8
		args := make([]any, 0, 500*cols)
		flush := func() error {
			if len(args) == 0 {
				return nil
			}
			_, err := tx.ExecContext(ctx, db.q(`INSERT INTO shipments (service, environment, deployment_id, repository, sha, commit_time, finished_at, incident) VALUES `+
				placeholders(len(args)/cols, cols)), args...)
			args = args[:0]
			if err != nil {
				return fmt.Errorf("write shipments of %s: %w", service, err)
			}
			return nil
		}
		for k := range changed {
			rows := want[k]
			if len(rows) == 0 {
				continue // the deployment ships nothing any more
			}
			for _, r := range rows {
				args = append(args, service, k.Environment, k.ID, r.repository, r.sha, r.commitTime, r.finishedAt, r.incident)
				if len(args) >= 500*cols {
					if err := flush(); err != nil {
						return err
					}
				}
			}
			if err := db.writeSummary(ctx, tx, k, rows, digests[k]); err != nil {
				return err
			}
			written += len(rows)
		}
		if err := flush(); err != nil {
			return err
		}
		slices.Sort(unknownAncestry)
		slices.Sort(unknownCommit)
		if err := db.writeMissingCommits(ctx, tx, service, unknown); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.q(`UPDATE shipping_state SET dirty = 0, computed_at = ?, missing = ?, unknown_ancestry = ?, unknown_commit = ? WHERE service = ? AND dirty = ?`),
			db.Now().UnixMicro(), missing, strings.Join(unknownAncestry, "\n"), strings.Join(unknownCommit, "\n"), service, gen)
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

// shipment is one change shipped by a deployment.
type shipment struct {
	repository, sha        string
	commitTime, finishedAt int64
	incident               string
}

// digestShipments identifies a deployment's set of shipped changes, in any
// order, so a refresh can tell whether it changed without reading it back.
func digestShipments(rows []shipment) string {
	slices.SortFunc(rows, func(a, b shipment) int {
		if c := strings.Compare(a.repository, b.repository); c != 0 {
			return c
		}
		return strings.Compare(a.sha, b.sha)
	})
	h := sha256.New()
	var buf [8]byte
	for _, r := range rows {
		h.Write([]byte(r.repository))
		h.Write([]byte{0})
		h.Write([]byte(r.sha))
		h.Write([]byte{0})
		binary.LittleEndian.PutUint64(buf[:], uint64(r.commitTime))
		h.Write(buf[:])
		binary.LittleEndian.PutUint64(buf[:], uint64(r.finishedAt))
		h.Write(buf[:])
		h.Write([]byte(r.incident))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
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
	reachable delivery.Graph
	info      map[string]commitInfo
}

// graph reads the commit graph of a repository; withPaths also reads the
// files each commit touched, which only monorepo services need and which
// would otherwise cost every refresh a large column.
func (db *DB) graph(ctx context.Context, q querier, repository string, withPaths bool) (commitGraph, error) {
	g := commitGraph{reachable: delivery.Graph{Reachable: map[string][]string{}}, info: map[string]commitInfo{}}
	pathsColumn := "NULL"
	if withPaths {
		pathsColumn = "paths"
	}
	rows, err := q.QueryContext(ctx, db.q(`SELECT sha, parents, ancestry, proven_ancestors, commit_time, incident, `+pathsColumn+` FROM changes WHERE repository = ?`), repository)
	if err != nil {
		return g, fmt.Errorf("read commit graph of %s: %w", repository, err)
	}
	defer rows.Close()
	for rows.Next() {
		var sha, parents, ancestry, proven, incident string
		var ct int64
		var pathsJSON sql.NullString
		if err := rows.Scan(&sha, &parents, &ancestry, &proven, &ct, &incident, &pathsJSON); err != nil {
			return g, fmt.Errorf("read commit graph of %s: %w", repository, err)
		}
		paths, err := decodePaths(pathsJSON)
		if err != nil {
			return g, fmt.Errorf("read commit graph of %s: %s: %w", repository, sha, err)
		}
		g.reachable.Add(sha, delivery.Ancestry(ancestry), strings.Fields(parents), strings.Fields(proven))
		g.info[sha] = commitInfo{commitTime: ct, incident: incident, paths: paths}
	}
	return g, rows.Err()
}

// writeSummary writes a deployment's summary row: the commit times of its
// changes not linked to an incident, packed, and the digest of all of them.
func (db *DB) writeSummary(ctx context.Context, tx *sql.Tx, k delivery.DeploymentKey, rows []shipment, digest string) error {
	packed := make([]byte, 0, 8*len(rows))
	var finished int64
	for _, r := range rows {
		finished = r.finishedAt
		if r.incident == "" {
			packed = binary.LittleEndian.AppendUint64(packed, uint64(r.commitTime))
		}
	}
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO deployment_changes (service, environment, deployment_id, finished_at, commit_times, digest) VALUES (?, ?, ?, ?, ?, ?)`),
		k.Service, k.Environment, k.ID, finished, packed, digest); err != nil {
		return fmt.Errorf("write summary of %s: %w", k, err)
	}
	return nil
}

// ShippingGaps are the production deployments of one service (each named
// environment/id, sorted) whose changes the last refresh could not tell in
// full. They are facts the store keeps per service beside
// shipping_state.missing, for the report's warnings.
type ShippingGaps struct {
	// UnknownAncestry are deployments of a commit whose history Stride was
	// not told (a commit a push listed but did not end on): each ships its
	// own commit alone, which may be too few changes.
	UnknownAncestry []string
	// UnknownCommit are deployments of a commit Stride was never told of
	// (a push to a branch the source does not take, or no git import): each
	// ships nothing until the commit is reported.
	UnknownCommit []string
}

// ShippingGaps returns the gaps the last refresh of service found; none
// for a service never refreshed. Call RefreshShipments first for a fresh
// answer (the report's reads do).
func (db *DB) ShippingGaps(ctx context.Context, service string) (ShippingGaps, error) {
	var g ShippingGaps
	var ancestry, commit string
	err := db.read.QueryRowContext(ctx, db.q(`SELECT unknown_ancestry, unknown_commit FROM shipping_state WHERE service = ?`), service).Scan(&ancestry, &commit)
	if errors.Is(err, sql.ErrNoRows) {
		return g, nil
	}
	if err != nil {
		return g, fmt.Errorf("read shipping gaps of %s: %w", service, err)
	}
	lines := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, "\n")
	}
	g.UnknownAncestry, g.UnknownCommit = lines(ancestry), lines(commit)
	return g, nil
}
