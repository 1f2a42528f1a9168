package git

import (
	"bytes"
	"context"
	"errors"
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
)

// t0 is the time of the first commit of the test repository; every other
// time is a whole number of hours after it.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func hour(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

// repo drives the git command in a temporary repository with fixed dates and
// an identity that does not depend on the machine's configuration.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	r := &repo{t: t, dir: t.TempDir()}
	r.git(time.Time{}, "init", "-q", "-b", "main")
	r.git(time.Time{}, "config", "user.name", "Ada Lovelace")
	r.git(time.Time{}, "config", "user.email", "ada@example.com")
	r.git(time.Time{}, "config", "advice.nestedTag", "false")
	r.git(time.Time{}, "config", "advice.detachedHead", "false")
	return r
}

// git runs git in the repository. When at is not zero, it is the committer
// and tagger date, and the author date is half an hour earlier, so that tests
// can tell the two apart.
func (r *repo) git(at time.Time, args ...string) string {
	r.t.Helper()
	out, err := r.run(at, args...)
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(out)
}

func (r *repo) run(at time.Time, args ...string) (string, error) {
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if !at.IsZero() {
		cmd.Env = append(cmd.Env,
			"GIT_AUTHOR_DATE="+gitDate(at.Add(-30*time.Minute)),
			"GIT_COMMITTER_DATE="+gitDate(at))
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func gitDate(t time.Time) string { return fmt.Sprintf("@%d +0000", t.Unix()) }

func (r *repo) commit(at time.Time, msg string) string {
	r.t.Helper()
	r.git(at, "commit", "-q", "--allow-empty", "-m", msg)
	return r.git(time.Time{}, "rev-parse", "HEAD")
}

// stdin runs git with the given input.
func (r *repo) stdin(in string, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		r.t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// lines runs git and returns its output lines.
func (r *repo) lines(args ...string) []string {
	r.t.Helper()
	out := r.git(time.Time{}, args...)
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// history is the test repository, oldest first:
//
//	main:        c1 ← c2 ← c3 ← c4 ← m ← c5      (HEAD detached at d1 ← c5)
//	release-1.0:        ↖ r1       ↗
//	feature:               c3 ← f1
//
// Tags: v1.0.0 (annotated, c2, h2), v1.1.0-rc1 (annotated, c4, h7),
// v1.1.0 (annotated, m, h9), v1.0.1 (annotated, r1, h10: the release branch
// tagged out of line, after v1.1.0), v1.2.0 (lightweight, c5, h11),
// alias-1.1.0 (annotated tag of the tag v1.1.0, h12) and docs-tree
// (lightweight, of a tree, which ships nothing).
type history struct {
	*repo
	c1, c2, c3, r1, f1, c4, m, c5, d1 string
}

func newHistory(t *testing.T) *history {
	h := &history{repo: newRepo(t)}
	h.c1 = h.commit(hour(0), "initial commit")
	h.c2 = h.commit(hour(1), "add the ledger")
	h.git(hour(2), "tag", "-a", "v1.0.0", "-m", "release 1.0.0")
	h.c3 = h.commit(hour(3), "add interest")
	h.git(time.Time{}, "switch", "-q", "-c", "release-1.0", "v1.0.0")
	h.r1 = h.commit(hour(4), "fix rounding on 1.0")
	h.git(time.Time{}, "switch", "-q", "-c", "feature", h.c3)
	h.f1 = h.commit(hour(5), "add statements")
	h.git(time.Time{}, "switch", "-q", "main")
	h.c4 = h.commit(hour(6), "speed up posting")
	h.git(hour(7), "tag", "-a", "v1.1.0-rc1", "-m", "candidate")
	h.git(hour(8), "merge", "-q", "--no-ff", "-m", "Merge branch 'feature'", "feature")
	h.m = h.git(time.Time{}, "rev-parse", "HEAD")
	h.git(hour(9), "tag", "-a", "v1.1.0", "-m", "release 1.1.0")
	h.git(hour(10), "tag", "-a", "v1.0.1", "-m", "release 1.0.1", h.r1)
	h.c5 = h.commit(hour(11), "add exports")
	h.git(time.Time{}, "tag", "v1.2.0")
	h.git(hour(12), "tag", "-a", "alias-1.1.0", "-m", "same as 1.1.0", "v1.1.0")
	h.git(time.Time{}, "tag", "docs-tree", "HEAD^{tree}")
	h.git(time.Time{}, "switch", "-q", "--detach", "HEAD")
	h.d1 = h.commit(hour(13), "experiment on a detached HEAD")
	return h
}

// keySink is a stand-in for the store: it adds a commit only when its key
// is new, keeps the deployments of the last ReplaceDeployments as the
// current set, and records what it was sent.
type keySink struct {
	seen    map[string]bool
	events  []delivery.Event
	batches []int
	// replaced are the sizes of the ReplaceDeployments calls.
	replaced []int
	current  map[string]delivery.Deployment
	err      error
	// failAt, when not zero, is the call that fails with err.
	failAt int
	calls  int
}

func (s *keySink) Ingest(_ context.Context, events []delivery.Event) (int, error) {
	s.calls++
	if s.err != nil && (s.failAt == 0 || s.calls == s.failAt) {
		return 0, s.err
	}
	s.batches = append(s.batches, len(events))
	return s.add(events), nil
}

func (s *keySink) add(events []delivery.Event) int {
	if s.seen == nil {
		s.seen = make(map[string]bool)
	}
	added := 0
	for _, e := range events {
		if !s.seen[e.Key] {
			s.seen[e.Key] = true
			s.events = append(s.events, e)
			added++
		}
	}
	return added
}

func (s *keySink) ReplaceDeployments(_ context.Context, service string, events []delivery.Event) (Reconciled, error) {
	s.calls++
	if s.err != nil && (s.failAt == 0 || s.calls == s.failAt) {
		return Reconciled{}, s.err
	}
	s.replaced = append(s.replaced, len(events))
	s.add(events)
	var r Reconciled
	next := make(map[string]delivery.Deployment, len(events))
	for _, e := range events {
		d := *e.Deployment
		if d.Service != service {
			return r, fmt.Errorf("deployment of %s in the set of %s", d.Service, service)
		}
		next[d.ID] = d
		old, ok := s.current[d.ID]
		switch {
		case !ok:
			r.Added = append(r.Added, d.ID)
		case old.SHA != d.SHA || !old.FinishedAt.Equal(d.FinishedAt):
			r.Moved = append(r.Moved, d.ID)
		default:
			r.Unchanged++
		}
	}
	for id := range s.current {
		if _, ok := next[id]; !ok {
			r.Removed = append(r.Removed, id)
		}
	}
	slices.Sort(r.Added)
	slices.Sort(r.Moved)
	slices.Sort(r.Removed)
	s.current = next
	return r, nil
}

func (s *keySink) changes() map[string]delivery.Change {
	out := make(map[string]delivery.Change)
	for _, e := range s.events {
		if e.Change != nil {
			out[e.Change.SHA] = *e.Change
		}
	}
	return out
}

// deployments returns the current set, by tag name.
func (s *keySink) deployments() map[string]delivery.Deployment {
	return maps.Clone(s.current)
}

func releases(dir string) Options {
	return Options{Dir: dir, Service: "ledger", DeployTags: []string{"v*"}, ExcludeTags: []string{"*-rc*"}}
}

func TestImportReadsWhatGitReads(t *testing.T) {
	h := newHistory(t)
	sink := &keySink{}
	sum, err := Import(context.Background(), releases(h.dir), sink)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the summary counts commits, tags that point at commits, and matching tags", func(t *testing.T) {
		want := Summary{Commits: 9, Tags: 6, Deployments: 4, EventsAdded: 13,
			Patterns:   []PatternCount{{Pattern: "v*", Matched: 5}, {Pattern: "*-rc*", Exclude: true, Matched: 1}},
			Reconciled: Reconciled{Added: []string{"v1.0.0", "v1.0.1", "v1.1.0", "v1.2.0"}}}
		sum.Duration = 0
		if !reflect.DeepEqual(sum, want) {
			t.Errorf("summary = %+v, want %+v", sum, want)
		}
	})

	changes := sink.changes()
	t.Run("the commits are those of git rev-list --all", func(t *testing.T) {
		got := slices.Sorted(maps.Keys(changes))
		want := h.lines("rev-list", "--all")
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("commits = %v, want %v", got, want)
		}
		if !slices.Contains(got, h.d1) {
			t.Errorf("the commit on the detached HEAD %s is missing", h.d1)
		}
	})

	t.Run("the parents are those of git rev-list --parents", func(t *testing.T) {
		for _, line := range h.lines("rev-list", "--all", "--parents") {
			f := strings.Fields(line)
			if got := changes[f[0]].Parents; !slices.Equal(got, f[1:]) {
				t.Errorf("parents of %s = %v, want %v", f[0], got, f[1:])
			}
		}
		if got := changes[h.m].Parents; !slices.Equal(got, []string{h.c4, h.f1}) {
			t.Errorf("parents of the merge = %v, want [c4 f1]", got)
		}
		if got := changes[h.c1].Parents; len(got) != 0 {
			t.Errorf("parents of the root = %v, want none", got)
		}
	})

	t.Run("a change carries its author, both times and its title", func(t *testing.T) {
		want := delivery.Change{
			Repository: "ledger",
			SHA:        h.c3,
			Parents:    []string{h.c2},
			Author:     "Ada Lovelace <ada@example.com>",
			AuthorTime: hour(3).Add(-30 * time.Minute),
			CommitTime: hour(3),
			Title:      "add interest",
		}
		if got := changes[h.c3]; !reflect.DeepEqual(got, want) {
			t.Errorf("change = %+v\nwant %+v", got, want)
		}
	})

	t.Run("the deployments are the matching tags at their peeled commits and creation times", func(t *testing.T) {
		cases := []struct {
			tag string
			sha string
			at  time.Time
		}{
			{"v1.0.0", h.c2, hour(2)},
			{"v1.1.0", h.m, hour(9)},
			{"v1.0.1", h.r1, hour(10)},
			{"v1.2.0", h.c5, hour(11)}, // lightweight: the commit's committer date
		}
		deps := sink.deployments()
		if len(deps) != len(cases) {
			t.Errorf("deployments = %v, want %d", slices.Sorted(maps.Keys(deps)), len(cases))
		}
		for _, c := range cases {
			d, ok := deps[c.tag]
			if !ok {
				t.Errorf("no deployment for %s", c.tag)
				continue
			}
			if peeled := h.git(time.Time{}, "rev-parse", c.tag+"^{commit}"); d.SHA != peeled || d.SHA != c.sha {
				t.Errorf("%s: sha = %s, want %s (git: %s)", c.tag, d.SHA, c.sha, peeled)
			}
			want := delivery.Deployment{
				Service: "ledger", Environment: delivery.EnvironmentProduction, ID: c.tag,
				Status: delivery.DeploymentSuccess, StartedAt: c.at, FinishedAt: c.at, UpdatedAt: c.at,
				SHA: c.sha, Repository: "ledger",
			}
			if !reflect.DeepEqual(d, want) {
				t.Errorf("%s = %+v\nwant %+v", c.tag, d, want)
			}
		}
	})

	t.Run("every event is valid and keyed by repository and commit or tag", func(t *testing.T) {
		for _, e := range sink.events {
			if err := e.Validate(); err != nil {
				t.Errorf("%s: %v", e.Key, err)
			}
			if e.Source != "git" {
				t.Errorf("%s: source %q", e.Key, e.Source)
			}
			var want string
			switch {
			case e.Change != nil:
				want = "git:ledger:commit:" + e.Change.SHA
			case e.Deployment != nil:
				want = "git:ledger:tag:" + e.Deployment.ID
			}
			if e.Key != want {
				t.Errorf("key = %q, want %q", e.Key, want)
			}
		}
	})
}

func TestShipChangesOnImportedHistory(t *testing.T) {
	h := newHistory(t)
	sink := &keySink{}
	if _, err := Import(context.Background(), releases(h.dir), sink); err != nil {
		t.Fatal(err)
	}
	changes := sink.changes()
	parents := make(map[string][]string, len(changes))
	for sha, c := range changes {
		parents[sha] = c.Parents
	}
	var deps []delivery.Deployment
	for _, d := range sink.deployments() {
		deps = append(deps, d)
	}
	shipping := delivery.ShipChanges(parents, deps, nil)
	if len(shipping.Missing) != 0 {
		t.Errorf("missing = %v, want none", shipping.Missing)
	}

	delivery.SortByFinish(deps)
	if ids := []string{deps[0].ID, deps[1].ID, deps[2].ID, deps[3].ID}; !slices.Equal(ids, []string{"v1.0.0", "v1.1.0", "v1.0.1", "v1.2.0"}) {
		t.Fatalf("deployments by finish = %v", ids)
	}
	t.Run("each deployment ships what git rev-list <tag> --not <earlier tags> lists", func(t *testing.T) {
		for i, d := range deps {
			got := slices.Sorted(slices.Values(shipping.Changes[d.Key()]))
			var want []string
			if i == 0 {
				// docs/metrics.md: the very first deployment ships only its
				// own commit, not the history before it.
				want = []string{d.SHA}
			} else {
				args := []string{"rev-list", d.ID, "--not"}
				for _, e := range deps[:i] {
					args = append(args, e.SHA)
				}
				want = h.lines(args...)
				slices.Sort(want)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s ships %v, want %v", d.ID, got, want)
			}
		}
	})

	t.Run("lead time is the deployment's finish minus the change's commit time", func(t *testing.T) {
		shippedBy := make(map[string]delivery.Deployment)
		for _, d := range deps {
			for _, sha := range shipping.Changes[d.Key()] {
				shippedBy[sha] = d
			}
		}
		cases := []struct {
			name   string
			sha    string
			by     string
			leadTm time.Duration
		}{
			{"a commit on main waits for the next release", h.c3, "v1.1.0", 6 * time.Hour},
			{"a feature commit ships with its merge", h.f1, "v1.1.0", 4 * time.Hour},
			{"the merge commit ships at once", h.m, "v1.1.0", time.Hour},
			{"a fix on the release branch ships with the out-of-line release", h.r1, "v1.0.1", 6 * time.Hour},
			{"a lightweight tag ships its commit with no wait", h.c5, "v1.2.0", 0},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				d, ok := shippedBy[c.sha]
				if !ok {
					t.Fatalf("%s is not shipped", c.sha)
				}
				if d.ID != c.by {
					t.Errorf("shipped by %s, want %s", d.ID, c.by)
				}
				if lt := d.FinishedAt.Sub(changes[c.sha].CommitTime); lt != c.leadTm {
					t.Errorf("lead time = %s, want %s", lt, c.leadTm)
				}
			})
		}
		for _, sha := range []string{h.c1, h.d1} {
			if d, ok := shippedBy[sha]; ok {
				t.Errorf("%s is shipped by %s, want not shipped", sha, d.ID)
			}
		}
	})
}

