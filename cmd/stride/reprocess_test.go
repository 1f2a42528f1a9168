package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/store/storetest"
)

const reprocessSecret = "reprocess-test-secret"

// lockedBuffer collects the server's log, written from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveConfig runs `stride serve` through run() on a free loopback port and
// returns its base URL and a function that stops it and waits for it.
func serveConfig(t *testing.T, config string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var logs lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", config, "--addr", "127.0.0.1:0", "--log-level", "warn"}, pw, &logs)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("stride serve did not start: %v\n%s", err, logs.String())
	}
	go io.Copy(io.Discard, pr)
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "stride listening on ")
	if !ok {
		cancel()
		t.Fatalf("unexpected first line %q", line)
	}
	return url, func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("stride serve exited %d:\n%s", code, logs.String())
		}
	}
}

// postGitHub sends a signed GitHub delivery.
func postGitHub(t *testing.T, base, event, id, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/webhooks/github", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(github.HeaderEvent, event)
	req.Header.Set(github.HeaderDelivery, id)
	req.Header.Set(github.HeaderSignature, github.Sign(reprocessSecret, []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		t.Fatalf("%s %s: %d %s", event, id, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// Minimal GitHub deliveries of one repository, acme/shop: two commits on
// main, their deployment to production, and a release of the second commit.
const (
	repoJSON = `"repository":{"full_name":"acme/shop","default_branch":"main"}`
	sha1     = "1111111111111111111111111111111111111111"
	sha2     = "2222222222222222222222222222222222222222"
)

var reprocessDeliveries = []struct{ event, id, body string }{
	{"push", "d-push", `{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000","created":true,` +
		`"commits":[{"id":"` + sha1 + `","message":"one","timestamp":"2026-03-02T08:00:00Z","author":{"username":"alice"}},` +
		`{"id":"` + sha2 + `","message":"two","timestamp":"2026-03-02T09:00:00Z","author":{"username":"alice"}}],` + repoJSON + `}`},
	{"deployment_status", "d-status", `{"action":"created","deployment":{"id":501,"sha":"` + sha2 + `","environment":"production",` +
		`"created_at":"2026-03-02T10:00:00Z","updated_at":"2026-03-02T10:00:00Z"},` +
		`"deployment_status":{"id":601,"state":"success","created_at":"2026-03-02T10:30:00Z"},` + repoJSON + `}`},
	{"release", "d-release", `{"action":"published","release":{"id":701,"tag_name":"v1.0.0","target_commitish":"` + sha2 + `",` +
		`"published_at":"2026-03-03T12:00:00Z"},` + repoJSON + `}`},
}

// doraJSON runs `stride report dora --format json` for a scope flag.
func doraJSON(t *testing.T, config string, scope ...string) dora.Report {
	t.Helper()
	args := append([]string{"dora", "--config", config, "--format", "json", "--from", "2026-03-02", "--to", "2026-03-09"}, scope...)
	var stdout, stderr bytes.Buffer
	if code := runReport(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("stride report %v: exit %d: %s", args, code, stderr.String())
	}
	var r dora.Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout.String())
	}
	return r
}

// TestReprocessAppliesANewMapping ingests GitHub deliveries through a
// running `stride serve`, changes stride.yaml, and runs `stride reprocess
// --source github`. It pins down what reprocessing can and cannot undo:
//
//   - It can apply what a delivery newly means: a release that was ignored
//     (releases were not deployments) becomes a deployment once
//     releases_as_deployments is on, because ignored deliveries are kept raw
//     and translated again.
//   - It re-derives deployments under the newly mapped service, so the new
//     service gets its full history.
//   - It takes back what the old mapping derived: the entities only GitHub
//     reported are removed and rebuilt, so the deployment no longer stays
//     under the old service (named after the repository, "shop") and the
//     org-wide report counts it once.
func TestReprocessAppliesANewMapping(t *testing.T) {
	urls := storetest.URLs(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range urls {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			config := filepath.Join(dir, "stride.yaml")
			write := func(body string) {
				t.Helper()
				if err := os.WriteFile(config, []byte(fmt.Sprintf("db: %q\n", urls[name])+body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			// Before: no services configured, so acme/shop is the service
			// "shop"; releases are not deployments.
			write("sources:\n  github:\n    secret: " + reprocessSecret + "\n")
			base, stop := serveConfig(t, config)
			statuses := map[string]int{}
			for _, d := range reprocessDeliveries {
				statuses[d.event] = postGitHub(t, base, d.event, d.id, d.body)
			}
			stop()
			if statuses["release"] != http.StatusAccepted {
				t.Fatalf("the release was answered %d, want 202 (ignored) before the change", statuses["release"])
			}
			before := doraJSON(t, config, "--service", "shop")
			if before.DeploymentFrequency.Count != 1 || before.LeadTime.Count != 1 {
				t.Fatalf("before: shop has %d deployments and %d changes, want 1 and 1 (the first deployment ships its own commit)",
					before.DeploymentFrequency.Count, before.LeadTime.Count)
			}

			// After: acme/shop belongs to the service storefront of team
			// web, and releases are deployments.
			write("services:\n  - name: storefront\n    team: web\n    repositories: [acme/shop]\n" +
				"sources:\n  github:\n    secret: " + reprocessSecret + "\n    releases_as_deployments: true\n")
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{"reprocess", "--source", "github", "--config", config}, &stdout, &stderr); code != 0 {
				t.Fatalf("stride reprocess: exit %d: %s", code, stderr.String())
			}
			// Three deliveries: the push's two changes, the status's
			// deployment and the release's deployment, none skipped. The
			// three entities the old mapping derived (two changes, deployment
			// 501 under shop) are rebuilt.
			if want := "reprocessed 3 github deliveries: 4 events derived, 0 deliveries ignored or unreadable; 3 entities rebuilt, 0 shared with other sources merged into"; !strings.Contains(stdout.String(), want) {
				t.Errorf("reprocess said %q, want %q", stdout.String(), want)
			}

			t.Run("the new service has the deployments, the release included", func(t *testing.T) {
				r := doraJSON(t, config, "--service", "storefront")
				// 501 (10:30, ships its own commit sha2) and release-v1.0.0
				// of the same sha2 the next day, which ships nothing new.
				if r.DeploymentFrequency.Count != 2 || r.DeploymentFrequency.DeploymentDays != 2 {
					t.Errorf("storefront deployments %+v, want 2 on 2 days", r.DeploymentFrequency)
				}
				if r.LeadTime.Count != 1 || r.LeadTime.MedianSeconds == nil || *r.LeadTime.MedianSeconds != 5400 {
					t.Errorf("storefront lead time %+v, want sha2's 1 h 30", r.LeadTime)
				}
				if team := doraJSON(t, config, "--team", "web"); team.DeploymentFrequency.Count != 2 {
					t.Errorf("team web has %d deployments, want 2", team.DeploymentFrequency.Count)
				}
			})
			t.Run("nothing of the old mapping is left behind", func(t *testing.T) {
				r := doraJSON(t, config, "--service", "shop")
				if r.DeploymentFrequency.Count != 0 {
					t.Errorf("shop has %d deployments after reprocessing, want 0: deployment 501 moved to storefront", r.DeploymentFrequency.Count)
				}
				if org := doraJSON(t, config); org.DeploymentFrequency.Count != 2 {
					t.Errorf("the org counts %d deployments, want 2: deployment 501 once, under storefront, and the release", org.DeploymentFrequency.Count)
				}
			})
			t.Run("reprocessing twice changes nothing more", func(t *testing.T) {
				before := doraJSON(t, config)
				stdout.Reset()
				if code := run(context.Background(), []string{"reprocess", "--source", "github", "--config", config}, &stdout, &stderr); code != 0 {
					t.Fatalf("stride reprocess: exit %d: %s", code, stderr.String())
				}
				after := doraJSON(t, config)
				a, _ := json.Marshal(before)
				b, _ := json.Marshal(after)
				if string(a) != string(b) {
					t.Errorf("a second reprocess changed the report:\n%s\n%s", a, b)
				}
			})
		})
	}
}
