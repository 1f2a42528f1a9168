package store_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	gitimport "github.com/stride-oss/stride/internal/ingest/git"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// gitRepo drives git in a temporary repository; every commit and tag is
// made at a given hour after r0 (author and committer, tagger alike).
type gitRepo struct {
	t   *testing.T
	dir string
}

var r0 = time.Date(2026, 4, 6, 8, 0, 0, 0, time.UTC)

func at(h int) time.Time { return r0.Add(time.Duration(h) * time.Hour) }

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is required")
	}
	r := &gitRepo{t: t, dir: t.TempDir()}
	r.git(0, "init", "-q", "-b", "main")
	return r
}

func (r *gitRepo) git(h int, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	date := fmt.Sprintf("@%d +0000", at(h).Unix())
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=ann@example.com", "GIT_COMMITTER_NAME=Ann", "GIT_COMMITTER_EMAIL=ann@example.com",
		"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *gitRepo) commit(h int, msg string) string {
	r.t.Helper()
	r.git(h, "commit", "-q", "--allow-empty", "-m", msg)
	return r.git(h, "rev-parse", "HEAD")
}

// dbSink is the one write path as the git importer's sink, as `stride
// import git` wires it.
type dbSink struct{ in *intake.Intake }

func (s dbSink) Ingest(ctx context.Context, events []delivery.Event) (int, error) {
	res, err := s.in.Events(ctx, gitimport.Source, events)
	return res.Added, err
}

func (s dbSink) ReplaceDeployments(ctx context.Context, service string, events []delivery.Event) (gitimport.Reconciled, error) {
	r, err := s.in.ReplaceDeployments(ctx, gitimport.Source, service, events)
	return gitimport.Reconciled(r), err
}