func TestTagSelection(t *testing.T) {
	h := newHistory(t)
	cases := []struct {
		name    string
		deploy  []string
		exclude []string
		want    []string
		// folded are the matching tags of a commit an earlier tag deployed.
		folded []Fold
	}{
		{
			name: "without patterns every tag deploys its commit, once: a later tag of the same commit is folded",
			want: []string{"v1.0.0", "v1.0.1", "v1.1.0", "v1.1.0-rc1", "v1.2.0"},
			// alias-1.1.0 (h12) is a tag of v1.1.0 (h9): the same commit m.
			folded: []Fold{{Tag: "alias-1.1.0", Into: "v1.1.0"}},
		},
		{
			name:   "a pattern keeps the matching tags",
			deploy: []string{"v*"},
			want:   []string{"v1.0.0", "v1.0.1", "v1.1.0", "v1.1.0-rc1", "v1.2.0"},
		},
		{
			name:    "an exclusion drops release candidates",
			deploy:  []string{"v*"},
			exclude: []string{"*-rc*"},
			want:    []string{"v1.0.0", "v1.0.1", "v1.1.0", "v1.2.0"},
		},
		{
			name:   "several patterns are alternatives",
			deploy: []string{"v1.0.*", "alias-*"},
			want:   []string{"alias-1.1.0", "v1.0.0", "v1.0.1"},
		},
		{
			name:    "an exclusion applies without deploy patterns",
			exclude: []string{"v1.0.*", "*-rc*"},
			want:    []string{"v1.1.0", "v1.2.0"},
			folded:  []Fold{{Tag: "alias-1.1.0", Into: "v1.1.0"}},
		},
		{
			name:   "a comma-separated entry is a list of patterns",
			deploy: []string{"v1.0.*,alias-*"},
			want:   []string{"alias-1.1.0", "v1.0.0", "v1.0.1"},
		},
		{
			name:   "no matching tag gives no deployments",
			deploy: []string{"release/*"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink := &keySink{}
			opts := Options{Dir: h.dir, Service: "ledger", DeployTags: c.deploy, ExcludeTags: c.exclude}
			sum, err := Import(context.Background(), opts, sink)
			if err != nil {
				t.Fatal(err)
			}
			deps := sink.deployments()
			if got := slices.Sorted(maps.Keys(deps)); !slices.Equal(got, c.want) {
				t.Errorf("deployments = %v, want %v", got, c.want)
			}
			if sum.Tags != 6 || sum.Deployments != len(c.want) || sum.Commits != 9 {
				t.Errorf("summary = %+v", sum)
			}
			if !slices.Equal(sum.Folded, c.folded) {
				t.Errorf("folded = %v, want %v", sum.Folded, c.folded)
			}
			if d, ok := deps["alias-1.1.0"]; ok && (d.SHA != h.m || !d.FinishedAt.Equal(hour(12))) {
				t.Errorf("alias-1.1.0 = %s at %s, want %s at %s", d.SHA, d.FinishedAt, h.m, hour(12))
			}
		})
	}
}

