package git

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
)

// The benchmark repository: a history of this many commits, with a merge of
// a one-commit topic branch every mergeEvery commits and this many annotated
// release tags spread evenly over main.
const (
	benchCommits = 20000
	benchTags    = 500
	mergeEvery   = 50
)

// benchRepos are the two states of the benchmark repository: as git
// fast-import leaves it (one pack, no commit-graph), and after git gc, which
// a real repository has usually been through; its commit-graph lets
// `git log --format=%H` walk without reading a single commit object.
var benchRepos = []struct {
	name string
	gc   bool
}{{"fast-import", false}, {"gc", true}}

// benchRepo returns a bare repository generated with git fast-import, cached
// under the temporary directory keyed by its size, so only the first run of
// the benchmarks pays for building it.
func benchRepo(b *testing.B, gc bool) string {
	b.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git is not installed")
	}
	state := "fast-import"
	if gc {
		state = "gc"
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("stride-bench-git-%d-%d-%s-v3", benchCommits, benchTags, state))
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err == nil {
		return dir
	}
	tmp, err := os.MkdirTemp(os.TempDir(), "stride-bench-git-*.tmp")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if out, err := exec.Command("git", "init", "-q", "--bare", "-b", "main", tmp).CombinedOutput(); err != nil {
		b.Fatalf("git init: %v\n%s", err, out)
	}
	cmd := exec.Command("git", "-C", tmp, "fast-import", "--quiet")
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	werr := writeHistory(in, benchCommits, benchTags)
	in.Close()
	if err := cmd.Wait(); err != nil || werr != nil {
		b.Fatalf("git fast-import: %v %v", err, werr)
	}
	if gc {
		if out, err := exec.Command("git", "-C", tmp, "gc", "--quiet").CombinedOutput(); err != nil {
			b.Fatalf("git gc: %v\n%s", err, out)
		}
	}
	// Another run may have built it meanwhile; either copy will do.
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "HEAD")); statErr != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// writeHistory writes a fast-import stream of n commits and tags annotated
// tags: main is a line of commits, one file changed by each; every
// mergeEvery-th commit merges a topic commit branched off ten commits
// earlier.
func writeHistory(w io.Writer, n, tags int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	data := func(s string) { fmt.Fprintf(bw, "data %d\n%s\n", len(s), s) }
	main := make([]int, 0, n) // marks of main's commits, oldest first
	tagEvery := n / tags
	tagged := 0
	for mark := 1; mark <= n; mark++ {
		at := base + int64(mark)*600
		who := fmt.Sprintf("Dev %d <dev%d@example.com> %d +0000", mark%37, mark%37, at)
		if mark%mergeEvery == 0 && len(main) > 10 && mark < n {
			// A topic commit off an earlier main commit, merged next.
			fmt.Fprintf(bw, "commit refs/heads/topic\nmark :%d\nauthor %s\ncommitter %s\n", mark, who, who)
			data("topic work " + strconv.Itoa(mark))
			fmt.Fprintf(bw, "from :%d\nM 644 inline topic-%d.txt\n", main[len(main)-10], mark%100)
			data(strconv.Itoa(mark))
			mark++
			at++
			who = fmt.Sprintf("Dev %d <dev%d@example.com> %d +0000", mark%37, mark%37, at)
			fmt.Fprintf(bw, "commit refs/heads/main\nmark :%d\nauthor %s\ncommitter %s\n", mark, who, who)
			data("Merge topic " + strconv.Itoa(mark-1))
			fmt.Fprintf(bw, "from :%d\nmerge :%d\n", main[len(main)-1], mark-1)
		} else {
			fmt.Fprintf(bw, "commit refs/heads/main\nmark :%d\nauthor %s\ncommitter %s\n", mark, who, who)
			data("change number " + strconv.Itoa(mark))
			if len(main) > 0 {
				fmt.Fprintf(bw, "from :%d\n", main[len(main)-1])
			}
			fmt.Fprintf(bw, "M 644 inline file-%d.txt\n", mark%100)
			data(strconv.Itoa(mark))
		}
		main = append(main, mark)
		if tagged < tags && mark >= (tagged+1)*tagEvery {
			tagged++
			fmt.Fprintf(bw, "tag v%d.0.0\nfrom :%d\ntagger Release <release@example.com> %d +0000\n", tagged, mark, at+1800)
			data("release " + strconv.Itoa(tagged))
		}
	}
	return bw.Flush()
}

