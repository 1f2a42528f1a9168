package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// Concurrent writes that queue for SQLite's one writer share a
// transaction; one failing write undoes only itself, and each caller is
// answered after the commit that holds its data. On PostgreSQL, whose
// writes run in parallel, the same writes give the same outcomes.
func TestConcurrentWritesCommitTogetherAndFailAlone(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ingest(t, db, deploy("api", "1", "aaa", delivery.DeploymentSuccess, t0))
		conflicting := deploy("api", "1", "bbb", delivery.DeploymentSuccess, t0)
		if err := conflicting.Validate(); err != nil {
			t.Fatal(err)
		}
		conflicting.Source = "api"

		release, err := db.HoldWriterForTest(ctx)
		if err != nil {
			t.Fatal(err)
		}
		const writers = 9 // the first leads alone; the other 8 queue behind it
		errs := make([]error, writers)
		var wg sync.WaitGroup
		write := func(i int) {
			defer wg.Done()
			e := change("acme/api", fmt.Sprintf("%040x", i+1), t0.Add(time.Duration(i)*time.Minute))
			if i == 4 {
				e = conflicting
			}
			if e.Source == "" {
				if err := e.Validate(); err != nil {
					t.Error(err)
					return
				}
				e.Source = "api"
			}
			_, errs[i] = db.Ingest(ctx, []delivery.Event{e})
		}
		wg.Add(1)
		go write(0)
		if db.Dialect() == store.SQLite {
			// The first write holds the lead and waits for the writer.
			waitFor(t, func() bool { p, _ := db.GroupForTest(); return p == 0 })
		}
		for i := 1; i < writers; i++ {
			wg.Add(1)
			go write(i)
		}
		if db.Dialect() == store.SQLite {
			waitFor(t, func() bool { p, _ := db.GroupForTest(); return p == writers-1 })
		}
		release()
		wg.Wait()

		for i, err := range errs {
			if i == 4 {
				if delivery.ErrorCode(err) != delivery.ECONFLICT {
					t.Errorf("write %d (other content under a stored key): %v, want a conflict", i, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
		if n, err := db.CountForTest(ctx, `SELECT COUNT(*) FROM changes WHERE repository = 'acme/api'`); err != nil || n != writers-1 {
			t.Errorf("%d changes stored (%v), want the %d written without conflict", n, err, writers-1)
		}
		if sha, err := db.StringForTest(ctx, `SELECT sha FROM deployments WHERE id = '1'`); err != nil || sha != "aaa" {
			t.Errorf("the conflicting write's content was stored: sha %q (%v)", sha, err)
		}
		if db.Dialect() == store.SQLite {
			if _, largest := db.GroupForTest(); largest != writers-1 {
				t.Errorf("the queued writes were committed %d at most in one transaction, want all %d together", largest, writers-1)
			}
		}
	})
}

// waitFor waits until cond holds, for goroutines to reach a queue.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("the writers did not queue in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}