func TestImportAgainAddsOnlyWhatIsNew(t *testing.T) {
	h := newHistory(t)
	sink := &keySink{}
	opts := releases(h.dir)
	steps := []struct {
		name   string
		before func()
		want   int
	}{
		{"the first import adds every commit and release", nil, 13},
		{"a second import adds nothing", nil, 0},
		{"after one commit and one tag it adds two events", func() {
			h.git(time.Time{}, "switch", "-q", "main")
			h.commit(hour(20), "add audit log")
			h.git(hour(21), "tag", "-a", "v1.3.0", "-m", "release 1.3.0")
		}, 2},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.before != nil {
				s.before()
			}
			sum, err := Import(context.Background(), opts, sink)
			if err != nil {
				t.Fatal(err)
			}
			if sum.EventsAdded != s.want {
				t.Errorf("added %d events, want %d", sum.EventsAdded, s.want)
			}
		})
	}
}

func TestImportEmptyRepository(t *testing.T) {
	r := newRepo(t)
	sink := &keySink{}
	sum, err := Import(context.Background(), Options{Dir: r.dir, Service: "ledger"}, sink)
	if err != nil {
		t.Fatal(err)
	}
	sum.Duration = 0
	if !reflect.DeepEqual(sum, Summary{}) {
		t.Errorf("summary = %+v, want zero", sum)
	}
	if len(sink.batches) != 0 {
		t.Errorf("sink called with %v, want no calls", sink.batches)
	}
	// No tags is a complete set too: a sink holding deployments of an
	// earlier import removes them.
	if !slices.Equal(sink.replaced, []int{0}) {
		t.Errorf("ReplaceDeployments called with %v, want once with none", sink.replaced)
	}
}

