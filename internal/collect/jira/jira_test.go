package jira

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/collect"
	"github.com/stride-oss/stride/internal/delivery"
	jiraingest "github.com/stride-oss/stride/internal/ingest/jira"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

var ctx = context.Background()

// fakeJira answers GET /rest/api/3/search/jql as Jira Cloud documents it:
// issues with their fields, nextPageToken and isLast, one issue a page
// here; it reads the JQL's updated >= bound.
type fakeJira struct {
	mu     sync.Mutex
	issues []map[string]any
	asked  []string
	agile  *fakeAgile
	// agileAsked are the paths of the agile API asked.
	agileAsked []string
	// statuses, when set, answer GET /rest/api/3/status as Jira documents
	// it; unset, the path answers 404.
	statuses []map[string]any
}

func (f *fakeJira) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Basic YW5uQGV4YW1wbGUuY29tOnRvaw==" {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"errorMessages":["You are not authenticated"]}`))
		return
	}
	if strings.HasPrefix(r.URL.Path, "/rest/agile/1.0/") {
		f.agileAsked = append(f.agileAsked, r.URL.Path)
		if f.agile == nil {
			f.agile = &fakeAgile{}
		}
		f.agile.serve(w, r)
		return
	}
	if r.URL.Path == "/rest/api/3/status" && f.statuses != nil {
		json.NewEncoder(w).Encode(f.statuses)
		return
	}
	if r.URL.Path != "/rest/api/3/search/jql" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	jql := q.Get("jql")
	f.asked = append(f.asked, jql)
	var since time.Time
	if _, after, ok := strings.Cut(jql, `updated >= "`); ok {
		since, _ = time.Parse("2006-01-02 15:04", after[:16])
	}
	var list []map[string]any
	for _, is := range f.issues {
		if parseTime(is["fields"].(map[string]any)["updated"].(string)).Before(since) {
			continue
		}
		list = append(list, is)
	}
	from, _ := strconv.Atoi(q.Get("nextPageToken"))
	from = min(from, len(list))
	to := min(from+1, len(list))
	ans := map[string]any{"issues": list[from:to], "isLast": to >= len(list)}
	if to < len(list) {
		ans["nextPageToken"] = strconv.Itoa(to)
	}
	json.NewEncoder(w).Encode(ans)
}

func issue(id, key, typ, status, category, updated, resolved string, extra map[string]any) map[string]any {
	f := map[string]any{"summary": key + " summary", "issuetype": map[string]any{"name": typ}, "project": map[string]any{"key": "PAY"},
		"status":  map[string]any{"name": status, "statusCategory": map[string]any{"key": category}},
		"created": "2026-03-01T09:00:00.000+0000", "updated": updated, "labels": []any{}, "components": []any{}}
	if resolved != "" {
		f["resolutiondate"] = resolved
	}
	for k, v := range extra {
		f[k] = v
	}
	return map[string]any{"id": id, "key": key, "fields": f}
}

// recorder writes through intake and keeps what it wrote.
type recorder struct {
	in     *intake.Intake
	events []delivery.Event
}

func (r *recorder) Events(ctx context.Context, source string, events []delivery.Event) (intake.Result, error) {
	res, err := r.in.Events(ctx, source, events)
	if err == nil {
		r.events = append(r.events, events...)
	}
	return res, err
}

func TestCollectJira(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		fake := &fakeJira{issues: []map[string]any{
			issue("10001", "PAY-1", "Story", "In Progress", "indeterminate", "2026-03-02T09:00:00.000+0000", "",
				map[string]any{"customfield_10016": 3.0, "customfield_10020": []any{map[string]any{"name": "Sprint 9", "state": "active", "endDate": "2026-03-13T17:00:00.000Z"}}}),
			issue("10002", "PAY-2", "Incident", "Done", "done", "2026-03-02T11:00:00.000+0000", "2026-03-02T11:00:00.000+0000",
				map[string]any{"components": []any{map[string]any{"name": "shop"}}, "priority": map[string]any{"name": "Highest"}}),
		}}
		srv := httptest.NewServer(fake)
		defer srv.Close()
		mapping := delivery.Mapping{Services: []delivery.ServiceMapping{{Name: "shop", Repositories: []string{"acme/shop"}}}}
		rec := &recorder{in: intake.New(db, nil)}
		run := func() ProjectResult {
			t.Helper()
			res, err := New(Config{URL: srv.URL, Projects: []string{"PAY"}, Webhook: jiraingest.Config{Mapping: mapping, ProjectTeams: map[string]string{"PAY": "payments"}},
				Logger: slog.New(slog.DiscardHandler)}, collect.NewClient(2, Basic("ann@example.com", "tok")), rec, db).Run(ctx)
			if err != nil || len(res) != 1 || res[0].Err != nil {
				t.Fatalf("run: %+v, %v", res, err)
			}
			return res[0]
		}
		// A page per issue; the story is a work item, the incident a work
		// item and a resolved incident of shop.
		// The agile API's one page lists no boards.
		if r := run(); r.Pages != 3 || r.Issues != 2 || r.Added != 3 || r.Skipped != 0 || r.Boards != 0 {
			t.Fatalf("first run: %+v, want 2 pages of issues and 1 of boards, 2 issues, 3 events", r)
		}
		if open, err := db.OpenIncidents(ctx, "shop"); err != nil || len(open) != 0 {
			t.Errorf("open incidents %+v, %v; want PAY-2 resolved", open, err)
		}
		var story *delivery.WorkItem
		for _, e := range rec.events {
			if e.WorkItem != nil && e.WorkItem.Key == "PAY-1" {
				story = e.WorkItem
			}
		}
		if story == nil || story.StoryPoints == nil || *story.StoryPoints != 3 || story.Sprint != "Sprint 9" || story.Team != "payments" ||
			story.Category != delivery.CategoryInProgress || !story.UpdatedAt.Equal(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("PAY-1 written as %+v, want 3 points in Sprint 9 of payments, in progress", story)
		}

		// The next run asks from a day before the newest update and adds
		// nothing.
		if r := run(); r.Added != 0 || !strings.Contains(fake.asked[len(fake.asked)-1], `updated >= "2026-03-01 11:00"`) {
			t.Errorf("second run: %+v, asked %q; want nothing added, from a day before 2026-03-02 11:00", r, fake.asked[len(fake.asked)-1])
		}
	})
}
