package web

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// section returns the HTML of the page's section with the given id.
func section(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<section aria-labelledby="[^"]*" id="` + regexp.QuoteMeta(id) + `">(.*?)</section>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no section %s on the page", id)
	}
	return m[1]
}

// TestTeamHealthPanels reads the sprint, CI and deploy-hours panels of
// payments over the fixture's four weeks (2026-03-02 to 03-30), each
// figure worked out by hand from fixture():
func TestTeamHealthPanels(t *testing.T) {
	srv, _ := devServer(t)
	_, page, _ := get(t, nil, srv.URL+"/teams/payments?"+period4w)
	tests := []struct {
		section string
		want    []string
	}{
		{"sprint-health", []string{
			// PAY-1 (Mar 5) and PAY-2 (Mar 6) done in week 1, PAY-3 (Mar 10)
			// in week 2: 3 items over 4 weeks, 2, 1, 0, 0 per week.
			"Throughput 3 items done over 4 weeks",
			"Throughput of payments CSV week done Mar 2 2 Mar 9 1 Mar 16 0 Mar 23 0",
			// PAY-4 in progress since Mar 4, ana's, through the period's end:
			// 26 days in progress, never blocked.
			"Work in progress 1 item at 2026-03-30 00:00; ana 1",
			"Time blocked 0.0 % 0s blocked of 26d 0h in progress, over 1 item",
			// By type: bug PAY-2 (5), task PAY-3 (a chore, unestimated),
			// story PAY-1 (a feature, 3).
			"type items story points unestimated bug 1 5 0 chore 1 0 1 feature 1 3 0",
			// S1 committed PAY-1, PAY-2, PAY-4 (3+5+2 = 10 points), completed
			// 8 and carried PAY-4 over (1 of 3); S2 committed PAY-3 and PAY-4,
			// completed PAY-3, carried PAY-4 over again (1 of 2).
			"S1 closed 2026-03-09 00:00 3 items, 10 points 0 items 2 items, 8 points 1 item, 2 points 33.3 %",
			"S2 closed 2026-03-16 00:00 2 items, 2 points 0 items 1 item 1 item, 2 points 50.0 %",
			"S1 1 1 — S2 — — 1", // work per sprint: bug, feature, chore
			"⚠ 3 of 4 items have no changelog",
			"These figures as JSON (GET /api/v1/sprints)",
		}},
		{"ci-health", []string{
			// Builds 1 (10 min), 2 (20 min, failed), 3 (30 min) are first
			// attempts; 4 is a re-run, not timed. Median 20 min, nearest-rank
			// p90 the 3rd of 3: 30 min. Re-runs 1 of 4 known attempts.
			"Re-run rate 25.0 % 1 re-runs of 4 builds whose attempt is known",
			"api · ci 4 1 20m 0s 30m 0s",
			// main red from build 2's failure (Tue 09:20) to build 3's green
			// (10:30): 70 min of 4 weeks' 40,320 = 0.17 %.
			"api main 1h 10m 0.2 % 1 1h 10m no",
			// api ships 16 changes 3 h and 16 27 h before deploying, web 4
			// 48 h before; target 24 h: 16 of 36 within, median 27 h.
			"Commit to production within target 44.4 % 16 of 36 changes; median 1d 3h",
			"api 1d 0h 32 16 50.0 % 15h 0m", "web 1d 0h 4 0 0.0 % 2d 0h",
			"These figures as JSON (GET /api/v1/ci)",
		}},
		{"deploy-hours-panel", []string{
			// 16 api deployments Mon–Thu 10:00 and 4 web Mondays 12:00, plus
			// a-fail Friday 15:00: 21, of which web's 4 and a-fail fall
			// outside 09:00–11:00.
			"Deployments outside working hours 23.8 % 5 of 21 production deployments; working hours payments: mon tue wed thu fri 09:00–11:00, UTC",
			"Mon 0 0 0 0 0 0 0 0 0 0 4 0 4 0", "Fri 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0",
			"no time zone is set for them",
			"These figures as JSON (GET /api/v1/deploy-hours)",
		}},
	}
	for _, tt := range tests {
		body := text(section(t, page, tt.section))
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %q; it reads %s", tt.section, w, body)
			}
		}
	}
	// The grid's cell of Monday 10:00 holds api's 4 and is the darkest.
	if !strings.Contains(page, `class="heat h3"><title>Mon 10: 4 deployments</title>`) {
		t.Error("the deploy-hours grid lacks Monday 10:00's 4 deployments")
	}
	// Each panel links its JSON API with the page's team and period.
	for _, api := range []string{"/api/v1/sprints", "/api/v1/ci", "/api/v1/deploy-hours"} {
		if !strings.Contains(page, `href="`+api+`?from=2026-03-02T00%3A00%3A00Z&amp;team=payments&amp;to=2026-03-30T00%3A00%3A00Z"`) {
			t.Errorf("no link to %s of payments over the period", api)
		}
	}
	// Each table of the panels downloads as CSV.
	status, csvBody, _ := get(t, nil, srv.URL+"/teams/payments?"+period4w+"&format=csv&table=carry-over")
	if status != http.StatusOK || !strings.Contains(csvBody, "S1,closed,2026-03-09 00:00,\"3 items, 10 points\"") {
		t.Errorf("carry-over CSV: %d %s", status, csvBody)
	}
}

