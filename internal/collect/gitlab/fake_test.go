package gitlab

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fakeProject is a project as GitLab's v4 API lists it.
type fakeProject struct {
	defaultBranch string
	// commits are each branch's commits, newest first, in the shape of
	// GET /repository/commits (id, title, author_*, *_date, parent_ids).
	commits map[string][]map[string]any
	// lists are merge_requests, deployments, pipelines and issues.
	lists map[string][]map[string]any
	// notes are each merge request's notes, oldest first; mrCommits its
	// commits, newest first.
	notes     map[int][]map[string]any
	mrCommits map[int][]map[string]any
	// diffs are the files of commits by id, as GET
	// /repository/commits/:sha/diff lists them (old_path, new_path, ...).
	diffs map[string][]map[string]any
	// status, when set, answers every request of the project (401, 404).
	status int
}

// fakeGitLab serves the v4 endpoints the collector reads, as GitLab
// documents them: the project's path as one escaped segment
// (acme%2Fshop); lists filtered by updated_after (on or after) and sorted
// by order_by=updated_at&sort=asc, issues by issue_type and labels,
// commits by ref_name and since, newest first; offset pages of pageSize
// with a Link rel="next" and rel="last"; an ETag on each answer, and 304 to a matching
// If-None-Match; RateLimit-* headers.
type fakeGitLab struct {
	mu       sync.Mutex
	projects map[string]*fakeProject
	pageSize int
	// requests counts the requests by "project route" (route has ids
	// replaced by :iid); total counts them all.
	requests map[string]int
	total    int
	// failFrom, when positive, answers 500 to request number failFrom
	// and every later one: a server that went away midway.
	failFrom int
	// latency delays every answer, as a distant server would.
	latency time.Duration
	// served, when set, records the URL of every answer, for a replay.
	served []string
	record bool
}

func newFake() *fakeGitLab {
	return &fakeGitLab{projects: map[string]*fakeProject{}, pageSize: 2, requests: map[string]int{}}
}

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.latency > 0 {
		time.Sleep(f.latency)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.total++
	if f.record {
		f.served = append(f.served, r.URL.RequestURI())
	}
	w.Header().Set("RateLimit-Limit", "2000")
	w.Header().Set("RateLimit-Remaining", "1990")
	w.Header().Set("RateLimit-Reset", strconv.FormatInt(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), 10))
	if f.failFrom > 0 && f.total >= f.failFrom {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"message":"500 Internal Server Error"}`))
		return
	}
	escaped, route, _ := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), "/projects/"), "/")
	name, _ := url.PathUnescape(escaped)
	parts := strings.Split(route, "/")
	if len(parts) == 3 && parts[0] == "merge_requests" && (parts[2] == "notes" || parts[2] == "commits") {
		route = "merge_requests/:iid/" + parts[2]
	}
	f.requests[name+" "+route]++
	p := f.projects[name]
	switch {
	case p == nil:
		f.fail(w, http.StatusNotFound, "404 Project Not Found")
		return
	case p.status != 0:
		f.fail(w, p.status, strconv.Itoa(p.status)+" Unauthorized")
		return
	}
	q := r.URL.Query()
	var list []map[string]any
	switch route {
	case "":
		f.answer(w, r, map[string]any{"path_with_namespace": name, "default_branch": p.defaultBranch})
		return
	case "repository/branches":
		for b := range p.commits {
			list = append(list, map[string]any{"name": b})
		}
		sort.Slice(list, func(i, j int) bool { return list[i]["name"].(string) < list[j]["name"].(string) })
	case "repository/commits":
		since, _ := time.Parse(time.RFC3339, q.Get("since"))
		for _, c := range p.commits[q.Get("ref_name")] {
			if !c["committed_date"].(time.Time).Before(since) {
				list = append(list, c)
			}
		}
	case diffRoute(parts):
		list = p.diffs[parts[2]]
		if list == nil {
			f.fail(w, http.StatusNotFound, "404 Commit Not Found")
			return
		}
	case "merge_requests/:iid/commits":
		iid, _ := strconv.Atoi(parts[1])
		list = p.mrCommits[iid]
	case "merge_requests/:iid/notes":
		if q.Get("sort") != "asc" {
			f.fail(w, http.StatusBadRequest, "sort")
			return
		}
		iid, _ := strconv.Atoi(parts[1])
		list = p.notes[iid]
	case "merge_requests", "deployments", "pipelines", "issues":
		if q.Get("order_by") != "updated_at" || q.Get("sort") != "asc" {
			f.fail(w, http.StatusBadRequest, "order_by")
			return
		}
		after, _ := time.Parse(time.RFC3339Nano, q.Get("updated_after"))
		for _, o := range p.lists[route] {
			if o["updated_at"].(time.Time).Before(after) {
				continue
			}
			if t := q.Get("issue_type"); t != "" && o["issue_type"] != t {
				continue
			}
			if l := q.Get("labels"); l != "" && !slices.Contains(o["labels"].([]string), l) {
				continue
			}
			list = append(list, o)
		}
		sort.SliceStable(list, func(i, j int) bool {
			return list[i]["updated_at"].(time.Time).Before(list[j]["updated_at"].(time.Time))
		})
	default:
		f.fail(w, http.StatusNotFound, "404 Not Found")
		return
	}
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	from, to := min((page-1)*f.pageSize, len(list)), min(page*f.pageSize, len(list))
	if to < len(list) {
		link := func(page int, rel string) string {
			u := *r.URL
			q.Set("page", strconv.Itoa(page))
			u.RawQuery = q.Encode()
			return `<http://` + r.Host + u.String() + `>; rel="` + rel + `"`
		}
		w.Header().Set("Link", link(page+1, "next")+", "+link((len(list)+f.pageSize-1)/f.pageSize, "last"))
	}
	out := list[from:to]
	if out == nil {
		out = []map[string]any{}
	}
	f.answer(w, r, out)
}

// answer writes v with its ETag, or 304 when the client has it.
func (f *fakeGitLab) answer(w http.ResponseWriter, r *http.Request, v any) {
	body, _ := json.Marshal(v)
	sum := sha256.Sum256(body)
	etag := `W/"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func (f *fakeGitLab) fail(w http.ResponseWriter, status int, msg string) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"message": msg})
}

func (f *fakeGitLab) count(project, route string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[project+" "+route]
}

func (f *fakeGitLab) requestsSoFar() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// diffRoute is the route when it is repository/commits/:sha/diff (counted
// by sha), and otherwise what no route is.
func diffRoute(parts []string) string {
	if len(parts) == 4 && parts[0] == "repository" && parts[1] == "commits" && parts[3] == "diff" {
		return strings.Join(parts, "/")
	}
	return "\x00"
}
