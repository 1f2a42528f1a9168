package store_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// shippingTables reads everything a shipment refresh writes, sorted, to
// compare two refreshes' results.
func shippingTables(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for name, q := range map[string]string{
		"shipments":          `SELECT service, environment, deployment_id, repository, sha, commit_time, finished_at, incident FROM shipments ORDER BY service, repository, sha`,
		"deployment_changes": `SELECT service, environment, deployment_id, finished_at, commit_times, digest FROM deployment_changes ORDER BY service, environment, deployment_id`,
		"missing_commits":    `SELECT service, environment, deployment_id, repository, sha, configured FROM missing_commits ORDER BY service, environment, deployment_id`,
		"shipping_covered":   `SELECT service, repository, sha FROM shipping_covered ORDER BY service, repository, sha`,
		"shipping_missing":   `SELECT service, repository, sha FROM shipping_missing ORDER BY service, repository, sha`,
		"shipping_state":     `SELECT service, dirty, recompute, missing, unknown_ancestry, unknown_commit, last_finished, last_id FROM shipping_state ORDER BY service`,
	} {
		rows, err := db.RowsForTest(ctx, q)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		out[name] = rows
	}
	return out
}

// randomDeliveries is a random history of one repository delivered in
// small batches as webhooks and collectors deliver it: mostly in order,
// with commits that arrive late (so walks miss them until they do), pushes
// that prove ancestry before an import gives true parents, deployments
// reported in progress before they succeed, some finishing before others
// already reported, and deployments of commits never reported. app is
// deployed from repo; web is configured with it and scoped to web/, and
// its deployments name no repository.
func randomDeliveries(r *rand.Rand, commits int, app, web, repo string) [][]delivery.Event {
	sha := func(i int) string { return fmt.Sprintf("s%03d", i) }
	var batches [][]delivery.Event
	var late []delivery.Event
	var pending []delivery.Event
	batch := func(events ...delivery.Event) { batches = append(batches, events) }
	deployment := func(service, id, commit string, status delivery.DeploymentStatus, at time.Time) delivery.Event {
		e := deploy(service, id, commit, status, at)
		if service == app {
			e.Deployment.Repository = repo
		}
		return e
	}
	deployments := 0
	for i := range commits {
		at := t0.Add(time.Duration(i) * time.Hour)
		e := change(repo, sha(i), at)
		if i > 0 {
			e.Change.Parents = []string{sha(r.IntN(i))}
			if r.IntN(4) == 0 {
				e.Change.Parents = append(e.Change.Parents, sha(r.IntN(i)))
			}
		}
		switch r.IntN(3) {
		case 0:
			e.Change.Paths = []string{"web/page.html"}
		case 1:
			e.Change.Paths = []string{"api/main.go"}
		}
		switch {
		case i > 0 && r.IntN(12) == 0:
			late = append(late, e) // arrives some batches later
		case i > 0 && r.IntN(10) == 0:
			// A push proves an ancestor first; an import gives the parents later.
			pushed := change(repo, sha(i), at)
			pushed.Key = "push:" + repo + ":" + sha(i)
			pushed.Change.Ancestry = delivery.AncestryProven
			pushed.Change.ProvenAncestors = []string{sha(r.IntN(i))}
			batch(pushed)
			late = append(late, e)
		default:
			batch(e)
		}
		if len(late) > 0 && r.IntN(4) == 0 {
			batch(late[0])
			late = late[1:]
		}
		if len(pending) > 0 && r.IntN(3) == 0 {
			batch(pending[0])
			pending = pending[1:]
		}
		if i%4 != 3 {
			continue
		}
		for _, service := range []string{app, web} {
			deployments++
			id := fmt.Sprint(deployments)
			commit := sha(i - r.IntN(3))
			finish := at.Add(30 * time.Minute)
			switch r.IntN(12) {
			case 0:
				finish = at.Add(-10 * time.Hour) // finishes before some reported earlier
			case 1:
				commit = "never-" + id
			case 2:
				commit = sha(r.IntN(i + 1)) // a rollback to an older commit
			}
			if r.IntN(5) == 0 {
				batch(deployment(service, id, commit, delivery.DeploymentInProgress, finish))
				pending = append(pending, deployment(service, id, commit, delivery.DeploymentSuccess, finish))
				continue
			}
			status := delivery.DeploymentSuccess
			if r.IntN(8) == 0 {
				status = delivery.DeploymentFailure
			}
			batch(deployment(service, id, commit, status, finish))
		}
	}
	for _, e := range append(late, pending...) {
		batch(e)
	}
	return batches
}

// TestRefreshThatContinuesGivesWhatRecomputingGives delivers random
// histories batch by batch, refreshing after each as the job does, and
// checks that what the refreshes wrote, most of them continuing from the
// one before, is what recomputing each service from its whole history
// writes: every shipment, summary, unknown commit and gap.
func TestRefreshThatContinuesGivesWhatRecomputingGives(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		continued, recomputed := 0, 0
		for seed := range uint64(6) {
			// Each history has services and a repository of its own, beside
			// the earlier ones.
			app, web, repo := fmt.Sprint("app", seed), fmt.Sprint("web", seed), fmt.Sprint("acme/mono", seed)
			if err := db.SetService(ctx, delivery.Service{Name: web, Repositories: []string{repo}, Paths: []string{"web/"}}, nil); err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(seed, 11))
			for i, b := range randomDeliveries(r, 80, app, web, repo) {
				ingest(t, db, b...)
				n, err := db.CountForTest(ctx, `SELECT COUNT(*) FROM shipping_state WHERE dirty > 0 AND recompute = 0 AND last_finished IS NOT NULL`)
				if err != nil {
					t.Fatal(err)
				}
				m, err := db.CountForTest(ctx, `SELECT COUNT(*) FROM shipping_state WHERE dirty > 0 AND (recompute = 1 OR last_finished IS NULL)`)
				if err != nil {
					t.Fatal(err)
				}
				continued, recomputed = continued+n, recomputed+m
				if _, err := db.RefreshShipments(ctx); err != nil {
					t.Fatal(err)
				}
				if i%25 != 24 {
					continue
				}
				got := shippingTables(t, db)
				if _, err := db.RecomputeShipments(ctx); err != nil {
					t.Fatal(err)
				}
				want := shippingTables(t, db)
				for table, rows := range want {
					if !slices.Equal(got[table], rows) {
						t.Fatalf("seed %d, batch %d: %s after refreshes that continue differs from a recompute:\n got  %s\n want %s",
							seed, i, table, strings.Join(got[table], "\n      "), strings.Join(rows, "\n      "))
					}
				}
			}
		}
		// The histories exercise both paths, continuing most often.
		if continued < 3*recomputed || recomputed == 0 {
			t.Errorf("%d refreshes continued and %d recomputed", continued, recomputed)
		}
		t.Logf("%d refreshes continued, %d recomputed", continued, recomputed)
	})
}
