package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// testServer is a real server over a real store with an ingest and a read
// token.
type testServer struct {
	*httptest.Server
	db           *store.DB
	ingest, read string
}

func newTestServer(t *testing.T, db *store.DB) *testServer {
	t.Helper()
	_, ingest, err := db.CreateToken(ctx, "ci", delivery.ScopeIngest)
	if err != nil {
		t.Fatal(err)
	}
	_, read, err := db.CreateToken(ctx, "dash", delivery.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	srv := &server.Server{DB: db, Reports: reader(db), Now: func() time.Time { return time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC) }}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, db: db, ingest: ingest, read: read}
}

func (ts *testServer) do(t *testing.T, method, path, token string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: response is not JSON: %s", method, path, raw)
		}
	}
	return res.StatusCode, out
}

func changeJSON(key, sha, at string, parents ...string) string {
	p, _ := json.Marshal(parents)
	return fmt.Sprintf(`{"key":%q,"kind":"change","change":{"repository":"app","sha":%q,"parents":%s,"commit_time":%q}}`, key, sha, p, at)
}

func deployJSON(key, id, sha, status, at string) string {
	return fmt.Sprintf(`{"key":%q,"kind":"deployment","deployment":{"service":"app","id":%q,"sha":%q,"status":%q,"finished_at":%q}}`, key, id, sha, status, at)
}

// apiHistory is a small service apiHistory whose DORA figures are worked out in
// TestEventsInReportOut.
var apiHistory = "[" + strings.Join([]string{
	changeJSON("c1", "a", "2026-03-02T08:00:00Z"),
	changeJSON("c2", "b", "2026-03-02T09:00:00Z", "a"),
	changeJSON("c3", "c", "2026-03-03T10:00:00Z", "b"),
	deployJSON("d1", "v1", "b", "success", "2026-03-02T12:00:00Z"),
	deployJSON("d2", "v2", "c", "success", "2026-03-03T16:00:00Z"),
	`{"key":"i1","kind":"incident","incident":{"service":"app","id":"INC-1","severity":1,"opened_at":"2026-03-03T17:00:00Z","resolved_at":"2026-03-03T19:00:00Z"}}`,
}, ",") + "]"

func TestEventsInReportOut(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		code, body := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(apiHistory))
		if code != 200 || body["added"] != 6.0 {
			t.Fatalf("ingest: %d %v", code, body)
		}
		code, rep := ts.do(t, "GET", "/api/v1/dora?service=app&from=2026-03-02&to=2026-03-09", ts.read, nil)
		if code != 200 {
			t.Fatalf("dora: %d %v", code, rep)
		}
		// v1 is the first deployment: it ships only b (12:00 − 09:00 = 3 h).
		// v2 ships c (16:00 − 10:00 on the 3rd = 6 h). Median of 3 h and 6 h
		// is 4.5 h = 16200 s; p90 is the 2nd smallest = 6 h = 21600 s.
		lt := rep["lead_time"].(map[string]any)
		if lt["median_seconds"] != 16200.0 || lt["p90_seconds"] != 21600.0 || lt["count"] != 2.0 {
			t.Errorf("lead time %v", lt)
		}
		// The incident opened after v2 and is linked to it (inferred): 1 of 2.
		cfr := rep["change_failure_rate"].(map[string]any)
		if cfr["ratio"] != 0.5 || cfr["failed"] != 1.0 || cfr["deployments"] != 2.0 {
			t.Errorf("change failure rate %v", cfr)
		}
		ttr := rep["time_to_restore"].(map[string]any)
		if ttr["median_seconds"] != 7200.0 || ttr["count"] != 1.0 {
			t.Errorf("time to restore %v", ttr)
		}
		df := rep["deployment_frequency"].(map[string]any)
		if df["count"] != 2.0 || df["deployment_days"] != 2.0 {
			t.Errorf("deployment frequency %v", df)
		}
		code, ex := ts.do(t, "GET", "/api/v1/dora/explain?service=app&from=2026-03-02&to=2026-03-09&figure=lead_time", ts.read, nil)
		if code != 200 || !strings.Contains(fmt.Sprint(ex), "v2") {
			t.Errorf("explain: %d %v", code, ex)
		}
		code, ex = ts.do(t, "GET", "/api/v1/dora/explain?service=app&figure=bogus", ts.read, nil)
		if code != 400 {
			t.Errorf("explain of an unknown figure: %d %v", code, ex)
		}
		code, _ = ts.do(t, "GET", "/api/v1/dora?service=nope", ts.read, nil)
		if code != 404 {
			t.Errorf("unknown service: %d", code)
		}
	})
}

func TestBadInputIsRejectedAndStoresNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		huge := bytes.Repeat([]byte(" "), server.MaxEventsBody+1)
		cases := []struct {
			name   string
			token  string
			body   string
			status int
			want   string // in the error
			field  string
			index  float64
		}{
			{"malformed JSON", ts.ingest, `[{"key":"k","kind":"change",`, 400, "malformed JSON", "", -1},
			{"an empty body", ts.ingest, ``, 400, "empty body", "", -1},
			{"an unknown kind", ts.ingest, `{"key":"k","kind":"release","change":{}}`, 400, "unknown kind", "kind", 0},
			{"a missing field", ts.ingest, `{"key":"k","kind":"change","change":{"repository":"app","commit_time":"2026-03-02T08:00:00Z"}}`, 400, "required", "change.sha", 0},
			{"a misspelt field", ts.ingest, `{"key":"k","kind":"change","change":{"repository":"app","sah":"a"}}`, 400, "unknown field", "sah", 0},
			{"a wrong type", ts.ingest, `{"key":"k","kind":"incident","incident":{"service":"app","id":"1","severity":"high"}}`, 400, "number", "incident.severity", 0},
			{"a bad time", ts.ingest, `{"key":"k","kind":"change","change":{"repository":"app","sha":"a","commit_time":"yesterday"}}`, 400, "RFC 3339", "change.commit_time", 0},
			{"a bad time of an incident", ts.ingest, `{"key":"k","kind":"incident","incident":{"service":"app","id":"1","opened_at":"2026-03-02T08:00:00Z","resolved_at":"2026-13-02"}}`, 400, "RFC 3339", "incident.resolved_at", 0},
			{"no token", "", apiHistory, 401, "bearer token", "", -1},
			{"a wrong token", "stride_nope", apiHistory, 401, "invalid token", "", -1},
			{"a read token", ts.read, apiHistory, 403, "scope", "", -1},
			{"a batch with one bad event", ts.ingest, "[" + changeJSON("ok1", "a", "2026-03-02T08:00:00Z") + "," + deployJSON("bad", "v1", "", "success", "2026-03-02T12:00:00Z") + "]", 400, "sha", "deployment.sha", 1},
			{"an oversized body", ts.ingest, string(huge), 413, "too large", "", -1},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				code, body := ts.do(t, "POST", "/api/v1/events", c.token, []byte(c.body))
				if code != c.status {
					t.Fatalf("status %d, want %d: %v", code, c.status, body)
				}
				msg, _ := body["error"].(string)
				if !strings.Contains(msg, c.want) {
					t.Errorf("error %q does not mention %q", msg, c.want)
				}
				if c.field != "" && body["field"] != c.field {
					t.Errorf("field %v, want %s", body["field"], c.field)
				}
				if c.index >= 0 && body["index"] != c.index {
					t.Errorf("index %v, want %v", body["index"], c.index)
				}
			})
		}
		// Nothing of any rejected request was stored: the good event of the
		// rejected batch is new when sent alone.
		code, body := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(changeJSON("ok1", "a", "2026-03-02T08:00:00Z")))
		if code != 200 || body["added"] != 1.0 {
			t.Fatalf("the good event of a rejected batch was stored: %d %v", code, body)
		}
	})
}

