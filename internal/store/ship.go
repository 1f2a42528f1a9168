package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
)

// Shipments are derived data: which deployment shipped which change. Ingest
// only marks a service stale (cheap, in the request path); the assignment is
// brought up to date before the next read, or by the background refresher.
//
// A refresh usually continues from the last one: when the only news are
// commits and deployments finishing after the last deployment it counted,
// each new deployment ships the commits reachable from it up to commits
// already covered (shipped before, or behind the history's start), which
// delivery.ShipAfter walks over the few commits read for it, so a refresh
// costs what the new commits cost, not what the history does. Anything else
// (a known commit or counted deployment changed, a deployment finishing
// before the last one counted, a commit the last walk missed arriving, a
// change of the service's configuration) sets shipping_state.recompute,
// and the refresh recomputes from the whole commit graph, which is exact
// whatever order commits and deployments arrived in.
//
// shipping_state.dirty is a generation counter: ingest increments it, and a
// refresh clears it only if it did not move meanwhile, so a batch committed
// by another replica during a refresh is never lost.

// shipState is a service's shipping_state as a refresh reads it.
type shipState struct {
	gen       int64
	recompute bool
	// last is the last deployment counted, nil when none was.
	last                           *deploymentMark
	unknownAncestry, unknownCommit string
}

// RefreshShipments brings up to date the shipments of every stale service
// among services (all stale services when services is empty) and returns
// how many it refreshed.
func (db *DB) RefreshShipments(ctx context.Context, services ...string) (int, error) {
	q := `SELECT service, dirty, recompute, last_finished, last_id, unknown_ancestry, unknown_commit FROM shipping_state WHERE dirty > 0`
	var args []any
	if len(services) > 0 {
		list, a := inList(services)
		q += ` AND service IN ` + list
		args = a
	}
	var rows *sql.Rows
	var err error
	if len(services) == 0 {
		rows, err = db.readQuery(ctx, q) // the job's and the reports' refresh: one text
	} else {
		rows, err = db.read.QueryContext(ctx, db.q(q), args...)
	}
	if err != nil {
		return 0, fmt.Errorf("find stale services: %w", err)
	}
	stale := map[string]shipState{}
	for rows.Next() {
		var s string
		st, err := scanShipState(rows, &s)
		if err != nil {
			rows.Close()
			return 0, fmt.Errorf("find stale services: %w", err)
		}
		stale[s] = st
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("find stale services: %w", err)
	}
	// Services that recompute are written one at a time, each in its own
	// transaction: a large one must not hold the writer for the others.
	// Those that continue write little each, and all in one transaction, so
	// a page that refreshes 500 services after a release each commits once.
	var continued []continuation
	for _, s := range slices.Sorted(maps.Keys(stale)) {
		st := stale[s]
		if st.recompute || st.last == nil {
			if err := db.ship(ctx, s, st.gen); err != nil {
				return 0, err
			}
			continue
		}
		c, err := db.continueShipping(ctx, s, st)
		if err != nil {
			return 0, err
		}
		continued = append(continued, c)
	}
	if len(continued) > 0 {
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			for _, c := range continued {
				if err := db.writeContinuation(ctx, tx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return len(stale), nil
}

// RecomputeShipments recomputes the shipments of services from their whole
// history (every service's when services is empty), as the first refresh
// of a service does, and returns how many it recomputed. Refreshes do this
// on their own when they must; it is there to check that continuing gives
// what recomputing gives, and for an operator who doubts a figure.
func (db *DB) RecomputeShipments(ctx context.Context, services ...string) (int, error) {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if len(services) == 0 {
			var err error
			if services, err = stringsOf(ctx, tx, `SELECT service FROM shipping_state`); err != nil {
				return fmt.Errorf("list services: %w", err)
			}
		}
		in := newShipInputs()
		for _, s := range services {
			in.recompute[s] = true
		}
		return db.mark(ctx, tx, in)
	})
	if err != nil {
		return 0, fmt.Errorf("recompute shipments: %w", err)
	}
	return db.RefreshShipments(ctx, services...)
}

func scanShipState(s interface{ Scan(...any) error }, service *string) (shipState, error) {
	var st shipState
	var recompute int
	var lastFinished sql.NullInt64
	var lastID string
	dest := []any{&st.gen, &recompute, &lastFinished, &lastID, &st.unknownAncestry, &st.unknownCommit}
	if service != nil {
		dest = append([]any{service}, dest...)
	}
	if err := s.Scan(dest...); err != nil {
		return st, err
	}
	st.recompute = recompute != 0
	if lastFinished.Valid {
		st.last = &deploymentMark{lastFinished.Int64, lastID}
	}
	return st, nil
}

// lockShipState reads a service's state inside the refresh's write
// transaction, locking its row on PostgreSQL so that no batch marks the
// service stale between this check and the refresh's commit (SQLite has
// one writer): the refresh then writes only if its inputs are still those
// it read (the generation is still gen).
func (db *DB) lockShipState(ctx context.Context, tx *sql.Tx, service string) (shipState, error) {
	q := `SELECT dirty, recompute, last_finished, last_id, unknown_ancestry, unknown_commit FROM shipping_state WHERE service = ?`
	if db.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	st, err := scanShipState(db.queryRow(ctx, tx, q, service), nil)
	if err != nil {
		return st, fmt.Errorf("read state of %s: %w", service, err)
	}
	return st, nil
}

// serviceInputs are the configuration a service's walk reads.
type serviceInputs struct {
	base, prefixes, repositories []string
}

func (db *DB) serviceInputs(ctx context.Context, service string) (serviceInputs, error) {
	var in serviceInputs
	var base, prefixList, repoList string
	err := db.readQueryRow(ctx, `SELECT base, paths, repositories FROM services WHERE name = ?`, service).Scan(&base, &prefixList, &repoList)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return in, fmt.Errorf("read service %s: %w", service, err)
	}
	in.base, in.repositories = strings.Fields(base), strings.Fields(repoList)
	if prefixList != "" {
		in.prefixes = strings.Split(prefixList, "\n")
	}
	return in, nil
}

