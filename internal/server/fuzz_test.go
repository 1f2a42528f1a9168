package server_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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

// newFuzzHarness opens one store for a whole fuzz run, on a memory file
// system where there is one (/dev/shm): every delivery commits with an
// fsync, which on a disk costs more than the rest of the input; an input
// leaves the store empty again (reset), so inputs do not slow down as the
// history grows. Counted in the target on a loaded 2-core machine, this
// took FuzzGitHubWebhook from 213 inputs a second (and falling as the
// store grew) to 326. The fuzzer's own count stood still for another
// reason: it minimises each new interesting input (a 3.5 KB fixture
// mutated) for up to a minute by default, counting none of those runs, so
// fuzz with a bounded minimisation:
//
//	go test ./internal/server -run '^$' -fuzz FuzzGitHubWebhook -fuzzminimizetime 50x
//
// which reports 100-180 execs/s here (9 in 6 s without the flag).
func newFuzzHarness(f *testing.F) *harness {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		f.Setenv("TMPDIR", "/dev/shm")
	}
	return newHarness(f, "sqlite")
}

// reset empties the tables an input may have filled, in one statement per
// table, so the next input starts from the same empty store.
func (h *harness) reset(t *testing.T) {
	for _, tbl := range append(slices.Clone(tables), "shipping_state", "shipments", "deployment_changes") {
		if _, err := h.raw.Exec("DELETE FROM " + tbl); err != nil {
			t.Fatalf("reset %s: %v", tbl, err)
		}
	}
}

// FuzzNativeEvents sends arbitrary bodies to POST /api/v1/events: the
// server must answer 200, 400, 409 or 413, never fail, and a rejected body must
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
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusConflict:
			if changed := changedTables(before, after); len(changed) > 0 {
				t.Fatalf("a rejected body (%d: %s) changed %v", res.status, res.text, changed)
			}
		default:
			t.Fatalf("status %d for %q: %s", res.status, body, res.text)
		}
	})
}

// FuzzGitHubWebhook sends arbitrary, correctly signed bodies as GitHub
// deliveries: the server must answer 200, 202, 400 or 409, never fail; a
// 400 or 409 stores nothing, and an ignored delivery stores only its raw copy.
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
	h := newFuzzHarness(f)
	n := 0
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		n++
		defer h.reset(t)
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
		case http.StatusBadRequest, http.StatusConflict:
			// 409: a mutated body reused an event key with other content.
			if changed := changedTables(before, after); len(changed) > 0 {
				t.Fatalf("a refused delivery (%d) changed %v: %s", res.status, changed, res.text)
			}
		default:
			t.Fatalf("status %d for %s %q: %s", res.status, event, body, res.text)
		}
	})
}
