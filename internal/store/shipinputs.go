package store

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"

	"github.com/stride-oss/stride/internal/delivery"
)

// shipInputs is what one write transaction changed of the inputs of
// shipments, noted by the writers as they write, so that at its end one
// statement per service marks the service stale and says whether its next
// refresh may continue from the last one (only new commits arrived, and
// deployments finishing after the last one it counted) or must recompute
// from the whole history (see ship.go).
type shipInputs struct {
	// stale are services whose shipments may change.
	stale map[string]bool
	// repos received commits: the services deployed from them are stale.
	repos map[string]bool
	// recompute are services whose next refresh must start over, and
	// recomputeRepos repositories a known commit of which changed what a
	// walk reads (its ancestry, time, paths or incident).
	recompute, recomputeRepos map[string]bool
	// appended holds, per service, the earliest deployment the batch made
	// count (successful, in production, at a commit): a refresh continues
	// with it only if it finished after the last deployment counted before.
	appended map[string]deploymentMark
	// added are the shas of commits new to the store: one a refresh missed
	// makes its service recompute.
	added []string
}

// deploymentMark places a deployment in the order shipments are assigned
// in (delivery.SortByFinish): by finish time, then by id.
type deploymentMark struct {
	finished int64
	id       string
}

func (m deploymentMark) before(o deploymentMark) bool {
	return m.finished < o.finished || m.finished == o.finished && m.id < o.id
}

func newShipInputs() *shipInputs {
	return &shipInputs{stale: map[string]bool{}, repos: map[string]bool{}, recompute: map[string]bool{},
		recomputeRepos: map[string]bool{}, appended: map[string]deploymentMark{}}
}

// counted reports whether a deployment is one shipments are assigned to.
func counted(d delivery.Deployment) bool {
	return d.Environment == delivery.EnvironmentProduction && d.Status == delivery.DeploymentSuccess && d.SHA != ""
}

// deployment notes the write of a deployment stored before as old (exists)
// and now as merged.
func (in *shipInputs) deployment(old delivery.Deployment, exists bool, merged delivery.Deployment) {
	if merged.Environment != delivery.EnvironmentProduction {
		return
	}
	s := merged.Service
	in.stale[s] = true
	success := func(d delivery.Deployment) bool { return d.Status == delivery.DeploymentSuccess }
	switch {
	case exists && success(old) && old.SHA == "" || success(merged) && merged.SHA == "":
		// A successful deployment without a commit is listed among the
		// deployments of unknown commits, which only a recompute redraws.
		in.recompute[s] = true
	case exists && counted(old):
		if !counted(merged) || old.SHA != merged.SHA || !old.FinishedAt.Equal(merged.FinishedAt) || old.Repository != merged.Repository {
			in.recompute[s] = true
		}
	case counted(merged):
		m := deploymentMark{merged.FinishedAt.UnixMicro(), merged.ID}
		if prev, ok := in.appended[s]; !ok || m.before(prev) {
			in.appended[s] = m
		}
	}
}

// change notes the write of a commit stored before as old (exists) and now
// as merged.
func (in *shipInputs) change(old delivery.Change, exists bool, merged delivery.Change) {
	in.repos[merged.Repository] = true
	if !exists {
		in.added = append(in.added, merged.SHA)
		return
	}
	if !slices.Equal(old.Parents, merged.Parents) || old.Ancestry != merged.Ancestry || !slices.Equal(old.ProvenAncestors, merged.ProvenAncestors) ||
		!old.CommitTime.Equal(merged.CommitTime) || old.Incident != merged.Incident || !slices.Equal(old.Paths, merged.Paths) || (old.Paths == nil) != (merged.Paths == nil) {
		in.recomputeRepos[merged.Repository] = true
	}
}

// mark writes what in noted: each service concerned is marked stale, in
// sorted order (so concurrent writers queue instead of deadlocking), and
// told to recompute when it must.
func (db *DB) mark(ctx context.Context, tx *sql.Tx, in *shipInputs) error {
	services := maps.Clone(in.stale)
	for s := range in.recompute {
		services[s] = true
	}
	recompute := maps.Clone(in.recompute)
	repos := maps.Clone(in.repos)
	maps.Copy(repos, in.recomputeRepos)
	for _, repo := range slices.Sorted(maps.Keys(repos)) {
		of, err := textColumn(db.query(ctx, tx, `SELECT service FROM service_repositories WHERE repository = ?`, repo))
		if err != nil {
			return fmt.Errorf("find services of %s: %w", repo, err)
		}
		for _, s := range of {
			services[s] = true
			if in.recomputeRepos[repo] {
				recompute[s] = true
			}
		}
	}
	// A commit a refresh needed and did not have changes what it assigned.
	for start := 0; start < len(in.added); start += 500 {
		list, args := inList(in.added[start:min(start+500, len(in.added))])
		of, err := stringsOf(ctx, tx, db.q(`SELECT DISTINCT service FROM shipping_missing WHERE sha IN `+list), args...)
		if err != nil {
			return fmt.Errorf("find services that missed new commits: %w", err)
		}
		for _, s := range of {
			services[s], recompute[s] = true, true
		}
	}
	for _, s := range slices.Sorted(maps.Keys(services)) {
		app, appended := in.appended[s]
		// A deployment finishing before the last one counted changes what
		// the later ones ship: continuing after them would miss that.
		_, err := db.exec(ctx, tx, `INSERT INTO shipping_state (service, dirty) VALUES (?, 1)
			ON CONFLICT (service) DO UPDATE SET dirty = shipping_state.dirty + 1,
			recompute = CASE WHEN CAST(? AS INTEGER) = 1 OR (CAST(? AS INTEGER) = 1 AND shipping_state.last_finished IS NOT NULL
				AND (shipping_state.last_finished > CAST(? AS BIGINT) OR (shipping_state.last_finished = CAST(? AS BIGINT) AND shipping_state.last_id >= CAST(? AS TEXT))))
				THEN 1 ELSE shipping_state.recompute END`,
			s, boolInt(recompute[s]), boolInt(appended), app.finished, app.finished, app.id)
		if err != nil {
			return fmt.Errorf("mark %s stale: %w", s, err)
		}
	}
	return nil
}
