package github

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	ghingest "github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestSecondRunCostsAHandful counts the requests of a first run and of a
// run after no change: the REST lists answer 304 to their ETags (free on
// GitHub); the GraphQL pull requests and deployments and the issues
// updated since the cursor are asked again, a page each.
func TestSecondRunCostsAHandful(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		fake, srv := newFakeGitHub(t)
		fake.repos["acme/shop"] = shopFake()
		in := prepared(t, db)
		clock := &fakeClock{now: h0}

		first := newCollector(t, srv.URL, db, in, clock, "acme/shop")
		sum, err := first.Run(ctx)
		if err != nil || len(sum.Failed()) > 0 {
			t.Fatalf("first run: %v %+v", err, sum.Failed())
		}
		// repository, branches, two branches' commits, releases, tags
		// (dated by the release: no commit asked), a GraphQL page of
		// pull requests and one of deployments with their statuses,
		// runs, incident issues.
		if n, _ := fake.count(); n != 10 || sum.Stats.Requests != 10 {
			t.Fatalf("first run: %d requests (client counted %d), want 10", n, sum.Stats.Requests)
		}
		if sum.Repos[0].Added == 0 {
			t.Fatal("the first run added nothing")
		}

		second := newCollector(t, srv.URL, db, in, clock, "acme/shop")
		sum, err = second.Run(ctx)
		if err != nil || len(sum.Failed()) > 0 {
			t.Fatalf("second run: %v %+v", err, sum.Failed())
		}
		n, byPath := fake.count()
		if got := n - 10; got != 10 || sum.Stats.Requests != 10 || sum.Stats.NotModified != 7 {
			t.Errorf("second run: %d requests, %d of them 304 (%v); want 10 of which 7 are 304", got, sum.Stats.NotModified, byPath)
		}
		if sum.Repos[0].Added != 0 {
			t.Errorf("a run after no change added %d events", sum.Repos[0].Added)
		}
		cursors, err := db.Cursors(ctx, Source)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range cursors {
			names = append(names, c.Resource)
		}
		want := []string{"branches", "commits:main", "commits:release/1.x", "deployments", "issues:incident", "pulls", "releases", "repository", "tags", "workflow_runs"}
		if !reflect.DeepEqual(names, want) {
			t.Errorf("cursors %v, want %v", names, want)
		}
	})
}

// TestAMissingRepositoryStopsOnlyItself: a 404 stops acme/gone with a
// message naming it; acme/shop is read in full.
func TestAMissingRepositoryStopsOnlyItself(t *testing.T) {
	db := storetest.SQLite(t)
	fake, srv := newFakeGitHub(t)
	fake.repos["acme/shop"] = shopFake()
	sum, err := newCollector(t, srv.URL, db, prepared(t, db), &fakeClock{now: h0}, "acme/gone", "acme/shop").Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	failed := sum.Failed()
	if len(failed) != 1 || failed[0].Repo != "acme/gone" || !strings.Contains(failed[0].Err.Error(), "/repos/acme/gone answered 404 (it does not exist, or the token cannot see it)") {
		t.Fatalf("failed %+v, want acme/gone alone with a 404", failed)
	}
	if got := sum.Repos[1]; got.Repo != "acme/shop" || got.Err != nil || got.Added != 27 {
		t.Errorf("acme/shop: %+v, want all 27 new events", got)
	}
}

func TestABadTokenIsPermanent(t *testing.T) {
	db := storetest.SQLite(t)
	_, srv := newFakeGitHub(t)
	c := newCollector(t, srv.URL, db, prepared(t, db), &fakeClock{now: h0}, "acme/shop")
	c.client.Auth = nil
	sum, _ := c.Run(ctx)
	if f := sum.Failed(); len(f) != 1 || !strings.Contains(f[0].Err.Error(), "answered 401 (the token is missing, expired or revoked): Bad credentials") {
		t.Errorf("failed %+v, want a 401 naming the token", f)
	}
}

// TestWithinTheLimits: a 5xx burst on the commits, a secondary limit on
// GraphQL and a primary budget that runs down to the reserve midway: the
// run completes with what a calm run collects, having waited for each.
func TestWithinTheLimits(t *testing.T) {
	db := storetest.SQLite(t)
	clock := &fakeClock{now: h0}
	fake, srv := newFakeGitHub(t)
	fake.repos["acme/shop"] = shopFake()
	fake.now, fake.remaining, fake.reset = clock.Now, 55, h0.Add(10*time.Minute)
	fake.burst["/repos/acme/shop/commits"] = []int{502, 503}
	fake.burst["/graphql"] = []int{403}
	sum, err := newCollector(t, srv.URL, db, prepared(t, db), clock, "acme/shop").Run(ctx)
	if err != nil || len(sum.Failed()) > 0 {
		t.Fatalf("run: %v %+v", err, sum.Failed())
	}
	if got := sum.Repos[0].Added; got != 27 {
		t.Errorf("added %d events, want 27", got)
	}
	// The budget: 55 left, the reserve 50: the fifth answer leaves 50,
	// and the next request waits until the reset (10 minutes and a
	// second after h0, nothing having advanced the clock before but the
	// 1 s + 2 s of backoff on the commits).
	want := []time.Duration{time.Second, 2 * time.Second, 10*time.Minute + time.Second - 3*time.Second, time.Minute}
	if !reflect.DeepEqual(clock.slept, want) {
		t.Errorf("slept %v, want %v", clock.slept, want)
	}
	if n, _ := fake.count(); n != 10+3 {
		t.Errorf("%d requests, want 10 and the 3 answered with an error", n)
	}
}

