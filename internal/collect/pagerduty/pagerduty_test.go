package pagerduty

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
	pdingest "github.com/stride-oss/stride/internal/ingest/pagerduty"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

var (
	ctx = context.Background()
	h0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

func at(m int) time.Time { return h0.Add(time.Duration(m) * time.Minute) }

// fakePagerDuty serves /incidents and /incidents/{id}/log_entries in the
// shapes PagerDuty documents, with its classic pagination (limit, offset,
// more), one incident a page here.
type fakePagerDuty struct {
	mu        sync.Mutex
	incidents []map[string]any
	entries   map[string][]map[string]any
	requests  int
}

func (f *fakePagerDuty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if r.Header.Get("Authorization") != "Token token=k" {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"message":"Unauthorized","code":2006}}`))
		return
	}
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("offset"))
	if id, ok := strings.CutPrefix(r.URL.Path, "/incidents/"); ok {
		json.NewEncoder(w).Encode(map[string]any{"log_entries": f.entries[strings.TrimSuffix(id, "/log_entries")], "more": false, "offset": 0, "limit": 100})
		return
	}
	since, _ := time.Parse(time.RFC3339, q.Get("since"))
	var list []map[string]any
	for _, in := range f.incidents {
		created, _ := time.Parse(time.RFC3339, in["created_at"].(string))
		if in["service"].(map[string]any)["id"] == q.Get("service_ids[]") && !created.Before(since) {
			list = append(list, in)
		}
	}
	from, to := min(offset, len(list)), min(offset+1, len(list))
	json.NewEncoder(w).Encode(map[string]any{"incidents": list[from:to], "more": to < len(list), "offset": offset, "limit": 1})
}

func incident(id, status string, created time.Time) map[string]any {
	return map[string]any{"id": id, "type": "incident", "title": "Checkout down " + id, "status": status, "urgency": "high",
		"created_at": created.Format(time.RFC3339), "service": map[string]any{"id": "PSHOP01", "type": "service_reference", "summary": "Shop"},
		"priority": map[string]any{"summary": "P1"}}
}

func entry(id, kind string, t time.Time) map[string]any {
	return map[string]any{"id": id, "type": kind, "created_at": t.Format(time.RFC3339)}
}

func TestCollectPagerDuty(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		fake := &fakePagerDuty{
			incidents: []map[string]any{incident("P1", "resolved", at(0)), incident("P2", "acknowledged", at(40))},
			entries: map[string][]map[string]any{
				"P1": {entry("L1", "trigger_log_entry", at(0)), entry("L2", "acknowledge_log_entry", at(5)),
					entry("L3", "notify_log_entry", at(6)), entry("L4", "resolve_log_entry", at(30))},
				"P2": {entry("L5", "trigger_log_entry", at(40)), entry("L6", "acknowledge_log_entry", at(45))},
			},
		}
		srv := httptest.NewServer(fake)
		defer srv.Close()
		now := at(60)
		run := func(key string) ServiceResult {
			t.Helper()
			c, err := New(Config{APIURL: srv.URL, Services: []string{"PSHOP01"}, Since: h0.Add(-time.Hour), Now: func() time.Time { return now },
				Webhook: pdingest.Config{Services: map[string]string{"PSHOP01": "shop"}}, Logger: slog.New(slog.DiscardHandler)},
				collect.NewClient(2, Token(key)), intake.New(db, nil), db)
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.Run(ctx)
			if err != nil || len(res) != 1 {
				t.Fatalf("run: %+v, %v", res, err)
			}
			return res[0]
		}
		open := func() []delivery.Incident {
			t.Helper()
			list, err := db.OpenIncidents(ctx, "shop")
			if err != nil {
				t.Fatal(err)
			}
			return list
		}

		// Two incidents, a page each, and their log entries: the notify
		// entry says nothing of the incident's state.
		if r := run("k"); r.Err != nil || r.Incidents != 2 || r.Added != 5 || fake.requests != 4 {
			t.Fatalf("first run: %+v after %d requests; want 2 incidents, 5 events, 4 requests", r, fake.requests)
		}
		if list := open(); len(list) != 1 || list[0].ID != "pagerduty-P2" || list[0].Severity != 0 || !list[0].AcknowledgedAt.Equal(at(45)) {
			t.Fatalf("open incidents %+v, want P2 alone, severity 0 (P1), acknowledged at %v", list, at(45))
		}

		// The next run reads from the oldest incident still open: P2 only.
		fake.requests = 0
		if r := run("k"); r.Err != nil || r.Incidents != 1 || r.Added != 0 || fake.requests != 2 {
			t.Errorf("run after no change: %+v after %d requests; want P2 alone, nothing added, 2 requests", r, fake.requests)
		}
		fake.incidents[1]["status"] = "resolved"
		fake.entries["P2"] = append(fake.entries["P2"], entry("L7", "resolve_log_entry", at(55)))
		if r := run("k"); r.Added != 1 || len(open()) != 0 {
			t.Errorf("after P2 resolved: %+v, open %+v; want its resolution added and nothing open", r, open())
		}

		if r := run("wrong"); r.Err == nil || !strings.Contains(r.Err.Error(), "answered 401 (the token is missing, expired or revoked): Unauthorized") {
			t.Errorf("a bad key: %+v, want a 401", r)
		}
	})
}