func TestBatchesSendCommitsThenTags(t *testing.T) {
	h := newHistory(t)
	sink := &keySink{}
	opts := releases(h.dir)
	opts.BatchSize = 4
	if _, err := Import(context.Background(), opts, sink); err != nil {
		t.Fatal(err)
	}
	// 9 commits in batches of 4, the last one short, then 4 tags.
	if want := []int{4, 4, 1}; !slices.Equal(sink.batches, want) {
		t.Errorf("batches = %v, want %v", sink.batches, want)
	}
	if want := []int{4}; !slices.Equal(sink.replaced, want) {
		t.Errorf("deployment sets = %v, want %v", sink.replaced, want)
	}
	for i, e := range sink.events {
		if want := i < 9; (e.Change != nil) != want {
			t.Errorf("event %d is %s, want commits first", i, e.Kind)
		}
	}
}

func TestImportInvalidUTF8(t *testing.T) {
	// git commit would repair the title itself (reading it as Latin-1),
	// so the commit is written raw, as an old or foreign tool may have.
	r := newRepo(t)
	tree := r.stdin("", "mktree")
	raw := fmt.Sprintf("tree %s\nauthor A <a@example.com> %d +0000\ncommitter A <a@example.com> %d +0000\n\ncaf\xe9 latin-1 title\n",
		tree, hour(0).Unix(), hour(0).Unix())
	sha := r.stdin(raw, "hash-object", "-t", "commit", "-w", "--stdin")
	r.git(time.Time{}, "update-ref", "refs/heads/main", sha)
	sink := &keySink{}
	if _, err := Import(context.Background(), Options{Dir: r.dir, Service: "ledger"}, sink); err != nil {
		t.Fatal(err)
	}
	if got, want := sink.changes()[sha].Title, "caf\uFFFD latin-1 title"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
}