// shipped returns, per deployment ID of service, the commits it ships, and
// the stored deployments.
func shipped(t *testing.T, db *store.DB, service string) (map[string][]string, map[string]delivery.Deployment) {
	t.Helper()
	in, err := reads(db).DORAInput(context.Background(), store.Scope{Service: service}, delivery.Period{From: r0, To: r0.Add(30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ships := map[string][]string{}
	for _, s := range in.Shipments {
		ships[s.Deployment.ID] = append(ships[s.Deployment.ID], s.SHA)
	}
	for _, shas := range ships {
		slices.Sort(shas)
	}
	deps := map[string]delivery.Deployment{}
	for _, d := range in.Deployments {
		deps[d.ID] = d
	}
	return ships, deps
}

func sorted(shas ...string) []string { return slices.Sorted(slices.Values(shas)) }

// TestReimportReconcilesTheTags imports a history, changes its tags as a
// maintainer would, and imports again after each change: the store then
// holds exactly the deployments the tags make, and each ships what git
// says it ships.
//
//	main: c1 ← c2 ← c3 ← c4 ← c5
//	tags: v1.0.0 (c1, h1), v1.1.0 (c3, h4), v1.2.0-rc1 (c4, h6), v1.2.0 (c5, h8)
func TestReimportReconcilesTheTags(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newGitRepo(t)
		c1 := r.commit(0, "one")
		r.git(1, "tag", "-a", "v1.0.0", "-m", "1.0.0")
		c2 := r.commit(2, "two")
		c3 := r.commit(3, "three")
		r.git(4, "tag", "-a", "v1.1.0", "-m", "1.1.0")
		c4 := r.commit(5, "four")
		r.git(6, "tag", "-a", "v1.2.0-rc1", "-m", "rc")
		c5 := r.commit(7, "five")
		r.git(8, "tag", "-a", "v1.2.0", "-m", "1.2.0")

		opts := gitimport.Options{Dir: r.dir, Service: "shop", DeployTags: []string{"v*"}}
		imp := func(want gitimport.Reconciled) {
			t.Helper()
			sum, err := gitimport.Import(ctx, opts, dbSink{intake.New(db, nil)})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sum.Reconciled, want) {
				t.Errorf("reconciled = %+v, want %+v", sum.Reconciled, want)
			}
		}
		check := func(want map[string][]string) {
			t.Helper()
			ships, deps := shipped(t, db, "shop")
			if got := slices.Sorted(maps.Keys(deps)); !slices.Equal(got, slices.Sorted(maps.Keys(want))) {
				t.Errorf("deployments = %v, want %v", got, slices.Sorted(maps.Keys(want)))
			}
			for id, shas := range want {
				if !slices.Equal(ships[id], shas) {
					t.Errorf("%s ships %v, want %v", id, ships[id], shas)
				}
			}
		}
		events := func(id string) int {
			t.Helper()
			n, err := db.CountForTest(ctx, "SELECT COUNT(*) FROM events WHERE source = 'git' AND key = 'git:shop:tag:"+id+"'")
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		t.Run("the first import adds every tag", func(t *testing.T) {
			imp(gitimport.Reconciled{Added: []string{"v1.0.0", "v1.1.0", "v1.2.0", "v1.2.0-rc1"}})
			// The first deployment ships its own commit only (docs/metrics.md).
			check(map[string][]string{"v1.0.0": {c1}, "v1.1.0": sorted(c2, c3), "v1.2.0-rc1": {c4}, "v1.2.0": {c5}})
		})
		t.Run("an import of the same tags changes nothing and leaves the shipments fresh", func(t *testing.T) {
			imp(gitimport.Reconciled{Unchanged: 4})
			if n, err := db.RefreshShipments(ctx, "shop"); err != nil || n != 0 {
				t.Errorf("refresh recomputed %d services (%v), want 0", n, err)
			}
		})
		t.Run("narrowing the exclusions removes the excluded deployment", func(t *testing.T) {
			opts.ExcludeTags = []string{"*-rc*"}
			imp(gitimport.Reconciled{Removed: []string{"v1.2.0-rc1"}, Unchanged: 3})
			check(map[string][]string{"v1.0.0": {c1}, "v1.1.0": sorted(c2, c3), "v1.2.0": sorted(c4, c5)})
			if n := events("v1.2.0-rc1"); n != 0 {
				t.Errorf("%d events of the removed deployment are left", n)
			}
		})
		t.Run("a deleted tag is removed, and its changes ship with the next release", func(t *testing.T) {
			r.git(0, "tag", "-d", "v1.1.0")
			imp(gitimport.Reconciled{Removed: []string{"v1.1.0"}, Unchanged: 2})
			check(map[string][]string{"v1.0.0": {c1}, "v1.2.0": sorted(c2, c3, c4, c5)})
		})
		t.Run("a tag made again is added again", func(t *testing.T) {
			r.git(4, "tag", "-a", "v1.1.0", "-m", "1.1.0 again", c3)
			imp(gitimport.Reconciled{Added: []string{"v1.1.0"}, Unchanged: 2})
			check(map[string][]string{"v1.0.0": {c1}, "v1.1.0": sorted(c2, c3), "v1.2.0": sorted(c4, c5)})
			if n := events("v1.1.0"); n != 1 {
				t.Errorf("%d events of the re-added deployment, want 1", n)
			}
		})
		t.Run("a moved tag moves its deployment to the new commit and time", func(t *testing.T) {
			r.git(10, "tag", "-f", "-a", "v1.2.0", "-m", "1.2.0 without five", c4)
			imp(gitimport.Reconciled{Moved: []string{"v1.2.0"}, Unchanged: 2})
			ships, deps := shipped(t, db, "shop")
			if d := deps["v1.2.0"]; d.SHA != c4 || !d.FinishedAt.Equal(at(10)) {
				t.Errorf("v1.2.0 = %s at %s, want %s at %s", d.SHA, d.FinishedAt, c4, at(10))
			}
			if !slices.Equal(ships["v1.2.0"], []string{c4}) {
				t.Errorf("v1.2.0 ships %v, want only c4 (c5 is no longer released)", ships["v1.2.0"])
			}
		})
		t.Run("a deployment another source reported too is kept when its tag goes", func(t *testing.T) {
			api := delivery.Event{Key: "ci-v1.0.0", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
				Service: "shop", ID: "v1.0.0", SHA: c1, Status: delivery.DeploymentSuccess, FinishedAt: at(1)}}
			if _, err := intake.New(db, nil).Events(ctx, "api", []delivery.Event{api}); err != nil {
				t.Fatal(err)
			}
			r.git(0, "tag", "-d", "v1.0.0")
			imp(gitimport.Reconciled{Kept: []string{"v1.0.0"}, Unchanged: 2})
			if _, deps := shipped(t, db, "shop"); deps["v1.0.0"].SHA != c1 {
				t.Errorf("v1.0.0 = %+v, want kept at c1", deps["v1.0.0"])
			}
			// The git import no longer claims it: another run leaves it be.
			imp(gitimport.Reconciled{Unchanged: 2})
		})
	})
}

