package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/collect"
)

// fakeTerminal is stderr as a terminal: the progress line is redrawn on it.
type fakeTerminal struct {
	mu sync.Mutex
	bytes.Buffer
}

func (f *fakeTerminal) IsTerminal() bool { return true }
func (f *fakeTerminal) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Buffer.Write(p)
}

// vendor is a local API that counts its requests and reports a budget
// that goes down by one with each, in the named headers, so the last
// budget a run saw is limit minus the requests it made.
type vendor struct {
	mu                  sync.Mutex
	requests            int
	limit               int
	remaining, limitKey string
	answer              func(w http.ResponseWriter, r *http.Request)
}

func (v *vendor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	v.requests++
	n := v.requests
	v.mu.Unlock()
	if v.remaining != "" {
		w.Header().Set(v.remaining, strconv.Itoa(v.limit-n))
		w.Header().Set(v.limitKey, strconv.Itoa(v.limit))
	}
	w.Header().Set("Content-Type", "application/json")
	v.answer(w, r)
}

func (v *vendor) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.requests
}

// summaryLine is the progress's last line on stderr without its duration.
var summaryLine = regexp.MustCompile(`(?m)^((?:repositories|projects|services) \d+/\d+, .*), in [0-9.]+\S*s$`)

func summaryOf(t *testing.T, stderr string) string {
	t.Helper()
	m := summaryLine.FindAllStringSubmatch(stderr, -1)
	if len(m) != 1 {
		t.Fatalf("stderr has %d summary lines, want 1:\n%s", len(m), stderr)
	}
	return m[0][1]
}

