package intake_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

// hook is a made-up webhook source whose body says what it is: "deploy N"
// a successful production deployment N of the service prefix+"svc",
// "noise" an ignored delivery, "nosha N" a deployment without its sha
// (translates, but fails validation), anything else unreadable. A delivery
// passes Verify when its X-Token header is "ok".
type hook struct{ prefix string }

func (h *hook) Name() string { return "hook" }

func (h *hook) Verify(hd http.Header, body []byte) error {
	if hd.Get("X-Token") != "ok" {
		return ingest.Unauthorized("hook: bad token")
	}
	return nil
}

func (h *hook) DeliveryID(hd http.Header, body []byte) string { return ingest.BodyDigest(body) }

func (h *hook) Translate(hd http.Header, body []byte) ([]delivery.Event, error) {
	s := string(body)
	switch {
	case s == "noise":
		return nil, ingest.Ignored("hook: noise")
	case strings.HasPrefix(s, "deploy "):
		id := strings.TrimPrefix(s, "deploy ")
		return []delivery.Event{{Key: "hook:" + id, Kind: delivery.KindDeployment, Source: "someone-else",
			Deployment: &delivery.Deployment{Service: h.prefix + "svc", ID: id, SHA: "a", Status: delivery.DeploymentSuccess, FinishedAt: t0}}}, nil
	case strings.HasPrefix(s, "nosha "):
		id := strings.TrimPrefix(s, "nosha ")
		return []delivery.Event{{Key: "hook:" + id, Kind: delivery.KindDeployment,
			Deployment: &delivery.Deployment{Service: h.prefix + "svc", ID: id, Status: delivery.DeploymentSuccess, FinishedAt: t0}}}, nil
	}
	return nil, errors.New("unreadable body")
}

var okToken = http.Header{"X-Token": {"ok"}}

// conn is a store under test and a second connection to its database, for
// looking at rows the store's API does not show.
type conn struct {
	*store.DB
	raw *sql.DB
}

// forEachDB runs fn on a fresh SQLite store and, when STRIDE_TEST_POSTGRES
// is set, a fresh PostgreSQL one.
func forEachDB(t *testing.T, fn func(t *testing.T, db conn)) {
	t.Helper()
	open := func(t *testing.T, url, driver string) conn {
		db, err := store.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		raw, err := sql.Open(driver, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return conn{db, raw}
	}
	t.Run("sqlite", func(t *testing.T) { fn(t, open(t, filepath.Join(t.TempDir(), "stride.db"), "sqlite")) })
	if storetest.PostgresURL() != "" {
		t.Run("postgres", func(t *testing.T) { fn(t, open(t, storetest.PostgresSchemaURL(t), "pgx")) })
	}
}

func count(t *testing.T, db conn, query string) int {
	t.Helper()
	var n int
	if err := db.raw.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func exec(t *testing.T, db conn, query string) {
	t.Helper()
	if _, err := db.raw.Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func deploy(service, id, sha string) delivery.Event {
	return delivery.Event{Key: "d:" + service + ":" + id, Kind: delivery.KindDeployment,
		Deployment: &delivery.Deployment{Service: service, ID: id, SHA: sha, Status: delivery.DeploymentSuccess, FinishedAt: t0}}
}

func TestABatchWithOneBadEventStoresNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, db conn) {
		in := intake.New(db.DB, nil)
		change := delivery.Event{Key: "c:a", Kind: delivery.KindChange, Change: &delivery.Change{Repository: "app", SHA: "a", CommitTime: t0}}
		bad := deploy("app", "2", "") // success without sha
		_, err := in.Events(ctx, "api", []delivery.Event{change, bad})
		var e *delivery.Error
		if !errors.As(err, &e) || e.Index != 1 || e.Field != "deployment.sha" || delivery.ErrorCode(err) != delivery.EINVALID {
			t.Fatalf("want an invalid error on event 1 deployment.sha, got %v", err)
		}
		// The good event of the failed batch was not stored: sending it now adds it.
		if res, err := in.Events(ctx, "api", []delivery.Event{change}); err != nil || res.Added != 1 {
			t.Fatalf("the good event of a rejected batch was stored: %+v, %v", res, err)
		}
	})
}

func TestEventsAreStampedWithTheirWritersSourceAndCommitIsSignalled(t *testing.T) {
	forEachDB(t, func(t *testing.T, db conn) {
		in := intake.New(db.DB, nil)
		commits := 0
		in.OnCommit = func() { commits++ }
		e := deploy("app", "1", "a")
		e.Source = "github" // what a writer says is not what it is
		res, err := in.Events(ctx, "git", []delivery.Event{e, deploy("app", "2", "a")})
		if err != nil {
			t.Fatal(err)
		}
		if res != (intake.Result{Events: 2, Added: 2}) {
			t.Errorf("result %+v, want 2 events, 2 added", res)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM events WHERE source = 'git'"); n != 2 {
			t.Errorf("%d events stored as git's, want 2", n)
		}
		// Validation normalised the deployment: no environment is production.
		if n := count(t, db, "SELECT COUNT(*) FROM deployments WHERE environment = 'production'"); n != 2 {
			t.Errorf("%d production deployments, want 2", n)
		}
		// A resend adds nothing and signals nothing.
		if res, err := in.Events(ctx, "git", []delivery.Event{deploy("app", "1", "a")}); err != nil || res.Duplicates != 1 {
			t.Fatalf("resend: %+v, %v", res, err)
		}
		if commits != 1 {
			t.Errorf("OnCommit called %d times, want 1 (the resend added nothing)", commits)
		}
		big := make([]delivery.Event, delivery.MaxBatch+1)
		if _, err := in.Events(ctx, "api", big); delivery.ErrorCode(err) != delivery.EINVALID || !strings.Contains(err.Error(), "at most 5000") {
			t.Errorf("an oversized batch: %v", err)
		}
	})
}