// walkResult is what a refresh writes, gathered over a service's
// repositories.
type walkResult struct {
	// shipped is the assignment, grouped by deployment.
	shipped map[delivery.DeploymentKey][]shipment
	// covered are the commits covered without being shipped, and missing
	// the shas the walks needed and did not find, as (repository, sha).
	covered, missing               [][2]string
	unknownAncestry, unknownCommit []string
}

// add records one repository's walk: the deployments' changes that touch
// the service's paths are shipped, and the others covered.
func (w *walkResult) add(repo string, shipping delivery.Shipping, graph commitGraph, finished map[delivery.DeploymentKey]int64, prefixes []string) {
	for _, sha := range shipping.Missing {
		w.missing = append(w.missing, [2]string{repo, sha})
	}
	for _, sha := range shipping.Covered {
		w.covered = append(w.covered, [2]string{repo, sha})
	}
	for _, k := range shipping.UnknownAncestry {
		w.unknownAncestry = append(w.unknownAncestry, k.Environment+"/"+k.ID)
	}
	for _, k := range shipping.UnknownCommit {
		w.unknownCommit = append(w.unknownCommit, k.Environment+"/"+k.ID)
	}
	// The walk runs over the whole graph, so which deployment first
	// contains a commit stays exact; a monorepo service then keeps only
	// the shipped changes that touch its paths (or whose paths are
	// unknown), and the others are covered all the same.
	for key, shas := range shipping.Changes {
		for _, sha := range shas {
			c := graph.info[sha]
			if !delivery.Touches(c.paths, prefixes) {
				w.covered = append(w.covered, [2]string{repo, sha})
				continue
			}
			w.shipped[key] = append(w.shipped[key], shipment{repo, sha, c.commitTime, finished[key], c.incident})
		}
	}
}

// finishTimes maps deployments to their finish time as shipments store it.
func finishTimes(ds []delivery.Deployment) map[delivery.DeploymentKey]int64 {
	finished := make(map[delivery.DeploymentKey]int64, len(ds))
	for _, d := range ds {
		finished[d.Key()] = d.FinishedAt.UnixMicro()
	}
	return finished
}

// lastCounted is the last of ds in the order shipments are assigned in,
// among those counted; nil when none is.
func lastCounted(ds []delivery.Deployment, after *deploymentMark) *deploymentMark {
	last := after
	for _, d := range ds {
		if !counted(d) {
			continue
		}
		m := deploymentMark{d.FinishedAt.UnixMicro(), d.ID}
		if last == nil || last.before(m) {
			last = &m
		}
	}
	return last
}

