package server_test

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/conformance"
	"github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/ingest/pagerduty"
	"github.com/stride-oss/stride/internal/server"
)

// sourceCase describes one configured source for the handler tests: how a
// delivery is authenticated, a real delivery it accepts and the table that
// delivery writes, and a real delivery it ignores.
type sourceCase struct {
	name string
	// auth returns the headers that authenticate body; wrongAuth headers
	// of the same kind with a wrong secret or token.
	auth, wrongAuth func(body []byte) http.Header
	// valid is an accepted delivery (headers without authentication) and
	// id its delivery id; entity is the table it writes to.
	valid  func(t testing.TB) (http.Header, []byte)
	id     string
	entity string
	// ignored is a delivery the connector does not use.
	ignored func(t testing.TB) (http.Header, []byte)
	// malformed are the headers that go with a body that is not JSON, so
	// it is the body the connector rejects.
	malformed http.Header
}

func bearer(token string) func([]byte) http.Header {
	return func([]byte) http.Header { return headers("Authorization", "Bearer "+token) }
}

func fixture(path string, kv ...string) func(t testing.TB) (http.Header, []byte) {
	return func(t testing.TB) (http.Header, []byte) { return headers(kv...), readFile(t, path) }
}

func sourceCases() []sourceCase {
	return []sourceCase{
		{
			name:      "github",
			auth:      func(b []byte) http.Header { return headers(github.HeaderSignature, github.Sign(githubSecret, b)) },
			wrongAuth: func(b []byte) http.Header { return headers(github.HeaderSignature, github.Sign("not-the-secret", b)) },
			valid: fixture(filepath.Join(githubPayloads, "push", "new-branch.json"),
				github.HeaderEvent, "push", github.HeaderDelivery, "gh-push-1"),
			id: "gh-push-1", entity: "changes",
			ignored: fixture(filepath.Join(githubPayloads, "ping", "ping.json"),
				github.HeaderEvent, "ping", github.HeaderDelivery, "gh-ping-1"),
			malformed: headers(github.HeaderEvent, "push"),
		},
		{
			name:      "gitlab",
			auth:      func([]byte) http.Header { return headers("X-Gitlab-Token", gitlabToken) },
			wrongAuth: func([]byte) http.Header { return headers("X-Gitlab-Token", "not-the-token") },
			valid: fixture(filepath.Join(gitlabPayloads, "push.json"),
				"X-Gitlab-Event", "Push Hook", "X-Gitlab-Event-UUID", "gl-push-1"),
			id: "gl-push-1", entity: "changes",
			ignored: fixture(filepath.Join(gitlabPayloads, "tag_push.json"),
				"X-Gitlab-Event", "Tag Push Hook", "X-Gitlab-Event-UUID", "gl-tag-1"),
			malformed: headers("X-Gitlab-Event", "Push Hook"),
		},
		{
			name:      "jira",
			auth:      func(b []byte) http.Header { return headers("X-Hub-Signature", "sha256="+hmacHex(jiraSecret, b)) },
			wrongAuth: func(b []byte) http.Header { return headers("X-Hub-Signature", "sha256="+hmacHex("not-the-secret", b)) },
			valid: fixture(filepath.Join("..", "ingest", "jira", "testdata", "payloads", "issue_created.json"),
				"X-Atlassian-Webhook-Identifier", "jira-1"),
			id: "jira-1", entity: "work_items",
			ignored: fixture(filepath.Join("..", "ingest", "jira", "testdata", "payloads", "comment_created.json"),
				"X-Atlassian-Webhook-Identifier", "jira-2"),
		},
		{
			name: "pagerduty",
			auth: func(b []byte) http.Header {
				return headers(pagerduty.SignatureHeader, "v1="+hmacHex(pagerdutySecret, b))
			},
			wrongAuth: func(b []byte) http.Header {
				return headers(pagerduty.SignatureHeader, "v1="+hmacHex("not-the-secret", b))
			},
			valid: fixture(filepath.Join("..", "ingest", "pagerduty", "testdata", "incident.triggered.json")),
			// PagerDuty's delivery id is the event's id.
			id: "01DEN6YDZE0ZM4V3XX2CT8MS9A", entity: "incidents",
			ignored: fixture(filepath.Join("..", "ingest", "pagerduty", "testdata", "service.updated.json")),
		},
		{
			name: "alertmanager", auth: bearer(alertmanagerToken), wrongAuth: bearer("not-the-token"),
			valid: fixture(filepath.Join("..", "ingest", "alertmanager", "testdata", "firing.json"),
				"Content-Type", "application/json"),
			entity: "incidents",
			// Alertmanager sends nothing without alerts; a notification of
			// none is valid and unused.
			ignored: func(t testing.TB) (http.Header, []byte) {
				return headers("Content-Type", "application/json"),
					[]byte(`{"receiver":"stride","status":"resolved","alerts":[],"groupLabels":{},"commonLabels":{},"version":"4","groupKey":"{}:{}"}`)
			},
		},
		{
			name: "argocd", auth: bearer(argocdToken), wrongAuth: bearer("not-the-token"),
			valid: fixture(filepath.Join("..", "ingest", "argocd", "testdata", "sync-succeeded.json"),
				"Content-Type", "application/json"),
			entity: "deployments",
			// The same notification in a sync phase Stride does not map.
			ignored: func(t testing.TB) (http.Header, []byte) {
				body := readFile(t, filepath.Join("..", "ingest", "argocd", "testdata", "sync-succeeded.json"))
				return headers("Content-Type", "application/json"),
					bytes.Replace(body, []byte(`"syncPhase": "Succeeded"`), []byte(`"syncPhase": "Terminating"`), 1)
			},
		},
		{
			name: "cdevents", auth: bearer(cdeventsToken), wrongAuth: bearer("not-the-token"),
			valid: func(t testing.TB) (http.Header, []byte) {
				return readHTTPDelivery(t, filepath.Join("..", "ingest", "cdevents", "testdata", "service.deployed.http"))
			},
			id: "/clusters/prod-eu/namespaces/shop#c2a4e6f8-0b1d-4e3f-9a5c-7e9f1b3d5001", entity: "deployments",
			// The same event retyped as an artifact event, which Stride
			// does not use.
			ignored: func(t testing.TB) (http.Header, []byte) {
				h, body := readHTTPDelivery(t, filepath.Join("..", "ingest", "cdevents", "testdata", "service.deployed.http"))
				body = bytes.ReplaceAll(body, []byte("dev.cdevents.service.deployed.0.2.0"), []byte("dev.cdevents.artifact.published.0.2.0"))
				body = bytes.ReplaceAll(body, []byte("c2a4e6f8-0b1d-4e3f-9a5c-7e9f1b3d5001"), []byte("c2a4e6f8-0b1d-4e3f-9a5c-7e9f1b3d5999"))
				return h, body
			},
			malformed: headers("Content-Type", "application/cloudevents+json"),
		},
	}
}

