package server_test

import (
	"io"
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
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// pagesNow is the clock of the dashboard tests: the Monday after
// apiHistory's week.
var pagesNow = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)

// pagesServer is a server as the binary builds it: a catalog from
// stride.yaml (team payments owns app, with targets), the trend job's
// roll-ups computed once, and a read and an ingest token.
func pagesServer(t *testing.T, db *store.DB) (*testServer, *server.Server) {
	t.Helper()
	if err := db.SetService(ctx, delivery.Service{Name: "app", Team: "payments", Repositories: []string{"app"}}, nil); err != nil {
		t.Fatal(err)
	}
	_, ingest, err := db.CreateToken(ctx, "ci", delivery.ScopeIngest)
	if err != nil {
		t.Fatal(err)
	}
	_, read, err := db.CreateToken(ctx, "dash", delivery.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	days, lead := 5.0, 24*time.Hour
	now := func() time.Time { return pagesNow }
	srv := &server.Server{DB: db, Reports: reader(db), Now: now,
		Catalog: server.Catalog{
			Teams:    []server.CatalogTeam{{Name: "payments", Targets: dora.Targets{DeploymentDaysPerWeek: &days, LeadTime: &lead}}},
			Services: []server.CatalogService{{Name: "app", Team: "payments"}},
		},
		Trends: &server.Trends{Reports: reader(db), Now: now},
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, db: db, ingest: ingest, read: read}, srv
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so a test sees where it is sent.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func fetch(t *testing.T, c *http.Client, u string) (int, string, http.Header) {
	t.Helper()
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

// signIn logs c in with token through the login form.
func signIn(t *testing.T, c *http.Client, base, token string) int {
	t.Helper()
	_, page, _ := fetch(t, c, base+"/login?next=/")
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the login form has no csrf token:\n%s", page)
	}
	resp, err := c.PostForm(base+"/login", url.Values{"csrf": {m[1]}, "token": {token}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const pagesPeriod = "from=2026-03-02&to=2026-03-09"

func TestDashboardThroughTheServer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ts, srv := pagesServer(t, db)
		if code, body := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(apiHistory)); code != 200 {
			t.Fatalf("ingest: %d %v", code, body)
		}
		if err := srv.Trends.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		c := browser(t)
		code, _, hdr := fetch(t, c, ts.URL+"/")
		if code != http.StatusSeeOther || hdr.Get("Location") != "/login?next=%2F" {
			t.Fatalf("GET / without a session: %d to %q, want 303 to the login", code, hdr.Get("Location"))
		}
		if code := signIn(t, c, ts.URL, ts.ingest); code != http.StatusUnauthorized {
			t.Errorf("signing in with an ingest token: %d, want 401", code)
		}
		if code := signIn(t, c, ts.URL, ts.read); code != http.StatusSeeOther {
			t.Fatalf("signing in with a read token: %d, want 303", code)
		}
		code, page, _ := fetch(t, c, ts.URL+"/?"+pagesPeriod)
		if code != 200 {
			t.Fatalf("org page: %d\n%s", code, page)
		}
		code, csv, _ := fetch(t, c, ts.URL+"/?"+pagesPeriod+"&format=csv&table=teams")
		if code != 200 {
			t.Fatalf("org table as CSV: %d\n%s", code, csv)
		}
		// The API's figures for the team (TestEventsInReportOut works them
		// out): 2 deployments on 2 days, lead time median 4.5 h, 1 of 2
		// deployments failed, restored in 2 h.
		code, rep := ts.do(t, "GET", "/api/v1/dora?team=payments&"+pagesPeriod, ts.read, nil)
		if code != 200 {
			t.Fatalf("dora of payments: %d %v", code, rep)
		}
		if lt := rep["lead_time"].(map[string]any); lt["median_seconds"] != 16200.0 {
			t.Fatalf("API lead time %v", lt)
		}
		// The CSV of the page's table: the same figures, in the page's
		// words, and the trend's last week (the period's own) the same.
		for _, want := range []string{`payments,"2.0 deployment days a week (median) (high) [`, `"median 4h 30m (elite) [`,
			`"50.0 % (low) [`, `"median 2h 0m (high) [`, `—, 4h 30m]"`, `,low`} {
			if !strings.Contains(csv, want) {
				t.Errorf("org table lacks %q:\n%s", want, csv)
			}
		}
		// The team's targets are judged with the API's figures.
		met := rep["met"].(map[string]any)
		if met["deployment_frequency"] != "no" || met["lead_time"] != "yes" {
			t.Errorf("met %v: 2 deployment days a week is under 5, 4.5 h is within 24 h", met)
		}
		code, team, _ := fetch(t, c, ts.URL+"/teams/payments?"+pagesPeriod)
		if code != 200 || !strings.Contains(team, "Deploying daily? No") || !strings.Contains(team, "Lead time within 24h? Yes") {
			t.Errorf("team page: %d, want its targets answered\n%s", code, team)
		}
		code, svc, _ := fetch(t, c, ts.URL+"/services/app?"+pagesPeriod)
		if code != 200 || !strings.Contains(svc, "v2") {
			t.Errorf("service page: %d, want deployment v2 on it\n%s", code, svc)
		}
		// The API keeps its JSON answers under the dashboard.
		if code, body := ts.do(t, "GET", "/api/v1/nothing", ts.read, nil); code != 404 || body["error"] == nil {
			t.Errorf("unknown API path: %d %v, want a JSON 404", code, body)
		}
		if code, body := ts.do(t, "POST", "/api/v1/dora", ts.read, nil); code != 405 {
			t.Errorf("POST /api/v1/dora: %d %v, want 405", code, body)
		}
	})
}

func TestDashboardEmptyDatabaseShowsHowToGetDataIn(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		c := browser(t)
		if code := signIn(t, c, ts.URL, ts.read); code != http.StatusSeeOther {
			t.Fatalf("sign in: %d", code)
		}
		code, page, _ := fetch(t, c, ts.URL+"/")
		if code != 200 || !strings.Contains(page, "stride import git --repo DIR --service") {
			t.Errorf("empty org page: %d, want the import command\n%s", code, page)
		}
	})
}

// TestDashboardShowsServicesWithoutATeam: a first import with no
// stride.yaml makes a service with no team; the organisation page lists it
// as a team of its own, with the service's figures, and its pages open.
func TestDashboardShowsServicesWithoutATeam(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		if code, body := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(apiHistory)); code != 200 {
			t.Fatalf("ingest: %d %v", code, body)
		}
		c := browser(t)
		if code := signIn(t, c, ts.URL, ts.read); code != http.StatusSeeOther {
			t.Fatalf("sign in: %d", code)
		}
		code, csv, _ := fetch(t, c, ts.URL+"/?"+pagesPeriod+"&format=csv&table=teams")
		if code != 200 || !strings.Contains(csv, "\napp,\"2.0 deployment days a week (median) (high)") || !strings.Contains(csv, `"median 4h 30m (elite)`) {
			t.Errorf("org table: %d\n%s", code, csv)
		}
		for _, path := range []string{"/teams/app", "/services/app", "/explain?figure=lead_time&team=app", "/explain?figure=cycle_time&service=app"} {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			if code, page, _ := fetch(t, c, ts.URL+path+sep+pagesPeriod); code != 200 {
				t.Errorf("GET %s: %d\n%s", path, code, page)
			}
		}
	})
}
