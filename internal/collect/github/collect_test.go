package github

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/collect"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/flow"
	"github.com/stride-oss/stride/internal/ingest"
	ghingest "github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

var (
	ctx     = context.Background()
	discard = slog.New(slog.DiscardHandler)
)

func shopMapping() delivery.Mapping {
	return delivery.Mapping{Services: []delivery.ServiceMapping{{Name: "shop", Team: "payments", Repositories: []string{"acme/shop"}}}}
}

// fakeClock is the injected clock of the client: Sleep advances it at once.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.slept = append(f.slept, d)
	f.now = f.now.Add(d)
	return ctx.Err()
}

func testClient(clock *fakeClock, concurrency int) *collect.Client {
	c := collect.NewClient(concurrency, collect.Bearer("test-token"))
	c.Now, c.Sleep = clock.Now, clock.Sleep
	c.Jitter = func(time.Duration) time.Duration { return 0 }
	return c
}

func prepared(t testing.TB, db *store.DB) *intake.Intake {
	t.Helper()
	if err := db.SetService(ctx, delivery.Service{Name: "shop", Team: "payments", Repositories: []string{"acme/shop"}}, nil); err != nil {
		t.Fatal(err)
	}
	return intake.New(db, map[string]ingest.Source{"github": ghingest.New(ghingest.Config{Secret: "s", Mapping: shopMapping(), ReleasesAsDeployments: true})})
}

func newCollector(t testing.TB, url string, db *store.DB, in *intake.Intake, clock *fakeClock, repos ...string) *Collector {
	return New(Config{APIURL: url, Repos: repos, Webhook: ghingest.Config{Mapping: shopMapping(), ReleasesAsDeployments: true},
		Logger: discard},
		testClient(clock, 4), in, db)
}

type reports struct {
	DORA dora.Report
	Flow flow.Report
}

// reportsOf reads the shop's reports over the history's days, shipments
// refreshed first.
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

// TestCollectedEqualsWebhooks: one history collected through the APIs gives
// the same DORA and flow reports as the same history sent as webhooks. The
// webhook side is told the pull requests' first commits besides (as the
// events API would be), the one fact no webhook carries.
func TestCollectedEqualsWebhooks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, hooked *store.DB) {
		in := prepared(t, hooked)
		for i, w := range shopWebhooks() {
			h := http.Header{}
			h.Set(ghingest.HeaderEvent, w.event)
			h.Set(ghingest.HeaderDelivery, "d-"+strconv.Itoa(i))
			h.Set(ghingest.HeaderSignature, ghingest.Sign("s", w.body))
			v, err := in.Delivery(ctx, "github", h, w.body)
			if err != nil || (v.Outcome != intake.Accepted && v.Outcome != intake.Ignored) {
				t.Fatalf("delivery %d (%s): %+v, %v", i, w.event, v, err)
			}
		}
		var first []delivery.Event
		for _, p := range histPulls {
			first = append(first, delivery.Event{Key: "first-commit-" + itoa(p.number), Kind: delivery.KindPullRequest,
				PullRequest: &delivery.PullRequest{Repository: "acme/shop", Number: p.number, FirstCommitAt: p.firstCommitAt}})
		}
		if _, err := in.Events(ctx, "api", first); err != nil {
			t.Fatal(err)
		}

		collected := storetest.SQLite(t)
		if storetest.PostgresURL() != "" && hooked.Dialect() == store.Postgres {
			collected = storetest.Postgres(t)
		}
		fake, srv := newFakeGitHub(t)
		fake.repos["acme/shop"] = shopFake()
		sum, err := newCollector(t, srv.URL, collected, prepared(t, collected), &fakeClock{now: h0}, "acme/shop").Run(ctx)
		if err != nil || len(sum.Failed()) > 0 {
			t.Fatalf("collect: %v, %+v", err, sum.Failed())
		}

		want, got := reportsOf(t, hooked), reportsOf(t, collected)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("collected reports differ from the webhooks'\ncollected: %s\nwebhooks: %s", asJSON(got), asJSON(want))
		}
		// Worked out by hand: successful production deployments 101 (B),
		// 102 and release v1.0 (M), 104 (D). Each commit is shipped
		// once, and the first deployment ships its own commit only: B by
		// 101; C, the hotfix E and M by 102; D by 104. Coding time:
		// 150−130 and 250−200 minutes.
		if n := got.DORA.DeploymentFrequency.Count; n != 4 {
			t.Errorf("deployments %d, want 4", n)
		}
		if n := got.DORA.LeadTime.Count; n != 5 {
			t.Errorf("changes with a lead time %d, want 5", n)
		}
		if c := got.Flow.CodingTime; c == nil || c.Count != 2 {
			t.Errorf("coding time %s, want two pull requests", asJSON(c))
		}
	})
}

func TestCommitsKeepTheirParents(t *testing.T) {
	r := &repoRun{repo: "acme/shop"}
	var c apiCommit
	b, _ := json.Marshal(restCommit(histCommits[4]))
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	ev := r.change(c)
	want := []string{sha('c'), sha('e')}
	if ev.Key != "github:commit:acme/shop:"+sha('f') || !reflect.DeepEqual(ev.Change.Parents, want) || ev.Change.Author != "erin" ||
		!ev.Change.CommitTime.Equal(at(240)) || ev.Change.Title != "Merge branch 'release/1.x'" {
		t.Errorf("merge commit %s: %+v, want parents %v", ev.Key, ev.Change, want)
	}
}

func TestGraphQLURL(t *testing.T) {
	for api, want := range map[string]string{
		"https://api.github.com":        "https://api.github.com/graphql",
		"https://github.example/api/v3": "https://github.example/api/graphql",
		"http://127.0.0.1:8080":         "http://127.0.0.1:8080/graphql",
	} {
		if got := GraphQLURL(api); got != want {
			t.Errorf("GraphQLURL(%q) = %q, want %q", api, got, want)
		}
	}
}
