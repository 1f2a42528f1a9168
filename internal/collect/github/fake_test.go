package github

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGitHub is a replay server built from the shapes GitHub documents for
// the REST endpoints and the GraphQL pullRequests connection the collector
// reads: list pages with per_page and page and a Link rel="next" header,
// strong ETags answered 304 to If-None-Match, and X-RateLimit-* headers
// (a 304 does not spend the budget, as on GitHub).
type fakeGitHub struct {
	t       testing.TB
	mu      sync.Mutex
	repos   map[string]*fakeRepo
	latency time.Duration

	// requests counts every request; counted by "METHOD path" too.
	requests int
	byPath   map[string]int
	// remaining is the primary budget; reset when it renews.
	remaining int
	reset     time.Time
	// burst answers the next requests to a path with these statuses
	// first (a 5xx burst, a secondary limit).
	burst map[string][]int
	// now, when set, is the clock that renews the budget at reset.
	now func() time.Time
}

type fakeRepo struct {
	defaultBranch string
	// branches lists each branch's commits newest first (REST objects).
	branches    map[string][]map[string]any
	tags        []any
	releases    []any
	deployments []any
	statuses    map[int64][]any
	runs        []any
	issues      []map[string]any
	// pulls are GraphQL nodes, most recently updated first.
	pulls []any
	// files are the files of commits by sha, as GET /commits/{sha}
	// lists them (filename, status, previous_filename); the list of
	// commits carries none.
	files map[string][]any
}

func newFakeGitHub(t testing.TB) (*fakeGitHub, *httptest.Server) {
	f := &fakeGitHub{t: t, repos: map[string]*fakeRepo{}, byPath: map[string]int{}, remaining: 5000,
		reset: time.Now().Add(time.Hour), burst: map[string][]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeGitHub) count() (int, map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := make(map[string]int, len(f.byPath))
	for k, v := range f.byPath {
		m[k] = v
	}
	return f.requests, m
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.latency > 0 {
		time.Sleep(f.latency)
	}
	f.mu.Lock()
	f.requests++
	f.byPath[r.Method+" "+r.URL.Path]++
	if codes := f.burst[r.URL.Path]; len(codes) > 0 {
		f.burst[r.URL.Path] = codes[1:]
		f.mu.Unlock()
		if codes[0] == http.StatusForbidden {
			w.Header().Set("Retry-After", "60")
		}
		w.WriteHeader(codes[0])
		w.Write([]byte(`{"message":"You have exceeded a secondary rate limit."}`))
		return
	}
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer test-token" {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"message":"Bad credentials"}`))
		return
	}
	if r.URL.Path == "/graphql" {
		f.graphql(w, r)
		return
	}
	if org, ok := strings.CutPrefix(r.URL.Path, "/orgs/"); ok && strings.HasSuffix(org, "/repos") {
		org = strings.TrimSuffix(org, "/repos")
		var list []any
		f.mu.Lock()
		for name := range f.repos {
			if strings.HasPrefix(name, org+"/") {
				list = append(list, map[string]any{"full_name": name, "archived": false})
			}
		}
		f.mu.Unlock()
		sort.Slice(list, func(i, j int) bool {
			return list[i].(map[string]any)["full_name"].(string) < list[j].(map[string]any)["full_name"].(string)
		})
		f.page(w, r, list)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/repos/"), "/")
	if len(parts) < 2 {
		f.notFound(w)
		return
	}
	f.mu.Lock()
	repo := f.repos[parts[0]+"/"+parts[1]]
	f.mu.Unlock()
	if repo == nil {
		f.notFound(w)
		return
	}
	q := r.URL.Query()
	rest := strings.Join(parts[2:], "/")
	switch {
	case rest == "":
		f.answer(w, r, map[string]any{"full_name": parts[0] + "/" + parts[1], "default_branch": repo.defaultBranch})
	case rest == "branches":
		var list []any
		for name := range repo.branches {
			list = append(list, map[string]any{"name": name})
		}
		sort.Slice(list, func(i, j int) bool {
			return list[i].(map[string]any)["name"].(string) < list[j].(map[string]any)["name"].(string)
		})
		f.page(w, r, list)
	case rest == "commits":
		since, _ := time.Parse(time.RFC3339, q.Get("since"))
		var list []any
		for _, c := range repo.branches[q.Get("sha")] {
			if since.IsZero() || !commitDate(c).Before(since) {
				list = append(list, c)
			}
		}
		f.page(w, r, list)
	case strings.HasPrefix(rest, "commits/"):
		for _, cs := range repo.branches {
			for _, c := range cs {
				if c["sha"] == strings.TrimPrefix(rest, "commits/") {
					one := map[string]any{"files": repo.files[c["sha"].(string)]}
					for k, v := range c {
						one[k] = v
					}
					f.answer(w, r, one)
					return
				}
			}
		}
		f.notFound(w)
	case rest == "tags":
		f.page(w, r, repo.tags)
	case rest == "releases":
		f.page(w, r, repo.releases)
	case rest == "deployments":
		f.page(w, r, repo.deployments)
	case strings.HasPrefix(rest, "deployments/") && strings.HasSuffix(rest, "/statuses"):
		id, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(rest, "deployments/"), "/statuses"), 10, 64)
		f.page(w, r, repo.statuses[id])
	case rest == "actions/runs":
		f.pageWrapped(w, r, "workflow_runs", repo.runs)
	case rest == "issues":
		since, _ := time.Parse(time.RFC3339, q.Get("since"))
		var list []any
		for _, is := range repo.issues {
			if hasLabel(is, q.Get("labels")) && (since.IsZero() || !issueUpdated(is).Before(since)) {
				list = append(list, is)
			}
		}
		sort.SliceStable(list, func(i, j int) bool {
			return issueUpdated(list[i].(map[string]any)).Before(issueUpdated(list[j].(map[string]any)))
		})
		f.page(w, r, list)
	default:
		f.notFound(w)
	}
}

