package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	gitimport "github.com/stride-oss/stride/internal/ingest/git"
	"github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
)

// ancestryRepo drives git in a temporary repository whose every commit and
// tag is made at a given hour after ancestryT0 (author, committer, tagger).
type ancestryRepo struct {
	t   *testing.T
	dir string
}

var ancestryT0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

func ancestryAt(h int) time.Time { return ancestryT0.Add(time.Duration(h) * time.Hour) }

func (r *ancestryRepo) git(h int, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	date := fmt.Sprintf("@%d +0000", ancestryAt(h).Unix())
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=ann@example.com", "GIT_COMMITTER_NAME=Ann", "GIT_COMMITTER_EMAIL=ann@example.com",
		"GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *ancestryRepo) commit(h int, msg string) string {
	r.t.Helper()
	r.git(h, "commit", "-q", "--allow-empty", "-m", msg)
	return r.git(h, "rev-parse", "HEAD")
}

// remote is what GitHub knows of the repository's branches, so that each
// push's payload can be derived from git as GitHub derives it.
type remote struct {
	r     *ancestryRepo
	heads map[string]string // branch → pushed head
}

// pushBranch derives the payload GitHub sends when branch is pushed at hour
// h: before is the branch's previous head (zero for a new branch), after
// its commit now, and commits lists, oldest first, the commits reachable
// from after and not from before, or for a new branch not from any branch
// GitHub already had: `git rev-list --reverse --topo-order`.
func (m *remote) pushBranch(h int, branch string) []byte {
	m.r.t.Helper()
	after := m.r.git(h, "rev-parse", branch)
	before, known := m.heads[branch]
	args := []string{"rev-list", "--reverse", "--topo-order", after}
	if known {
		args = append(args, "^"+before)
	} else {
		before = strings.Repeat("0", 40)
		for _, other := range m.heads {
			args = append(args, "^"+other)
		}
	}
	var commits []map[string]any
	for _, sha := range strings.Fields(m.r.git(h, args...)) {
		commits = append(commits, m.commit(sha))
	}
	m.heads[branch] = after
	return m.payload(h, map[string]any{
		"ref": "refs/heads/" + branch, "before": before, "after": after,
		"created": !known, "deleted": false, "forced": false,
		"commits": commits, "head_commit": m.commit(after),
	})
}

// pushTag derives the payload of the push of an annotated tag: after is the
// tag object, head_commit the tagged commit, no commits listed.
func (m *remote) pushTag(h int, tag string) []byte {
	m.r.t.Helper()
	return m.payload(h, map[string]any{
		"ref": "refs/tags/" + tag, "before": strings.Repeat("0", 40), "after": m.r.git(h, "rev-parse", tag),
		"created": true, "deleted": false, "forced": false, "base_ref": nil,
		"commits": []any{}, "head_commit": m.commit(m.r.git(h, "rev-parse", tag+"^{commit}")),
	})
}

func (m *remote) commit(sha string) map[string]any {
	m.r.t.Helper()
	f := strings.SplitN(m.r.git(0, "show", "-s", "--format=%s%x00%cI", sha), "\x00", 2)
	return map[string]any{"id": sha, "tree_id": sha, "distinct": true, "message": f[0], "timestamp": f[1],
		"author":    map[string]any{"name": "Ann", "email": "ann@example.com", "username": "ann"},
		"committer": map[string]any{"name": "Ann", "email": "ann@example.com", "username": "ann"},
		"added":     []string{}, "removed": []string{}, "modified": []string{}}
}

func (m *remote) payload(h int, p map[string]any) []byte {
	m.r.t.Helper()
	p["repository"] = map[string]any{"full_name": repo, "name": "shop", "default_branch": "main", "master_branch": "main",
		"pushed_at": ancestryAt(h).Unix()}
	p["pusher"] = map[string]any{"name": "ann", "email": "ann@example.com"}
	b, err := json.Marshal(p)
	if err != nil {
		m.r.t.Fatal(err)
	}
	return b
}

// maintHistory is the smallest history where chaining the commits of a
// push invents ancestry, built with git:
//
//	i ← a (v1.0.0) ← b ← c ← m (v1.1.0, merge of maint into main)
//	      ↖ f (v1.0.1, on maint)
//
// and the GitHub deliveries it gives, in the order they are made.
type maintHistory struct {
	repo                *ancestryRepo
	dir                 string
	i, a, f, b, c, m    string
	pushes, tags, hooks []hook
}

