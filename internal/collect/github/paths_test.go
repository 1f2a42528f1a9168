package github

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
	ghingest "github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// recorder keeps what the collector writes, and writes it.
type recorder struct {
	Writer
	mu      sync.Mutex
	changes map[string]delivery.Event // by repository and sha, the last written
}

func (r *recorder) Events(ctx context.Context, source string, events []delivery.Event) (intake.Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range events {
		if e.Kind == delivery.KindChange {
			r.changes[e.Change.Repository+" "+e.Change.SHA] = e
		}
	}
	return r.Writer.Events(ctx, source, events)
}

// monoMapping has the monorepo acme/mono split by path between api and
// web, and acme/plain whole.
func monoMapping() delivery.Mapping {
	return delivery.Mapping{Services: []delivery.ServiceMapping{
		{Name: "api", Repositories: []string{"acme/mono"}, Paths: []string{"api/"}},
		{Name: "web", Repositories: []string{"acme/mono"}, Paths: []string{"web/"}},
		{Name: "plain", Repositories: []string{"acme/plain"}},
	}}
}

var monoCommits = []histCommit{
	{sha: "1000000000000000000000000000000000000001", msg: "api: add the handler", login: "alice", at: at(0)},
	{sha: "2000000000000000000000000000000000000002", msg: "web: style, and move the doc", login: "bob",
		parents: []string{"1000000000000000000000000000000000000001"}, at: at(10)},
	{sha: "3000000000000000000000000000000000000003", msg: "Merge branch 'x'", login: "bob",
		parents: []string{"2000000000000000000000000000000000000002", "1000000000000000000000000000000000000001"}, at: at(20)},
}

// monoFiles are the commits' files as GET /commits/{sha} lists them, and
// as a push lists them (added, modified, removed; a rename is the new name
// added and the old removed).
var (
	monoFiles = map[string][]any{
		monoCommits[0].sha: {map[string]any{"filename": "api/handler.go", "status": "added"}},
		monoCommits[1].sha: {map[string]any{"filename": "web/app.css", "status": "modified"},
			map[string]any{"filename": "api/doc.md", "status": "renamed", "previous_filename": "docs/old.md"}},
	}
	monoPushed = map[string][3][]string{
		monoCommits[0].sha: {{"api/handler.go"}, {}, {}},
		monoCommits[1].sha: {{"api/doc.md"}, {"web/app.css"}, {"docs/old.md"}},
	}
)

func TestCommitsCarryTheirPathsWhereServicesOwnPaths(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		fake, srv := newFakeGitHub(t)
		var list []map[string]any
		for i := len(monoCommits) - 1; i >= 0; i-- {
			list = append(list, restCommit(monoCommits[i]))
		}
		fake.repos["acme/mono"] = &fakeRepo{defaultBranch: "main", branches: map[string][]map[string]any{"main": list}, files: monoFiles}
		fake.repos["acme/plain"] = &fakeRepo{defaultBranch: "main", branches: map[string][]map[string]any{"main": {restCommit(monoCommits[0])}}, files: monoFiles}
		hook := ghingest.Config{Mapping: monoMapping()}
		rec := &recorder{Writer: intake.New(db, nil), changes: map[string]delivery.Event{}}
		run := func() {
			t.Helper()
			c := New(Config{APIURL: srv.URL, Repos: []string{"acme/mono", "acme/plain"}, Webhook: hook, Logger: discard},
				testClient(&fakeClock{now: h0}, 2), rec, db)
			sum, err := c.Run(ctx)
			if err != nil || len(sum.Failed()) > 0 {
				t.Fatalf("collect: %v, %+v", err, sum.Failed())
			}
		}
		asked := func(repo, sha string) int {
			_, by := fake.count()
			return by["GET /repos/"+repo+"/commits/"+sha]
		}
		run()

		// The push of the same commits gives the same files.
		var pushed []any
		for _, c := range monoCommits[:2] {
			p := pushCommit(c)
			f := monoPushed[c.sha]
			p["added"], p["modified"], p["removed"] = f[0], f[1], f[2]
			pushed = append(pushed, p)
		}
		body, _ := json.Marshal(map[string]any{"ref": "refs/heads/main", "before": strings.Repeat("0", 40), "after": monoCommits[1].sha,
			"commits": pushed, "repository": map[string]any{"full_name": "acme/mono", "default_branch": "main"}})
		h := http.Header{}
		h.Set(ghingest.HeaderEvent, "push")
		events, err := ghingest.New(hook).Translate(h, body)
		if err != nil || len(events) != 2 {
			t.Fatalf("push: %v, %v", events, err)
		}
		for _, e := range events {
			got := slices.Sorted(slices.Values(rec.changes["acme/mono "+e.Change.SHA].Change.Paths))
			if !reflect.DeepEqual(got, e.Change.Paths) || asked("acme/mono", e.Change.SHA) != 1 {
				t.Errorf("commit %s: collected paths %v (asked %d times), the push's %v; want the same, asked once",
					e.Change.SHA[:1], got, asked("acme/mono", e.Change.SHA), e.Change.Paths)
			}
			if !strings.HasSuffix(rec.changes["acme/mono "+e.Change.SHA].Key, ":paths") {
				t.Errorf("commit %s: key %s, want the key of a change with paths", e.Change.SHA[:1], rec.changes["acme/mono "+e.Change.SHA].Key)
			}
		}
		// The merge touches nothing of its own and costs no request.
		merge := rec.changes["acme/mono "+monoCommits[2].sha]
		if merge.Change == nil || merge.Change.Paths == nil || len(merge.Change.Paths) != 0 || asked("acme/mono", monoCommits[2].sha) != 0 {
			t.Errorf("merge: %+v, asked %d times; want no paths of its own, not asked", merge.Change, asked("acme/mono", monoCommits[2].sha))
		}
		// A repository no service splits by path is not asked for files.
		if n := asked("acme/plain", monoCommits[0].sha); n != 0 {
			t.Errorf("acme/plain: asked %d times for a commit's files, want none", n)
		}
		known, err := db.ChangesWithPaths(ctx, "acme/mono", []string{monoCommits[0].sha, monoCommits[1].sha, monoCommits[2].sha})
		if err != nil || len(known) != 3 {
			t.Errorf("stored with paths: %v, %v; want all three", known, err)
		}

		// A new commit: the sweep lists the old ones again (its overlap),
		// and only the new one's files are asked for.
		next := histCommit{sha: "4000000000000000000000000000000000000004", msg: "api: more", login: "alice",
			parents: []string{monoCommits[2].sha}, at: at(30)}
		fake.mu.Lock()
		r := fake.repos["acme/mono"]
		r.branches["main"] = append([]map[string]any{restCommit(next)}, r.branches["main"]...)
		r.files[next.sha] = []any{map[string]any{"filename": "api/more.go", "status": "added"}}
		fake.mu.Unlock()
		run()
		if asked("acme/mono", next.sha) != 1 || asked("acme/mono", monoCommits[0].sha) != 1 || asked("acme/mono", monoCommits[1].sha) != 1 {
			t.Errorf("second run: asked %d, %d, %d times for the files of the new, first and second commits; want 1, 1, 1",
				asked("acme/mono", next.sha), asked("acme/mono", monoCommits[0].sha), asked("acme/mono", monoCommits[1].sha))
		}
		if got := rec.changes["acme/mono "+next.sha].Change.Paths; !reflect.DeepEqual(got, []string{"api/more.go"}) {
			t.Errorf("new commit: paths %v, want [api/more.go]", got)
		}
	})
}