func TestImportErrors(t *testing.T) {
	h := newHistory(t)
	errSink := errors.New("store is read-only")
	cases := []struct {
		name    string
		opts    Options
		sinkErr error
		want    string
	}{
		{"a directory that is not a repository", Options{Dir: t.TempDir(), Service: "ledger"}, nil, "not a git repository"},
		{"a directory that does not exist", Options{Dir: h.dir + "/nope", Service: "ledger"}, nil, "nope"},
		{"no directory", Options{Service: "ledger"}, nil, "directory is required"},
		{"no service", Options{Dir: h.dir}, nil, "service is required"},
		{"a malformed deploy pattern", Options{Dir: h.dir, Service: "ledger", DeployTags: []string{"v["}}, nil, `"v["`},
		{"a malformed exclude pattern", Options{Dir: h.dir, Service: "ledger", ExcludeTags: []string{"[-"}}, nil, `"[-"`},
		{"a failing sink", Options{Dir: h.dir, Service: "ledger"}, errSink, "store is read-only"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Import(context.Background(), c.opts, &keySink{err: c.sinkErr})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
			if c.sinkErr != nil && !errors.Is(err, c.sinkErr) {
				t.Errorf("err = %v does not wrap the sink's error", err)
			}
		})
	}
}

func TestSinkFailingMidwayStopsTheImport(t *testing.T) {
	h := newHistory(t)
	errSink := errors.New("disk full")
	sink := &keySink{err: errSink, failAt: 2}
	opts := releases(h.dir)
	opts.BatchSize = 2
	sum, err := Import(context.Background(), opts, sink)
	if !errors.Is(err, errSink) {
		t.Fatalf("err = %v, want the sink's error", err)
	}
	if sink.calls != 2 {
		t.Errorf("the sink was called %d times, want no call after the failing second", sink.calls)
	}
	if sum.EventsAdded != 2 {
		t.Errorf("added = %d, want the 2 of the first batch", sum.EventsAdded)
	}
}

