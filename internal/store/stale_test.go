package store_test

import (
	"slices"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// deployFrom is a successful production deployment of service from
// repository.
func deployFrom(service, repository, id, sha string) delivery.Event {
	e := deploy(service, id, sha, delivery.DeploymentSuccess, t0)
	e.Deployment.Repository = repository
	return e
}

// TestCommitsMarkStaleTheServicesOfTheirRepository checks which services a
// batch of commits marks stale: those deployed from the commits'
// repository and those configured with it, and no other, whether the
// relation was written by this binary or filled in by the migration from
// the deployments and services stored before it.
func TestCommitsMarkStaleTheServicesOfTheirRepository(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		// web is deployed from acme/web; lib is configured with acme/lib and
		// acme/web and never deployed; api is deployed from acme/api.
		if err := db.SetService(ctx, delivery.Service{Name: "lib", Repositories: []string{"acme/lib", "acme/web"}}, nil); err != nil {
			t.Fatal(err)
		}
		ingest(t, db, change("acme/web", "w1", t0), change("acme/api", "a1", t0), deployFrom("web", "acme/web", "1", "w1"))
		// api's deployment comes from an import, then moves to another
		// repository in a re-import: both repositories are api's.
		for _, repo := range []string{"acme/api", "acme/api-v2"} {
			e := deployFrom("api", repo, "1", "a1")
			e.Source = "git"
			if err := e.Validate(); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ReplaceDeployments(ctx, "git", "api", []delivery.Event{e}); err != nil {
				t.Fatal(err)
			}
		}

		check := func(t *testing.T) {
			for _, tc := range []struct {
				repo string
				want []string
			}{
				{"acme/web", []string{"lib", "web"}},
				{"acme/lib", []string{"lib"}},
				{"acme/api", []string{"api"}},
				{"acme/api-v2", []string{"api"}},
				{"acme/unknown", nil},
			} {
				if _, err := db.RefreshShipments(ctx); err != nil {
					t.Fatal(err)
				}
				if stale, err := db.StaleServices(ctx); err != nil || len(stale) != 0 {
					t.Fatalf("after a refresh: stale %v, %v", stale, err)
				}
				ingest(t, db, change(tc.repo, "new-"+tc.repo, t0.Add(1)))
				got, err := db.StaleServices(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("a commit to %s: stale %v, want %v", tc.repo, got, tc.want)
				}
			}
		}
		t.Run("written by ingest", check)

		// The same relation filled in by the migration from what an older
		// binary stored: undo the migration and run it again.
		for _, q := range []string{
			`DROP TABLE service_repositories`,
			`CREATE INDEX deployments_repository ON deployments (repository)`,
			`DELETE FROM events WHERE key LIKE 'c:acme/%:new-%'`,
			`DELETE FROM changes WHERE sha LIKE 'new-%'`,
		} {
			if err := db.ExecForTest(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := db.ReapplyMigrationForTest(ctx, "_service_repositories.sql"); err != nil {
			t.Fatal(err)
		}
		t.Run("filled in by the migration", check)
	})
}