// discard is a sink that keeps nothing, so the benchmark measures reading
// and mapping only.
type discard struct{}

func (discard) Ingest(_ context.Context, events []delivery.Event) (int, error) {
	return len(events), nil
}

func (discard) ReplaceDeployments(context.Context, string, []delivery.Event) (Reconciled, error) {
	return Reconciled{}, nil
}

func BenchmarkImport(b *testing.B) {
	for _, r := range benchRepos {
		for _, paths := range []bool{false, true} {
			name := r.name
			if paths {
				name += "/paths" // what --paths costs on top
			}
			b.Run(name, func(b *testing.B) { benchImport(b, r.gc, paths) })
		}
	}
}

// pair accumulates the time of a measured path and of its reference, run
// alternately in one benchmark so both see the same load of a shared
// machine, where absolute times are noise.
type pair struct {
	measured, reference time.Duration
	rounds              int
}

// time adds one round of fn to d.
func (p *pair) time(d *time.Duration, fn func()) {
	start := time.Now()
	fn()
	*d += time.Since(start)
}

// report publishes the reference's time per round and x-<ref>, the
// measured time over the reference's.
func (p *pair) report(b *testing.B, ref string) {
	if p.rounds == 0 || p.reference == 0 {
		return
	}
	b.ReportMetric(float64(p.reference.Nanoseconds())/float64(p.rounds), ref+"-ns/op")
	b.ReportMetric(float64(p.measured)/float64(p.reference), "x-"+ref)
}

// gitLogOf is the reference of an import: git's log pass with the
// importer's own arguments (and its path arguments when paths is set),
// into a discard.
func gitLogOf(b *testing.B, dir string, paths bool) {
	args := append([]string{"-C", dir}, logArgs...)
	if paths {
		args = append(args, pathArgs...)
	}
	gitToDiscard(b, args...)
}

// BenchmarkImport reads and maps the history into a sink that keeps
// nothing, against git's log pass with the importer's own arguments, run
// alternately: x-git-log is the importer's time over git's.
func benchImport(b *testing.B, gc, paths bool) {
	dir := benchRepo(b, gc)
	var sum Summary
	var p pair
	for b.Loop() {
		b.StopTimer()
		p.time(&p.reference, func() { gitLogOf(b, dir, paths) })
		b.StartTimer()
		p.time(&p.measured, func() {
			var err error
			sum, err = Import(context.Background(), Options{Dir: dir, Service: "bench", Paths: paths}, discard{})
			if err != nil {
				b.Fatal(err)
			}
		})
		p.rounds++
	}
	b.ReportMetric(float64(sum.Commits), "commits")
	b.ReportMetric(float64(sum.Deployments), "tags")
	p.report(b, "git-log")
}

// storeSink writes an import through the one write path, as the stride
// command does.
type storeSink struct{ in *intake.Intake }

func (s storeSink) Ingest(ctx context.Context, events []delivery.Event) (int, error) {
	res, err := s.in.Import(ctx, Source, events)
	return res.Added, err
}

func (s storeSink) ReplaceDeployments(ctx context.Context, service string, events []delivery.Event) (Reconciled, error) {
	r, err := s.in.ReplaceDeployments(ctx, Source, service, events)
	return Reconciled{Added: r.Added, Moved: r.Moved, Removed: r.Removed}, err
}

