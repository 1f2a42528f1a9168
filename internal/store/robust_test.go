package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestOverlappingBatchesInOppositeOrdersNeverFail is the deadlock of two
// replicas: six clients over two *store.DB on one database send batches of
// the same 40 deployments, half in ascending and half in descending order.
// Written in map order these deadlocked on PostgreSQL (40P01); now rows
// are written in key order and a conflict is retried, so no batch fails.
func TestOverlappingBatchesInOppositeOrdersNeverFail(t *testing.T) {
	urls := storetest.URLs(t)
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			var replicas [2]*store.DB
			for i := range replicas {
				db, err := store.Open(ctx, url)
				if err != nil {
					t.Fatalf("open replica %d: %v", i, err)
				}
				t.Cleanup(func() { db.Close() })
				replicas[i] = db
			}
			const clients, rounds, deployments = 6, 5, 40
			var wg sync.WaitGroup
			errs := make(chan error, clients*rounds)
			for c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db := replicas[c%2]
					for r := range rounds {
						batch := make([]delivery.Event, 0, deployments+1)
						for i := range deployments {
							id := i
							if c%2 == 1 {
								id = deployments - 1 - i
							}
							at := t0.Add(time.Duration(r*clients+c) * time.Minute)
							e := deploy("svc", fmt.Sprint(id), "sha1", delivery.DeploymentSuccess, at)
							e.Key = fmt.Sprintf("client%d/round%d/deploy%d", c, r, id)
							batch = append(batch, e)
						}
						batch = append(batch, change("svc", fmt.Sprintf("sha-%d-%d", c, r), t0))
						for i := range batch {
							if err := batch[i].Validate(); err != nil {
								errs <- err
								return
							}
							batch[i].Source = "api"
						}
						if _, err := db.Ingest(ctx, batch); err != nil {
							errs <- fmt.Errorf("client %d round %d: %w", c, r, err)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			failed := 0
			for err := range errs {
				failed++
				t.Error(err)
			}
			if failed > 0 {
				t.Fatalf("%d of %d batches failed, want 0", failed, clients*rounds)
			}
			n, err := replicas[0].CountForTest(ctx, "SELECT COUNT(*) FROM events")
			if err != nil {
				t.Fatal(err)
			}
			if want := clients * rounds * (deployments + 1); n != want {
				t.Errorf("%d events stored, want %d", n, want)
			}
			n, err = replicas[1].CountForTest(ctx, "SELECT COUNT(*) FROM deployments")
			if err != nil {
				t.Fatal(err)
			}
			if n != deployments {
				t.Errorf("%d deployments stored, want %d", n, deployments)
			}
			// No report was lost to a concurrent merge: every deployment is
			// at the latest report, client 5's of round 4 (minute 29).
			latest := t0.Add(time.Duration((rounds-1)*clients+clients-1) * time.Minute).UnixMicro()
			n, err = replicas[1].CountForTest(ctx, fmt.Sprintf("SELECT COUNT(*) FROM deployments WHERE updated_at = %d", latest))
			if err != nil {
				t.Fatal(err)
			}
			if n != deployments {
				t.Errorf("%d of %d deployments at the latest report, the rest lost one to a concurrent merge", n, deployments)
			}
		})
	}
}

func TestAKeyReusedWithOtherContentIsAConflictNotADuplicate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		first := deploy("api", "1", "aaa", delivery.DeploymentSuccess, t0)
		if res := ingest(t, db, first); res.Added != 1 {
			t.Fatalf("first report: %+v, want 1 added", res)
		}
		if res := ingest(t, db, first); res.Duplicates != 1 || res.Added != 0 {
			t.Fatalf("same content again: %+v, want 1 duplicate", res)
		}
		other := deploy("api", "1", "bbb", delivery.DeploymentSuccess, t0)
		if err := other.Validate(); err != nil {
			t.Fatal(err)
		}
		other.Source = "api"
		_, err := db.Ingest(ctx, []delivery.Event{other})
		if delivery.ErrorCode(err) != delivery.ECONFLICT || !strings.Contains(delivery.ErrorMessage(err), first.Key) {
			t.Fatalf("other content under %q: %v (code %q), want a conflict naming the key", first.Key, err, delivery.ErrorCode(err))
		}
		sha, err := db.StringForTest(ctx, "SELECT sha FROM deployments WHERE id = '1'")
		if err != nil || sha != "aaa" {
			t.Fatalf("stored sha %q (%v), want the first report's aaa", sha, err)
		}
		// Twice in one batch with different content: refused whole.
		a := deploy("api", "2", "aaa", delivery.DeploymentSuccess, t0)
		b := deploy("api", "2", "ccc", delivery.DeploymentSuccess, t0)
		for _, e := range []*delivery.Event{&a, &b} {
			if err := e.Validate(); err != nil {
				t.Fatal(err)
			}
			e.Source = "api"
		}
		if _, err := db.Ingest(ctx, []delivery.Event{a, b}); delivery.ErrorCode(err) != delivery.ECONFLICT {
			t.Fatalf("a batch with two contents under one key: %v, want a conflict", err)
		}
		if n, _ := db.CountForTest(ctx, "SELECT COUNT(*) FROM deployments WHERE id = '2'"); n != 0 {
			t.Fatalf("%d deployments 2 stored from a refused batch, want 0", n)
		}
		// An event stored before digests existed matches any content.
		if err := db.ExecForTest(ctx, "UPDATE events SET digest = NULL"); err != nil {
			t.Fatal(err)
		}
		if res, err := db.Ingest(ctx, []delivery.Event{other}); err != nil || res.Duplicates != 1 {
			t.Fatalf("other content under a key without digest: %+v, %v; want 1 duplicate", res, err)
		}
	})
}