func commitDate(c map[string]any) time.Time {
	return c["commit"].(map[string]any)["committer"].(map[string]any)["date"].(time.Time)
}

func issueUpdated(is map[string]any) time.Time { return is["updated_at"].(time.Time) }

func hasLabel(is map[string]any, want string) bool {
	for _, l := range is["labels"].([]any) {
		if l.(map[string]any)["name"] == want {
			return true
		}
	}
	return false
}

func (f *fakeGitHub) notFound(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`))
}

// page answers one page of list, per_page and page as GitHub reads them.
func (f *fakeGitHub) page(w http.ResponseWriter, r *http.Request, list []any) {
	items, next := paginate(r, list)
	if items == nil {
		items = []any{}
	}
	f.link(w, r, next)
	f.answer(w, r, items)
}

// pageWrapped answers a page wrapped in an object, as /actions/runs does.
func (f *fakeGitHub) pageWrapped(w http.ResponseWriter, r *http.Request, field string, list []any) {
	items, next := paginate(r, list)
	if items == nil {
		items = []any{}
	}
	f.link(w, r, next)
	f.answer(w, r, map[string]any{"total_count": len(list), field: items})
}

func paginate(r *http.Request, list []any) ([]any, int) {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 {
		per = 30
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if page <= 0 {
		page = 1
	}
	from := min((page-1)*per, len(list))
	to := min(from+per, len(list))
	next := 0
	if to < len(list) {
		next = page + 1
	}
	return list[from:to], next
}

func (f *fakeGitHub) link(w http.ResponseWriter, r *http.Request, next int) {
	if next == 0 {
		return
	}
	u := *r.URL
	q := u.Query()
	q.Set("page", strconv.Itoa(next))
	u.RawQuery = q.Encode()
	w.Header().Set("Link", `<http://`+r.Host+u.String()+`>; rel="next"`)
}

// answer writes v as JSON with its ETag, or a free 304 when the client
// already has it; any other answer spends one unit of the budget.
func (f *fakeGitHub) answer(w http.ResponseWriter, r *http.Request, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		f.t.Error(err)
		return
	}
	sum := sha1.Sum(body)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	f.mu.Lock()
	if f.now != nil && !f.now().Before(f.reset) {
		f.remaining, f.reset = 5000, f.reset.Add(time.Hour)
	}
	if r.Header.Get("If-None-Match") != etag {
		f.remaining--
	}
	w.Header().Set("X-RateLimit-Limit", "5000")
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(f.remaining))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(f.reset.Unix(), 10))
	w.Header().Set("X-RateLimit-Resource", "core")
	f.mu.Unlock()
	if r.URL.Path == "/graphql" {
		w.Header().Set("X-RateLimit-Resource", "graphql")
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if r.Method == http.MethodGet && r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(body)
}

// graphql answers the pullRequests connection, first and after (a cursor
// "c<offset>") as GitHub reads them.
func (f *fakeGitHub) graphql(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	owner, _ := req.Variables["owner"].(string)
	name, _ := req.Variables["name"].(string)
	f.mu.Lock()
	repo := f.repos[owner+"/"+name]
	f.mu.Unlock()
	if repo == nil {
		f.answer(w, r, map[string]any{"data": map[string]any{"repository": nil},
			"errors": []any{map[string]any{"type": "NOT_FOUND", "message": "Could not resolve to a Repository with the name '" + owner + "/" + name + "'."}}})
		return
	}
	var field string
	var list []any
	switch {
	case strings.Contains(req.Query, "pullRequests("):
		field, list = "pullRequests", repo.pulls
	case strings.Contains(req.Query, "deployments("):
		field = "deployments"
		for _, d := range repo.deployments {
			list = append(list, gqlDeployment(d.(map[string]any), repo.statuses[d.(map[string]any)["id"].(int64)]))
		}
	default:
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	first := int(req.Variables["first"].(float64))
	from := 0
	if after, ok := req.Variables["after"].(string); ok {
		from, _ = strconv.Atoi(strings.TrimPrefix(after, "c"))
	}
	from = min(from, len(list))
	to := min(from+first, len(list))
	nodes := list[from:to]
	if nodes == nil {
		nodes = []any{}
	}
	f.answer(w, r, map[string]any{"data": map[string]any{"repository": map[string]any{field: map[string]any{
		"pageInfo": map[string]any{"hasNextPage": to < len(list), "endCursor": "c" + strconv.Itoa(to)},
		"nodes":    nodes,
	}}}})
}

// gqlDeployment is a REST deployment and its statuses as the GraphQL
// Deployment object reads them: payload a JSON string, states in capitals,
// statuses without their REST ids.
func gqlDeployment(d map[string]any, statuses []any) map[string]any {
	payload, _ := json.Marshal(d["payload"])
	var nodes []any
	for _, s := range statuses {
		st := s.(map[string]any)
		nodes = append(nodes, map[string]any{"state": strings.ToUpper(st["state"].(string)), "createdAt": st["created_at"], "updatedAt": st["updated_at"]})
	}
	return map[string]any{"databaseId": d["id"], "commitOid": d["sha"], "environment": d["environment"], "task": d["task"],
		"payload": string(payload), "createdAt": d["created_at"], "updatedAt": d["updated_at"], "statuses": map[string]any{"nodes": nodes}}
}
