package store_test

import (
	"slices"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// imported is a batch of commits as `stride import git` sends it: validated
// and stamped with the source git.
func imported(t *testing.T, events ...delivery.Event) []delivery.Event {
	t.Helper()
	events = slices.Clone(events)
	for i := range events {
		c := *events[i].Change
		events[i].Change = &c
		events[i].Key = "git:" + c.Repository + ":commit:" + c.SHA
		events[i].Source = "git"
		if err := events[i].Validate(); err != nil {
			t.Fatal(err)
		}
	}
	return events
}

func count(t *testing.T, db *store.DB, query string) int {
	t.Helper()
	n, err := db.CountForTest(ctx, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestImportedCommitsAreKeyedByTheirHash checks that an import's commits are
// stored without an events row each, that a repeated import adds nothing,
// that an import still completes what another source reported of a commit,
// and that reprocessing that other source keeps the imported commit.
func TestImportedCommitsAreKeyedByTheirHash(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		// b was pushed through a webhook first, without its parent; x, of a
		// repository never imported, only through the webhook.
		pushed := change("acme/app", "b", t0.Add(2))
		pushed.Source = "github"
		only := change("acme/other", "x", t0.Add(3))
		only.Source = "github"
		if _, err := db.Ingest(ctx, []delivery.Event{pushed, only}); err != nil {
			t.Fatal(err)
		}
		history := imported(t, change("acme/app", "a", t0), change("acme/app", "b", t0.Add(2), "a"), change("acme/app", "c", t0.Add(4), "b"))

		for _, tc := range []struct {
			name             string
			added, duplicate int
		}{
			// a and c are new; b gains its parent.
			{"first import", 3, 0},
			{"the same import again", 0, 3},
		} {
			res, err := db.IngestImport(ctx, history)
			if err != nil {
				t.Fatal(err)
			}
			if res.Added != tc.added || res.Duplicates != tc.duplicate {
				t.Errorf("%s: added %d, duplicates %d; want %d, %d", tc.name, res.Added, res.Duplicates, tc.added, tc.duplicate)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM events WHERE source = 'git'`); n != 0 {
			t.Errorf("the import recorded %d events rows, want none", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM changes WHERE repository = 'acme/app' AND sha = 'b' AND parents = 'a'`); n != 1 {
			t.Errorf("b is not stored with the parent the import gave")
		}
		if stale, err := db.StaleServices(ctx); err != nil {
			t.Fatal(err)
		} else if len(stale) != 0 {
			t.Errorf("no service is deployed from acme/app, yet %v are stale", stale)
		}

		// Reprocessing github rebuilds what only github reported: x goes,
		// b stays since its repository was imported.
		if _, err := db.Reprocess(ctx, "github", func(store.RawDelivery) store.Replay { return store.Replay{} }); err != nil {
			t.Fatal(err)
		}
		for sha, want := range map[string]int{"a": 1, "b": 1, "c": 1, "x": 0} {
			if n := count(t, db, `SELECT COUNT(*) FROM changes WHERE sha = '`+sha+`'`); n != want {
				t.Errorf("after reprocessing github: %d rows of %s, want %d", n, sha, want)
			}
		}
	})
}