// assertNothingStored checks that no table changed since before.
func assertNothingStored(t *testing.T, h *harness, before map[string]int) {
	t.Helper()
	if after := h.counts(t); !maps.Equal(before, after) {
		t.Errorf("rows changed: before %v, after %v", before, after)
	}
}

func TestWebhookSources(t *testing.T) {
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		for _, sc := range sourceCases() {
			t.Run(sc.name, func(t *testing.T) {
				h := open(t)
				path := "/webhooks/" + sc.name
				vh, vbody := sc.valid(t)

				t.Run("a delivery with a wrong secret is refused and nothing is stored", func(t *testing.T) {
					before := h.counts(t)
					r := h.post(t, path, mergeHeaders(vh, sc.wrongAuth(vbody)), vbody)
					if r.status != http.StatusUnauthorized {
						t.Fatalf("status %d, want 401: %s", r.status, r.text)
					}
					assertNothingStored(t, h, before)
				})
				t.Run("a delivery without authentication is refused and nothing is stored", func(t *testing.T) {
					before := h.counts(t)
					r := h.post(t, path, vh, vbody)
					if r.status != http.StatusUnauthorized {
						t.Fatalf("status %d, want 401: %s", r.status, r.text)
					}
					assertNothingStored(t, h, before)
				})
				// Sources that sign the body (the others send a token)
				// must refuse a body that is not the one signed.
				signsBody := sc.name == "github" || sc.name == "jira" || sc.name == "pagerduty"
				if signsBody {
					t.Run("a body other than the one signed is refused", func(t *testing.T) {
						before := h.counts(t)
						tampered := bytes.Replace(vbody, []byte("{"), []byte("{ "), 1)
						r := h.post(t, path, mergeHeaders(vh, sc.auth(vbody)), tampered)
						if r.status != http.StatusUnauthorized {
							t.Fatalf("status %d, want 401: %s", r.status, r.text)
						}
						assertNothingStored(t, h, before)
					})
				}
				t.Run("a malformed body is a 400 and nothing is stored", func(t *testing.T) {
					before := h.counts(t)
					body := []byte(`{"this is": not json`)
					r := h.post(t, path, mergeHeaders(sc.malformed, sc.auth(body)), body)
					if r.status != http.StatusBadRequest {
						t.Fatalf("status %d, want 400: %s", r.status, r.text)
					}
					assertNothingStored(t, h, before)
				})
				t.Run("a valid delivery is stored raw and translated", func(t *testing.T) {
					before := h.counts(t)
					r := h.post(t, path, mergeHeaders(vh, sc.auth(vbody)), vbody)
					if r.status != http.StatusOK {
						t.Fatalf("status %d, want 200: %s", r.status, r.text)
					}
					after := h.counts(t)
					if after["raw_deliveries"] != before["raw_deliveries"]+1 {
						t.Errorf("raw deliveries %d → %d, want one more", before["raw_deliveries"], after["raw_deliveries"])
					}
					if after[sc.entity] <= before[sc.entity] || after["events"] <= before["events"] {
						t.Errorf("no %s stored: before %v, after %v", sc.entity, before, after)
					}
					if sc.id != "" {
						if outcome, ok := h.rawDelivery(t, sc.name, sc.id); !ok || outcome != "accepted" {
							t.Errorf("raw delivery %s: outcome %q, stored %v", sc.id, outcome, ok)
						}
					}
					m := h.metrics(t)
					if m[deliveryMetric(sc.name, "accepted")] != 1 {
						t.Errorf("%s = %v, want 1", deliveryMetric(sc.name, "accepted"), m[deliveryMetric(sc.name, "accepted")])
					}

					// A redelivery (same delivery id, same body) changes no
					// stored count and ingests no event.
					ingested := m[`stride_events_ingested_total{source="`+sc.name+`"}`]
					r = h.post(t, path, mergeHeaders(vh, sc.auth(vbody)), vbody)
					if r.status != http.StatusOK {
						t.Fatalf("redelivery: status %d, want 200: %s", r.status, r.text)
					}
					if r.body["added"] != float64(0) {
						t.Errorf("redelivery added %v events, want 0", r.body["added"])
					}
					if again := h.counts(t); !maps.Equal(after, again) {
						t.Errorf("redelivery changed rows: %v → %v", after, again)
					}
					if got := h.metrics(t)[`stride_events_ingested_total{source="`+sc.name+`"}`]; got != ingested {
						t.Errorf("redelivery moved stride_events_ingested_total from %v to %v", ingested, got)
					}
				})
				t.Run("a delivery of an unused event is stored raw and answered 202", func(t *testing.T) {
					ih, ibody := sc.ignored(t)
					before := h.counts(t)
					r := h.post(t, path, mergeHeaders(ih, sc.auth(ibody)), ibody)
					if r.status != http.StatusAccepted {
						t.Fatalf("status %d, want 202: %s", r.status, r.text)
					}
					if r.body["status"] != "ignored" || r.body["reason"] == "" || r.body["reason"] == nil {
						t.Errorf("answer %s, want status ignored with a reason", r.text)
					}
					after := h.counts(t)
					want := maps.Clone(before)
					want["raw_deliveries"]++
					if !maps.Equal(after, want) {
						t.Errorf("rows %v, want %v (only the raw delivery)", after, want)
					}
					if got := h.metrics(t)[deliveryMetric(sc.name, "ignored")]; got != 1 {
						t.Errorf("%s = %v, want 1", deliveryMetric(sc.name, "ignored"), got)
					}
					// A redelivery changes nothing either.
					h.post(t, path, mergeHeaders(ih, sc.auth(ibody)), ibody)
					if again := h.counts(t); !maps.Equal(after, again) {
						t.Errorf("redelivery of an ignored delivery changed rows: %v → %v", after, again)
					}
				})
			})
		}
	})
}

