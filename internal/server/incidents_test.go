package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	incidents "github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/respond"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// newIncidentServer is a real server with a PagerDuty route for
// severities 0 and 1, its clock at 11:00 on 2 March 2026.
func newIncidentServer(t *testing.T, db *store.DB) *testServer {
	t.Helper()
	now := func() time.Time { return time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC) }
	db.Now = now
	_, ingest, err := db.CreateToken(ctx, "ci", delivery.ScopeIngest)
	if err != nil {
		t.Fatal(err)
	}
	_, read, err := db.CreateToken(ctx, "dash", delivery.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	routing := incidents.Routing{Targets: map[string]incidents.Target{"page": {Name: "page", Kind: incidents.KindPagerDuty}},
		Severity: [4][]string{{"page"}, {"page"}, {}, {}}}
	srv := &server.Server{DB: db, Now: now,
		Responder: respond.New(db, respond.Settings{Policies: incidents.DefaultPolicies(), Routing: routing, Now: now})}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &testServer{Server: ts, db: db, ingest: ingest, read: read}
}

func TestIncidentAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ts := newIncidentServer(t, db)
		code, body := ts.do(t, "POST", "/api/v1/incidents", ts.ingest,
			[]byte(`{"service": "api", "id": "7", "severity": 1, "title": "checkout fails", "origin": "customer", "at": "2026-03-02T09:00:00Z", "by": "carol"}`))
		if code != http.StatusCreated || fmt.Sprint(body["notified"]) != "[page]" {
			t.Fatalf("open: %d %v", code, body)
		}
		if code, body := ts.do(t, "POST", "/api/v1/incidents", ts.read, []byte(`{"service": "api", "severity": 1}`)); code != http.StatusForbidden {
			t.Errorf("open with a read token: %d %v", code, body)
		}
		if code, body := ts.do(t, "POST", "/api/v1/incidents", ts.ingest, []byte(`{"service": "api"}`)); code != http.StatusBadRequest || body["field"] != "severity" {
			t.Errorf("open without severity: %d %v", code, body)
		}
		// Acknowledged at 10:30: 30 min past the 1 h SLA.
		if code, body := ts.do(t, "POST", "/api/v1/incidents/api/7/ack", ts.ingest, []byte(`{"at": "2026-03-02T10:30:00Z", "by": "dave"}`)); code != http.StatusOK {
			t.Fatalf("ack: %d %v", code, body)
		}
		if code, body := ts.do(t, "POST", "/api/v1/incidents/api/7/resolve", ts.ingest, []byte(`{"at": "2026-03-02T10:45:00Z"}`)); code != http.StatusOK {
			t.Fatalf("resolve: %d %v", code, body)
		}
		if code, body := ts.do(t, "POST", "/api/v1/incidents/api/7/resolve", ts.ingest, nil); code != http.StatusConflict {
			t.Errorf("resolve twice: %d %v", code, body)
		}
		if code, _ := ts.do(t, "POST", "/api/v1/incidents/api/404/ack", ts.ingest, nil); code != http.StatusNotFound {
			t.Errorf("ack of an unknown incident: %d", code)
		}
		if code, _ := ts.do(t, "POST", "/api/v1/incidents/api/7/explode", ts.ingest, nil); code != http.StatusNotFound {
			t.Errorf("unknown action: %d", code)
		}
		code, body = ts.do(t, "POST", "/api/v1/incidents/api/7/followups", ts.ingest, []byte(`{"title": "alert on pool", "tracker": "jira", "issue_key": "OPS-1", "due": "2026-03-09T00:00:00Z"}`))
		if code != http.StatusCreated || body["id"] == "" {
			t.Fatalf("follow-up: %d %v", code, body)
		}
		fid := body["id"].(string)
		if code, body := ts.do(t, "POST", "/api/v1/incidents/api/7/followups/"+fid+"/done", ts.ingest, []byte(`{"at": "2026-03-03T09:00:00Z"}`)); code != http.StatusOK || body["done_at"] != "2026-03-03T09:00:00Z" {
			t.Errorf("follow-up done: %d %v", code, body)
		}
		if code, body := ts.do(t, "PUT", "/api/v1/incidents/api/7/review", ts.ingest, []byte(`{"held_at": "2026-03-04T14:00:00Z", "summary": "pool exhausted", "contributing_factors": ["no alert"]}`)); code != http.StatusOK {
			t.Errorf("review: %d %v", code, body)
		}
		if code, body := ts.do(t, "PUT", "/api/v1/incidents/api/7/review", ts.ingest, []byte(`{"held_at": "2026-03-04T14:00:00Z", "blamed": "bob"}`)); code != http.StatusBadRequest {
			t.Errorf("a review naming a person: %d %v", code, body)
		}

		code, body = ts.do(t, "GET", "/api/v1/incidents/api/7", ts.read, nil)
		if code != http.StatusOK || len(body["transitions"].([]any)) != 3 || len(body["followups"].([]any)) != 1 {
			t.Fatalf("detail: %d %v", code, body)
		}
		code, body = ts.do(t, "GET", "/api/v1/incidents?service=api&from=2026-03-01&to=2026-03-03&explain=breaches", ts.read, nil)
		if code != http.StatusOK {
			t.Fatalf("report: %d %v", code, body)
		}
		// One incident, severity 1, acknowledged after 90 min: breached.
		if body["breaches"] != 1.0 || fmt.Sprint(body["by_severity"]) != "map[0:0 1:1 2:0 3:0]" {
			t.Errorf("report: breaches %v, by severity %v", body["breaches"], body["by_severity"])
		}
		tta := body["time_to_acknowledge"].(map[string]any)
		if tta["median_seconds"] != 5400.0 || tta["count"] != 1.0 {
			t.Errorf("time to acknowledge %v, want median 5400 s", tta)
		}
		if src := body["by_source"].(map[string]any); src["customer"] != 1.0 {
			t.Errorf("by source %v", src)
		}
		explain := body["explain"].([]any)
		if len(explain) != 1 || explain[0].(map[string]any)["id"] != "7" {
			t.Errorf("explain %v", explain)
		}
		rows := body["incidents"].([]any)
		if len(rows) != 1 || rows[0].(map[string]any)["breached"] != true || rows[0].(map[string]any)["sla_due_at"] != "2026-03-02T10:00:00Z" {
			t.Errorf("incidents %v", rows)
		}

		code, body = ts.do(t, "GET", "/api/v1/notifications?state=undelivered", ts.read, nil)
		if code != http.StatusOK {
			t.Fatalf("notifications: %d %v", code, body)
		}
		var got []string
		for _, n := range body["notifications"].([]any) {
			m := n.(map[string]any)
			got = append(got, fmt.Sprint(m["route"], " ", m["state"]))
		}
		// trigger, acknowledge, resolve: each a page, pending.
		if strings.Join(got, ",") != "page pending,page pending,page pending" {
			t.Errorf("notifications %q", got)
		}
		if code, _ := ts.do(t, "GET", "/api/v1/notifications?state=lost", ts.read, nil); code != http.StatusBadRequest {
			t.Errorf("unknown state: %d", code)
		}

		// /metrics needs a read token unless stride.yaml makes it public.
		req, _ := http.NewRequest("GET", ts.URL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+ts.read)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(raw), `stride_notifications_undelivered{state="pending"} 3`) {
			t.Errorf("metrics lack the undelivered gauge")
		}
	})
}
