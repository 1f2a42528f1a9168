package store_test

import (
	"reflect"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

func TestChangesWithPaths(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		withPaths := func(repo, sha string, paths []string) delivery.Event {
			e := change(repo, sha, t0)
			e.Key += ":paths"
			e.Change.Paths = paths
			return e
		}
		ingest(t, db,
			withPaths("acme/mono", "a1", []string{"api/main.go"}),
			withPaths("acme/mono", "b2", []string{}), // a merge: none of its own, but known
			change("acme/mono", "c3", t0),            // files unknown
			withPaths("acme/other", "d4", []string{"x"}),
		)
		// A later report of a1 that does not know its files keeps them.
		ingest(t, db, change("acme/mono", "a1", t0))
		got, err := db.ChangesWithPaths(ctx, "acme/mono", []string{"a1", "b2", "c3", "d4", "e5"})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]bool{"a1": true, "b2": true}; !reflect.DeepEqual(got, want) {
			t.Errorf("ChangesWithPaths = %v, want %v", got, want)
		}
		if got, err := db.ChangesWithPaths(ctx, "acme/mono", nil); err != nil || len(got) != 0 {
			t.Errorf("ChangesWithPaths of none = %v, %v", got, err)
		}
	})
}