func TestWebhookEdges(t *testing.T) {
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		h := open(t)
		t.Run("an unknown source is a 404", func(t *testing.T) {
			before := h.counts(t)
			r := h.post(t, "/webhooks/bitbucket", headers("Content-Type", "application/json"), []byte(`{}`))
			if r.status != http.StatusNotFound {
				t.Fatalf("status %d, want 404: %s", r.status, r.text)
			}
			assertNothingStored(t, h, before)
		})
		t.Run("a body over 25 MiB is a 413 and nothing is stored", func(t *testing.T) {
			before := h.counts(t)
			body := bytes.Repeat([]byte(" "), server.MaxWebhookBody+1)
			body[0] = '{'
			r := h.post(t, "/webhooks/github", mergeHeaders(headers(github.HeaderEvent, "push", github.HeaderDelivery, "gh-huge"),
				headers(github.HeaderSignature, github.Sign(githubSecret, body))), body)
			if r.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413: %s", r.status, r.text)
			}
			assertNothingStored(t, h, before)
			if got := h.metrics(t)[deliveryMetric("github", "too_large")]; got != 1 {
				t.Errorf("too_large deliveries = %v, want 1", got)
			}
		})
		t.Run("a body of exactly 25 MiB is read and judged on its content", func(t *testing.T) {
			body := bytes.Repeat([]byte(" "), server.MaxWebhookBody)
			copy(body, `{"zen":"ok"}`)
			r := h.post(t, "/webhooks/github", mergeHeaders(headers(github.HeaderEvent, "ping", github.HeaderDelivery, "gh-big-ping"),
				headers(github.HeaderSignature, github.Sign(githubSecret, body))), body)
			if r.status != http.StatusAccepted {
				t.Fatalf("status %d, want 202: %s", r.status, r.text)
			}
		})
		t.Run("GitHub check_run and ping are ignored and counted in /metrics", func(t *testing.T) {
			before := h.metrics(t)[deliveryMetric("github", "ignored")]
			for i, f := range []string{"check_run/completed.json", "ping/ping.json"} {
				event := strings.Split(f, "/")[0]
				body := readFile(t, filepath.Join(githubPayloads, f))
				id := fmt.Sprintf("gh-ignored-%d", i)
				r := h.post(t, "/webhooks/github", headers(github.HeaderEvent, event, github.HeaderDelivery, id,
					github.HeaderSignature, github.Sign(githubSecret, body)), body)
				if r.status != http.StatusAccepted || !strings.Contains(fmt.Sprint(r.body["reason"]), event) {
					t.Errorf("%s: %d %s, want 202 with a reason naming the event", f, r.status, r.text)
				}
				if outcome, ok := h.rawDelivery(t, "github", id); !ok || !strings.HasPrefix(outcome, "ignored: ") {
					t.Errorf("%s: raw outcome %q (stored %v), want ignored: <reason>", f, outcome, ok)
				}
			}
			if got := h.metrics(t)[deliveryMetric("github", "ignored")]; got != before+2 {
				t.Errorf("ignored deliveries %v → %v, want +2", before, got)
			}
		})
	})
}

