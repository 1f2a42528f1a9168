package server_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/impacteval"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// pageText strips a page's tags so assertions read as the page does.
func pageText(s string) string {
	s = regexp.MustCompile(`(?s)<svg.*?</svg>`).ReplaceAllString(s, " ")
	s = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(s, " ")
	s = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&#39;", "'", "&quot;", `"`).Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// TestDashboardHealthPanelsThroughTheStore sends a week of payments' work
// items, builds and one production deployment with SLI minutes and Apdex
// counts through the API, runs the impact job, and reads the team and
// service pages on both databases. Worked out by hand, for 2026-03-02 to
// 03-09:
//
//	PAY-1 (Bug) done Tue, PAY-2 (Story, 3 points) done Wed: 2 items done
//	in the week, a bug and a feature.
//	app ci on main: run 1 failed 10:00–10:10, run 2 green 10:30–10:50:
//	durations 10 and 20 min (nearest-rank p90 20 min), main red 10:10 to
//	10:50 = 40 min.
//	d1 finished Tue 12:00 UTC, inside the default 09:00–18:00 weekday:
//	0 of 1 outside working hours.
//	d1's 30 minutes before: 1 of 1,000 calls failed a minute (0.1 %);
//	after: 30 (3.0 %), flagged. Apdex (800 + 150/2) / 1000 = 0.875, good.
func TestDashboardHealthPanelsThroughTheStore(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ts, _ := pagesServer(t, db)
		item := func(key, typ, points, resolved string) string {
			return fmt.Sprintf(`{"key": "w-%s", "kind": "work_item", "work_item": {"tracker": "jira", "key": %q, "team": "payments",
				"type": %q, "status": "Done", "category": "done", "story_points": %s,
				"created_at": "2026-03-01T09:00:00Z", "resolved_at": %q, "updated_at": %q}}`, key, key, typ, points, resolved, resolved)
		}
		build := func(id, status, started, finished string) string {
			return fmt.Sprintf(`{"key": "b-%s", "kind": "build", "build": {"repository": "app", "id": %q, "name": "ci", "branch": "main",
				"status": %q, "attempt": 1, "started_at": %q, "finished_at": %q, "default_branch": "main"}}`, id, id, status, started, finished)
		}
		body := "[" + strings.Join([]string{
			item("PAY-1", "Bug", "null", "2026-03-03T12:00:00Z"),
			item("PAY-2", "Story", "3", "2026-03-04T12:00:00Z"),
			build("1", "failure", "2026-03-02T10:00:00Z", "2026-03-02T10:10:00Z"),
			build("2", "success", "2026-03-02T10:30:00Z", "2026-03-02T10:50:00Z"),
			deployJSON("d:1", "d1", "abc", "success", "2026-03-03T12:00:00Z"),
		}, ",") + "]"
		if code, b := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(body)); code != 200 {
			t.Fatalf("events: %d %v", code, b)
		}
		in := intake.New(db, nil)
		fin := time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)
		worseAfter(t, in, fin)
		if err := (&impacteval.Job{DB: db, Now: func() time.Time { return fin.Add(time.Hour) }}).Run(ctx); err != nil {
			t.Fatal(err)
		}
		if code, b := ts.do(t, "POST", "/api/v1/apdex", ts.ingest, []byte(`[{"service":"app","start":"2026-03-03T12:00:00Z","end":"2026-03-03T12:01:00Z","t":"300ms","satisfied":800,"tolerating":150,"total":1000}]`)); code != 200 {
			t.Fatalf("apdex: %d %v", code, b)
		}

		c := browser(t)
		if code := signIn(t, c, ts.URL, ts.read); code != 303 {
			t.Fatalf("sign in: %d", code)
		}
		period := "from=2026-03-02&to=2026-03-09"
		code, page, _ := fetch(t, c, ts.URL+"/teams/payments?"+period)
		if code != 200 {
			t.Fatalf("team page: %d\n%s", code, page)
		}
		body = pageText(page)
		for _, w := range []string{
			"Throughput 2 items done over 1 week",
			"type items story points unestimated bug 1 0 1 feature 1 3 0",
			"Build duration per pipeline CSV pipeline builds failures median p90 app · ci 2 1",
			"20m 0s", // p90
			"app main 40m 0s",
			"Deployments outside working hours 0.0 % 0 of 1 production deployment",
			"These figures as JSON (GET /api/v1/sprints)", "These figures as JSON (GET /api/v1/ci)", "These figures as JSON (GET /api/v1/deploy-hours)",
		} {
			if !strings.Contains(body, w) {
				t.Errorf("team page lacks %q:\n%s", w, body)
			}
		}
		// Each panel's link answers with its JSON API for the same scope.
		links := regexp.MustCompile(`<a class="api" href="([^"]+)"`).FindAllStringSubmatch(page, -1)
		if len(links) != 3 {
			t.Errorf("%d API links on the team page, want 3", len(links))
		}
		for _, l := range links {
			u := strings.ReplaceAll(l[1], "&amp;", "&")
			if code, b := ts.do(t, "GET", u, ts.read, nil); code != 200 {
				t.Errorf("GET %s: %d %v", u, code, b)
			}
		}
		code, page, _ = fetch(t, c, ts.URL+"/services/app?"+period)
		if code != 200 {
			t.Fatalf("service page: %d\n%s", code, page)
		}
		body = pageText(page)
		for _, w := range []string{
			"Apdex (T = 0.3s) 0.88 good 800 satisfied, 150 tolerating of 1000 calls.",
			"d1 abc 2026-03-03 12:00 success 0.1 % → 3.0 %",
			"flagged:",
		} {
			if !strings.Contains(body, w) {
				t.Errorf("service page lacks %q:\n%s", w, body)
			}
		}
		links = regexp.MustCompile(`<a class="api" href="([^"]+)"`).FindAllStringSubmatch(page, -1)
		if len(links) != 1 {
			t.Fatalf("%d API links on the service page, want 1", len(links))
		}
		u := strings.ReplaceAll(links[0][1], "&amp;", "&")
		if code, b := ts.do(t, "GET", u, ts.read, nil); code != 200 || b["flagged"] != float64(1) {
			t.Errorf("GET %s: %d %v, want d1 flagged", u, code, b)
		}
		if !strings.Contains(page, `<tr class="flagged"><th scope="row">d1</th>`) {
			t.Error("d1 is not flagged red on the service page")
		}
	})
}
