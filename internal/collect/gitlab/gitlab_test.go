package gitlab

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/collect"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
	glingest "github.com/stride-oss/stride/internal/ingest/gitlab"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

var (
	ctx = context.Background()
	h0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

func at(m int) time.Time { return h0.Add(time.Duration(m) * time.Minute) }

// fakeGitLab serves the v4 list endpoints the collector reads, as GitLab
// documents them: updated_after (on or after), order_by=updated_at and
// sort=asc, pages of two here with a Link rel="next", RateLimit-* headers.
type fakeGitLab struct {
	mu       sync.Mutex
	lists    map[string][]map[string]any // "acme/shop merge_requests" → objects
	requests map[string]int
}

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// The project's path is one escaped segment (acme%2Fshop), as GitLab
	// wants it.
	escaped, resource, _ := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), "/projects/"), "/")
	project, _ := url.PathUnescape(escaped)
	f.requests[project+" "+resource]++
	w.Header().Set("RateLimit-Limit", "2000")
	w.Header().Set("RateLimit-Remaining", "1990")
	w.Header().Set("RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
	if _, ok := f.lists[project+" merge_requests"]; !ok {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"message":"404 Project Not Found"}`))
		return
	}
	if resource == "" {
		json.NewEncoder(w).Encode(map[string]any{"path_with_namespace": project})
		return
	}
	q := r.URL.Query()
	if q.Get("order_by") != "updated_at" || q.Get("sort") != "asc" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	after, _ := time.Parse(time.RFC3339Nano, q.Get("updated_after"))
	var list []map[string]any
	for _, o := range f.lists[project+" "+resource] {
		if !o["updated_at"].(time.Time).Before(after) {
			list = append(list, o)
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		return list[i]["updated_at"].(time.Time).Before(list[j]["updated_at"].(time.Time))
	})
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	from, to := min((page-1)*2, len(list)), min(page*2, len(list))
	if to < len(list) {
		u := *r.URL
		q.Set("page", strconv.Itoa(page+1))
		u.RawQuery = q.Encode()
		w.Header().Set("Link", `<http://`+r.Host+u.String()+`>; rel="next"`)
	}
	out := list[from:to]
	if out == nil {
		out = []map[string]any{}
	}
	json.NewEncoder(w).Encode(out)
}

var mergedMR = map[string]any{"iid": 3, "title": "Receipts", "state": "merged", "author": map[string]any{"id": 7, "username": "carol"},
	"created_at": at(10), "updated_at": at(60), "merged_at": at(60), "closed_at": nil, "merge_commit_sha": strings.Repeat("d", 40),
	"sha": strings.Repeat("9", 40), "labels": []any{"backend"}}

func shop() map[string][]map[string]any {
	return map[string][]map[string]any{
		"acme/shop merge_requests": {
			mergedMR,
			{"iid": 1, "title": "Cart", "state": "opened", "author": map[string]any{"id": 5}, "created_at": at(0), "updated_at": at(5), "labels": []any{}},
			{"iid": 2, "title": "Old idea", "state": "closed", "author": map[string]any{"id": 5}, "created_at": at(1), "updated_at": at(20), "closed_at": at(20), "labels": []any{}},
		},
		"acme/shop deployments": {
			{"id": 41, "ref": "main", "sha": strings.Repeat("d", 40), "status": "success", "created_at": at(70), "updated_at": at(75), "environment": map[string]any{"name": "production"}},
			{"id": 40, "ref": "main", "sha": strings.Repeat("c", 40), "status": "failed", "created_at": at(30), "updated_at": at(35), "environment": map[string]any{"name": "production"}},
		},
		"acme/shop pipelines": {
			{"id": 900, "ref": "main", "sha": strings.Repeat("d", 40), "status": "success", "created_at": at(61), "updated_at": at(68)},
		},
	}
}

func mapping() delivery.Mapping {
	return delivery.Mapping{Services: []delivery.ServiceMapping{{Name: "shop", Repositories: []string{"acme/shop"}}}}
}

func TestCollectGitLab(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		fake := &fakeGitLab{lists: shop(), requests: map[string]int{}}
		srv := httptest.NewServer(fake)
		defer srv.Close()
		in := intake.New(db, map[string]ingest.Source{"gitlab": glingest.New(glingest.Config{Token: "hook", Mapping: mapping()})})
		newCollector := func() *Collector {
			return New(Config{APIURL: srv.URL, Projects: []string{"acme/gone", "acme/shop"}, Webhook: glingest.Config{Mapping: mapping()},
				Logger: slog.New(slog.DiscardHandler)}, collect.NewClient(2, collect.Bearer("tok")), in, db)
		}
		res, err := newCollector().Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 || res[0].Err == nil || !strings.Contains(res[0].Err.Error(), "answered 404 (it does not exist, or the token cannot see it): 404 Project Not Found") {
			t.Fatalf("acme/gone: %+v, want a 404 that stops it alone", res)
		}
		// The project, two pages of merge requests (three, two a page),
		// one of deployments, one of pipelines.
		if r := res[1]; r.Err != nil || r.Pages != 5 || r.Added != 6 || r.Skipped != 0 {
			t.Fatalf("acme/shop: %+v, want 5 pages and 6 events added", r)
		}

		// The webhook of the merge, as GitLab sends it, is the same event.
		hook, _ := json.Marshal(map[string]any{"object_kind": "merge_request", "user": map[string]any{"id": 7},
			"project": map[string]any{"path_with_namespace": "acme/shop"},
			"object_attributes": map[string]any{"iid": 3, "author_id": 7, "title": "Receipts", "state": "merged", "action": "merge",
				"created_at": "2026-03-02 09:10:00 UTC", "updated_at": "2026-03-02 10:00:00 UTC", "merged_at": "2026-03-02 10:00:00 UTC",
				"merge_commit_sha": strings.Repeat("d", 40), "last_commit": map[string]any{"id": strings.Repeat("9", 40)}},
			"labels": []any{map[string]any{"title": "backend"}}})
		v, err := in.Delivery(ctx, "gitlab", http.Header{"X-Gitlab-Token": {"hook"}, "X-Gitlab-Event": {"Merge Request Hook"}}, hook)
		if err != nil || v.Outcome != intake.Accepted || v.Duplicates != 1 {
			t.Errorf("the merge's webhook: %+v, %v; want accepted as a duplicate of the collected event", v, err)
		}

		// A run after no change asks each resource once, from its cursor
		// (on or after: the newest object comes back, a duplicate).
		before := fake.requests["acme/shop merge_requests"]
		res, err = newCollector().Run(ctx)
		if err != nil || res[1].Err != nil || res[1].Pages != 4 || res[1].Added != 0 {
			t.Errorf("second run: %+v, %v; want 4 pages, nothing added", res, err)
		}
		if got := fake.requests["acme/shop merge_requests"] - before; got != 1 {
			t.Errorf("second run: %d merge request pages, want 1", got)
		}
	})
}