// TestDeliveryVerdicts gives each kind of delivery to Delivery and checks
// the verdict and what is stored: only accepted and ignored deliveries are
// kept raw, and only accepted ones write events.
func TestDeliveryVerdicts(t *testing.T) {
	forEachDB(t, func(t *testing.T, db conn) {
		in := intake.New(db.DB, map[string]ingest.Source{"hook": &hook{prefix: "old-"}})
		cases := []struct {
			name    string
			header  http.Header
			body    string
			outcome intake.Outcome
			reason  string
			code    string
			raws    int // raw deliveries stored after it
		}{
			{"a bad token", http.Header{"X-Token": {"no"}}, "deploy 1", intake.Unauthorized, "hook: bad token", delivery.EUNAUTHORIZED, 0},
			{"an unreadable body", okToken, "garbage", intake.Malformed, "malformed hook delivery: unreadable body", delivery.EINVALID, 0},
			{"an event failing validation", okToken, "nosha 3", intake.Malformed, "is required", delivery.EINVALID, 0},
			{"noise", okToken, "noise", intake.Ignored, "event ignored: hook: noise", "", 1},
			{"a deployment", okToken, "deploy 1", intake.Accepted, "", "", 2},
		}
		for _, c := range cases {
			v, err := in.Delivery(ctx, "hook", c.header, []byte(c.body))
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if v.Outcome != c.outcome || !strings.Contains(v.Reason, c.reason) || (c.reason == "") != (v.Reason == "") {
				t.Errorf("%s: verdict %s %q, want %s %q", c.name, v.Outcome, v.Reason, c.outcome, c.reason)
			}
			if c.code != "" && delivery.ErrorCode(v.Err) != c.code {
				t.Errorf("%s: error %v, want code %s", c.name, v.Err, c.code)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM raw_deliveries"); n != c.raws {
				t.Errorf("%s: %d raw deliveries stored, want %d", c.name, n, c.raws)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM events WHERE source = 'hook'"); n != 1 {
			t.Errorf("%d hook events, want the one deployment", n)
		}
		if _, err := in.Delivery(ctx, "nope", okToken, nil); delivery.ErrorCode(err) != delivery.ENOTFOUND {
			t.Errorf("an unknown source: %v", err)
		}
	})
}

// TestReprocessCountsMalformedApartAndDerivesNothingFromThem stores two
// deployments, then reprocesses under a configuration that cannot read one
// of them any more: its verdict is recorded as malformed, counted apart
// from the ignored, and its deployment is gone rather than rebuilt.
func TestReprocessCountsMalformedApartAndDerivesNothingFromThem(t *testing.T) {
	forEachDB(t, func(t *testing.T, db conn) {
		src := &hook{prefix: "old-"}
		in := intake.New(db.DB, map[string]ingest.Source{"hook": src})
		for _, body := range []string{"deploy 1", "deploy 2", "noise"} {
			if _, err := in.Delivery(ctx, "hook", okToken, []byte(body)); err != nil {
				t.Fatal(err)
			}
		}
		// Make "deploy 2" unreadable: the stored body now fails validation
		// as "nosha 2" would, by rewriting it in the raw table.
		exec(t, db, "UPDATE raw_deliveries SET body = "+byteLiteral(db.DB, "nosha 2")+" WHERE delivery_id = '"+ingest.BodyDigest([]byte("deploy 2"))+"'")
		src.prefix = "new-"
		commits := 0
		in.OnCommit = func() { commits++ }
		res, err := in.Reprocess(ctx, "hook")
		if err != nil {
			t.Fatal(err)
		}
		want := intake.ReprocessResult{Deliveries: 3, Accepted: 1, Ignored: 1, Malformed: 1, Events: 1, Rebuilt: 2}
		if res != want {
			t.Errorf("result %+v, want %+v", res, want)
		}
		if commits != 1 {
			t.Errorf("OnCommit called %d times, want 1", commits)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM raw_deliveries WHERE outcome LIKE 'malformed: %deployment.sha%'"); n != 1 {
			t.Errorf("%d deliveries recorded malformed naming deployment.sha, want 1", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM raw_deliveries WHERE outcome = 'ignored: event ignored: hook: noise'"); n != 1 {
			t.Errorf("%d deliveries recorded ignored, want 1", n)
		}
		// Only deployment 1 is left, under the new name.
		if n := count(t, db, "SELECT COUNT(*) FROM deployments"); n != 1 {
			t.Errorf("%d deployments, want 1", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM deployments WHERE service = 'new-svc' AND id = '1'"); n != 1 {
			t.Errorf("deployment 1 is not under new-svc")
		}
		if _, err := in.Reprocess(ctx, "nope"); delivery.ErrorCode(err) != delivery.ENOTFOUND {
			t.Errorf("an unknown source: %v", err)
		}
	})
}

// byteLiteral spells s as a binary literal of db's dialect.
func byteLiteral(db *store.DB, s string) string {
	if db.Dialect() == store.Postgres {
		return "convert_to('" + s + "', 'UTF8')"
	}
	return "CAST('" + s + "' AS BLOB)"
}
