package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestBatchesOfAnySizeStoreEachRowOnce sends batches whose sizes fall on
// both sides of the row counts multi-row statements are cut into, each
// half new and half sent before, and checks that every new commit and
// event key is stored once and every resent one is told apart.
func TestBatchesOfAnySizeStoreEachRowOnce(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		sent := 0
		for _, n := range []int{1, 2, 7, 8, 9, 63, 64, 65, 130, 1000} {
			var batch []delivery.Event
			resent := min(n/2, sent)
			for i := sent - resent; i < sent; i++ {
				batch = append(batch, change("app", fmt.Sprintf("c%05d", i), t0))
			}
			for i := sent; len(batch) < n; i++ {
				batch = append(batch, change("app", fmt.Sprintf("c%05d", i), t0))
			}
			res := ingest(t, db, batch...)
			if res.Added != n-resent || res.Duplicates != resent {
				t.Fatalf("a batch of %d, %d of them resent: added %d, duplicates %d", n, resent, res.Added, res.Duplicates)
			}
			sent += n - resent
			for _, table := range []string{"changes", "events"} {
				stored, err := db.CountForTest(ctx, "SELECT COUNT(*) FROM "+table)
				if err != nil {
					t.Fatal(err)
				}
				if stored != sent {
					t.Fatalf("after a batch of %d: %d rows in %s, %d sent", n, stored, table, sent)
				}
			}
		}
	})
}

// TestWriteStatementsArePreparedOnceAndReused checks that on SQLite the
// statements a write ran are kept prepared after it, that later writes of
// the same shapes add none, and that what they write is stored.
func TestWriteStatementsArePreparedOnceAndReused(t *testing.T) {
	db := storetest.SQLite(t)
	if n := db.PreparedForTest(); n != 0 {
		t.Fatalf("%d statements prepared before any write", n)
	}
	ingest(t, db, change("app", "a", t0), deploy("app", "1", "a", delivery.DeploymentSuccess, t0))
	after := db.PreparedForTest()
	if after == 0 {
		t.Fatal("no statement kept prepared after a write")
	}
	ingest(t, db, change("app", "b", t0, "a"), deploy("app", "2", "b", delivery.DeploymentSuccess, t0))
	// A new report of a known deployment: read, merged and written back.
	again := deploy("app", "2", "b", delivery.DeploymentSuccess, t0.Add(time.Hour))
	again.Key += ":again"
	ingest(t, db, again)
	if n := db.PreparedForTest(); n != after {
		t.Fatalf("%d statements prepared after writes of the same shapes, %d after the first", n, after)
	}
	n, err := db.CountForTest(ctx, "SELECT COUNT(*) FROM deployments WHERE service = 'app'")
	if err != nil || n != 2 {
		t.Fatalf("%d deployments stored (%v), want 2", n, err)
	}
	n, err = db.CountForTest(ctx, "SELECT COUNT(*) FROM changes WHERE repository = 'app'")
	if err != nil || n != 2 {
		t.Fatalf("%d changes stored (%v), want 2", n, err)
	}
}
