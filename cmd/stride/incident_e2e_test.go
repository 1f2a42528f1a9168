package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/store/storetest"
)

// pageReceiver is a local PagerDuty Events API: while down it answers 503;
// up, it accepts and keeps each event.
type pageReceiver struct {
	mu       sync.Mutex
	up       bool
	attempts int
	pages    []map[string]any
}

func (p *pageReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempts++
	if !p.up {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var ev map[string]any
	json.Unmarshal(body, &ev)
	p.pages = append(p.pages, ev)
	w.WriteHeader(http.StatusAccepted)
}

func (p *pageReceiver) state() (attempts int, pages []map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.attempts, append([]map[string]any(nil), p.pages...)
}

// startBinary runs the built stride binary's serve and returns its URL.
func startBinary(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "stride listening on "); ok {
				lines <- u
			}
		}
	}()
	select {
	case u := <-lines:
		return cmd, u
	case <-time.After(30 * time.Second):
		t.Fatal("stride serve did not start")
	}
	return nil, ""
}

// TestPageSurvivesKill9 opens a severity 0 incident while the pager is
// down, kills the server with SIGKILL after the commit, and starts it again
// with the pager up: the page arrives.
func TestPageSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "stride")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	for name, dbURL := range storetest.URLs(t) {
		t.Run(name, func(t *testing.T) {
			recv := &pageReceiver{}
			pd := httptest.NewServer(recv)
			defer pd.Close()
			cfg := filepath.Join(t.TempDir(), "stride.yaml")
			yaml := `response:
  routes:
    page: {pagerduty: {routing_key: R0UT1NG, url: "` + pd.URL + `/v2/enqueue"}}
  outbox: {every: 50ms, backoff: 400ms, max_backoff: 400ms, attempts: 50, timeout: 2s}
`
			if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			args := []string{"serve", "--dev", "--db", dbURL, "--addr", "127.0.0.1:0", "--config", cfg, "--log-level", "error"}
			first, url := startBinary(t, bin, args...)
			res, err := http.Post(url+"/api/v1/incidents", "application/json",
				strings.NewReader(`{"service": "api", "id": "INC-1", "severity": 0, "title": "checkout down"}`))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				t.Fatalf("open: %d", res.StatusCode)
			}
			// The open is committed; wait until the server has tried the
			// pager once, then kill it with no chance to clean up.
			for deadline := time.Now().Add(20 * time.Second); ; {
				if n, _ := recv.state(); n > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the first server never tried the pager")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := first.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			first.Wait()
			if _, pages := recv.state(); len(pages) != 0 {
				t.Fatalf("paged while down: %v", pages)
			}

			recv.mu.Lock()
			recv.up = true
			recv.mu.Unlock()
			_, url = startBinary(t, bin, args...)
			var pages []map[string]any
			for deadline := time.Now().Add(30 * time.Second); len(pages) == 0; {
				if time.Now().After(deadline) {
					t.Fatal("the page never arrived after the restart")
				}
				time.Sleep(20 * time.Millisecond)
				_, pages = recv.state()
			}
			p := pages[0]
			payload, _ := p["payload"].(map[string]any)
			if p["event_action"] != "trigger" || p["dedup_key"] != "stride/api/INC-1" || p["routing_key"] != "R0UT1NG" || payload["severity"] != "critical" {
				t.Errorf("page %v", p)
			}
			// Delivered, so nothing is left undelivered.
			for deadline := time.Now().Add(10 * time.Second); ; {
				res, err := http.Get(url + "/api/v1/notifications?state=undelivered")
				if err != nil {
					t.Fatal(err)
				}
				var body struct{ Notifications []any }
				json.NewDecoder(res.Body).Decode(&body)
				res.Body.Close()
				if len(body.Notifications) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("still undelivered: %v", body.Notifications)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
