package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestDigestThroughTheServer asks for team payments' digest of apiHistory
// (its week of 2 March) by the API and by the dashboard: the API's figures
// are GET /api/v1/dora's of the digest's four weeks, and the page shows the
// same headline as the JSON.
func TestDigestThroughTheServer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ts, _ := pagesServer(t, db)
		if code, body := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(apiHistory)); code != 200 {
			t.Fatalf("ingest: %d %v", code, body)
		}
		code, d := ts.do(t, "GET", "/api/v1/digest?team=payments&at=2026-03-09T08:00:00Z", ts.read, nil)
		if code != 200 {
			t.Fatalf("digest: %d %v", code, d)
		}
		// 2 deployment days in the last of four weeks: the median of
		// 0, 0, 0, 2 is 0.
		want := "Are you now deploying daily? No: 0.0 deployment days a week (median of the last 4 weeks); daily is 5."
		if d["headline"] != want || d["week"] != "2026-W11" || d["week_from"] != "2026-03-02T00:00:00Z" || d["from"] != "2026-02-09T00:00:00Z" {
			t.Errorf("digest %v", d)
		}
		code, rep := ts.do(t, "GET", "/api/v1/dora?team=payments&from=2026-02-09&to=2026-03-09", ts.read, nil)
		if code != 200 {
			t.Fatalf("dora: %d %v", code, rep)
		}
		f := d["figures"].(map[string]any)
		lt := rep["lead_time"].(map[string]any)
		cfr := rep["change_failure_rate"].(map[string]any)
		if f["lead_time_median_seconds"] != lt["median_seconds"] || f["change_failure_rate"] != cfr["ratio"] || f["deployments"] != rep["deployment_frequency"].(map[string]any)["count"] {
			t.Errorf("digest figures %v, dora lead time %v, change failure rate %v", f, lt, cfr)
		}
		if targets := d["targets"].([]any); len(targets) != 2 {
			t.Errorf("targets %v, want the team's two", targets)
		}
		if trend := d["trend"].([]any); len(trend) != 12 {
			t.Errorf("%d trend weeks", len(trend))
		}
		for path, want := range map[string]int{
			"/api/v1/digest":                    http.StatusBadRequest,
			"/api/v1/digest?team=payments&at=x": http.StatusBadRequest,
		} {
			if code, _ := ts.do(t, "GET", path, ts.read, nil); code != want {
				t.Errorf("GET %s: %d, want %d", path, code, want)
			}
		}
		if code, _ := ts.do(t, "GET", "/api/v1/digest?team=payments", "", nil); code != http.StatusUnauthorized {
			t.Errorf("without a token: %d", code)
		}

		c := browser(t)
		if code := signIn(t, c, ts.URL, ts.read); code != http.StatusSeeOther {
			t.Fatalf("sign in: %d", code)
		}
		// The page is as of the server's clock, Monday 9 March 00:00 UTC:
		// the same week.
		code, page, _ := fetch(t, c, ts.URL+"/teams/payments/digest")
		if code != 200 || !strings.Contains(page, "<strong>"+want+"</strong>") || !strings.Contains(page, "Weekly digest of team payments") {
			t.Errorf("digest page: %d\n%s", code, page)
		}
		if _, team, _ := fetch(t, c, ts.URL+"/teams/payments"); !strings.Contains(team, `<a href="/teams/payments/digest">`) {
			t.Error("the team page does not link its digest")
		}
		if code, _, _ := fetch(t, c, ts.URL+"/teams/nobody/digest"); code != http.StatusNotFound {
			t.Errorf("digest of an unknown team: %d, want 404", code)
		}
	})
}
