package gitlab

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
	glingest "github.com/stride-oss/stride/internal/ingest/gitlab"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// recorder keeps the changes the collector writes, and writes them.
type recorder struct {
	Writer
	mu      sync.Mutex
	changes map[string]delivery.Event // by project and sha, the last written
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

// monoMapping splits acme/mono by path between api and web; acme/plain is
// one service whole.
func monoMapping() delivery.Mapping {
	return delivery.Mapping{Services: []delivery.ServiceMapping{
		{Name: "api", Repositories: []string{"acme/mono"}, Paths: []string{"api/"}},
		{Name: "web", Repositories: []string{"acme/mono"}, Paths: []string{"web/"}},
		{Name: "plain", Repositories: []string{"acme/plain"}},
	}}
}

var monoCommits = []histCommit{
	{sha: "1000000000000000000000000000000000000001", title: "api: add the handler", who: "alice", at: at(0)},
	{sha: "2000000000000000000000000000000000000002", title: "web: style, and move the doc", who: "bob",
		parents: []string{"1000000000000000000000000000000000000001"}, at: at(10)},
	{sha: "3000000000000000000000000000000000000003", title: "Merge branch 'x'", who: "bob",
		parents: []string{"2000000000000000000000000000000000000002", "1000000000000000000000000000000000000001"}, at: at(20)},
}

func diff(old, new string, created, renamed, deleted bool) map[string]any {
	return map[string]any{"old_path": old, "new_path": new, "new_file": created, "renamed_file": renamed, "deleted_file": deleted,
		"a_mode": "100644", "b_mode": "100644", "diff": "@@ -1 +1 @@\n"}
}

// The commits' files as the diff endpoint lists them and as a push lists
// them (added, modified, removed: a rename is the new name added and the
// old removed).
var (
	monoDiffs = map[string][]map[string]any{
		monoCommits[0].sha: {diff("api/handler.go", "api/handler.go", true, false, false)},
		monoCommits[1].sha: {diff("web/app.css", "web/app.css", false, false, false), diff("docs/old.md", "api/doc.md", false, true, false)},
	}
	monoPushed = map[string][3][]string{
		monoCommits[0].sha: {{"api/handler.go"}, {}, {}},
		monoCommits[1].sha: {{"api/doc.md"}, {"web/app.css"}, {"docs/old.md"}},
	}
)

func TestCommitsCarryTheirPathsWhereServicesOwnPaths(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		fake := newFake()
		var list []map[string]any
		for i := len(monoCommits) - 1; i >= 0; i-- {
			list = append(list, apiCommitOf(monoCommits[i]))
		}
		fake.projects["acme/mono"] = &fakeProject{defaultBranch: "main", commits: map[string][]map[string]any{"main": list}, diffs: monoDiffs}
		fake.projects["acme/plain"] = &fakeProject{defaultBranch: "main", commits: map[string][]map[string]any{"main": {apiCommitOf(monoCommits[0])}}, diffs: monoDiffs}
		srv := serve(t, fake)
		hook := glingest.Config{Mapping: monoMapping()}
		rec := &recorder{Writer: intake.New(db, nil), changes: map[string]delivery.Event{}}
		run := func() {
			t.Helper()
			res, err := New(Config{APIURL: srv.URL, Projects: []string{"acme/mono", "acme/plain"}, Webhook: hook, Logger: discard}, testClient(), rec, db).Run(ctx)
			if err != nil || res[0].Err != nil || res[1].Err != nil {
				t.Fatalf("collect: %+v, %v", res, err)
			}
		}
		asked := func(project, sha string) int { return fake.count(project, "repository/commits/"+sha+"/diff") }
		run()

		// The push of the same commits gives the same files.
		var pushed []any
		for _, c := range monoCommits[:2] {
			f := monoPushed[c.sha]
			pushed = append(pushed, map[string]any{"id": c.sha, "message": c.title, "title": c.title, "timestamp": c.at,
				"author": map[string]any{"name": c.who, "email": c.who + "@example.com"}, "added": f[0], "modified": f[1], "removed": f[2]})
		}
		body, _ := json.Marshal(map[string]any{"object_kind": "push", "ref": "refs/heads/main", "before": zeroSHA, "after": monoCommits[1].sha,
			"commits": pushed, "project": map[string]any{"path_with_namespace": "acme/mono", "default_branch": "main"}})
		events, err := glingest.New(hook).Translate(http.Header{}, body)
		if err != nil || len(events) != 2 {
			t.Fatalf("push: %v, %v", events, err)
		}
		for _, e := range events {
			got := rec.changes["acme/mono "+e.Change.SHA]
			if got.Change == nil {
				t.Fatalf("commit %s not collected", e.Change.SHA[:1])
			}
			paths := append([]string(nil), got.Change.Paths...)
			if err := got.Validate(); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Change.Paths, e.Change.Paths) || asked("acme/mono", e.Change.SHA) != 1 || !strings.HasSuffix(got.Key, ":paths") {
				t.Errorf("commit %s: collected paths %v under %s (asked %d times), the push's %v; want the same, with paths' key, asked once",
					e.Change.SHA[:1], paths, got.Key, asked("acme/mono", e.Change.SHA), e.Change.Paths)
			}
		}
		// The merge touches nothing of its own and costs no request.
		merge := rec.changes["acme/mono "+monoCommits[2].sha]
		if merge.Change == nil || merge.Change.Paths == nil || len(merge.Change.Paths) != 0 || asked("acme/mono", monoCommits[2].sha) != 0 {
			t.Errorf("merge: %+v, asked %d times; want no paths of its own, not asked", merge.Change, asked("acme/mono", monoCommits[2].sha))
		}
		// A project no service splits by path is not asked for files.
		if n := asked("acme/plain", monoCommits[0].sha); n != 0 || rec.changes["acme/plain "+monoCommits[0].sha].Change.Paths != nil {
			t.Errorf("acme/plain: asked %d times for a commit's files, want none and no paths", n)
		}
		known, err := db.ChangesWithPaths(ctx, "acme/mono", []string{monoCommits[0].sha, monoCommits[1].sha, monoCommits[2].sha})
		if err != nil || len(known) != 3 {
			t.Errorf("stored with paths: %v, %v; want all three", known, err)
		}

		// A new commit: the sweep lists the old ones again (its overlap),
		// and only the new one's files are asked for.
		next := histCommit{sha: "4000000000000000000000000000000000000004", title: "api: more", who: "alice", parents: []string{monoCommits[2].sha}, at: at(30)}
		fake.mu.Lock()
		p := fake.projects["acme/mono"]
		p.commits["main"] = append([]map[string]any{apiCommitOf(next)}, p.commits["main"]...)
		p.diffs[next.sha] = []map[string]any{diff("api/more.go", "api/more.go", true, false, false)}
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
