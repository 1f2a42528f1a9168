package gitlab

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/collect"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/flow"
	"github.com/stride-oss/stride/internal/ingest"
	glingest "github.com/stride-oss/stride/internal/ingest/gitlab"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

var (
	ctx     = context.Background()
	discard = slog.New(slog.DiscardHandler)
)

func mapping() delivery.Mapping {
	return delivery.Mapping{Services: []delivery.ServiceMapping{{Name: "shop", Team: "payments", Repositories: []string{"acme/shop"}}}}
}

// fakeClock is the injected clock of the client: Sleep advances it at once.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	return ctx.Err()
}

// testClient retries nothing, so a 500 stops the project at once: the
// test of a killed run needs the failure to land where it is put.
func testClient() *collect.Client {
	c := collect.NewClient(2, collect.Bearer("tok"))
	clock := &fakeClock{now: h0}
	c.Now, c.Sleep = clock.Now, clock.Sleep
	c.Jitter = func(time.Duration) time.Duration { return 0 }
	c.Retries = 0
	return c
}

const hookToken = "hook"

func prepared(t testing.TB, db *store.DB) *intake.Intake {
	t.Helper()
	if err := db.SetService(ctx, delivery.Service{Name: "shop", Team: "payments", Repositories: []string{"acme/shop"}}, nil); err != nil {
		t.Fatal(err)
	}
	return intake.New(db, map[string]ingest.Source{"gitlab": glingest.New(glingest.Config{Token: hookToken, Mapping: mapping()})})
}

func newCollector(url string, db *store.DB, in *intake.Intake, projects ...string) *Collector {
	return New(Config{APIURL: url, Projects: projects, Webhook: glingest.Config{Mapping: mapping()}, Logger: discard}, testClient(), in, db)
}