func newMaintHistory(t *testing.T) maintHistory {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is required")
	}
	r := &ancestryRepo{t: t, dir: t.TempDir()}
	r.git(0, "init", "-q", "-b", "main")
	gh := &remote{r: r, heads: map[string]string{}}
	var x maintHistory
	x.repo, x.dir = r, r.dir
	n := 0
	push := func(body []byte) {
		n++
		d := ghHook("push", fmt.Sprintf("gh-push-%d", n), body)
		x.hooks = append(x.hooks, d)
		x.pushes = append(x.pushes, d)
	}
	tag := func(h int, name string) {
		r.git(h, "tag", "-a", name, "-m", name)
		n++
		d := ghHook("push", fmt.Sprintf("gh-push-%d", n), gh.pushTag(h, name))
		x.hooks = append(x.hooks, d)
		x.tags = append(x.tags, d)
	}
	x.i = r.commit(0, "init")
	x.a = r.commit(1, "A")
	push(gh.pushBranch(1, "main"))
	tag(2, "v1.0.0")
	r.git(3, "checkout", "-q", "-b", "maint")
	x.f = r.commit(3, "F: backport a fix")
	push(gh.pushBranch(3, "maint"))
	tag(4, "v1.0.1")
	r.git(5, "checkout", "-q", "main")
	x.b = r.commit(5, "B")
	x.c = r.commit(6, "C")
	push(gh.pushBranch(6, "main"))
	r.git(7, "merge", "-q", "--no-ff", "-m", "Merge branch maint", "maint")
	x.m = r.git(7, "rev-parse", "HEAD")
	push(gh.pushBranch(7, "main"))
	tag(8, "v1.1.0")
	return x
}

// importSink writes the git importer's events through the one write path,
// as `stride import git` does.
type importSink struct{ in *intake.Intake }

func (s importSink) Ingest(ctx context.Context, events []delivery.Event) (int, error) {
	res, err := s.in.Events(ctx, gitimport.Source, events)
	return res.Added, err
}

func (s importSink) ReplaceDeployments(ctx context.Context, service string, events []delivery.Event) (gitimport.Reconciled, error) {
	r, err := s.in.ReplaceDeployments(ctx, gitimport.Source, service, events)
	return gitimport.Reconciled(r), err
}

func (x maintHistory) importGit(t *testing.T, h *harness, deployTags string) {
	t.Helper()
	opts := gitimport.Options{Dir: x.dir, Service: "shop", Repository: repo, DeployTags: []string{deployTags}}
	if _, err := gitimport.Import(context.Background(), opts, importSink{intake.New(h.db, nil)}); err != nil {
		t.Fatal(err)
	}
}

// shippedByTag returns, per tag, the sorted commits its deployment ships
// (a webhook's deployment is release-<tag>, an import's is <tag>), and the
// gaps the store keeps for the service.
func shippedByTag(t *testing.T, h *harness) (map[string][]string, store.ShippingGaps) {
	t.Helper()
	ctx := context.Background()
	in, err := reader(h.db).DORAInput(ctx, store.Scope{Service: "shop"}, delivery.Period{From: ancestryT0, To: ancestryT0.AddDate(0, 0, 7)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, s := range in.Shipments {
		tag := strings.TrimPrefix(s.Deployment.ID, "release-")
		out[tag] = append(out[tag], s.SHA)
	}
	for _, shas := range out {
		slices.Sort(shas)
	}
	gaps, err := h.db.ShippingGaps(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	return out, gaps
}

// TestPushesProveOnlyAncestry tells the smallest history of a maintenance
// branch merged back (see maintHistory) through GitHub's push webhooks,
// derived from git, and through `import git`: v1.0.0 ships a (the first
// deployment ships its own commit), v1.0.1 ships f alone, v1.1.0 ships b, c
// and the merge, as `git rev-list v1.1.0 ^v1.0.1 ^v1.0.0` says. Chaining
// the pushed commits, as Stride once did, put c before f (f was listed
// first in the merge's push, after the branch's previous head c) and
// credited v1.0.1 with b and c.
func TestPushesProveOnlyAncestry(t *testing.T) {
	x := newMaintHistory(t)
	sorted := func(s ...string) []string { return slices.Sorted(slices.Values(s)) }
	want := map[string][]string{
		"v1.0.0": {x.a},
		"v1.0.1": {x.f},
		"v1.1.0": sorted(x.b, x.c, x.m),
	}
	if got := strings.Fields(x.repo.git(9, "rev-list", "v1.1.0", "^v1.0.1", "^v1.0.0")); !reflect.DeepEqual(sorted(got...), want["v1.1.0"]) {
		t.Fatalf("git rev-list says v1.1.0 ships %v; the history is not the one worked out here", got)
	}
	withSource := func(h *harness, cfg github.Config) {
		cfg.Secret, cfg.Mapping, cfg.ReleasesAsDeployments = githubSecret, testMapping(), true
		h.srv.Sources["github"] = github.New(cfg)
	}
	check := func(t *testing.T, h *harness, wantUnknown []string) {
		t.Helper()
		got, gaps := shippedByTag(t, h)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("shipped\n got %v\nwant %v", got, want)
		}
		if !reflect.DeepEqual(gaps, store.ShippingGaps{UnknownAncestry: wantUnknown}) {
			t.Errorf("gaps %+v, want deployments of unknown ancestry %v and no unknown commit", gaps, wantUnknown)
		}
	}
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		t.Run("import git", func(t *testing.T) {
			h := open(t)
			x.importGit(t, h, "v*")
			check(t, h, nil)
		})
		t.Run("webhooks, maint a release branch", func(t *testing.T) {
			h := open(t)
			withSource(h, github.Config{ReleaseBranches: []string{"maint"}})
			sendAll(t, h, x.hooks)
			check(t, h, nil)
		})
		t.Run("webhooks in another order", func(t *testing.T) {
			h := open(t)
			withSource(h, github.Config{ReleaseBranches: []string{"maint"}})
			pushes := slices.Clone(x.pushes)
			slices.Reverse(pushes)
			sendAll(t, h, slices.Concat(x.tags, pushes))
			check(t, h, nil)
		})
		t.Run("webhooks, maint not taken: f ships alone, said to be of unknown ancestry", func(t *testing.T) {
			// The push of maint is ignored, so Stride first hears of f in
			// the merge's push, which lists it without proving anything of
			// its history.
			h := open(t)
			withSource(h, github.Config{})
			sendTaking(t, h, x.hooks, x.pushes[1])
			check(t, h, []string{"production/release-v1.0.1"})
		})
		t.Run("an import's true parents replace what the pushes proved", func(t *testing.T) {
			h := open(t)
			withSource(h, github.Config{})
			sendTaking(t, h, x.hooks, x.pushes[1])
			// The import's tags match nothing here: only its commits, with
			// their parents, are added to what the webhooks told.
			x.importGit(t, h, "no-such-tag-*")
			check(t, h, nil)
			var parents, ancestry, proven string
			if err := h.raw.QueryRow(rebind(h, "SELECT parents, ancestry, proven_ancestors FROM changes WHERE sha = ?"), x.m).Scan(&parents, &ancestry, &proven); err != nil {
				t.Fatal(err)
			}
			if parents != x.c+" "+x.f || ancestry != "" || proven != "" {
				t.Errorf("the merge's row: parents %q ancestry %q proven %q, want its true parents %s %s only", parents, ancestry, proven, x.c, x.f)
			}
		})
	})
}