// ship recomputes one service's shipments from its whole history. The
// inputs are read outside the write transaction, so a refresh of a large
// history does not hold the writer (SQLite has one) while it reads and
// computes; the write applies only the difference to what is stored, and
// only if the inputs did not change meanwhile (the generation is still
// gen). Otherwise the service stays stale and the next refresh starts over.
func (db *DB) ship(ctx context.Context, service string, gen int64) error {
	deployments, err := db.successfulDeployments(ctx, service, nil)
	if err != nil {
		return err
	}
	cfg, err := db.serviceInputs(ctx, service)
	if err != nil {
		return err
	}
	graphs := map[string]commitGraph{}
	graphOf := func(repo string) (commitGraph, error) {
		if g, ok := graphs[repo]; ok {
			return g, nil
		}
		g, err := db.graph(ctx, db.read, repo, len(cfg.prefixes) > 0)
		graphs[repo] = g
		return g, err
	}
	unknown, err := homeDeployments(deployments, service, cfg.repositories, func(repo, sha string) (bool, error) {
		g, err := graphOf(repo)
		_, ok := g.info[sha]
		return ok, err
	})
	if err != nil {
		return err
	}
	w := walkResult{shipped: map[delivery.DeploymentKey][]shipment{}}
	finished := finishTimes(deployments)
	byRepo := byRepository(deployments)
	for _, repo := range slices.Sorted(maps.Keys(byRepo)) {
		graph, err := graphOf(repo)
		if err != nil {
			return err
		}
		delete(graphs, repo) // read once: free it before the next repository's
		unknown = unknownCommits(unknown, byRepo[repo], graph)
		w.add(repo, delivery.ShipGraph(graph.reachable, byRepo[repo], cfg.base), graph, finished, cfg.prefixes)
	}
	want := w.shipped
	digests := make(map[delivery.DeploymentKey]string, len(want))
	for k, rows := range want {
		digests[k] = digestShipments(rows)
	}
	// Which deployments' shipments differ from what is stored: compared by
	// digest, so a refresh does not read back every stored shipment.
	rows, err := db.readQuery(ctx, `SELECT environment, deployment_id, digest FROM deployment_changes WHERE service = ?`, service)
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
		st, err := db.lockShipState(ctx, tx, service)
		if err != nil {
			return err
		}
		if st.gen != gen {
			return nil // new events arrived while computing: leave it stale
		}
		// Clear every changed deployment first: a change that moved from one
		// deployment to another must be gone from the first before it is
		// written under the second.
		for _, k := range sortedKeys(changed) {
			if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM shipments WHERE service = ? AND environment = ? AND deployment_id = ?`), k.Service, k.Environment, k.ID); err != nil {
				return fmt.Errorf("clear shipments of %s: %w", k, err)
			}
			if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM deployment_changes WHERE service = ? AND environment = ? AND deployment_id = ?`), k.Service, k.Environment, k.ID); err != nil {
				return fmt.Errorf("clear summary of %s: %w", k, err)
			}
		}
		if written, err = db.writeShipments(ctx, tx, service, changed, want, digests); err != nil {
			return err
		}
		for _, table := range []string{"shipping_covered", "shipping_missing"} {
			if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM `+table+` WHERE service = ?`), service); err != nil {
				return fmt.Errorf("clear %s of %s: %w", table, service, err)
			}
		}
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM missing_commits WHERE service = ?`), service); err != nil {
			return fmt.Errorf("clear unknown commits of %s: %w", service, err)
		}
		slices.Sort(w.unknownAncestry)
		slices.Sort(w.unknownCommit)
		return db.finishRefresh(ctx, tx, service, gen, w, unknown, lastCounted(deployments, nil))
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

// continuation is what a refresh that continues writes for one service.
type continuation struct {
	service string
	from    shipState
	walk    walkResult
	unknown []MissingCommit
	changed map[delivery.DeploymentKey]bool
	digests map[delivery.DeploymentKey]string
	last    *deploymentMark
}

