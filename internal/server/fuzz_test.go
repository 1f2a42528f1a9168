package server_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/ingest/github"
)

// changedTables reports the tables whose row counts differ between two
// snapshots, other than those allowed to grow.
func changedTables(before, after map[string]int, allowed ...string) []string {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	var out []string
	for tbl, n := range after {
		if n != before[tbl] && !ok[tbl] {
			out = append(out, tbl)
		}
	}
	return out
}

// FuzzNativeEvents sends arbitrary bodies to POST /api/v1/events: the
// server must answer 200, 400 or 413, never fail, and a rejected body must
// leave every table as it was.
func FuzzNativeEvents(f *testing.F) {
	for _, seed := range []string{apiHistory, `{"key":"k","kind":"change","change":{"repository":"r","sha":"a","commit_time":"2026-01-01T00:00:00Z"}}`,
		`[{"key":"k","kind":"deployment","deployment":{"service":"s","id":"1","status":"success","sha":"a","finished_at":"2026-01-01T00:00:00Z"}},{"key":"k2","kind":"bogus"}]`,
		`[`, `{}`, `[]`, `{"key":"k","kind":"incident","incident":{"service":"s","id":"1","severity":-1,"opened_at":"2026-01-01T00:00:00Z"}}`} {
		f.Add([]byte(seed))
	}
	h := newHarness(f, "sqlite")
	auth := http.Header{"Authorization": {"Bearer " + h.token}}
	f.Fuzz(func(t *testing.T, body []byte) {
		before := h.counts(t)
		res := h.post(t, "/api/v1/events", auth, body)
		after := h.counts(t)
		switch res.status {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if changed := changedTables(before, after); len(changed) > 0 {
				t.Fatalf("a rejected body (%d: %s) changed %v", res.status, res.text, changed)
			}
		default:
			t.Fatalf("status %d for %q: %s", res.status, body, res.text)
		}
	})
}

// FuzzGitHubWebhook sends arbitrary, correctly signed bodies as GitHub
// deliveries: the server must answer 200, 202 or 400, never fail; a 400
// stores nothing, and an ignored delivery stores only its raw copy.
func FuzzGitHubWebhook(f *testing.F) {
	for _, fx := range []struct{ event, file string }{
		{"push", "push/main.json"}, {"pull_request", "pull_request/opened.json"},
		{"deployment_status", "deployment_status/success.json"}, {"issues", "issues/opened.json"},
		{"ping", "ping/ping.json"},
	} {
		body, err := os.ReadFile(filepath.Join(githubPayloads, fx.file))
		if err != nil {
			f.Fatalf("fixture %s: %v", fx.file, err)
		}
		f.Add(fx.event, body)
	}
	f.Add("push", []byte(`{"ref":"refs/heads/main","repository":{"full_name":"acme/shop","default_branch":"main"},"commits":[{}]}`))
	h := newHarness(f, "sqlite")
	n := 0
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		n++
		// Header values must be valid HTTP; GitHub's event names are [a-z_].
		event = strings.Map(func(r rune) rune {
			if r == '_' || r >= 'a' && r <= 'z' {
				return r
			}
			return -1
		}, event)
		hdr := http.Header{
			"X-Github-Event":      {event},
			"X-Github-Delivery":   {fmt.Sprintf("fuzz-%d", n)},
			"X-Hub-Signature-256": {github.Sign(githubSecret, body)},
			"Content-Type":        {"application/json"},
		}
		before := h.counts(t)
		res := h.post(t, "/webhooks/github", hdr, body)
		after := h.counts(t)
		switch res.status {
		case http.StatusOK:
		case http.StatusAccepted:
			if changed := changedTables(before, after, "raw_deliveries"); len(changed) > 0 {
				t.Fatalf("an ignored delivery changed %v: %s", changed, res.text)
			}
		case http.StatusBadRequest:
			if changed := changedTables(before, after); len(changed) > 0 {
				t.Fatalf("a malformed delivery changed %v: %s", changed, res.text)
			}
		default:
			t.Fatalf("status %d for %s %q: %s", res.status, event, body, res.text)
		}
	})
}