// failingWriter commits the first n batches and then fails, as a process
// killed midway would have committed only those.
type failingWriter struct {
	in *intake.Intake
	n  int
}

func (w *failingWriter) Events(ctx context.Context, source string, events []delivery.Event) (intake.Result, error) {
	if w.n == 0 {
		return intake.Result{}, errors.New("killed")
	}
	w.n--
	return w.in.Events(ctx, source, events)
}

// TestAKilledRunResumes: runs stopped after 1, 3 and 5 committed batches
// and then run to the end leave the store as one uninterrupted run does:
// nothing lost, nothing counted twice.
func TestAKilledRunResumes(t *testing.T) {
	clean := storetest.SQLite(t)
	fake, srv := newFakeGitHub(t)
	fake.repos["acme/shop"] = shopFake()
	if _, err := newCollector(t, srv.URL, clean, prepared(t, clean), &fakeClock{now: h0}, "acme/shop").Run(ctx); err != nil {
		t.Fatal(err)
	}
	want := reportsOf(t, clean)
	for _, kill := range []int{1, 3, 5} {
		t.Run(fmt.Sprintf("after %d batches", kill), func(t *testing.T) {
			db := storetest.SQLite(t)
			in := prepared(t, db)
			c := newCollector(t, srv.URL, db, in, &fakeClock{now: h0}, "acme/shop")
			c.out = &failingWriter{in: in, n: kill}
			sum, _ := c.Run(ctx)
			if f := sum.Failed(); len(f) != 1 || !strings.Contains(f[0].Err.Error(), "killed") {
				t.Fatalf("the killed run: %+v", f)
			}
			sum, err := newCollector(t, srv.URL, db, in, &fakeClock{now: h0}, "acme/shop").Run(ctx)
			if err != nil || len(sum.Failed()) > 0 {
				t.Fatalf("the resumed run: %v %+v", err, sum.Failed())
			}
			if got := reportsOf(t, db); !reflect.DeepEqual(got, want) {
				t.Errorf("after resuming:\n%s\nwant\n%s", asJSON(got), asJSON(want))
			}
		})
	}
}

// TestAnOrganisationAsAJob: --org lists the organisation's repositories
// (two pages of 100 here), and the collector runs as a task of the job
// runner, failing that run only by the repository that stopped.
func TestAnOrganisationAsAJob(t *testing.T) {
	db := storetest.SQLite(t)
	fake, srv := newFakeGitHub(t)
	for i := range 101 {
		fake.repos[fmt.Sprintf("acme/r%03d", i)] = yearOf(1, 0, 0)
	}
	fake.repos["other/x"] = yearOf(1, 0, 0)
	c := New(Config{APIURL: srv.URL, Orgs: []string{"acme"}, Repos: []string{"acme/gone"}, Logger: discard,
		Webhook: ghingest.Config{Mapping: shopMapping()}}, testClient(&fakeClock{now: h0}, 4), prepared(t, db), db)
	task := c.Task("collect-github", time.Hour)
	err := task.Run(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "acme/gone: ") || strings.Count(err.Error(), "\n") != 0 {
		t.Fatalf("the job's error %v, want acme/gone's alone", err)
	}
	_, byPath := fake.count()
	if byPath["GET /orgs/acme/repos"] != 2 || byPath["GET /repos/acme/r100/commits"] != 1 || byPath["GET /repos/other/x"] != 0 {
		t.Errorf("requests %v, want two pages of acme's repositories, each read, and no other", byPath)
	}
}

// TestAnUnreadableObjectIsSkipped: a deployment status the connector
// cannot read (a success without a creation time) is left out and
// counted; the rest of the repository is read.
func TestAnUnreadableObjectIsSkipped(t *testing.T) {
	db := storetest.SQLite(t)
	fake, srv := newFakeGitHub(t)
	repo := shopFake()
	repo.statuses[104][0].(map[string]any)["created_at"] = nil
	fake.repos["acme/shop"] = repo
	sum, err := newCollector(t, srv.URL, db, prepared(t, db), &fakeClock{now: h0}, "acme/shop").Run(ctx)
	if err != nil || len(sum.Failed()) > 0 {
		t.Fatalf("run: %v %+v", err, sum.Failed())
	}
	if r := sum.Repos[0]; r.Skipped != 1 || r.Added != 26 {
		t.Errorf("%+v, want 1 skipped and the other 26 events added", r)
	}
}