// TestReimportTouchesOneService imports one repository for two services
// (the services of a monorepo): reconciling one leaves the other's
// deployments alone.
func TestReimportTouchesOneService(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		r := newGitRepo(t)
		r.commit(0, "one")
		r.git(1, "tag", "-a", "v1.0.0", "-m", "1.0.0")
		r.commit(2, "two")
		r.git(3, "tag", "-a", "v1.1.0", "-m", "1.1.0")
		for _, svc := range []string{"api", "web"} {
			sum, err := gitimport.Import(ctx, gitimport.Options{Dir: r.dir, Service: svc, Repository: "mono"}, dbSink{intake.New(db, nil)})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"v1.0.0", "v1.1.0"}; !slices.Equal(sum.Reconciled.Added, want) {
				t.Errorf("%s: added %v, want %v", svc, sum.Reconciled.Added, want)
			}
		}
		r.git(0, "tag", "-d", "v1.1.0")
		sum, err := gitimport.Import(ctx, gitimport.Options{Dir: r.dir, Service: "web", Repository: "mono"}, dbSink{intake.New(db, nil)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sum.Reconciled.Removed, []string{"v1.1.0"}) {
			t.Errorf("web: removed %v, want v1.1.0", sum.Reconciled.Removed)
		}
		if _, deps := shipped(t, db, "api"); len(deps) != 2 {
			t.Errorf("api has %d deployments, want its 2 untouched", len(deps))
		}
	})
}

func TestReplaceDeploymentsRefusesWhatIsNotTheSet(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		dep := func(service, env, id string) delivery.Event {
			return delivery.Event{Key: "k-" + service + env + id, Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
				Service: service, Environment: env, ID: id, SHA: "abc", Status: delivery.DeploymentSuccess, FinishedAt: r0}}
		}
		cases := []struct {
			name   string
			events []delivery.Event
		}{
			{"a deployment of another service", []delivery.Event{dep("web", "production", "1")}},
			{"a deployment to staging", []delivery.Event{dep("shop", "staging", "1")}},
			{"one deployment twice", []delivery.Event{dep("shop", "production", "1"), dep("shop", "production", "1")}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := intake.New(db, nil).ReplaceDeployments(context.Background(), "git", "shop", c.events)
				if delivery.ErrorCode(err) != delivery.EINVALID {
					t.Errorf("err = %v, want %s", err, delivery.EINVALID)
				}
			})
		}
	})
}

// TestReplaceDeploymentsAdoptsEventsWithoutEntity covers a database whose
// git import ran before events recorded their entity: the first
// reconciliation counts the deployment as added and records its entity, so
// the next one can remove it.
func TestReplaceDeploymentsAdoptsEventsWithoutEntity(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := func() delivery.Event {
			return delivery.Event{Key: "git:shop:tag:v1", Kind: delivery.KindDeployment, Source: "git", Deployment: &delivery.Deployment{
				Service: "shop", Environment: "production", ID: "v1", SHA: "abc", Status: delivery.DeploymentSuccess, FinishedAt: r0}}
		}
		if _, err := db.Ingest(ctx, []delivery.Event{e()}); err != nil {
			t.Fatal(err)
		}
		if err := db.ExecForTest(ctx, "UPDATE events SET entity = '' WHERE key = 'git:shop:tag:v1'"); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			events []delivery.Event
			want   store.ReconcileResult
		}{
			{[]delivery.Event{e()}, store.ReconcileResult{Added: []string{"v1"}}},
			{[]delivery.Event{e()}, store.ReconcileResult{Unchanged: 1}},
			{nil, store.ReconcileResult{Removed: []string{"v1"}}},
		}
		for i, s := range steps {
			got, err := db.ReplaceDeployments(ctx, "git", "shop", s.events)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, s.want) {
				t.Errorf("step %d: %+v, want %+v", i, got, s.want)
			}
		}
		if n, err := db.CountForTest(ctx, "SELECT COUNT(*) FROM deployments WHERE service = 'shop'"); err != nil || n != 0 {
			t.Errorf("%d deployments left (%v), want 0", n, err)
		}
	})
}
