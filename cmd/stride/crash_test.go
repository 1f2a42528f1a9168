package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestEveryAcknowledgedEventSurvivesSIGKILL builds the stride binary, runs
// `stride serve` as a subprocess under concurrent batches of deployment
// updates, SIGKILLs it at random moments five times, restarts it each time,
// and then checks the database: every event acknowledged with a 200 is
// stored exactly once, and every deployment is at the latest state any
// acknowledged report gave it (or a later one whose answer the kill cut
// off). It runs in `go test ./...` and takes about 10 s a database;
// -short skips it.
func TestEveryAcknowledgedEventSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it: not in -short")
	}
	bin := filepath.Join(t.TempDir(), "stride")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for name, db := range storetest.URLs(t) {
		t.Run(name, func(t *testing.T) { crashRun(t, bin, name, db) })
	}
}

// sent is one report the clients sent: the deployment it updates and the
// sha that says which report it was.
type sent struct {
	deployment string
	sha        string
	at         time.Time
}

func crashRun(t *testing.T, bin, name, db string) {
	code, token, stderr := stride(t, "token", "create", "--db", db, "--name", "crash", "--scope", "admin")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, stderr)
	}
	token = strings.TrimSpace(token)
	cfg := filepath.Join(t.TempDir(), "stride.yaml")
	if err := os.WriteFile(cfg, []byte("# no sources\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var (
		mu       sync.Mutex
		reports  = map[string]sent{} // by event key: everything sent
		acked    = map[string]bool{} // event keys answered 200
		counter  atomic.Int64
		batchSeq atomic.Int64
	)
	const deployments, clients, kills = 12, 3, 5
	client := &http.Client{Timeout: 5 * time.Second}
	load := func(base string, stop <-chan struct{}, wg *sync.WaitGroup) {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			b := batchSeq.Add(1)
			var body strings.Builder
			var keys []string
			body.WriteString("[")
			for i := range 8 {
				n := counter.Add(1)
				d := fmt.Sprint(rand.IntN(deployments))
				at := t0.Add(time.Duration(n) * time.Second)
				sha := fmt.Sprintf("%040x", n)
				key := fmt.Sprintf("b%d-e%d", b, i)
				if i > 0 {
					body.WriteString(",")
				}
				fmt.Fprintf(&body, `{"key":%q,"kind":"deployment","deployment":{"service":"svc","id":%q,"status":"success","sha":%q,"finished_at":%q}}`,
					key, d, sha, at.Format(time.RFC3339))
				mu.Lock()
				reports[key] = sent{d, sha, at}
				mu.Unlock()
				keys = append(keys, key)
			}
			body.WriteString("]")
			req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/events", strings.NewReader(body.String()))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := client.Do(req)
			if err != nil {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				mu.Lock()
				for _, k := range keys {
					acked[k] = true
				}
				mu.Unlock()
			} else if resp.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("batch %d: status %d, want 200 or 503", b, resp.StatusCode)
			}
		}
	}
	for round := 0; round <= kills; round++ {
		cmd, base := startServe(t, bin, db, cfg)
		if round == kills {
			// The last start only proves the database opens after the kills.
			if resp, err := client.Get(base + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("readyz after %d kills: %v %v", kills, resp, err)
			}
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
			break
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go load(base, stop, &wg)
		}
		time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		close(stop)
		wg.Wait()
	}
	if len(acked) == 0 {
		t.Fatal("no batch was acknowledged: the load never reached the server")
	}

	driver := "sqlite"
	if name == "postgres" {
		driver = "pgx"
	}
	conn, err := sql.Open(driver, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stored := map[string]bool{}
	rows, err := conn.Query("SELECT key FROM events")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		if stored[k] {
			t.Errorf("event %s stored twice", k)
		}
		stored[k] = true
	}
	rows.Close()
	latest := map[string]sent{}
	for k := range acked {
		if !stored[k] {
			t.Errorf("acknowledged event %s is not stored", k)
		}
		r := reports[k]
		if r.at.After(latest[r.deployment].at) {
			latest[r.deployment] = r
		}
	}
	for k := range stored {
		if _, ok := reports[k]; !ok {
			t.Errorf("stored event %s was never sent", k)
		}
	}
	bySHA := map[string]sent{}
	for _, r := range reports {
		bySHA[r.sha] = r
	}
	for d, want := range latest {
		var sha string
		if err := conn.QueryRow(rebindFor(name, "SELECT sha FROM deployments WHERE service = 'svc' AND id = ?"), d).Scan(&sha); err != nil {
			t.Fatalf("deployment %s: %v", d, err)
		}
		got, ok := bySHA[sha]
		if !ok || got.deployment != d || got.at.Before(want.at) {
			t.Errorf("deployment %s is at %s (%v), want the latest acknowledged %s (%v) or later", d, sha, got.at, want.sha, want.at)
		}
	}
	t.Logf("%s: %d kills, %d events sent, %d acknowledged, %d stored", name, kills, len(reports), len(acked), len(stored))
}

func rebindFor(name, q string) string {
	if name == "postgres" {
		return strings.Replace(q, "?", "$1", 1)
	}
	return q
}

// startServe starts the binary on a free port and returns it with its URL.
func startServe(t *testing.T, bin, db, cfg string) (*exec.Cmd, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin, "serve", "--db", db, "--addr", "127.0.0.1:0", "--config", cfg, "--log-level", "error")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "stride listening on "); ok {
				lines <- addr
			}
		}
	}()
	select {
	case addr := <-lines:
		return cmd, addr
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("stride serve did not start in 20 s")
		return nil, ""
	}
}
