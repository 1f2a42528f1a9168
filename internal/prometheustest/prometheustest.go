// Package prometheustest runs a real Prometheus for tests that pull from
// one: Debian's prometheus binary (which .ci/run installs), scraping one
// target every 100 ms, on a free port of its own. Without the binary a
// test is skipped, unless STRIDE_PROMETHEUS=require makes it fail.
package prometheustest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a Prometheus process that can be stopped and started again
// on the same address and data, as a server that goes down for a while.
type Server struct {
	t              testing.TB
	bin, dir, addr string
	cmd            *exec.Cmd
}

// Start runs Prometheus scraping target (a URL) and stops it when the
// test ends.
func Start(t testing.TB, target string) *Server {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("STRIDE_PROMETHEUS") == "require" {
			t.Fatal("STRIDE_PROMETHEUS=require but no prometheus binary is on PATH (apt-get install prometheus)")
		}
		t.Skip("no prometheus binary (apt-get install prometheus; STRIDE_PROMETHEUS=require makes this fail)")
	}
	dir := t.TempDir()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global: {scrape_interval: 100ms, scrape_timeout: 100ms}
scrape_configs:
  - job_name: app
    honor_timestamps: true
    static_configs: [{targets: [%q]}]
`, u.Host)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Server{t: t, bin: bin, dir: dir, addr: l.Addr().String()}
	l.Close()
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

// URL is the server's address, for a query_range client.
func (p *Server) URL() string { return "http://" + p.addr }

// Start starts the process again after Stop, and waits until it is ready.
func (p *Server) Start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, "--config.file="+filepath.Join(p.dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(p.dir, "data"), "--web.listen-address="+p.addr)
	log, err := os.Create(filepath.Join(p.dir, "log"))
	if err != nil {
		p.t.Fatal(err)
	}
	p.cmd.Stdout, p.cmd.Stderr = log, log
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(p.URL() + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("prometheus did not get ready:\n%s", p.log())
}

// Stop ends the process; its data stays for Start.
func (p *Server) Stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	p.cmd = nil
}

func (p *Server) log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "log"))
	return string(b)
}

// WaitFor waits until Prometheus has stored the sample of metric
// (a series the target serves with explicit timestamps) at time at.
func (p *Server) WaitFor(metric string, at time.Time) {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	ts := strconv.FormatInt(at.Unix(), 10)
	q := url.Values{"query": {"timestamp(" + metric + ")"}, "time": {ts}}
	for time.Now().Before(deadline) {
		if resp, err := http.Get(p.URL() + "/api/v1/query?" + q.Encode()); err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), `"`+ts+`"`) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("prometheus has no sample of %s at %s:\n%s", metric, at, p.log())
}
