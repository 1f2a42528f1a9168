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
		// One event alone, as a webhook delivery sends it, sent before.
		if res := ingest(t, db, change("app", "c00000", t0)); res.Added != 0 || res.Duplicates != 1 {
			t.Fatalf("one resent event: added %d, duplicates %d", res.Added, res.Duplicates)
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

// TestABatchMergesIntoTheEntitiesStoredBefore sends, after a first batch, a
// second one of more entities than one read of stored rows takes, half of
// them reported before and half new, of a kind kept in columns
// (deployments, incidents) and one kept as JSON under an integer key (pull
// requests): every entity reported before keeps what only its first report
// said, and every new one is stored as reported.
func TestABatchMergesIntoTheEntitiesStoredBefore(t *testing.T) {
	const n = 150
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		var first, second []delivery.Event
		for i := 0; i < n; i++ {
			id := fmt.Sprint(i)
			dep := &delivery.Deployment{Service: "app", ID: id, SHA: "s" + id, Status: delivery.DeploymentSuccess, FinishedAt: t0.Add(time.Hour)}
			inc := &delivery.Incident{Service: "app", ID: id, OpenedAt: t0.Add(2 * time.Hour), Severity: delivery.SeverityUnknown}
			pr := &delivery.PullRequest{Repository: "app", Number: i + 1, UpdatedAt: t0.Add(time.Hour)}
			if i%2 == 0 {
				// Reported before, with what the second report leaves out.
				d, in, p := *dep, *inc, *pr
				d.StartedAt, in.Title, p.Title = t0, "outage "+id, "change "+id
				p.UpdatedAt = t0
				first = append(first,
					delivery.Event{Key: "d1-" + id, Kind: delivery.KindDeployment, Deployment: &d},
					delivery.Event{Key: "i1-" + id, Kind: delivery.KindIncident, Incident: &in},
					delivery.Event{Key: "p1-" + id, Kind: delivery.KindPullRequest, PullRequest: &p})
			} else {
				dep.StartedAt, inc.Title, pr.Title = t0, "outage "+id, "change "+id
			}
			second = append(second,
				delivery.Event{Key: "d2-" + id, Kind: delivery.KindDeployment, Deployment: dep},
				delivery.Event{Key: "i2-" + id, Kind: delivery.KindIncident, Incident: inc},
				delivery.Event{Key: "p2-" + id, Kind: delivery.KindPullRequest, PullRequest: pr})
		}
		ingest(t, db, first...)
		if res := ingest(t, db, second...); res.Added != len(second) {
			t.Fatalf("added %d of %d", res.Added, len(second))
		}
		for _, check := range []struct{ what, query string }{
			{"deployments with their start", "SELECT COUNT(*) FROM deployments WHERE started_at = " + fmt.Sprint(t0.UnixMicro()) + " AND finished_at = " + fmt.Sprint(t0.Add(time.Hour).UnixMicro())},
			{"incidents with their title", "SELECT COUNT(*) FROM incidents WHERE title LIKE 'outage %'"},
			{"pull requests with their title", "SELECT COUNT(*) FROM pull_requests WHERE data LIKE '%\"Title\":\"change %'"},
		} {
			got, err := db.CountForTest(ctx, check.query)
			if err != nil {
				t.Fatal(err)
			}
			if got != n {
				t.Errorf("%d %s, want %d", got, check.what, n)
			}
		}
	})
}