func TestImportCancelled(t *testing.T) {
	h := newHistory(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Import(ctx, releases(h.dir), &keySink{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestProgress(t *testing.T) {
	h := newHistory(t)
	var buf bytes.Buffer
	opts := releases(h.dir)
	opts.Progress = &buf
	if _, err := Import(context.Background(), opts, &keySink{}); err != nil {
		t.Fatal(err)
	}
	// Progress to a log writes a line every ten thousand commits and no
	// summary of its own: the summary is printed once, by the caller.
	if out := buf.String(); out != "" {
		t.Errorf("progress = %q, want nothing for 9 commits", out)
	}
}

func TestSummaryText(t *testing.T) {
	h := newHistory(t)
	opts := releases(h.dir)
	sink := &keySink{}
	sum, err := Import(context.Background(), opts, sink)
	if err != nil {
		t.Fatal(err)
	}
	sum.Duration = 12 * time.Millisecond
	var buf bytes.Buffer
	if err := sum.WriteText(&buf, "ledger"); err != nil {
		t.Fatal(err)
	}
	want := `imported ledger: 9 commits, 4 deployments from 6 tags, 13 new events in 12ms
  tags: 'v*' took 5 and left 1; '*-rc*' left out 1 of them
  deployments: 4 added (v1.0.0, v1.0.1, v1.1.0, v1.2.0), 0 moved, 0 removed, 0 unchanged
`
	if got := buf.String(); got != want {
		t.Errorf("summary:\n%s\nwant:\n%s", got, want)
	}

	// Every deploy pattern and one more tag folded, moved and removed.
	h.git(hour(12), "tag", "-f", "-a", "v1.2.0", "-m", "moved", h.c4)
	h.git(time.Time{}, "tag", "-d", "v1.0.1")
	opts.DeployTags = []string{"v*", "alias-*"}
	sum, err = Import(context.Background(), opts, sink)
	if err != nil {
		t.Fatal(err)
	}
	sum.Duration = 3 * time.Millisecond
	buf.Reset()
	if err := sum.WriteText(&buf, "ledger"); err != nil {
		t.Fatal(err)
	}
	// v1.2.0 now an annotated tag of c4 at h12; c4 also carries the
	// excluded v1.1.0-rc1, which deploys nothing. alias-1.1.0 (h12) is
	// on m, which v1.1.0 (h9) deployed.
	want = `imported ledger: 9 commits, 3 deployments from 5 tags, 0 new events in 3ms
  tags: 'v*' took 4 and left 1; 'alias-*' took 1 and left 4; '*-rc*' left out 1 of them
  folded: 1 tag on a commit an earlier tag deployed: alias-1.1.0 (into v1.1.0)
  deployments: 0 added, 1 moved (v1.2.0), 1 removed (v1.0.1), 2 unchanged
`
	if got := buf.String(); got != want {
		t.Errorf("summary:\n%s\nwant:\n%s", got, want)
	}
}

func TestProgressLines(t *testing.T) {
	cases := []struct {
		name    string
		tty     bool
		commits int
		want    string
	}{
		{"a log gets a line every ten thousand commits", false, 25000,
			"10000 commits read, 2 tags, 0 events sent, 0 added\n20000 commits read, 2 tags, 0 events sent, 0 added\n"},
		{"a terminal redraws one line every thousand commits", true, 2500,
			"\r1000 commits read, 2 tags, 0 events sent, 0 added\r2000 commits read, 2 tags, 0 events sent, 0 added"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := newProgress(&buf)
			if c.tty {
				p.tty, p.every = true, terminalEvery
			}
			p.tags(2)
			for n := 1; n <= c.commits; n++ {
				p.commits(n)
			}
			if got := buf.String(); got != c.want {
				t.Errorf("progress = %q, want %q", got, c.want)
			}
		})
	}
}

func TestImportLeavesOutNotesStashAndPullRequests(t *testing.T) {
	r := newRepo(t)
	if err := os.WriteFile(r.dir+"/a.txt", []byte("one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.git(time.Time{}, "add", "a.txt")
	sha := r.commit(hour(0), "add a")
	r.git(hour(1), "notes", "add", "-m", "reviewed", sha)
	if err := os.WriteFile(r.dir+"/a.txt", []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.git(hour(2), "stash", "push", "-q")
	r.git(time.Time{}, "switch", "-q", "-c", "pr")
	pr := r.commit(hour(3), "an unmerged pull request")
	r.git(time.Time{}, "update-ref", "refs/pull/1/head", pr)
	r.git(time.Time{}, "switch", "-q", "main")
	r.git(time.Time{}, "branch", "-q", "-D", "pr")
	if all := r.lines("rev-list", "--all"); len(all) < 4 {
		t.Fatalf("rev-list --all = %v, want the note, stash and pull request commits too", all)
	}
	sink := &keySink{}
	if _, err := Import(context.Background(), Options{Dir: r.dir, Service: "ledger"}, sink); err != nil {
		t.Fatal(err)
	}
	if got := slices.Collect(maps.Keys(sink.changes())); !slices.Equal(got, []string{sha}) {
		t.Errorf("commits = %v, want only %s", got, sha)
	}
}

func TestImportWithPathsReadsTheTouchedFiles(t *testing.T) {
	r := newRepo(t)
	write := func(name, content string) {
		t.Helper()
		full := r.dir + "/" + name
		if err := os.MkdirAll(full[:strings.LastIndex(full, "/")], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		r.git(time.Time{}, "add", "-A")
	}
	write("api/main.go", "1")
	first := r.commit(hour(0), "first")
	write("web/index.html", "1")
	write("api/main.go", "2")
	// Names that would break a line- or space-separated format.
	write("docs/a name\nwith a newline.md", "1")
	both := r.commit(hour(1), "second")
	r.git(time.Time{}, "mv", "api/main.go", "web/main.go")
	moved := r.commit(hour(2), "move")
	empty := r.commit(hour(3), "nothing")
	r.git(time.Time{}, "checkout", "-q", "-b", "topic", first)
	write("topic/notes.md", "1")
	topic := r.commit(hour(4), "topic")
	r.git(time.Time{}, "checkout", "-q", "main")
	r.git(hour(5), "merge", "-q", "--no-ff", "-m", "merge", "topic")
	merge := r.git(time.Time{}, "rev-parse", "HEAD")

	want := map[string][]string{
		first: {"api/main.go"},
		both:  {"api/main.go", "docs/a name\nwith a newline.md", "web/index.html"},
		moved: {"api/main.go", "web/main.go"},
		empty: {},
		topic: {"topic/notes.md"},
		merge: {},
	}
	sink := &keySink{}
	if _, err := Import(context.Background(), Options{Dir: r.dir, Service: "mono", Paths: true}, sink); err != nil {
		t.Fatal(err)
	}
	got := sink.changes()
	for sha, paths := range want {
		c, ok := got[sha]
		if !ok || c.Paths == nil || !slices.Equal(c.Paths, paths) {
			t.Errorf("%s: paths %q, want %q", sha[:7], c.Paths, paths)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d changes, want %d", len(got), len(want))
	}

	// Without --paths the paths stay unknown, and the keys differ, so a
	// later import with --paths adds them to the stored changes.
	plain := &keySink{}
	if _, err := Import(context.Background(), Options{Dir: r.dir, Service: "mono"}, plain); err != nil {
		t.Fatal(err)
	}
	for sha, c := range plain.changes() {
		if c.Paths != nil {
			t.Errorf("%s: paths %q without --paths", sha[:7], c.Paths)
		}
	}
	for k := range plain.seen {
		if sink.seen[k] && strings.Contains(k, ":commit:") {
			t.Errorf("key %s is shared by the imports with and without paths", k)
		}
	}
}

// TestTagPatternsMatchAsGitTagList compares delivery.MatchTag with what
// `git tag -l` lists, on tag names shaped like those of real monorepos.
func TestTagPatternsMatchAsGitTagList(t *testing.T) {
	r := newRepo(t)
	r.commit(hour(0), "one")
	tags := []string{"v1.0.0", "v1.15.0-rc.1", "sdk/v1.15.0-rc.1", "sdk/v1.15.0", "etcdctl/v3.6.0-rc.0",
		"v3.1.0", "v0.301.0", "release/2026/03", "api/v2.0.0", "x]y", "café", "V9", "9.0", "a-b_c"}
	for _, tag := range tags {
		r.git(time.Time{}, "tag", tag)
	}
	patterns := []string{"*", "v*", "*-rc*", "*rc*", "sdk/*", "*/v*", "*/*/*", "v?.*", "v??.*", "[vV]*", "[!v]*", "[^v]*",
		"[0-9]*", "*[[:digit:]]", "[[:upper:]]*", "*[]]*", "x[]]y", "caf?", "caf??", "*.[0-9]", "v[0-9].[0-9]*.0",
		"**", "*v*.*.0", "a[-_]b[-_]c", "a[!-]*", "v1.1[5-9]*", "[a-c]*", "*\\-rc*", "release/*/0[1-3]",
		"v[", "[[:nope:]]*", "[[:alpha]*"}
	for _, p := range patterns {
		want := r.lines("tag", "-l", p)
		var got []string
		for _, tag := range tags {
			if delivery.MatchTag(p, tag) {
				got = append(got, tag)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("pattern %q: MatchTag takes %q, git tag -l lists %q", p, got, want)
		}
	}
}

func TestTwoTagsOfOneCommitAreOneDeployment(t *testing.T) {
	r := newRepo(t)
	c1 := r.commit(hour(0), "one")
	r.git(hour(1), "tag", "-a", "v3.0.0", "-m", "3.0.0")
	c2 := r.commit(hour(2), "two")
	// prometheus tags a release twice: the release and its Go module.
	r.git(hour(3), "tag", "-a", "v3.1.0", "-m", "3.1.0")
	r.git(hour(4), "tag", "-a", "v0.301.0", "-m", "the module of 3.1.0")
	c3 := r.commit(hour(5), "three")
	// Two lightweight tags of one commit have the same time: the name
	// decides, v0.302.0 < v3.2.0.
	r.git(time.Time{}, "tag", "v3.2.0")
	r.git(time.Time{}, "tag", "v0.302.0")

	sink := &keySink{}
	sum, err := Import(context.Background(), Options{Dir: r.dir, Service: "prom", DeployTags: []string{"v*"}}, sink)
	if err != nil {
		t.Fatal(err)
	}
	wantFolded := []Fold{{Tag: "v0.301.0", Into: "v3.1.0"}, {Tag: "v3.2.0", Into: "v0.302.0"}}
	if !slices.Equal(sum.Folded, wantFolded) {
		t.Errorf("folded = %v, want %v", sum.Folded, wantFolded)
	}
	want := map[string]string{"v3.0.0": c1, "v3.1.0": c2, "v0.302.0": c3}
	got := map[string]string{}
	for id, d := range sink.deployments() {
		got[id] = d.SHA
	}
	if !maps.Equal(got, want) {
		t.Errorf("deployments = %v, want %v", got, want)
	}
	if sum.Deployments != 3 || sum.Tags != 5 {
		t.Errorf("summary = %+v, want 3 deployments of 5 tags", sum)
	}
	// Leaving out the earlier tag makes the later one the deployment.
	sum, err = Import(context.Background(), Options{Dir: r.dir, Service: "prom", DeployTags: []string{"v*"}, ExcludeTags: []string{"v3.1.0"}}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if d := sink.deployments()["v0.301.0"]; d.SHA != c2 || !d.FinishedAt.Equal(hour(4)) {
		t.Errorf("v0.301.0 = %s at %s, want %s at %s", d.SHA, d.FinishedAt, c2, hour(4))
	}
	if !slices.Equal(sum.Reconciled.Added, []string{"v0.301.0"}) || !slices.Equal(sum.Reconciled.Removed, []string{"v3.1.0"}) {
		t.Errorf("reconciled = %+v, want v0.301.0 added and v3.1.0 removed", sum.Reconciled)
	}
}

func TestExcludeCrossesSlashes(t *testing.T) {
	r := newRepo(t)
	r.commit(hour(0), "one")
	r.git(hour(1), "tag", "-a", "sdk/v1.15.0-rc.1", "-m", "rc")
	r.commit(hour(2), "two")
	r.git(hour(3), "tag", "-a", "sdk/v1.15.0", "-m", "final")
	r.commit(hour(4), "three")
	r.git(hour(5), "tag", "-a", "v1.16.0-rc.0", "-m", "rc")
	sink := &keySink{}
	opts := Options{Dir: r.dir, Service: "sdk", DeployTags: []string{"sdk/*,v*"}, ExcludeTags: []string{"*-rc*"}}
	sum, err := Import(context.Background(), opts, sink)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(sink.deployments())); !slices.Equal(got, []string{"sdk/v1.15.0"}) {
		t.Errorf("deployments = %v, want only sdk/v1.15.0", got)
	}
	want := []PatternCount{{Pattern: "sdk/*", Matched: 2}, {Pattern: "v*", Matched: 1}, {Pattern: "*-rc*", Exclude: true, Matched: 2}}
	if !slices.Equal(sum.Patterns, want) {
		t.Errorf("patterns = %+v, want %+v", sum.Patterns, want)
	}
}

func TestServicePathsAreReadWithoutThePathsOption(t *testing.T) {
	r := newRepo(t)
	write := func(name string) {
		t.Helper()
		full := r.dir + "/" + name
		if err := os.MkdirAll(full[:strings.LastIndex(full, "/")], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		r.git(time.Time{}, "add", "-A")
	}
	write("api/types.proto")
	api := r.commit(hour(0), "api")
	write("cmd/main.go")
	cmd := r.commit(hour(1), "cmd")
	sink := &keySink{}
	sum, err := Import(context.Background(), Options{Dir: r.dir, Service: "api", ServicePaths: []string{"api/"}}, sink)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.PathsRead {
		t.Error("the summary does not say the files were read")
	}
	got := sink.changes()
	if p := got[api].Paths; !slices.Equal(p, []string{"api/types.proto"}) {
		t.Errorf("paths of the api commit = %q", p)
	}
	if p := got[cmd].Paths; !slices.Equal(p, []string{"cmd/main.go"}) {
		t.Errorf("paths of the cmd commit = %q", p)
	}
}

func TestSummaryTextNamesEveryReason(t *testing.T) {
	sum := Summary{Commits: 40, Tags: 12, Deployments: 7, EventsAdded: 3, PathsRead: true, Duration: 1500 * time.Millisecond,
		Patterns: []PatternCount{{Pattern: "v*", Matched: 11}, {Pattern: "*-rc*", Exclude: true, Matched: 2}},
		Folded:   []Fold{{Tag: "v0.301.0", Into: "v3.1.0"}},
		Undated:  []string{"v0.1.0"},
		Reconciled: Reconciled{Added: []string{"v3.0.0", "v3.1.0"}, Moved: []string{"v2.9.0"},
			Removed: []string{"v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0", "v1.4.0", "v1.5.0", "v1.6.0"}, Kept: []string{"v0.9.0"}, Unchanged: 4}}
	var buf bytes.Buffer
	if err := sum.WriteText(&buf, "prom"); err != nil {
		t.Fatal(err)
	}
	want := `imported prom: 40 commits, 7 deployments from 12 tags, 3 new events in 1.5s
  tags: 'v*' took 11 and left 1; '*-rc*' left out 2 of them
  folded: 1 tag on a commit an earlier tag deployed: v0.301.0 (into v3.1.0)
  undated: 1 tag without a date git can read, left out: v0.1.0
  deployments: 2 added (v3.0.0, v3.1.0), 1 moved (v2.9.0), 7 removed (v1.0.0, v1.1.0, v1.2.0, v1.3.0, v1.4.0 and 2 more), 4 unchanged
  kept: 1 deployment no tag deploys any more, kept because another source reported it too: v0.9.0
  files: read for every commit, so that a service with paths counts only the changes under them
`
	if got := buf.String(); got != want {
		t.Errorf("summary:\n%s\nwant:\n%s", got, want)
	}
}