// TestEveryGitHubPayload sends each of the project's own GitHub payloads
// through the real handler, signed: each must be accepted (200) or ignored
// (202), and never rejected or crash the server.
func TestEveryGitHubPayload(t *testing.T) {
	sendEveryGitHubPayload(t, githubPayloads, 20)
}

// TestConformanceEveryGitHubFixture does the same with every payload GitHub
// documents; it needs ../shared/fixtures.
func TestConformanceEveryGitHubFixture(t *testing.T) {
	sendEveryGitHubPayload(t, conformance.Dir(t, "github"), 80)
}

// sendEveryGitHubPayload posts the payloads under dir (one folder per
// event), at least minimum of them, on each database.
func sendEveryGitHubPayload(t *testing.T, dir string, minimum int) {
	events, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		h := open(t)
		seen := 0
		statuses := map[int]int{}
		for _, ev := range events {
			files, err := filepath.Glob(filepath.Join(dir, ev.Name(), "*.json"))
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(files)
			for _, f := range files {
				body := readFile(t, f)
				id := ev.Name() + "/" + filepath.Base(f)
				r := h.post(t, "/webhooks/github", headers(github.HeaderEvent, ev.Name(), github.HeaderDelivery, id,
					github.HeaderSignature, github.Sign(githubSecret, body)), body)
				if r.status != http.StatusOK && r.status != http.StatusAccepted {
					t.Errorf("%s: status %d: %s", id, r.status, r.text)
				}
				if _, ok := h.rawDelivery(t, "github", id); !ok {
					t.Errorf("%s: raw delivery not stored", id)
				}
				statuses[r.status]++
				seen++
			}
		}
		if seen < minimum {
			t.Fatalf("only %d payloads found under %s, want at least %d", seen, dir, minimum)
		}
		if statuses[http.StatusOK] == 0 || statuses[http.StatusAccepted] == 0 {
			t.Errorf("statuses %v: want both accepted and ignored deliveries", statuses)
		}
		m := h.metrics(t)
		if got := m[deliveryMetric("github", "accepted")] + m[deliveryMetric("github", "ignored")]; got != float64(seen) {
			t.Errorf("accepted + ignored = %v, want %d", got, seen)
		}
		t.Logf("%d GitHub payloads: %d accepted, %d ignored", seen, statuses[http.StatusOK], statuses[http.StatusAccepted])
	})
}