func TestResendingAndReorderingGiveTheSameReport(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		var events []json.RawMessage
		if err := json.Unmarshal([]byte(apiHistory), &events); err != nil {
			t.Fatal(err)
		}
		// Send the apiHistory backwards, one event at a time, then all again.
		for i := len(events) - 1; i >= 0; i-- {
			if code, body := ts.do(t, "POST", "/api/v1/events", ts.ingest, events[i]); code != 200 {
				t.Fatalf("event %d: %d %v", i, code, body)
			}
		}
		code, body := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(apiHistory))
		if code != 200 || body["added"] != 0.0 || body["duplicates"] != 6.0 {
			t.Fatalf("resend: %d %v", code, body)
		}
		_, got := ts.do(t, "GET", "/api/v1/dora?service=app&from=2026-03-02&to=2026-03-09", ts.read, nil)

		fresh := newTestServer(t, storetest.SQLite(t))
		fresh.do(t, "POST", "/api/v1/events", fresh.ingest, []byte(apiHistory))
		_, want := fresh.do(t, "GET", "/api/v1/dora?service=app&from=2026-03-02&to=2026-03-09", fresh.read, nil)
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if !bytes.Equal(g, w) {
			t.Errorf("reordered and resent apiHistory gives another report:\n%s\n%s", g, w)
		}
	})
}

func TestHealthAndReadiness(t *testing.T) {
	db := storetest.SQLite(t)
	ts := newTestServer(t, db)
	if code, _ := ts.do(t, "GET", "/healthz", "", nil); code != 200 {
		t.Errorf("healthz %d", code)
	}
	if code, _ := ts.do(t, "GET", "/readyz", "", nil); code != 200 {
		t.Errorf("readyz %d", code)
	}
	db.Close()
	if code, body := ts.do(t, "GET", "/readyz", "", nil); code != 503 {
		t.Errorf("readyz with the database closed: %d %v", code, body)
	}
}

func TestDevModeIsRefusedOffLoopback(t *testing.T) {
	srv := &server.Server{DB: storetest.SQLite(t), Dev: true}
	l, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "0.0.0.0:0")
	if err != nil {
		t.Skip("cannot listen on all interfaces here:", err)
	}
	defer l.Close()
	if err := srv.Run(ctx, l); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("dev mode on 0.0.0.0 must be refused, got %v", err)
	}
}

func TestConfiguredThresholdsMoveTheTier(t *testing.T) {
	db := storetest.SQLite(t)
	ts := newTestServer(t, db)
	ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(apiHistory))
	_, rep := ts.do(t, "GET", "/api/v1/dora?service=app&from=2026-03-02&to=2026-03-09", ts.read, nil)
	// A median lead time of 4.5 h is elite under the default (< 1 day).
	if tier := rep["lead_time"].(map[string]any)["tier"]; tier != "elite" {
		t.Fatalf("default tier %v", tier)
	}
	th := dora.DefaultThresholds()
	th.LeadTime.Elite = time.Hour // a team that wants changes out within the hour
	strict := httptest.NewServer((&server.Server{DB: db, Reports: reader(db), Thresholds: &th}).Handler())
	defer strict.Close()
	ts2 := &testServer{Server: strict, db: db, ingest: ts.ingest, read: ts.read}
	_, rep = ts2.do(t, "GET", "/api/v1/dora?service=app&from=2026-03-02&to=2026-03-09", ts.read, nil)
	if tier := rep["lead_time"].(map[string]any)["tier"]; tier != "high" {
		t.Errorf("with elite < 1 h, 4.5 h is high, got %v", tier)
	}
	_, table := ts2.do(t, "GET", "/api/v1/dora/thresholds", ts.read, nil)
	if lt := table["lead_time_seconds"].(map[string]any); lt["elite"] != 3600.0 || lt["high"] != 7*86400.0 {
		t.Errorf("thresholds table %v", table)
	}
}