func gitlabVendor() *vendor {
	return &vendor{limit: 2000, remaining: "RateLimit-Remaining", limitKey: "RateLimit-Limit", answer: func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.EscapedPath()
		switch {
		case strings.HasPrefix(p, "/projects/acme%2Fgone"):
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"404 Project Not Found"}`))
		case p == "/projects/acme%2Fshop":
			w.Write([]byte(`{"id":7,"path_with_namespace":"acme/shop","default_branch":"main"}`))
		case p == "/projects/acme%2Fshop/repository/commits":
			w.Write([]byte(`[{"id":"9fceb02d0ae598e95dc970b74767f19372d61af8","title":"fix","message":"fix",
				"author_name":"Ann","author_email":"ann@example.com","authored_date":"2026-03-02T09:00:00Z",
				"committed_date":"2026-03-02T09:00:00Z","parent_ids":["1a2b3c4d0ae598e95dc970b74767f19372d61af8"]}]`))
		default: // branches, merge requests, deployments, pipelines, issues: none
			w.Write([]byte(`[]`))
		}
	}}
}

// TestCollectProgress runs each `stride collect <vendor>` against a local
// API on a stderr that is not a terminal: no redraws, one summary line
// with the scopes, pages, requests and the budget the vendor's headers
// last reported; --quiet leaves it out.
func TestCollectProgress(t *testing.T) {
	t.Setenv("STRIDE_CONFIG", "")
	t.Setenv("STRIDE_DB", "")
	t.Setenv("GITLAB_TOKEN", "tok")
	t.Setenv("JIRA_EMAIL", "ann@example.com")
	t.Setenv("JIRA_TOKEN", "tok")
	t.Setenv("PAGERDUTY_TOKEN", "k")
	for _, tc := range []struct {
		name   string
		vendor *vendor
		args   func(url string) []string
		code   int
		// want is the summary line, worked out from the answers below.
		want string
	}{{
		// acme/shop: the project, its branches, main's commits (one),
		// merge requests, deployments, pipelines, incidents by type and
		// by the label "incident": 8 pages. acme/gone: a 404, a request
		// but no page. One at a time, so the last budget seen is the
		// ninth answer's: 2000-9.
		name:   "gitlab",
		vendor: gitlabVendor(),
		args: func(url string) []string {
			return []string{"collect", "gitlab", "--project", "acme/shop,acme/gone", "--api-url", url, "--concurrency", "1"}
		},
		code: 1,
		want: "projects 2/2, pages 8, requests 9, events 1 (1 new), rate limit 1991/2000 left",
	}, {
		// PAY: the site's statuses (not a page), one search page with one
		// issue, and one page of boards (none). OPS: a search page with
		// no issue and one of boards: 5 requests, 4 pages; 350-5 left.
		name: "jira",
		vendor: &vendor{limit: 350, remaining: "X-RateLimit-Remaining", limitKey: "X-RateLimit-Limit", answer: func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/rest/api/3/status":
				w.Write([]byte(`[{"name":"To Do","statusCategory":{"key":"new"}}]`))
			case "/rest/api/3/search/jql":
				issues := []any{}
				if strings.Contains(r.URL.Query().Get("jql"), `"PAY"`) {
					issues = append(issues, map[string]any{"id": "10001", "key": "PAY-1", "fields": map[string]any{
						"summary": "Pay by card", "issuetype": map[string]any{"name": "Story"}, "project": map[string]any{"key": "PAY"},
						"status":  map[string]any{"name": "To Do", "statusCategory": map[string]any{"key": "new"}},
						"created": "2026-03-01T09:00:00.000+0000", "updated": "2026-03-02T09:00:00.000+0000", "labels": []any{}, "components": []any{}}})
				}
				json.NewEncoder(w).Encode(map[string]any{"issues": issues, "isLast": true})
			case "/rest/agile/1.0/board":
				w.Write([]byte(`{"values":[],"isLast":true,"startAt":0,"maxResults":50}`))
			default:
				w.WriteHeader(http.StatusNotFound)
			}
		}},
		args: func(url string) []string {
			return []string{"collect", "jira", "--project", "PAY,OPS", "--url", url}
		},
		want: "projects 2/2, pages 4, requests 5, events 1 (1 new), rate limit 345/350 left",
	}, {
		// PSHOP01: one page of incidents with one resolved incident, one
		// page of its log entries (triggered, resolved): 2 requests, 2
		// pages, an event per entry; PagerDuty's headers are lower case.
		name: "pagerduty",
		vendor: &vendor{limit: 960, remaining: "ratelimit-remaining", limitKey: "ratelimit-limit", answer: func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/log_entries") {
				w.Write([]byte(`{"log_entries":[{"id":"L1","type":"trigger_log_entry","created_at":"2026-03-02T09:00:00Z"},
					{"id":"L2","type":"resolve_log_entry","created_at":"2026-03-02T09:30:00Z"}],"more":false}`))
				return
			}
			w.Write([]byte(`{"incidents":[{"id":"P1","type":"incident","title":"Checkout down","status":"resolved","urgency":"high",
				"created_at":"2026-03-02T09:00:00Z","service":{"id":"PSHOP01","type":"service_reference","summary":"Shop"}}],"more":false}`))
		}},
		args: func(url string) []string {
			return []string{"collect", "pagerduty", "--service", "PSHOP01", "--api-url", url}
		},
		want: "services 1/1, pages 2, requests 2, events 2 (2 new), rate limit 958/960 left",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.vendor)
			defer srv.Close()
			db := filepath.Join(t.TempDir(), "stride.db")
			args := append(tc.args(srv.URL), "--db", db)
			code, stdout, stderr := stride(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, stdout, stderr)
			}
			if strings.Contains(stderr, "\r") {
				t.Errorf("stderr is not a terminal but has redraws: %q", stderr)
			}
			if got := summaryOf(t, stderr); got != tc.want {
				t.Errorf("summary\n %q, want\n %q", got, tc.want)
			}
			if n := tc.vendor.count(); !strings.Contains(tc.want, "requests "+strconv.Itoa(n)+",") {
				t.Errorf("the server answered %d requests, the summary says %q", n, tc.want)
			}

			_, _, stderr = stride(t, append(args, "--quiet")...)
			if summaryLine.MatchString(stderr) {
				t.Errorf("--quiet, yet stderr has the progress: %q", stderr)
			}
		})
	}
}

// TestCollectProgressRedraws runs `stride collect gitlab` with stderr a
// terminal: the line is redrawn in place (a carriage return and an erase
// before each), at least once per project finished, and ends with the
// summary and a newline.
func TestCollectProgressRedraws(t *testing.T) {
	t.Setenv("STRIDE_CONFIG", "")
	t.Setenv("STRIDE_DB", "")
	t.Setenv("GITLAB_TOKEN", "tok")
	srv := httptest.NewServer(gitlabVendor())
	defer srv.Close()
	var stdout bytes.Buffer
	term := &fakeTerminal{}
	code := run(context.Background(), []string{"collect", "gitlab", "--project", "acme/shop,acme/gone", "--api-url", srv.URL,
		"--concurrency", "1", "--db", filepath.Join(t.TempDir(), "stride.db")}, &stdout, term)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, stdout.String(), term.String())
	}
	out := term.String()
	draws := strings.Split(out, "\r\033[K")
	// Before the first draw there is nothing; then at least one draw per
	// project finished and the final one.
	if draws[0] != "" || len(draws) < 1+3 {
		t.Fatalf("%d draws, want at least 3 in place:\n%q", len(draws)-1, out)
	}
	for _, d := range draws[1 : len(draws)-1] {
		if strings.Contains(d, "\n") {
			t.Errorf("a redraw %q ends a line; only the summary does", d)
		}
	}
	if !strings.Contains(out, "\r\033[Kprojects 1/2, ") {
		t.Errorf("no draw after the first project:\n%q", out)
	}
	// The summary ends the line; each project's outcome follows it.
	last, _, ended := strings.Cut(draws[len(draws)-1], "\n")
	if !strings.HasPrefix(last, "projects 2/2, pages 8, requests 9, events 1 (1 new), rate limit 1991/2000 left, in ") || !ended {
		t.Errorf("the last draw %q, want the summary ending the line", last)
	}
}

// TestProgressLine: the line in words for each budget a vendor may report,
// and the redraws a terminal gets from pages (at most one per
// redrawEvery) and scopes (each), on an injected clock.
func TestProgressLine(t *testing.T) {
	reset := time.Date(2026, 3, 2, 10, 0, 0, 0, time.Local)
	for _, tc := range []struct {
		name string
		p    collect.Progress
		want string
	}{
		{"no budget header", collect.Progress{Scopes: 3, ScopesDone: 1, Pages: 4, Requests: 5, Events: 6, Added: 2, Remaining: -1, Limit: -1},
			"services 1/3, pages 4, requests 5, events 6 (2 new), rate limit not reported"},
		{"a budget without its limit", collect.Progress{Scopes: 1, Remaining: 12, Limit: -1},
			"services 0/1, pages 0, requests 0, events 0 (0 new), rate limit 12 left"},
		{"a budget, its reset and time waited", collect.Progress{Scopes: 2, ScopesDone: 2, Remaining: 4990, Limit: 5000, Reset: reset, Waited: 61500 * time.Millisecond},
			"services 2/2, pages 0, requests 0, events 0 (0 new), rate limit 4990/5000 left, resets 10:00:00, waited 1m2s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newProgress(&bytes.Buffer{}, "services", false)
			if got := p.line(tc.p); got != tc.want {
				t.Errorf("line\n %q, want\n %q", got, tc.want)
			}
		})
	}

	t.Run("redraws on a terminal", func(t *testing.T) {
		term := &fakeTerminal{}
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		p := newProgress(term, "repositories", false)
		p.now = func() time.Time { return now }
		p.start = now
		page := collect.Progress{Scopes: 4, Pages: 1, Remaining: -1, Limit: -1}
		p.show(page) // the first page draws
		now = now.Add(50 * time.Millisecond)
		p.show(page) // too soon after: no draw
		now = now.Add(redrawEvery)
		p.show(page) // draws
		now = now.Add(30*time.Second - redrawEvery - 50*time.Millisecond)
		p.show(collect.Progress{Scopes: 4, ScopesDone: 1, Pages: 1, Remaining: -1, Limit: -1, Scope: "acme/api"}) // a scope: draws at once, 1 of 4 in 30s
		now = now.Add(time.Millisecond)
		p.show(collect.Progress{Scopes: 4, ScopesDone: 2, Pages: 1, Remaining: -1, Limit: -1, Scope: "acme/web", Err: errors.New("gone")})
		p.done()
		draws := strings.Split(term.String(), "\r\033[K")[1:]
		want := []string{
			"repositories 0/4, pages 1, requests 0, events 0 (0 new), rate limit not reported",
			"repositories 0/4, pages 1, requests 0, events 0 (0 new), rate limit not reported",
			"repositories 1/4, pages 1, requests 0, events 0 (0 new), rate limit not reported, about 1m30s left",
			"repositories 2/4, pages 1, requests 0, events 0 (0 new), rate limit not reported, about 30s left",
			"repositories 2/4, pages 1, requests 0, events 0 (0 new), rate limit not reported, in 30.001s\n",
		}
		if strings.Join(draws, "|") != strings.Join(want, "|") {
			t.Errorf("draws\n %q, want\n %q", draws, want)
		}
	})

	t.Run("quiet draws nothing", func(t *testing.T) {
		term := &fakeTerminal{}
		p := newProgress(term, "projects", true)
		p.show(collect.Progress{Scopes: 1, ScopesDone: 1, Scope: "a"})
		p.done()
		if term.Len() != 0 {
			t.Errorf("quiet progress wrote %q", term.String())
		}
	})
}
