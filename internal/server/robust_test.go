package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
)

func TestBadInputIsRefusedNamingTheField(t *testing.T) {
	h := newHarness(t, "sqlite")
	auth := headers("Authorization", "Bearer "+h.token)
	deployment := func(service, extra string) string {
		return `{"key": "k1", "kind": "deployment", "deployment": {"service": "` + service + `", "id": "1", "status": "success", "sha": "abc", "finished_at": "2026-03-02T10:00:00Z"` + extra + `}}`
	}
	for _, c := range []struct {
		name, body, field string
	}{
		{"invalid UTF-8 in the key", `{"key": "k` + "\xff" + `", "kind": "deployment", "deployment": {"service": "api", "id": "1", "status": "pending"}}`, "key"},
		{"invalid UTF-8 in a text field", deployment("ap\xc3i", ""), "deployment.service"},
		{"invalid UTF-8 in an incident title", `{"key": "i1", "kind": "incident", "incident": {"service": "api", "id": "1", "title": "down` + "\xe2\x82" + `", "opened_at": "2026-03-02T10:00:00Z"}}`, "incident.title"},
		{"severity -1", `{"key": "i1", "kind": "incident", "incident": {"service": "api", "id": "1", "severity": -1, "opened_at": "2026-03-02T10:00:00Z"}}`, "incident.severity"},
		{"an offset of +24:00", `{"key": "k1", "kind": "deployment", "deployment": {"service": "api", "id": "1", "status": "success", "sha": "abc", "finished_at": "2026-03-02T10:00:00+24:00"}}`, "deployment.finished_at"},
		{"an offset of -15:00", `{"key": "k1", "kind": "deployment", "deployment": {"service": "api", "id": "1", "status": "success", "sha": "abc", "finished_at": "2026-03-02T10:00:00-15:00"}}`, "deployment.finished_at"},
		{"story points of 1e308", `{"key": "w1", "kind": "work_item", "work_item": {"tracker": "jira", "key": "A-1", "story_points": 1e308}}`, "work_item.story_points"},
		{"story points of 10001", `{"key": "w1", "kind": "work_item", "work_item": {"tracker": "jira", "key": "A-1", "story_points": 10001}}`, "work_item.story_points"},
		{"negative additions", `{"key": "p1", "kind": "pull_request", "pull_request": {"repository": "r", "number": 1, "additions": -1}}`, "pull_request.additions"},
		{"deletions beyond the bound", `{"key": "p1", "kind": "pull_request", "pull_request": {"repository": "r", "number": 1, "deletions": 20000000}}`, "pull_request.deletions"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.post(t, "/api/v1/events", auth, []byte(c.body))
			if r.status != http.StatusBadRequest || r.body["field"] != c.field {
				t.Fatalf("got %d %s, want 400 naming %s", r.status, r.text, c.field)
			}
		})
	}
	// The bounds themselves are accepted, and +14:00 is a real offset.
	for _, body := range []string{
		`{"key": "w2", "kind": "work_item", "work_item": {"tracker": "jira", "key": "A-2", "story_points": 10000}}`,
		`{"key": "k2", "kind": "deployment", "deployment": {"service": "api", "id": "2", "status": "success", "sha": "abc", "finished_at": "2026-03-02T10:00:00+14:00"}}`,
		`{"key": "i2", "kind": "incident", "incident": {"service": "api", "id": "2", "severity": 0, "opened_at": "2026-03-02T10:00:00Z"}}`,
	} {
		if r := h.post(t, "/api/v1/events", auth, []byte(body)); r.status != http.StatusOK {
			t.Errorf("%s: %d %s, want 200", body, r.status, r.text)
		}
	}
	if n := h.counts(t)["events"]; n != 3 {
		t.Errorf("%d events stored, want the 3 accepted", n)
	}
}

