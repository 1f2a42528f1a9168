package web

import (
	"context"
	"encoding/csv"
	"errors"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
)

// period4w is the fixture's four weeks as query parameters.
const period4w = "from=2026-03-02&to=2026-03-30"

// now is the fixture's clock: the Monday after its four weeks.
var now = func() time.Time { return t0.Add(4*week + 12*hour) }

func devServer(t *testing.T) (*httptest.Server, *history) {
	t.Helper()
	h := fixture()
	web, err := New(fakeData{h}, Options{Dev: true, Now: now, BaseURL: "https://stride.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web)
	t.Cleanup(srv.Close)
	return srv, h
}

func get(t *testing.T, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// text strips tags and unescapes, so assertions read like the page does.
func text(s string) string {
	s = regexp.MustCompile(`(?s)<svg.*?</svg>`).ReplaceAllString(s, " ")
	s = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(s, " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

// rowOf returns the text of the table row whose first cell is name.
func rowOf(t *testing.T, page, tableID, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<div class="table-wrap" id="t-` + regexp.QuoteMeta(tableID) + `">(.*?)</div>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no table %s on the page", tableID)
	}
	for _, row := range regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`).FindAllStringSubmatch(m[1], -1) {
		cells := regexp.MustCompile(`(?s)<t[hd][^>]*>(.*?)</t[hd]>`).FindAllStringSubmatch(row[1], -1)
		if len(cells) > 0 && text(cells[0][1]) == name {
			return text(row[1])
		}
	}
	t.Fatalf("no row %q in table %s", name, tableID)
	return ""
}

// firstCells lists the first cell of each body row of a table, in order.
func firstCells(t *testing.T, page, tableID string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<div class="table-wrap" id="t-` + regexp.QuoteMeta(tableID) + `">.*?<tbody>(.*?)</tbody>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no table %s on the page", tableID)
	}
	var out []string
	for _, row := range regexp.MustCompile(`(?s)<tr[^>]*>\s*<th scope="row">(.*?)</th>`).FindAllStringSubmatch(m[1], -1) {
		out = append(out, text(row[1]))
	}
	return out
}

func TestOrgPageShowsEachTeamsReport(t *testing.T) {
	srv, h := devServer(t)
	status, page, _ := get(t, nil, srv.URL+"/?"+period4w)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, text(page))
	}
	// The figures worked out by hand from the fixture (see fixture()):
	// payments deploys on 4 days a week (median 4.0), its 36 changes have a
	// median lead time of 27 h (the 18th and 19th are both 27 h), 1 of its
	// 21 production deployments failed (4.8 %, elite), INC-1 took 45 min.
	tests := []struct {
		team string
		want []string
	}{
		{"payments", []string{"4.0 deployment days a week (median) HIGH", "median 1d 3h HIGH", "4.8 % ELITE", "median 45m 0s ELITE", "high"}},
		{"search", []string{"0.5 deployment days a week (median) MEDIUM", "median 5h 0m ELITE", "33.3 % LOW", "no incident resolved", "low"}},
		{"onboarding", []string{"no deployment", "no change shipped", "without change failure rate and time to restore: no incident source"}},
	}
	for _, tt := range tests {
		t.Run(tt.team, func(t *testing.T) {
			row := strings.ToUpper(rowOf(t, page, "teams", tt.team))
			for _, w := range tt.want {
				if !strings.Contains(row, strings.ToUpper(w)) {
					t.Errorf("row %q lacks %q", row, w)
				}
			}
		})
	}
	// And they are the report's: the same figures come out of dora.Compute
	// for the team's scope.
	rep := dora.Compute(h.input(Scope{Team: "payments", From: t0, To: t0.Add(4 * week)}))
	if *rep.LeadTime.MedianSeconds != 27*3600 || *rep.DeploymentFrequency.MedianDeploymentDaysPerWeek != 4 ||
		rep.ChangeFailureRate.Failed != 1 || rep.ChangeFailureRate.Deployments != 21 || *rep.TimeToRestore.MedianSeconds != 45*60 {
		t.Errorf("the hand-worked figures disagree with dora.Compute: %+v", rep)
	}
	body := text(page)
	for _, w := range []string{"Tiers follow the 2023 DORA clusters", "median ≥ 5 deployment days a week", "< 1d 0h", "≤ 5.0 %",
		"12-week trend, oldest first:", "SLOs not configured", "Incidents not configured"} {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if n := strings.Count(page, `role="img"`); n != 12 {
		t.Errorf("%d charts with role=img, want 12 sparklines (3 teams × 4 keys)", n)
	}
}

func TestOrgPageSortsOnTheServer(t *testing.T) {
	srv, _ := devServer(t)
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"onboarding", "payments", "search"}},
		{"sort=team&order=desc", []string{"search", "payments", "onboarding"}},
		{"sort=lead_time&order=desc", []string{"payments", "search", "onboarding"}},
		{"sort=lead_time&order=asc", []string{"search", "payments", "onboarding"}},
		{"sort=deployment_frequency&order=desc", []string{"payments", "search", "onboarding"}},
		{"sort=change_failure_rate", []string{"payments", "search", "onboarding"}},
		{"sort=tier&order=desc", []string{"payments", "search", "onboarding"}},
	}
	for _, tt := range tests {
		t.Run("sorted by "+tt.query, func(t *testing.T) {
			_, page, _ := get(t, nil, srv.URL+"/?"+period4w+"&"+tt.query)
			got := firstCells(t, page, "teams")
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("order %v, want %v", got, tt.want)
			}
		})
	}
	status, page, _ := get(t, nil, srv.URL+"/?sort=colour")
	if status != http.StatusBadRequest || !strings.Contains(text(page), `sort: "colour" is not a column`) {
		t.Errorf("unknown sort key: status %d, %s", status, text(page))
	}
	// The heading of the sorted column links to the other order and keeps
	// the period.
	_, page, _ = get(t, nil, srv.URL+"/?"+period4w+"&sort=lead_time&order=asc")
	if !strings.Contains(page, `href="/?from=2026-03-02&amp;order=desc&amp;sort=lead_time&amp;to=2026-03-30"`) {
		t.Error("lead time heading does not link to the descending sort within the period")
	}
}

func TestPeriodFilter(t *testing.T) {
	srv, _ := devServer(t)
	// The first week alone: api deployed Mon–Thu (4 deployment days, 4
	// successes of its own plus web's Monday), nothing failed.
	_, page, _ := get(t, nil, srv.URL+"/teams/payments?from=2026-03-02&to=2026-03-09")
	body := text(page)
	for _, w := range []string{"2 Mar 2026 – 8 Mar 2026", "5 deployments, 5.00 a week, 4 deployment days over 1 week", "0 of 5 deployments failed"} {
		if !strings.Contains(body, w) {
			t.Errorf("first week page lacks %q", w)
		}
	}
	// The default period is the four weeks up to the end of today.
	_, page, _ = get(t, nil, srv.URL+"/teams/payments")
	if !strings.Contains(text(page), "3 Mar 2026 – 30 Mar 2026") {
		t.Errorf("default period not the last four weeks: %s", text(page)[:300])
	}
	status, page, _ := get(t, nil, srv.URL+"/teams/payments?from=2026-03-09&to=2026-03-02")
	if status != http.StatusBadRequest || !strings.Contains(text(page), "the period must end after it starts") {
		t.Errorf("reversed period: status %d", status)
	}
	// Links from a page keep the period.
	_, page, _ = get(t, nil, srv.URL+"/?from=2026-03-02&to=2026-03-09")
	if !strings.Contains(page, `href="/teams/payments?from=2026-03-02&amp;to=2026-03-09"`) {
		t.Error("team link drops the period")
	}
}

func TestTeamPage(t *testing.T) {
	srv, _ := devServer(t)
	status, page, _ := get(t, nil, srv.URL+"/teams/payments?"+period4w)
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	body := text(page)
	for _, w := range []string{
		"Deploying daily? No: 4.0 deployment days a week, target 5",
		"Lead time within 24h? No: median 1d 3h over 36 changes, target 24h",
		// PR flow: three pull requests, coding 2 h, pickup 1 h, review 3 h.
		"Coding time median 2h 0m p90 2h 0m, 3 pull requests", "Pickup time median 1h 0m", "Review time median 3h 0m",
		// Planning: 2 of 3 resolved items estimated, 1 with criteria; S1 8 points, S2 0.
		"Story-point coverage 66.7 %", "Acceptance-criteria coverage 33.3 %", "Velocity 4.0 points a sprint",
		"INC-2 api sev 2", // open
	} {
		if !strings.Contains(body, w) {
			t.Errorf("team page lacks %q", w)
		}
	}
	if strings.Contains(rowOf(t, page, "incidents", "INC-2"), "INC-1") || strings.Contains(body, "INC-1 api") {
		t.Error("resolved INC-1 listed among open incidents")
	}
	if !strings.Contains(page, `id="flow-weeks"`) || !strings.Contains(page, "median coding, pickup, review and deploy time") {
		t.Error("no stacked flow chart")
	}
	// Velocity: S1 completed 3 + 5 points; S2 only an unestimated item,
	// which draws no bar.
	if !strings.Contains(page, `<title>S1, points: 8</title>`) || strings.Contains(page, `<title>S2, points`) {
		t.Error("velocity chart does not show S1's 8 points and S2's none")
	}
	// flow, velocity, and the health panels' work per sprint, throughput
	// and deploy-hours grid.
	checkChartsHaveTables(t, page, 5)
	row := rowOf(t, page, "services", "web")
	if !strings.Contains(row, "no incident source configured") || strings.Contains(strings.ToLower(row), "elite") {
		t.Errorf("web has no incident source but its row reads %q", row)
	}
	status, _, _ = get(t, nil, srv.URL+"/teams/nobody")
	if status != http.StatusNotFound {
		t.Errorf("unknown team: status %d, want 404", status)
	}
}

func TestServicePage(t *testing.T) {
	srv, _ := devServer(t)
	_, page, _ := get(t, nil, srv.URL+"/services/api?"+period4w)
	body := text(page)
	for _, w := range []string{
		// a-fail finished at 15:00 and was recovered from when INC-1 was
		// resolved at 16:15, before the next deployment on Monday.
		"a-fail failure 2026-03-20 15:00 1h 15m incident INC-1 resolved",
		"sha-a16 unit: pass, load: fail soaked since 2026-03-19 08:00", "gates: gate failed: load",
		"INC-1 api sev 1", "checkout errors",
		"Restoring within 30m? No: median 45m 0s over 1 incident, target 30m",
	} {
		if !strings.Contains(body, w) {
			t.Errorf("service page lacks %q", w)
		}
	}
	checkChartsHaveTables(t, page, 2)
	// The timeline: 16 successes and the staging run, one failure.
	if n := strings.Count(page, `class="m0 c0"`); n != 18 { // 17 points + the legend
		t.Errorf("%d success markers, want 17 and the legend's", n)
	}
	if !strings.Contains(page, `<title>s1 (sha-s1) success in ring0 at 2026-03-19T08:00:00Z</title>`) {
		t.Error("the staging run is not on the ring0 lane")
	}
	// The histogram: 16 changes of 3 h (1–4h), 16 of 27 h (1–3d).
	lt := regexp.MustCompile(`<title>1–4h: (\d+)</title>.*<title>1–3d: (\d+)</title>`).FindStringSubmatch(page)
	if lt == nil || lt[1] != "16" || lt[2] != "16" {
		t.Errorf("histogram bins %v, want 16 and 16", lt)
	}
	// web has no incident source: its 0 failed of 4 is not called elite.
	_, page, _ = get(t, nil, srv.URL+"/services/web?"+period4w)
	card := regexp.MustCompile(`(?s)<li class="fig" id="fig-change_failure_rate">(.*?)</li>`).FindStringSubmatch(page)
	if card == nil || !strings.Contains(text(card[1]), "0.0 % 0 of 4 deployments failed no incident source configured") || strings.Contains(strings.ToLower(card[1]), "elite") {
		t.Errorf("web's change failure rate reads %v", card)
	}
	// A warning sits beside the figure it concerns.
	_, page, _ = get(t, nil, srv.URL+"/services/finder?"+period4w)
	card = regexp.MustCompile(`(?s)<li class="fig" id="fig-lead_time">(.*?)</li>`).FindStringSubmatch(page)
	if card == nil || !strings.Contains(text(card[1]), "committed after their deployment finished (clock skew) were left out of lead time (1)") {
		t.Errorf("clock-skew warning not beside lead time: %v", card)
	}
}

// checkChartsHaveTables asserts that the page has want charts, each in a
// figure with its table alternative.
func checkChartsHaveTables(t *testing.T, page string, want int) {
	t.Helper()
	boxes := regexp.MustCompile(`(?s)<figure class="chart-box">(.*?)</figure>`).FindAllStringSubmatch(page, -1)
	if len(boxes) != want || strings.Count(page, `role="img"`) != want {
		t.Errorf("%d chart boxes and %d role=img charts, want %d", len(boxes), strings.Count(page, `role="img"`), want)
	}
	for _, b := range boxes {
		if !(strings.Contains(b[1], "<table>") || strings.Contains(b[1], `<p class="empty">`)) || !strings.Contains(b[1], "<title id=") || !strings.Contains(b[1], "<desc id=") {
			t.Errorf("chart without title, description or table: %.200s", b[1])
		}
	}
}

func TestEmptyStates(t *testing.T) {
	srv, _ := devServer(t)
	_, page, _ := get(t, nil, srv.URL+"/services/fresh?"+period4w)
	checkChartsHaveTables(t, page, 2)
	body := text(page)
	for _, w := range []string{
		"stride import git --repo DIR --service fresh --deploy-tags 'v*'",
		"github https://stride.example.com/webhooks/github sources.github.secret", "configured",
		"pagerduty https://stride.example.com/webhooks/pagerduty sources.pagerduty.secrets",
		"No incident source is configured",
	} {
		if !strings.Contains(body, w) {
			t.Errorf("empty service page lacks %q", w)
		}
	}
	card := regexp.MustCompile(`(?s)<li class="fig" id="fig-change_failure_rate">(.*?)</li>`).FindStringSubmatch(page)
	if card == nil || strings.Contains(strings.ToLower(card[1]), "elite") || !strings.Contains(text(card[1]), "no incident source configured") {
		t.Errorf("a service with no incident source: change failure rate reads %v", card)
	}
	// An organisation with nothing configured explains where to start.
	web, err := New(fakeData{&history{catalog: Catalog{Thresholds: dora.DefaultThresholds()}}}, Options{Dev: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	web.ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost:8080/", nil))
	body = text(rec.Body.String())
	for _, w := range []string{"services: - name: app", "--service NAME", "http://localhost:8080/webhooks/gitlab", "No team is configured yet."} {
		if !strings.Contains(body, w) {
			t.Errorf("empty organisation lacks %q", w)
		}
	}
}

func TestExplainLinks(t *testing.T) {
	srv, _ := devServer(t)
	_, page, _ := get(t, nil, srv.URL+"/services/api?"+period4w)
	href := regexp.MustCompile(`<a href="([^"]*)" data-figure="lead_time">`).FindStringSubmatch(page)
	if href == nil {
		t.Fatal("lead time figure has no explain link")
	}
	u := html.UnescapeString(href[1])
	if u != "/explain?figure=lead_time&from=2026-03-02&service=api&to=2026-03-30" {
		t.Errorf("explain link %s", u)
	}
	_, page, _ = get(t, nil, srv.URL+u)
	body := text(page)
	// api alone: 16 changes of 3 h and 16 of 27 h, a median of 15 h.
	for _, w := range []string{"Lead time for changes of service api", "median 15h 0m", "api/production/a01 success",
		"counted: 2 of its 2 changes", "a16 api@a16-y 2026-03-25 07:00 1d 3h yes"} {
		if !strings.Contains(body, w) {
			t.Errorf("explain page lacks %q", w)
		}
	}
	_, page, _ = get(t, nil, srv.URL+"/explain?figure=review_time&team=payments&"+period4w)
	if !strings.Contains(text(page), "api#10 feature 00 ana 3h 0m") {
		t.Errorf("flow explain lacks the pull request: %s", text(page))
	}
	status, _, _ := get(t, nil, srv.URL+"/explain?figure=happiness&team=payments")
	if status != http.StatusBadRequest {
		t.Errorf("unknown figure: status %d", status)
	}
	// Every figure of every page links to an explain page that renders.
	for _, p := range []string{"/?" + period4w, "/teams/payments?" + period4w, "/services/api?" + period4w, "/services/finder?" + period4w} {
		_, page, _ := get(t, nil, srv.URL+p)
		links := regexp.MustCompile(`href="(/explain\?[^"]*)"`).FindAllStringSubmatch(page, -1)
		if len(links) == 0 {
			t.Errorf("%s links to no explanation", p)
		}
		for _, l := range links {
			if status, body, _ := get(t, nil, srv.URL+html.UnescapeString(l[1])); status != http.StatusOK {
				t.Errorf("%s: %s answers %d: %s", p, l[1], status, text(body))
			}
		}
	}
}

func TestCSV(t *testing.T) {
	srv, _ := devServer(t)
	status, body, hdr := get(t, nil, srv.URL+"/?"+period4w+"&sort=lead_time&order=desc&format=csv&table=teams")
	if status != http.StatusOK || hdr.Get("Content-Type") != "text/csv; charset=utf-8" ||
		hdr.Get("Content-Disposition") != `attachment; filename="organisation-teams.csv"` {
		t.Fatalf("status %d, headers %v", status, hdr)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || strings.Join(recs[0], "|") != "Team|Deployment frequency|Lead time|Change failure rate|Time to restore|Overall tier" {
		t.Fatalf("csv %v", recs)
	}
	if recs[1][0] != "payments" || !strings.HasPrefix(recs[1][2], "median 1d 3h (high) [12-week trend") || !strings.HasPrefix(recs[1][3], "4.8 % (elite)") {
		t.Errorf("payments row %v", recs[1])
	}
	// Every table on every page has its CSV link, and each answers.
	for _, p := range []string{"/?" + period4w, "/teams/payments?" + period4w, "/services/api?" + period4w, "/explain?figure=lead_time&service=api&" + period4w} {
		_, page, _ := get(t, nil, srv.URL+p)
		tables := strings.Count(page, `<table>`)
		links := regexp.MustCompile(`href="([^"]*format=csv[^"]*)"`).FindAllStringSubmatch(page, -1)
		if len(links) < tables-1 { // the webhooks help table is not data
			t.Errorf("%s: %d tables, %d csv links", p, tables, len(links))
		}
		for _, l := range links {
			status, body, _ := get(t, nil, srv.URL+html.UnescapeString(l[1]))
			if status != http.StatusOK || !strings.Contains(body, ",") {
				t.Errorf("%s: %s answers %d", p, l[1], status)
			}
		}
	}
	status, _, _ = get(t, nil, srv.URL+"/?format=csv&table=nope")
	if status != http.StatusBadRequest {
		t.Errorf("unknown table: status %d", status)
	}
}

// authServer is a handler that accepts the token "s3cret" as "ci".
func authServer(t *testing.T) *httptest.Server {
	t.Helper()
	web, err := New(fakeData{fixture()}, Options{Now: now, Authenticate: func(_ context.Context, tok string) (string, error) {
		if tok == "s3cret" {
			return "ci", nil
		}
		return "", errors.New("unknown token")
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web)
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

// loginCSRF opens the login page and returns its form's CSRF token.
func loginCSRF(t *testing.T, c *http.Client, srv *httptest.Server) string {
	t.Helper()
	_, page, _ := get(t, c, srv.URL+"/login?next=/teams/payments")
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("login form has no csrf token")
	}
	return m[1]
}

func TestLogin(t *testing.T) {
	srv := authServer(t)
	noRedirect := newClient(t)
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	status, _, hdr := get(t, noRedirect, srv.URL+"/teams/payments?"+period4w)
	if status != http.StatusSeeOther || hdr.Get("Location") != "/login?next=%2Fteams%2Fpayments%3F"+url.QueryEscape(period4w) {
		t.Fatalf("without a session: status %d, location %q; want a redirect to the login", status, hdr.Get("Location"))
	}

	t.Run("a wrong token is refused", func(t *testing.T) {
		c := newClient(t)
		csrf := loginCSRF(t, c, srv)
		resp, err := c.PostForm(srv.URL+"/login", url.Values{"csrf": {csrf}, "token": {"guess"}, "next": {"/"}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "That token was refused") {
			t.Errorf("status %d", resp.StatusCode)
		}
		// Still not signed in: the organisation page leads back to the login.
		after, err := c.Get(srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		after.Body.Close()
		if after.Request.URL.Path != "/login" {
			t.Errorf("after a refused token / ends at %s, want /login", after.Request.URL.Path)
		}
		u, _ := url.Parse(srv.URL)
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == sessionCookie {
				t.Error("a refused token set a session")
			}
		}
	})

	t.Run("a form without its csrf token is refused", func(t *testing.T) {
		c := newClient(t)
		loginCSRF(t, c, srv)
		for _, form := range []url.Values{{"token": {"s3cret"}}, {"token": {"s3cret"}, "csrf": {strings.Repeat("0", 64)}}} {
			resp, err := c.PostForm(srv.URL+"/login", form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("login with csrf %q: status %d, want 403", form.Get("csrf"), resp.StatusCode)
			}
		}
		// A token from another browser's cookie does not fit this one's.
		other := loginCSRF(t, newClient(t), srv)
		resp, err := c.PostForm(srv.URL+"/login", url.Values{"token": {"s3cret"}, "csrf": {other}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("login with another session's csrf: status %d, want 403", resp.StatusCode)
		}
	})

	t.Run("the right token signs in, and signing out ends it", func(t *testing.T) {
		c := newClient(t)
		csrf := loginCSRF(t, c, srv)
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.PostForm(srv.URL+"/login", url.Values{"csrf": {csrf}, "token": {"s3cret"}, "next": {"/teams/payments"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/teams/payments" {
			t.Fatalf("status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		set := resp.Header.Get("Set-Cookie")
		for _, w := range []string{sessionCookie + "=s3cret", "HttpOnly", "SameSite=Strict"} {
			if !strings.Contains(set, w) {
				t.Errorf("session cookie %q lacks %s", set, w)
			}
		}
		status, page, _ := get(t, c, srv.URL+"/teams/payments?"+period4w)
		if status != http.StatusOK || !strings.Contains(text(page), "Signed in as ci") {
			t.Fatalf("after login: status %d", status)
		}
		// Sign out needs the CSRF token too.
		resp, err = c.PostForm(srv.URL+"/logout", url.Values{})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("logout without csrf: status %d, want 403", resp.StatusCode)
		}
		m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(page)
		resp, err = c.PostForm(srv.URL+"/logout", url.Values{"csrf": {m[1]}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("logout: status %d", resp.StatusCode)
		}
		if status, _, _ := get(t, c, srv.URL+"/teams/payments"); status != http.StatusSeeOther {
			t.Errorf("after logout: status %d, want a redirect to the login", status)
		}
	})

	t.Run("redirects stay on this site", func(t *testing.T) {
		for in, want := range map[string]string{"/teams/x": "/teams/x", "//evil.example": "/", "https://evil.example": "/", "/\\evil": "/", "": "/"} {
			if got := localPath(in); got != want {
				t.Errorf("localPath(%q) = %q, want %q", in, got, want)
			}
		}
	})
}

func TestSessionCookieIsSecureOverTLS(t *testing.T) {
	web, err := New(fakeData{fixture()}, Options{Now: now, Authenticate: func(context.Context, string) (string, error) { return "ci", nil }})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	web.ServeHTTP(rec, httptest.NewRequest("GET", "https://stride.example.com/login", nil))
	csrfCk := rec.Result().Cookies()[0]
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(rec.Body.String())
	if !csrfCk.Secure || !csrfCk.HttpOnly || m == nil {
		t.Fatalf("csrf cookie %+v over TLS", csrfCk)
	}
	req := httptest.NewRequest("POST", "https://stride.example.com/login", strings.NewReader(url.Values{"csrf": {m[1]}, "token": {"t"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(csrfCk)
	rec = httptest.NewRecorder()
	web.ServeHTTP(rec, req)
	cks := rec.Result().Cookies()
	if rec.Code != http.StatusSeeOther || len(cks) != 1 || cks[0].Name != sessionCookie || !cks[0].Secure || !cks[0].HttpOnly || cks[0].SameSite != http.SameSiteStrictMode {
		t.Errorf("login over TLS: status %d, cookies %+v", rec.Code, cks)
	}
}

func TestNewRequiresAuthenticateOutsideDev(t *testing.T) {
	if _, err := New(fakeData{fixture()}, Options{}); err == nil {
		t.Error("New without Authenticate and without Dev: want an error")
	}
}

func TestParsePeriod(t *testing.T) {
	clock := time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, query    string
		from, to       time.Time
		fromP, toP, er string
	}{
		{name: "no period is the four weeks up to the end of today", query: "",
			from: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), to: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), fromP: "2026-03-03", toP: "2026-03-31"},
		{name: "dates", query: "from=2026-01-01&to=2026-02-01",
			from: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), to: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), fromP: "2026-01-01", toP: "2026-02-01"},
		{name: "RFC 3339 times in another zone are read in UTC", query: "from=2026-01-01T10:00:00%2B02:00&to=2026-01-02",
			from: time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC), to: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), fromP: "2026-01-01T08:00:00Z", toP: "2026-01-02"},
		{name: "a bad date", query: "from=yesterday", er: `from: "yesterday" is neither a date`},
		{name: "an empty period", query: "from=2026-01-02&to=2026-01-02", er: "to: the period must end after it starts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			p, err := parsePeriod(q, clock)
			if tt.er != "" {
				if err == nil || !strings.Contains(err.Error(), tt.er) {
					t.Fatalf("error %v, want %q", err, tt.er)
				}
				return
			}
			if err != nil || !p.from.Equal(tt.from) || !p.to.Equal(tt.to) || p.From != tt.fromP || p.To != tt.toP {
				t.Errorf("got [%v, %v) %q %q, %v; want [%v, %v) %q %q", p.from, p.to, p.From, p.To, err, tt.from, tt.to, tt.fromP, tt.toP)
			}
		})
	}
}

// failingData fails one kind of read.
type failingData struct {
	fakeData
	err error
}

func (f failingData) DORA(context.Context, Scope) (dora.Report, error) { return dora.Report{}, f.err }

func TestDataErrors(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		want   string
		hidden string
	}{
		{"a failing store is a 500 that does not leak its error", errors.New("pq: connection refused to 10.0.0.7"), http.StatusInternalServerError,
			"something went wrong reading the data", "10.0.0.7"},
		{"a domain error keeps its code", delivery.Errorf(delivery.ENOTFOUND, "no such scope"), http.StatusNotFound, "no such scope", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			web, err := New(failingData{fakeData{fixture()}, tt.err}, Options{Dev: true, Now: now, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			web.ServeHTTP(rec, httptest.NewRequest("GET", "/teams/payments", nil))
			body := text(rec.Body.String())
			if rec.Code != tt.status || !strings.Contains(body, tt.want) || tt.hidden != "" && strings.Contains(body, tt.hidden) {
				t.Errorf("status %d, page %q", rec.Code, body)
			}
		})
	}
}