func serve(t testing.TB, f *fakeGitLab) *httptest.Server {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

func hook(t *testing.T, in *intake.Intake, i int, body []byte) intake.Verdict {
	t.Helper()
	v, err := in.Delivery(ctx, "gitlab", http.Header{"X-Gitlab-Token": {hookToken}, "X-Gitlab-Event-Uuid": {"d-" + strconv.Itoa(i)}}, body)
	if err != nil {
		t.Fatalf("delivery %d: %v", i, err)
	}
	return v
}

// shopRequests is what a first run of the history costs, pages of two:
// the project; the branches (2 pages: feature/x, main, release/1.x);
// main's six commits (3 pages) and release/1.x's three (2); the two merge
// requests (1), their notes (four and three: 2 pages each) and their
// commits for the first (three: the first page and the last; one); the
// four deployments (2); the pipeline (1); the incident by type (1) and by
// label (1, none labelled "incident").
const shopRequests = 1 + 2 + 3 + 2 + 1 + 4 + 3 + 2 + 1 + 1 + 1

func TestCollectGitLab(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		fake := newFake()
		fake.projects["acme/shop"] = shopProject()
		fake.projects["acme/locked"] = &fakeProject{status: http.StatusUnauthorized}
		srv := serve(t, fake)
		in := prepared(t, db)

		res, err := newCollector(srv.URL, db, in, "acme/gone", "acme/locked", "acme/shop").Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 3 {
			t.Fatalf("results %+v, want three projects", res)
		}
		if e := res[0].Err; e == nil || !collect.IsPermanent(e) || !strings.Contains(e.Error(), "answered 404 (it does not exist, or the token cannot see it): 404 Project Not Found") {
			t.Errorf("acme/gone: %v, want a 404 that stops it alone", e)
		}
		if e := res[1].Err; e == nil || !collect.IsPermanent(e) || !strings.Contains(e.Error(), "answered 401 (the token is missing, expired or revoked)") {
			t.Errorf("acme/locked: %v, want a 401 that stops it alone", e)
		}
		// Events: 6 commits (each once, though two branches list three
		// of them); 2 merge requests with their first commits, 2 review
		// notes (carol's and dave's on 1; carol's on her own 2 is no
		// review), 2 approvals and 1 ready; 4 deployments and 101's
		// start; 1 pipeline; the incident, once by type (the label list
		// is empty).
		shop := res[2]
		if shop.Err != nil || shop.Pages != shopRequests || shop.Skipped != 0 {
			t.Fatalf("acme/shop: %+v, want %d pages and nothing skipped", shop, shopRequests)
		}
		if want := 6 + 2*2 + 2 + 2 + 1 + 5 + 1 + 1; shop.Added != want {
			t.Errorf("acme/shop: %d events added, want %d", shop.Added, want)
		}

		// The merge's webhook, as GitLab sends it, is the collected event.
		body, _ := json.Marshal(map[string]any{"object_kind": "merge_request", "user": map[string]any{"id": alice},
			"project": map[string]any{"path_with_namespace": "acme/shop"},
			"object_attributes": map[string]any{"iid": 1, "author_id": alice, "title": "Checkout", "state": "merged", "action": "merge",
				"created_at": "2026-03-02 11:30:00 UTC", "updated_at": "2026-03-02 12:00:00 UTC", "merged_at": "2026-03-02 12:00:00 UTC",
				"merge_commit_sha": sha('c'), "last_commit": map[string]any{"id": sha('c')}},
			"labels": []any{}})
		if v := hook(t, in, 0, body); v.Outcome != intake.Accepted || v.Duplicates != 1 {
			t.Errorf("the merge's webhook: %+v; want accepted as a duplicate of the collected event", v)
		}

		// A run after no change asks each list once: the project, the
		// branches and each branch's commits (304s), merge requests,
		// deployments, pipelines, incidents by type and by label; no
		// notes, since no merge request changed.
		before := fake.requestsSoFar()
		notes := fake.count("acme/shop", "merge_requests/:iid/notes")
		res, err = newCollector(srv.URL, db, in, "acme/shop").Run(ctx)
		if err != nil || res[0].Err != nil || res[0].Added != 0 {
			t.Fatalf("second run: %+v, %v; want nothing added", res, err)
		}
		if got := fake.requestsSoFar() - before; got != 9 {
			t.Errorf("second run: %d requests, want 9", got)
		}
		if got := fake.count("acme/shop", "merge_requests/:iid/notes") - notes; got != 0 {
			t.Errorf("second run: %d note pages, want none", got)
		}

		// A new note on merge request 2 updates it: the next run reads
		// that merge request and its notes (not its commits: it was read
		// merged), and adds the note's event.
		p := fake.projects["acme/shop"]
		fake.mu.Lock()
		p.lists["merge_requests"][1]["updated_at"] = at(400)
		p.notes[2] = append(p.notes[2], apiNoteOf(histNote{id: 614, author: dave, body: "late look", at: at(400)}))
		fake.mu.Unlock()
		commits := fake.count("acme/shop", "merge_requests/:iid/commits")
		res, err = newCollector(srv.URL, db, in, "acme/shop").Run(ctx)
		// The merge request's new update and the new note.
		if err != nil || res[0].Err != nil || res[0].Added != 2 {
			t.Errorf("after a note: %+v, %v; want 2 events added", res, err)
		}
		if got := fake.count("acme/shop", "merge_requests/:iid/commits") - commits; got != 0 {
			t.Errorf("after a note: %d pages of commits, want none", got)
		}
	})
}

type reports struct {
	DORA dora.Report
	Flow flow.Report
}