// TestHealthPanelsWithoutData: onboarding has no work item, build or
// deployment, so each panel says what is missing and how to get it.
func TestHealthPanelsWithoutData(t *testing.T) {
	srv, _ := devServer(t)
	_, page, _ := get(t, nil, srv.URL+"/teams/onboarding?"+period4w)
	for id, want := range map[string]string{
		"sprint-health":      "No work item of team onboarding was done, in progress or in a sprint in the period: connect Jira",
		"ci-health":          "No build finished and no change reached production in the period: builds come from GitHub workflow runs, GitLab pipelines or CDEvents",
		"deploy-hours-panel": "No production deployment finished in the period: deployments come from",
	} {
		s := section(t, page, id)
		if !strings.Contains(text(s), want) || strings.Contains(s, "<table") || strings.Contains(s, "<svg") {
			t.Errorf("%s of a team without data reads %s", id, text(s))
		}
	}
	// A Data without HealthData says the server does not serve them.
	web, err := New(plainData{fakeData{fixture()}}, Options{Dev: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	web.ServeHTTP(rec, httptest.NewRequest("GET", "/teams/payments?"+period4w, nil))
	if n := strings.Count(rec.Body.String(), unavailable); rec.Code != http.StatusOK || n != 3 {
		t.Errorf("status %d, %d panels say %q, want 3", rec.Code, n, unavailable)
	}
	rec = httptest.NewRecorder()
	web.ServeHTTP(rec, httptest.NewRequest("GET", "/services/api?"+period4w, nil))
	if !strings.Contains(text(rec.Body.String()), "a16 sha-a16 2026-03-26 10:00 success — — not available on this server") {
		t.Errorf("service page without HealthData: %s", text(rec.Body.String()))
	}
}

// plainData is a Data with none of the optional interfaces.
type plainData struct{ Data }

// TestServiceImpact reads api's production deployments with their stored
// impact and its Apdex: a16 flagged (error rate 0.5 % → 4.0 %), a15
// assessed and unchanged, the rest not assessed; the staging run s1 is
// not a production deployment and is not listed. Apdex = (900 + 60/2) /
// 1000 = 0.93, "good" (0.85 to 0.94).
func TestServiceImpact(t *testing.T) {
	srv, _ := devServer(t)
	_, page, _ := get(t, nil, srv.URL+"/services/api?"+period4w)
	s := section(t, page, "deployment-impact")
	golden(t, "impact_section.html", []byte(s))
	body := text(s)
	for _, w := range []string{
		"Apdex (T = 0.5s) 0.93 good 900 satisfied, 60 tolerating of 1000 calls.",
		"a16 sha-a16 2026-03-26 10:00 success 0.5 % → 4.0 % 120 ms → 300 ms flagged: error rate rose by 3.5 points, past the 1-point threshold",
		"a15 sha-a15 2026-03-25 10:00 success 0.5 % → 0.6 % 120 ms → 125 ms no change past the thresholds",
		"a-fail sha-a-fail 2026-03-20 15:00 failure — — not assessed (failure)",
		"a14 sha-a14 2026-03-24 10:00 success — — not assessed",
		"These figures as JSON (GET /api/v1/deployments/impact)",
	} {
		if !strings.Contains(body, w) {
			t.Errorf("impact section lacks %q; it reads %s", w, body)
		}
	}
	if strings.Contains(body, "s1 sha-s1") {
		t.Error("the staging run is listed among production deployments")
	}
	// 16 successes and a-fail; only a16's row is flagged red.
	if n, f := strings.Count(s, "<tr"), strings.Count(s, `<tr class="flagged"`); n != 18 || f != 1 {
		t.Errorf("%d rows (with the header), %d flagged; want 18 and 1", n, f)
	}
	// web has no impact nor Apdex: its deployments read not assessed and
	// no Apdex figure is shown.
	_, page, _ = get(t, nil, srv.URL+"/services/web?"+period4w)
	s = text(section(t, page, "deployment-impact"))
	if strings.Contains(s, "Apdex") || strings.Count(s, "not assessed") != 4 {
		t.Errorf("web's impact section reads %s", s)
	}
}

func TestHeatGrid(t *testing.T) {
	c := HeatGrid(HeatGridChart{ID: "grid", Title: "Deployments", Desc: "by weekday and hour", Unit: "deployments",
		Rows: []string{"Mon", "Tue"}, Columns: []string{"09", "10", "11"},
		Counts: [][]int{{0, 3, 1}, {2, 0, 0}}})
	checkAccessible(t, c, "grid", 2)
	// Shades by thirds of the largest count, 3: 1 → h1, 2 → h2, 3 → h3.
	for _, w := range []string{`class="heat h0"><title>Mon 09: 0 deployments`, `class="heat h3"><title>Mon 10: 3 deployments`,
		`class="heat h1"><title>Mon 11: 1 deployments`, `class="heat h2"><title>Tue 09: 2 deployments`} {
		if !strings.Contains(string(c.SVG), w) {
			t.Errorf("grid lacks %s", w)
		}
	}
	golden(t, "heat_grid.svg", []byte(c.SVG))
}