func TestReadyMeansAWriteCanSucceed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		if err := db.Ready(ctx); err != nil {
			t.Fatalf("fresh database: %v", err)
		}
		if err := db.Ready(ctx); err != nil {
			t.Fatalf("second probe: %v", err)
		}
		db.Close()
		err := db.Ready(ctx)
		if delivery.ErrorCode(err) != delivery.EUNAVAILABLE || !strings.Contains(err.Error(), store.ReasonDown) {
			t.Fatalf("closed database: %v, want unavailable: %s", err, store.ReasonDown)
		}
		_, err = db.Ingest(ctx, []delivery.Event{{Key: "k", Kind: delivery.KindDeployment, Source: "api",
			Deployment: &delivery.Deployment{Service: "a", ID: "1", Status: delivery.DeploymentPending}}})
		if delivery.ErrorCode(err) != delivery.EUNAVAILABLE {
			t.Fatalf("ingest into a closed database: %v, want unavailable", err)
		}
	})
}

// TestAFullSQLiteFileIsUnavailable fills the file to its page limit
// (PRAGMA max_page_count on the one write connection stands for a full
// disk): readiness fails naming it, and a batch fails whole, unavailable.
func TestAFullSQLiteFileIsUnavailable(t *testing.T) {
	db := storetest.SQLite(t)
	ingest(t, db, deploy("api", "0", "aaa", delivery.DeploymentSuccess, t0))
	pages, err := db.CountForTest(ctx, "PRAGMA page_count")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ExecForTest(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	err = db.Ready(ctx)
	if delivery.ErrorCode(err) != delivery.EUNAVAILABLE || !strings.Contains(err.Error(), store.ReasonFull) {
		t.Fatalf("ready on a full file: %v, want unavailable: %s", err, store.ReasonFull)
	}
	var batch []delivery.Event
	for i := range 1000 {
		e := deploy("api", fmt.Sprint(i+1), strings.Repeat("f", 40), delivery.DeploymentSuccess, t0)
		if err := e.Validate(); err != nil {
			t.Fatal(err)
		}
		e.Source = "api"
		batch = append(batch, e)
	}
	_, err = db.Ingest(ctx, batch)
	if delivery.ErrorCode(err) != delivery.EUNAVAILABLE || !strings.Contains(err.Error(), store.ReasonFull) {
		t.Fatalf("ingest into a full file: %v, want unavailable: %s", err, store.ReasonFull)
	}
	if n, _ := db.CountForTest(ctx, "SELECT COUNT(*) FROM deployments"); n != 1 {
		t.Fatalf("%d deployments after the refused batch, want the 1 stored before", n)
	}
}

// TestACorruptSQLiteFileIsUnavailable writes garbage over the file's
// header while it is open: readiness must say the file is corrupt.
func TestACorruptSQLiteFileIsUnavailable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stride.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ingest(t, db, deploy("api", "0", "aaa", delivery.DeploymentSuccess, t0))
	if err := db.ExecForTest(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(strings.Repeat("garbage!", 16)), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	err = db.Ready(context.Background())
	if delivery.ErrorCode(err) != delivery.EUNAVAILABLE || !strings.Contains(err.Error(), store.ReasonCorrupt) {
		t.Fatalf("ready on a corrupt file: %v, want unavailable: %s", err, store.ReasonCorrupt)
	}
}

func TestTheSQLiteFileIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stride.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ingest(t, db, deploy("api", "0", "aaa", delivery.DeploymentSuccess, t0))
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want no access for group and others", filepath.Base(p), st.Mode().Perm())
		}
	}
}