func TestAKeyReusedWithOtherContentIs409(t *testing.T) {
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		h := open(t)
		auth := headers("Authorization", "Bearer "+h.token)
		first := `{"key": "deploy-7", "kind": "deployment", "deployment": {"service": "api", "id": "7", "status": "success", "sha": "aaa", "finished_at": "2026-03-02T10:00:00Z"}}`
		if r := h.post(t, "/api/v1/events", auth, []byte(first)); r.status != http.StatusOK || r.body["added"] != 1.0 {
			t.Fatalf("first: %d %s", r.status, r.text)
		}
		// The same content, its time written in another zone: a duplicate.
		same := strings.Replace(first, "10:00:00Z", "11:00:00+01:00", 1)
		if r := h.post(t, "/api/v1/events", auth, []byte(same)); r.status != http.StatusOK || r.body["duplicates"] != 1.0 {
			t.Fatalf("same content again: %d %s, want 200 with 1 duplicate", r.status, r.text)
		}
		other := strings.Replace(first, `"aaa"`, `"bbb"`, 1)
		r := h.post(t, "/api/v1/events", auth, []byte(other))
		if r.status != http.StatusConflict || !strings.Contains(r.text, "deploy-7") {
			t.Fatalf("other content under the key: %d %s, want 409 naming deploy-7", r.status, r.text)
		}
	})
}

func TestReadyzAndIngestAnswer503WhenTheDatabaseIsDown(t *testing.T) {
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		h := open(t)
		if r := h.getStatus(t, "/readyz"); r.status != http.StatusOK {
			t.Fatalf("readyz on a healthy database: %d %s", r.status, r.text)
		}
		if v := h.metrics(t)["stride_ready"]; v != 1 {
			t.Fatalf("stride_ready = %v on a healthy database, want 1", v)
		}
		h.db.Close()
		r := h.getStatus(t, "/readyz")
		if r.status != http.StatusServiceUnavailable || !strings.Contains(r.text, store.ReasonDown) || r.header.Get("Retry-After") == "" {
			t.Fatalf("readyz on a closed database: %d %v %s, want 503 with Retry-After naming %q", r.status, r.header, r.text, store.ReasonDown)
		}
		body := `{"key": "k1", "kind": "deployment", "deployment": {"service": "api", "id": "1", "status": "pending"}}`
		req, _ := http.NewRequest(http.MethodPost, h.http.URL+"/api/v1/events", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+h.token)
		resp, err := h.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		text, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(text), store.ReasonDown) {
			t.Fatalf("ingest into a closed database: %d %v %s, want 503 with Retry-After naming %q", resp.StatusCode, resp.Header, text, store.ReasonDown)
		}
	})
}

func TestReadyzNamesACorruptSQLiteFile(t *testing.T) {
	h := newHarness(t, "sqlite")
	path := h.dbPath(t)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(strings.Repeat("garbage!", 16)), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := h.getStatus(t, "/readyz")
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.text, store.ReasonCorrupt) {
		t.Fatalf("readyz on a corrupt file: %d %s, want 503 naming %q", r.status, r.text, store.ReasonCorrupt)
	}
	if v := h.metrics(t)["stride_ready"]; v != 0 {
		t.Fatalf("stride_ready = %v on a corrupt file, want 0", v)
	}
}

func TestMetricsNeedAReadTokenUnlessPublic(t *testing.T) {
	h := newHarness(t, "sqlite")
	if r := h.getStatus(t, "/metrics"); r.status != http.StatusUnauthorized {
		t.Fatalf("/metrics without a token: %d, want 401", r.status)
	}
	public := httptestServer(t, &server.Server{DB: h.db, MetricsPublic: true})
	resp, err := http.Get(public + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("public /metrics without a token: %d, want 200", resp.StatusCode)
	}
}

// statusResponse is a response read without judging its status.
type statusResponse struct {
	status int
	header http.Header
	text   string
}

// getStatus fetches path without a token and returns whatever came back.
func (h *harness) getStatus(t *testing.T, path string) statusResponse {
	t.Helper()
	resp, err := h.http.Client().Get(h.http.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return statusResponse{status: resp.StatusCode, header: resp.Header, text: string(b)}
}

// dbPath is the SQLite file behind h.
func (h *harness) dbPath(t *testing.T) string {
	t.Helper()
	if strings.Contains(h.url, "://") {
		t.Fatal("not a SQLite harness")
	}
	return h.url
}

// httptestServer serves srv until the test ends and returns its URL.
func httptestServer(t *testing.T, srv *server.Server) string {
	t.Helper()
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}