// continueShipping continues a service's last refresh with the deployments
// counted since (all finishing after st.last, which ingest ensures: see
// mark), each walked over the commits read for it up to covered ones. Like
// ship, it reads outside the write transaction; writeContinuation writes
// only if the service's state is still the one it continued from.
func (db *DB) continueShipping(ctx context.Context, service string, st shipState) (continuation, error) {
	c := continuation{service: service, from: st, last: st.last, walk: walkResult{shipped: map[delivery.DeploymentKey][]shipment{}}}
	deployments, err := db.successfulDeployments(ctx, service, st.last)
	if err != nil || len(deployments) == 0 {
		// Only commits arrived: nothing ships until a deployment does.
		c.walk.unknownAncestry, c.walk.unknownCommit = mergeLines(st.unknownAncestry, nil), mergeLines(st.unknownCommit, nil)
		return c, err
	}
	cfg, err := db.serviceInputs(ctx, service)
	if err != nil {
		return c, err
	}
	c.unknown, err = homeDeployments(deployments, service, cfg.repositories, func(repo, sha string) (bool, error) {
		return db.holdsCommit(ctx, repo, sha)
	})
	if err != nil {
		return c, err
	}
	w := &c.walk
	finished := finishTimes(deployments)
	byRepo := byRepository(deployments)
	for _, repo := range slices.Sorted(maps.Keys(byRepo)) {
		ds := byRepo[repo]
		starts := make([]string, 0, len(ds))
		for _, d := range ds {
			starts = append(starts, d.SHA)
		}
		graph, covered, err := db.subgraph(ctx, service, repo, starts, len(cfg.prefixes) > 0)
		if err != nil {
			return c, err
		}
		c.unknown = unknownCommits(c.unknown, ds, graph)
		w.add(repo, delivery.ShipAfter(graph.reachable, func(sha string) bool { return covered[sha] }, ds), graph, finished, cfg.prefixes)
	}
	c.digests = make(map[delivery.DeploymentKey]string, len(w.shipped))
	c.changed = make(map[delivery.DeploymentKey]bool, len(w.shipped))
	for k, rows := range w.shipped {
		c.digests[k] = digestShipments(rows)
		c.changed[k] = true
	}
	// The lists of deployments with unknown commits or ancestry go on from
	// the last refresh's.
	w.unknownAncestry = mergeLines(st.unknownAncestry, w.unknownAncestry)
	w.unknownCommit = mergeLines(st.unknownCommit, w.unknownCommit)
	c.last = lastCounted(deployments, st.last)
	return c, nil
}

// writeContinuation writes c inside tx, unless the service's state moved
// since c read it: then the service stays stale for the next refresh.
func (db *DB) writeContinuation(ctx context.Context, tx *sql.Tx, c continuation) error {
	now, err := db.lockShipState(ctx, tx, c.service)
	if err != nil {
		return err
	}
	if now.gen != c.from.gen || now.recompute || now.last == nil || *now.last != *c.from.last {
		return nil
	}
	if _, err := db.writeShipments(ctx, tx, c.service, c.changed, c.walk.shipped, c.digests); err != nil {
		return err
	}
	return db.finishRefresh(ctx, tx, c.service, c.from.gen, c.walk, c.unknown, c.last)
}

// byRepository groups deployments by repository.
func byRepository(ds []delivery.Deployment) map[string][]delivery.Deployment {
	out := map[string][]delivery.Deployment{}
	for _, d := range ds {
		out[d.Repository] = append(out[d.Repository], d)
	}
	return out
}

// unknownCommits adds to unknown the deployments of ds whose commit graph
// does not hold. Those already there (a deployment naming no repository
// that none of its service's holds) are still walked, as every counted
// deployment is: the walk needs the commit (it is missing) and the
// deployment's place in the order.
func unknownCommits(unknown []MissingCommit, ds []delivery.Deployment, graph commitGraph) []MissingCommit {
	listed := make(map[delivery.DeploymentKey]bool, len(unknown))
	for _, m := range unknown {
		listed[m.Deployment] = true
	}
	for _, d := range ds {
		if _, ok := graph.info[d.SHA]; !ok && !listed[d.Key()] {
			unknown = append(unknown, MissingCommit{Deployment: d.Key(), Repository: d.Repository, SHA: d.SHA})
		}
	}
	return unknown
}

// mergeLines adds more to the sorted newline-separated list old.
func mergeLines(old string, more []string) []string {
	var out []string
	if old != "" {
		out = strings.Split(old, "\n")
	}
	out = append(out, more...)
	slices.Sort(out)
	return slices.Compact(out)
}

func sortedKeys(m map[delivery.DeploymentKey]bool) []delivery.DeploymentKey {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b delivery.DeploymentKey) int { return strings.Compare(a.String(), b.String()) })
	return keys
}

