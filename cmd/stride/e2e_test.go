package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/store/storetest"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine to write while
// the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// stride runs one command in-process and returns its exit code and output.
func stride(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// serve starts `stride serve` on a free port and returns its base URL and a
// function that stops it (as SIGTERM would) and returns its exit code.
func serve(t *testing.T, db string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	cfg := filepath.Join(t.TempDir(), "stride.yaml")
	if err := os.WriteFile(cfg, []byte("# no sources\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	go func() {
		done <- run(ctx, []string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--config", cfg}, stdout, stderr)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if line, ok := strings.CutPrefix(strings.TrimSpace(stdout.String()), "stride listening on "); ok {
			stop := func() int { cancel(); return <-done }
			t.Cleanup(func() { cancel() })
			return line, stop
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("serve did not start: %s", stderr.String())
	return "", nil
}

func post(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func get(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

const e2eHistory = `[
 {"key":"c1","kind":"change","change":{"repository":"shop","sha":"a1","commit_time":"2026-01-05T08:00:00Z"}},
 {"key":"c2","kind":"change","change":{"repository":"shop","sha":"b2","parents":["a1"],"commit_time":"2026-01-06T08:00:00Z"}},
 {"key":"c3","kind":"change","change":{"repository":"shop","sha":"c3","parents":["b2"],"commit_time":"2026-01-07T08:00:00Z"}},
 {"key":"d1","kind":"deployment","deployment":{"service":"shop","id":"1","sha":"a1","status":"success","finished_at":"2026-01-05T10:00:00Z"}},
 {"key":"d2","kind":"deployment","deployment":{"service":"shop","id":"2","sha":"c3","status":"success","finished_at":"2026-01-07T20:00:00Z"}},
 {"key":"d3","kind":"deployment","deployment":{"service":"shop","id":"3","sha":"c3","status":"failure","finished_at":"2026-01-08T09:00:00Z"}}
]`

// TestServeIngestReport runs the binary's own commands end to end on each
// database: a token, events in over HTTP, the report out over HTTP and on
// the command line, both the same.
func TestServeIngestReport(t *testing.T) {
	for name, db := range storetest.URLs(t) {
		t.Run(name, func(t *testing.T) {
			code, token, stderr := stride(t, "token", "create", "--db", db, "--name", "e2e", "--scope", "admin")
			if code != 0 || !strings.HasPrefix(token, "stride_") {
				t.Fatalf("token create: %d %q %s", code, token, stderr)
			}
			token = strings.TrimSpace(token)
			base, stop := serve(t, db)
			if code, body := post(t, base+"/api/v1/events", token, e2eHistory); code != 200 || !strings.Contains(body, `"added": 6`) {
				t.Fatalf("ingest: %d %s", code, body)
			}
			code, apiJSON := get(t, base+"/api/v1/dora?service=shop&from=2026-01-01&to=2026-02-01", token)
			if code != 200 {
				t.Fatalf("dora: %d %s", code, apiJSON)
			}
			if c := stop(); c != 0 {
				t.Fatalf("serve exited with %d after SIGTERM", c)
			}
			code, cliJSON, stderr := stride(t, "report", "dora", "--db", db, "--service", "shop", "--from", "2026-01-01", "--to", "2026-02-01", "--format", "json")
			if code != 0 {
				t.Fatalf("report: %d %s", code, stderr)
			}
			var api, cli map[string]any
			json.Unmarshal(apiJSON, &api)
			json.Unmarshal([]byte(cliJSON), &cli)
			a, _ := json.Marshal(api)
			c, _ := json.Marshal(cli)
			if !bytes.Equal(a, c) {
				t.Errorf("the API and the command line disagree:\n%s\n%s", a, c)
			}
			// Deployment 1 is the first: it ships only a1 (10:00 − 08:00 = 2 h).
			// Deployment 2 ships b2 (36 h) and c3 (12 h). Sorted 2, 12, 36 h:
			// the median is 12 h; p90 is the ⌈2.7⌉ = 3rd value, 36 h.
			lt := cli["lead_time"].(map[string]any)
			if lt["median_seconds"] != 43200.0 || lt["p90_seconds"] != 129600.0 || lt["count"] != 3.0 {
				t.Errorf("lead time %v", lt)
			}
			cfr := cli["change_failure_rate"].(map[string]any)
			if cfr["failed"] != 1.0 || cfr["deployments"] != 3.0 {
				t.Errorf("change failure rate %v", cfr)
			}
			code, table, _ := stride(t, "report", "dora", "--db", db, "--service", "shop", "--from", "2026-01-01", "--to", "2026-02-01")
			if code != 0 || !strings.Contains(table, "lead") {
				t.Errorf("table: %d %s", code, table)
			}
			code, explain, _ := stride(t, "report", "dora", "--db", db, "--service", "shop", "--from", "2026-01-01", "--to", "2026-02-01", "--explain", "lead_time")
			if code != 0 || !strings.Contains(explain, "b2") || !strings.Contains(explain, "c3") {
				t.Errorf("explain: %d %s", code, explain)
			}
		})
	}
}

// TestShutdownDrainsInFlightRequests stops the server while batches are
// being sent: every batch that was acknowledged must be in the store.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	db := filepath.Join(t.TempDir(), "stride.db")
	_, token, _ := stride(t, "token", "create", "--db", db, "--name", "e2e", "--scope", "ingest")
	token = strings.TrimSpace(token)
	base, stop := serve(t, db)
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := 0
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				var b strings.Builder
				b.WriteString("[")
				for j := 0; j < 100; j++ {
					if j > 0 {
						b.WriteString(",")
					}
					b.WriteString(`{"key":"k-` + itoa(w) + `-` + itoa(i) + `-` + itoa(j) + `","kind":"change","change":{"repository":"r","sha":"` + itoa(w) + `-` + itoa(i) + `-` + itoa(j) + `","commit_time":"2026-01-05T08:00:00Z"}}`)
				}
				b.WriteString("]")
				req, _ := http.NewRequest("POST", base+"/api/v1/events", strings.NewReader(b.String()))
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the server has stopped accepting
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == 200 {
					mu.Lock()
					acked += 100
					mu.Unlock()
				}
			}
		}(w)
	}
	time.Sleep(300 * time.Millisecond)
	if code := stop(); code != 0 {
		t.Fatalf("serve exited with %d", code)
	}
	wg.Wait()
	n := countRows(t, db, "changes")
	if n < acked {
		t.Fatalf("%d events were acknowledged but only %d are stored", acked, n)
	}
	if acked == 0 {
		t.Fatalf("no batch was acknowledged before the shutdown; the test proved nothing")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// countRows counts a table's rows straight from the SQLite file.
func countRows(t *testing.T, db, table string) int {
	t.Helper()
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportGitThenReport builds a repository with git, imports it, and
// reads the report: a user's first minute with Stride.
func TestImportGitThenReport(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is required")
	}
	dir := t.TempDir()
	gitc := func(date string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date,
			"GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=ann@example.com", "GIT_COMMITTER_NAME=Ann", "GIT_COMMITTER_EMAIL=ann@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	gitc("2026-01-05T08:00:00Z", "init", "-q", "-b", "main")
	gitc("2026-01-05T08:00:00Z", "commit", "-q", "--allow-empty", "-m", "first")
	gitc("2026-01-05T09:00:00Z", "tag", "-a", "v1.0.0", "-m", "v1.0.0")
	gitc("2026-01-06T08:00:00Z", "commit", "-q", "--allow-empty", "-m", "second")
	gitc("2026-01-06T10:00:00Z", "commit", "-q", "--allow-empty", "-m", "third")
	gitc("2026-01-06T11:00:00Z", "tag", "-a", "v1.1.0-rc1", "-m", "rc")
	gitc("2026-01-06T12:00:00Z", "tag", "-a", "v1.1.0", "-m", "v1.1.0")
	db := filepath.Join(t.TempDir(), "stride.db")
	code, out, stderr := stride(t, "import", "git", "--db", db, "--repo", dir, "--service", "app", "--deploy-tags", "v*", "--exclude-tags", "*-rc*", "--quiet")
	if code != 0 || !strings.Contains(out, "3 commits") {
		t.Fatalf("import: %d %s %s", code, out, stderr)
	}
	code, js, stderr := stride(t, "report", "dora", "--db", db, "--service", "app", "--from", "2026-01-01", "--to", "2026-02-01", "--format", "json")
	if code != 0 {
		t.Fatalf("report: %d %s", code, stderr)
	}
	var rep map[string]any
	json.Unmarshal([]byte(js), &rep)
	// v1.0.0 ships only "first" (1 h); v1.1.0 ships "second" (4 h) and
	// "third" (2 h). Median of 1, 2, 4 h is 2 h.
	lt := rep["lead_time"].(map[string]any)
	if lt["median_seconds"] != 7200.0 || lt["count"] != 3.0 {
		t.Errorf("lead time %v", lt)
	}
	if df := rep["deployment_frequency"].(map[string]any); df["count"] != 2.0 {
		t.Errorf("the rc tag must be excluded: %v", df)
	}
	// A re-run adds nothing.
	code, out, _ = stride(t, "import", "git", "--db", db, "--repo", dir, "--service", "app", "--deploy-tags", "v*", "--exclude-tags", "*-rc*", "--quiet")
	if code != 0 || !strings.Contains(out, " 0 new events") {
		t.Errorf("re-import: %d %s", code, out)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"report"}, {"report", "dora", "--format", "xml"}, {"import", "svn"}, {"report", "dora", "--from", "soon"}} {
		if code, _, _ := stride(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}
