package server_test

import (
	"net/http"
	"testing"
)

// TestAChangeSentThroughTheAPIKeepsItsPaths sends a monorepo commit with the
// files it touched to POST /api/v1/events: the paths are stored (sorted, as
// validation keeps them), so a service that owns paths can be scoped by them.
func TestAChangeSentThroughTheAPIKeepsItsPaths(t *testing.T) {
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		h := open(t)
		body := `{"key":"c1","kind":"change","change":{"repository":"acme/mono","sha":"abc","commit_time":"2026-03-02T10:00:00Z",` +
			`"paths":["svc/pay/main.go","docs/readme.md"]}}`
		r := h.post(t, "/api/v1/events", headers("Authorization", "Bearer "+h.token), []byte(body))
		if r.status != http.StatusOK || r.body["added"] != 1.0 {
			t.Fatalf("POST: %d %s", r.status, r.text)
		}
		var paths string
		if err := h.raw.QueryRow("SELECT paths FROM changes WHERE sha = 'abc'").Scan(&paths); err != nil {
			t.Fatal(err)
		}
		if want := `["docs/readme.md","svc/pay/main.go"]`; paths != want {
			t.Errorf("stored paths %s, want %s", paths, want)
		}
	})
}