// TestDeploymentOfAPushedCommitInsideAPush deploys b, a commit the push
// of b and c listed but did not end on: nothing is known of b's history, so
// the deployment ships b alone, and the store names it for the report's
// warnings. When the import later gives b's parents, the name goes.
func TestDeploymentOfAPushedCommitInsideAPush(t *testing.T) {
	x := newMaintHistory(t)
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		h := open(t)
		h.srv.Sources["github"] = github.New(github.Config{Secret: githubSecret, Mapping: testMapping(), ReleasesAsDeployments: true, ReleaseBranches: []string{"maint"}})
		sendAll(t, h, x.hooks)
		h.postEvents(t, []map[string]any{{"key": "deployment-hotfix", "kind": "deployment", "deployment": map[string]any{
			"service": "shop", "environment": "production", "id": "hotfix", "status": "success",
			"started_at": ts(ancestryAt(6).Add(30 * time.Minute)), "finished_at": ts(ancestryAt(6).Add(30 * time.Minute)), "sha": x.b, "repository": repo}}})
		got, gaps := shippedByTag(t, h)
		// hotfix (6:30) ships b alone; v1.1.0 (8:00) then ships c and the
		// merge, b being shipped already. With b's parents known it would
		// ship b only too (a is in v1.0.0), but that is luck: no push said so.
		want := map[string][]string{"v1.0.0": {x.a}, "v1.0.1": {x.f}, "hotfix": {x.b}, "v1.1.0": slices.Sorted(slices.Values([]string{x.c, x.m}))}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("shipped\n got %v\nwant %v", got, want)
		}
		if !reflect.DeepEqual(gaps, store.ShippingGaps{UnknownAncestry: []string{"production/hotfix"}}) {
			t.Errorf("gaps %+v, want the deployment of unknown ancestry production/hotfix", gaps)
		}
		// The report says so in words, naming the deployment and the fix.
		rep, err := reader(h.db).DORA(context.Background(), store.Scope{Service: "shop"}, delivery.Period{From: ancestryT0, To: ancestryT0.AddDate(0, 0, 7)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var said string
		for _, w := range rep.Warnings {
			if w.Code == report.UnknownAncestryCode {
				said = w.Message
			}
		}
		if !strings.Contains(said, "shop/production/hotfix ships only its own commit") || !strings.Contains(said, "stride import git") {
			t.Errorf("the report's warnings %+v do not name the deployment of unknown ancestry and the fix", rep.Warnings)
		}
		x.importGit(t, h, "no-such-tag-*")
		if _, gaps := shippedByTag(t, h); !reflect.DeepEqual(gaps, store.ShippingGaps{}) {
			t.Errorf("after the import gave b's parents, gaps %+v, want none", gaps)
		}
	})
}