// writeShipments writes the shipments and summaries of the deployments in
// changed (none stored for them now) and returns how many shipments.
func (db *DB) writeShipments(ctx context.Context, tx *sql.Tx, service string, changed map[delivery.DeploymentKey]bool,
	want map[delivery.DeploymentKey][]shipment, digests map[delivery.DeploymentKey]string) (int, error) {
	const cols = 8
	args := make([]any, 0, 500*cols)
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		_, err := db.exec(ctx, tx, `INSERT INTO shipments (service, environment, deployment_id, repository, sha, commit_time, finished_at, incident) VALUES `+
			placeholders(len(args)/cols, cols), args...)
		args = args[:0]
		if err != nil {
			return fmt.Errorf("write shipments of %s: %w", service, err)
		}
		return nil
	}
	written := 0
	for _, k := range sortedKeys(changed) {
		rows := want[k]
		if len(rows) == 0 {
			continue // the deployment ships nothing any more
		}
		for _, r := range rows {
			args = append(args, service, k.Environment, k.ID, r.repository, r.sha, r.commitTime, r.finishedAt, r.incident)
			if len(args) >= 500*cols {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
		if err := db.writeSummary(ctx, tx, k, rows, digests[k]); err != nil {
			return 0, err
		}
		written += len(rows)
	}
	return written, flush()
}

// finishRefresh writes what a refresh found besides the shipments (the
// covered and missing commits, the deployments of unknown commits), and
// marks the service fresh as of the deployment last counted.
func (db *DB) finishRefresh(ctx context.Context, tx *sql.Tx, service string, gen int64, w walkResult, unknown []MissingCommit, last *deploymentMark) error {
	for _, t := range []struct {
		table string
		rows  [][2]string
	}{{"shipping_covered", w.covered}, {"shipping_missing", w.missing}} {
		const cols = 3
		for start := 0; start < len(t.rows); start += 500 {
			part := t.rows[start:min(start+500, len(t.rows))]
			args := make([]any, 0, len(part)*cols)
			for _, r := range part {
				args = append(args, service, r[0], r[1])
			}
			if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO `+t.table+` (service, repository, sha) VALUES `+placeholders(len(part), cols)+
				` ON CONFLICT (service, repository, sha) DO NOTHING`), args...); err != nil {
				return fmt.Errorf("write %s of %s: %w", t.table, service, err)
			}
		}
	}
	if err := db.writeMissingCommits(ctx, tx, unknown); err != nil {
		return err
	}
	var lastFinished sql.NullInt64
	var lastID string
	if last != nil {
		lastFinished, lastID = sql.NullInt64{Int64: last.finished, Valid: true}, last.id
	}
	res, err := db.exec(ctx, tx, `UPDATE shipping_state SET dirty = 0, recompute = 0, computed_at = ?, last_finished = ?, last_id = ?,
		missing = (SELECT COUNT(*) FROM shipping_missing WHERE service = ?), unknown_ancestry = ?, unknown_commit = ?
		WHERE service = ? AND dirty = ?`,
		db.Now().UnixMicro(), lastFinished, lastID, service, strings.Join(w.unknownAncestry, "\n"), strings.Join(w.unknownCommit, "\n"), service, gen)
	if err != nil {
		return fmt.Errorf("mark %s fresh: %w", service, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("mark %s fresh: its state moved under the refresh (%d rows, %v)", service, n, err)
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

// successfulDeployments reads the successful production deployments of
// service: all of them, or those counted after the deployment after.
func (db *DB) successfulDeployments(ctx context.Context, service string, after *deploymentMark) ([]delivery.Deployment, error) {
	query := `SELECT ` + deploymentColumns + ` FROM deployments WHERE service = ? AND environment = ? AND status = ?`
	args := []any{service, delivery.EnvironmentProduction, string(delivery.DeploymentSuccess)}
	if after != nil {
		query += ` AND finished_at >= ?`
		args = append(args, after.finished)
	}
	rows, err := db.readQuery(ctx, query, args...)
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
		if after != nil && (!counted(d) || !after.before(deploymentMark{d.FinishedAt.UnixMicro(), d.ID})) {
			continue
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
	rows, err := q.QueryContext(ctx, db.q(`SELECT `+graphColumns(withPaths)+` FROM changes WHERE repository = ?`), repository)
	if err != nil {
		return g, fmt.Errorf("read commit graph of %s: %w", repository, err)
	}
	return g, g.read(rows, repository, nil)
}

// graphColumns are the columns commitGraph.read reads, of changes.
func graphColumns(withPaths bool) string {
	pathsColumn := "NULL"
	if withPaths {
		pathsColumn = "paths"
	}
	return `sha, parents, ancestry, proven_ancestors, commit_time, incident, ` + pathsColumn
}

// read adds the commits of rows (graphColumns) to g and closes rows. When
// covered is not nil, each row ends with whether the commit is covered
// (1 or 0), which read records there.
func (g *commitGraph) read(rows *sql.Rows, repository string, covered map[string]bool) error {
	defer rows.Close()
	for rows.Next() {
		var sha, parents, ancestry, proven, incident string
		var ct int64
		var pathsJSON sql.NullString
		var isCovered int
		dest := []any{&sha, &parents, &ancestry, &proven, &ct, &incident, &pathsJSON}
		if covered != nil {
			dest = append(dest, &isCovered)
		}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("read commit graph of %s: %w", repository, err)
		}
		if isCovered == 1 {
			covered[sha] = true
		}
		paths, err := decodePaths(pathsJSON)
		if err != nil {
			return fmt.Errorf("read commit graph of %s: %s: %w", repository, sha, err)
		}
		g.reachable.Add(sha, delivery.Ancestry(ancestry), strings.Fields(parents), strings.Fields(proven))
		g.info[sha] = commitInfo{commitTime: ct, incident: incident, paths: paths}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read commit graph of %s: %w", repository, err)
	}
	return nil
}

// subgraph reads, for a refresh that continues, the part of a repository's
// commit graph a walk from starts needs: the commits reachable from them up
// to those the service already covered, read a generation of parents at a
// time, each with whether it is covered. The cost is that of the new
// commits and the covered ones bordering them.
func (db *DB) subgraph(ctx context.Context, service, repository string, starts []string, withPaths bool) (commitGraph, map[string]bool, error) {
	g := commitGraph{reachable: delivery.Graph{Reachable: map[string][]string{}}, info: map[string]commitInfo{}}
	covered := map[string]bool{}
	seen := map[string]bool{}
	var frontier []string
	for _, s := range starts {
		if !seen[s] {
			seen[s] = true
			frontier = append(frontier, s)
		}
	}
	for len(frontier) > 0 {
		for start := 0; start < len(frontier); start += 500 {
			list, args := inList(frontier[start:min(start+500, len(frontier))])
			query := `SELECT ` + graphColumns(withPaths) + `,
				CASE WHEN EXISTS (SELECT 1 FROM shipments s WHERE s.service = ? AND s.repository = c.repository AND s.sha = c.sha)
					OR EXISTS (SELECT 1 FROM shipping_covered v WHERE v.service = ? AND v.repository = c.repository AND v.sha = c.sha) THEN 1 ELSE 0 END
				FROM changes c WHERE c.repository = ? AND c.sha IN ` + list
			args = append([]any{service, service, repository}, args...)
			var rows *sql.Rows
			var err error
			if len(args) <= 3+8 {
				// A release's walk reads a commit or a few at a time: those
				// few texts stay prepared.
				rows, err = db.readQuery(ctx, query, args...)
			} else {
				rows, err = db.read.QueryContext(ctx, db.q(query), args...)
			}
			if err != nil {
				return g, nil, fmt.Errorf("read commits of %s: %w", repository, err)
			}
			if err := g.read(rows, repository, covered); err != nil {
				return g, nil, err
			}
		}
		var next []string
		for _, sha := range frontier {
			if covered[sha] {
				continue
			}
			for _, p := range g.reachable.Reachable[sha] {
				if !seen[p] {
					seen[p] = true
					next = append(next, p)
				}
			}
		}
		frontier = next
	}
	return g, covered, nil
}

// holdsCommit reports whether Stride was told of commit sha of repository.
func (db *DB) holdsCommit(ctx context.Context, repository, sha string) (bool, error) {
	var one int
	err := db.readQueryRow(ctx, `SELECT 1 FROM changes WHERE repository = ? AND sha = ?`, repository, sha).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read change %s of %s: %w", sha, repository, err)
	}
	return true, nil
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
	if _, err := db.exec(ctx, tx, `INSERT INTO deployment_changes (service, environment, deployment_id, finished_at, commit_times, digest) VALUES (?, ?, ?, ?, ?, ?)`,
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