// BenchmarkImportStore imports the history into a new SQLite store each
// round, as `stride import git` does on a first import, against git's log
// pass with the importer's arguments, run alternately: x-git-log is the
// whole import's time over git's.
func BenchmarkImportStore(b *testing.B) {
	for _, r := range benchRepos {
		b.Run(r.name, func(b *testing.B) {
			dir := benchRepo(b, r.gc)
			var p pair
			round := 0
			for b.Loop() {
				b.StopTimer()
				db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), fmt.Sprintf("stride-%d.db", round)))
				if err != nil {
					b.Fatal(err)
				}
				round++
				p.time(&p.reference, func() { gitLogOf(b, dir, false) })
				b.StartTimer()
				p.time(&p.measured, func() {
					sum, err := Import(context.Background(), Options{Dir: dir, Service: "bench"}, storeSink{intake.New(db, nil)})
					if err != nil || sum.EventsAdded != benchCommits+benchTags {
						b.Fatalf("import: %+v %v", sum, err)
					}
				})
				b.StopTimer()
				db.Close()
				b.StartTimer()
				p.rounds++
			}
			p.report(b, "git-log")
		})
	}
}

// BenchmarkGitLogAll is the floor Import is compared with: git listing the
// same commits and doing nothing else.
func BenchmarkGitLogAll(b *testing.B) {
	for _, r := range benchRepos {
		b.Run(r.name, func(b *testing.B) {
			dir := benchRepo(b, r.gc)
			for b.Loop() {
				gitToDiscard(b, "-C", dir, "log", "--all", "--format=%H")
			}
		})
	}
}

// BenchmarkGitLogImportFormat runs the log pass of Import without parsing
// it, which splits Import's cost into git's part and Stride's.
func BenchmarkGitLogImportFormat(b *testing.B) {
	for _, r := range benchRepos {
		b.Run(r.name, func(b *testing.B) {
			dir := benchRepo(b, r.gc)
			for b.Loop() {
				gitToDiscard(b, append([]string{"-C", dir}, logArgs...)...)
			}
		})
	}
}

func gitToDiscard(b *testing.B, args ...string) {
	b.Helper()
	cmd := exec.Command("git", args...)
	cmd.Stdout = io.Discard
	if err := cmd.Run(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkShip assigns the imported history to the imported releases, as the
// store does after an import.
func BenchmarkShip(b *testing.B) {
	dir := benchRepo(b, false)
	sink := &keySink{}
	if _, err := Import(context.Background(), Options{Dir: dir, Service: "bench"}, sink); err != nil {
		b.Fatal(err)
	}
	parents := make(map[string][]string, len(sink.events))
	var deps []delivery.Deployment
	for _, e := range sink.events {
		if e.Change != nil {
			parents[e.Change.SHA] = e.Change.Parents
		} else {
			deps = append(deps, *e.Deployment)
		}
	}
	var s delivery.Shipping
	for b.Loop() {
		s = delivery.ShipChanges(parents, deps, nil)
	}
	if len(s.Missing) != 0 || len(s.Changes) != len(deps) {
		b.Fatalf("shipping: %d deployments shipped, %d missing", len(s.Changes), len(s.Missing))
	}
}

// BenchmarkSelectTags measures what the tag patterns and the folding of
// tags of one commit add to an import after the log pass: 550 tags (the
// size of prometheus/prometheus), two tags on every tenth commit, every seventh tag a release candidate.
func BenchmarkSelectTags(b *testing.B) {
	tags := make([]tag, 550)
	for i := range tags {
		sha := strconv.Itoa(i)
		if i%10 == 1 {
			sha = strconv.Itoa(i - 1) // the commit of the tag before
		}
		tags[i] = tag{name: fmt.Sprintf("v%d.%d.0", i/10, i%10), sha: sha, time: int64(1000 + i)}
		if i%7 == 0 {
			tags[i].name += "-rc.1"
		}
	}
	opts := Options{DeployTags: []string{"v*"}, ExcludeTags: []string{"*-rc*"}}
	var n int
	for b.Loop() {
		var sum Summary
		n = len(opts.selectTags(slices.Clone(tags), nil, &sum))
	}
	b.ReportMetric(float64(n), "deployments")
}