// sendTaking sends the GitHub deliveries ds in order: each must be taken
// (200), but ignored, which must be ignored (202).
func sendTaking(t *testing.T, h *harness, ds []hook, ignored hook) {
	t.Helper()
	for _, d := range ds {
		hdr := d.header.Clone()
		hdr.Set(github.HeaderSignature, github.Sign(githubSecret, d.body))
		want := http.StatusOK
		if d.header.Get(github.HeaderDelivery) == ignored.header.Get(github.HeaderDelivery) {
			want = http.StatusAccepted
		}
		if r := h.post(t, "/webhooks/github", hdr, d.body); r.status != want {
			t.Fatalf("github %s: %d %s, want %d", d.header.Get(github.HeaderDelivery), r.status, r.text, want)
		}
	}
}

// TestReleaseBranchDeployments deploys a release cut from a maintenance
// branch, as helm cuts v3.18.x from release-3.18:
//
//	i ← a (v1.0.0, main)
//	      ↖ g1 ← g2 (v1.0.1, on release-1.0, pushed as one push)
//
// Without release_branches the push of release-1.0 is ignored: v1.0.1's
// commit is unknown, it ships nothing, and the store names it. With
// release_branches: ["release-*"] it ships g1 and g2, as `import git` and
// `git rev-list v1.0.1 ^v1.0.0` say.
func TestReleaseBranchDeployments(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is required")
	}
	r := &ancestryRepo{t: t, dir: t.TempDir()}
	r.git(0, "init", "-q", "-b", "main")
	gh := &remote{r: r, heads: map[string]string{}}
	var hooks []hook
	add := func(body []byte) {
		hooks = append(hooks, ghHook("push", fmt.Sprintf("gh-push-%d", len(hooks)+1), body))
	}
	r.commit(0, "init")
	a := r.commit(1, "A")
	add(gh.pushBranch(1, "main"))
	r.git(2, "tag", "-a", "v1.0.0", "-m", "v1.0.0")
	add(gh.pushTag(2, "v1.0.0"))
	r.git(3, "checkout", "-q", "-b", "release-1.0")
	g1 := r.commit(3, "G1: backport")
	g2 := r.commit(4, "G2: backport")
	add(gh.pushBranch(4, "release-1.0"))
	r.git(5, "tag", "-a", "v1.0.1", "-m", "v1.0.1")
	add(gh.pushTag(5, "v1.0.1"))
	branchPush := hooks[2]

	want := map[string][]string{"v1.0.0": {a}, "v1.0.1": slices.Sorted(slices.Values([]string{g1, g2}))}
	if got := slices.Sorted(slices.Values(strings.Fields(r.git(6, "rev-list", "v1.0.1", "^v1.0.0")))); !reflect.DeepEqual(got, want["v1.0.1"]) {
		t.Fatalf("git rev-list says v1.0.1 ships %v; the history is not the one worked out here", got)
	}
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		t.Run("without release_branches the release's commit is unknown and named", func(t *testing.T) {
			h := open(t)
			h.srv.Sources["github"] = github.New(github.Config{Secret: githubSecret, Mapping: testMapping(), ReleasesAsDeployments: true})
			sendTaking(t, h, hooks, branchPush)
			got, gaps := shippedByTag(t, h)
			if w := map[string][]string{"v1.0.0": {a}}; !reflect.DeepEqual(got, w) {
				t.Errorf("shipped %v, want %v", got, w)
			}
			if w := (store.ShippingGaps{UnknownCommit: []string{"production/release-v1.0.1"}}); !reflect.DeepEqual(gaps, w) {
				t.Errorf("gaps %+v, want %+v", gaps, w)
			}
		})
		t.Run("with release_branches the release ships the branch's commits", func(t *testing.T) {
			h := open(t)
			h.srv.Sources["github"] = github.New(github.Config{Secret: githubSecret, Mapping: testMapping(), ReleasesAsDeployments: true,
				ReleaseBranches: []string{"release-*"}})
			sendAll(t, h, hooks)
			got, gaps := shippedByTag(t, h)
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gaps, store.ShippingGaps{}) {
				t.Errorf("shipped %v, gaps %+v; want %v and none", got, gaps, want)
			}
		})
		t.Run("import git agrees", func(t *testing.T) {
			h := open(t)
			x := maintHistory{dir: r.dir}
			x.importGit(t, h, "v*")
			got, gaps := shippedByTag(t, h)
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gaps, store.ShippingGaps{}) {
				t.Errorf("shipped %v, gaps %+v; want %v and none", got, gaps, want)
			}
		})
	})
}