func reportsOf(t *testing.T, db *store.DB) reports {
	t.Helper()
	reads := &report.Reader{Store: db, Fresh: storetest.Fresh(db)}
	period := delivery.Period{From: h0.Add(-24 * time.Hour), To: h0.Add(48 * time.Hour)}
	d, err := reads.DORA(ctx, store.Scope{Service: "shop"}, period, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := reads.Flow(ctx, store.Scope{Service: "shop"}, period)
	if err != nil {
		t.Fatal(err)
	}
	return reports{DORA: d, Flow: f}
}

func asJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

// other is a second, empty database of db's dialect.
func other(t *testing.T, db *store.DB) *store.DB {
	if db.Dialect() == store.Postgres {
		return storetest.Postgres(t)
	}
	return storetest.SQLite(t)
}

// TestCollectedEqualsWebhooks: one history collected through the API gives
// the same DORA and flow reports as the same history sent as webhooks. The
// webhook side is told the merge requests' first commits besides, the one
// fact no webhook carries.
func TestCollectedEqualsWebhooks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, hooked *store.DB) {
		in := prepared(t, hooked)
		for i, body := range shopWebhooks() {
			// carol's note on her own merge request is ignored: no review.
			if v := hook(t, in, i, body); v.Outcome != intake.Accepted && v.Outcome != intake.Ignored {
				t.Fatalf("delivery %d: %+v, want accepted", i, v)
			}
		}
		var first []delivery.Event
		for _, m := range histMRs {
			first = append(first, delivery.Event{Key: "first-commit-" + strconv.Itoa(m.iid), Kind: delivery.KindPullRequest,
				PullRequest: &delivery.PullRequest{Repository: "acme/shop", Number: m.iid, FirstCommitAt: m.commits[0]}})
		}
		if _, err := in.Events(ctx, "api", first); err != nil {
			t.Fatal(err)
		}

		collected := other(t, hooked)
		fake := newFake()
		fake.projects["acme/shop"] = shopProject()
		res, err := newCollector(serve(t, fake).URL, collected, prepared(t, collected), "acme/shop").Run(ctx)
		if err != nil || res[0].Err != nil || res[0].Skipped != 0 {
			t.Fatalf("collect: %+v, %v", res, err)
		}

		want, got := reportsOf(t, hooked), reportsOf(t, collected)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("collected reports differ from the webhooks'\ncollected: %s\nwebhooks: %s", asJSON(got), asJSON(want))
		}
		// Worked out by hand: successful production deployments 101 (B),
		// 102 (M), 104 (D); 103 failed. The first ships B alone; 102
		// ships C, the hotfix E and M; 104 ships D. Pickup: merge request
		// 1 created at 150, first reviewed by carol at 165; 2 marked
		// ready at 270, first reviewed by bob's approval at 290 (carol's
		// note on her own is none). Review: 165→180 and 290→300. Coding:
		// 130→150 and 200→250.
		if n := got.DORA.DeploymentFrequency.Count; n != 3 {
			t.Errorf("deployments %d, want 3", n)
		}
		if n := got.DORA.LeadTime.Count; n != 5 {
			t.Errorf("changes with a lead time %d, want 5", n)
		}
		if p := got.Flow.PickupTime; p == nil || p.Count != 2 || p.MedianSeconds != 17.5*60 {
			t.Errorf("pickup time %s, want 2 merge requests, median 17.5 minutes", asJSON(p))
		}
		if c := got.Flow.CodingTime; c == nil || c.Count != 2 || c.MedianSeconds != 35*60 {
			t.Errorf("coding time %s, want 2 merge requests, median 35 minutes", asJSON(c))
		}
		if r := got.Flow.ReviewTime; r == nil || r.Count != 2 || r.MedianSeconds != 12.5*60 {
			t.Errorf("review time %s, want 2 merge requests, median 12.5 minutes", asJSON(r))
		}
	})
}

// TestKilledRunResumes: a run that stops at any request (the server
// answers 500 from there on) and a run after it store what one whole run
// stores, no event lost and none twice.
func TestKilledRunResumes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		whole := other(t, db)
		fake := newFake()
		fake.projects["acme/shop"] = shopProject()
		srv := serve(t, fake)
		res, err := newCollector(srv.URL, whole, prepared(t, whole), "acme/shop").Run(ctx)
		if err != nil || res[0].Err != nil {
			t.Fatalf("whole run: %+v, %v", res, err)
		}
		want, wantReports := res[0].Added, reportsOf(t, whole)

		// Kill points across every resource; each on a database of its own.
		for _, kill := range []int{2, 5, 9, 11, 13, 15, 17, 19, shopRequests} {
			t.Run("at request "+strconv.Itoa(kill), func(t *testing.T) {
				resumed := other(t, db)
				in := prepared(t, resumed)
				fake.mu.Lock()
				fake.total, fake.failFrom = 0, kill
				fake.mu.Unlock()
				first, err := newCollector(srv.URL, resumed, in, "acme/shop").Run(ctx)
				if err != nil || first[0].Err == nil {
					t.Fatalf("killed run: %+v, %v; want the project stopped", first, err)
				}
				fake.mu.Lock()
				fake.failFrom = 0
				fake.mu.Unlock()
				second, err := newCollector(srv.URL, resumed, in, "acme/shop").Run(ctx)
				if err != nil || second[0].Err != nil {
					t.Fatalf("resumed run: %+v, %v", second, err)
				}
				if got := first[0].Added + second[0].Added; got != want {
					t.Errorf("added %d + %d events, want %d as one run adds", first[0].Added, second[0].Added, want)
				}
				if got := reportsOf(t, resumed); !reflect.DeepEqual(got, wantReports) {
					t.Errorf("resumed reports differ\nresumed: %s\nwhole: %s", asJSON(got), asJSON(wantReports))
				}
			})
		}
	})
}
