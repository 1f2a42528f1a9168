package github

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/conformance"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/golden"
	"github.com/stride-oss/stride/internal/ingest"
)

// payloadDir holds the project's own GitHub payloads: made-up repositories
// in GitHub's payload shape, with the fields the connector reads.
var payloadDir = filepath.Join("testdata", "payloads")

const testSecret = "It's a Secret to Everybody"

// goldenConfig is the configuration the payloads are translated with. The
// vendor fixtures' issues are labelled "bug", so "bug" is declared an
// incident label here to pin the incident mapping on real payloads too.
func goldenConfig() Config {
	return Config{
		Secret:                testSecret,
		Mapping:               delivery.Mapping{IncidentLabels: []string{"incident", "bug"}},
		ReleasesAsDeployments: true,
	}
}

type fixture struct {
	event string // the X-GitHub-Event value: the fixture's directory
	name  string // the file name
	path  string
	body  []byte
}

// fixtures returns every payload under dir, one folder per event. An empty
// folder fails the test: passing would hide that nothing was checked.
func fixtures(tb testing.TB, dir string) []fixture {
	tb.Helper()
	var out []fixture
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(d.Name(), ".json") {
			return nil
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out = append(out, fixture{event: filepath.Base(filepath.Dir(path)), name: d.Name(), path: path, body: body})
		return nil
	})
	if err != nil {
		tb.Fatalf("read fixtures: %v", err)
	}
	if len(out) == 0 {
		tb.Fatalf("no fixtures under %s", dir)
	}
	return out
}

// vendorFixtures returns GitHub's own payload examples (octokit/webhooks),
// which are not in the repository, or nil when they are not beside it.
func vendorFixtures(tb testing.TB) []fixture {
	tb.Helper()
	dir, err := conformance.Lookup("github")
	if err != nil {
		return nil
	}
	return fixtures(tb, dir)
}

func headers(event string, body []byte, secret string) http.Header {
	h := http.Header{}
	h.Set(HeaderEvent, event)
	h.Set(HeaderDelivery, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	h.Set("Content-Type", "application/json")
	if secret != "" {
		h.Set(HeaderSignature, Sign(secret, body))
	}
	return h
}

// TestPayloads translates each of the project's own payloads and compares
// the events with testdata/golden/payloads.
func TestPayloads(t *testing.T) {
	checkFixtures(t, fixtures(t, payloadDir), filepath.Join("testdata", "golden", "payloads"))
}

// TestConformanceFixtures translates every payload GitHub documents and
// compares the events with testdata/golden; it needs ../shared/fixtures.
func TestConformanceFixtures(t *testing.T) {
	checkFixtures(t, fixtures(t, conformance.Dir(t, "github")), filepath.Join("testdata", "golden"))
}

// checkFixtures checks the signature handling of each fixture, that its
// events validate and carry the source, and pins them under goldenDir.
func checkFixtures(t *testing.T, all []fixture, goldenDir string) {
	src := New(goldenConfig())
	for _, fx := range all {
		t.Run(fx.event+"/"+fx.name, func(t *testing.T) {
			if err := src.Verify(headers(fx.event, fx.body, testSecret), fx.body); err != nil {
				t.Errorf("Verify of a correctly signed delivery: %v", err)
			}
			for name, h := range map[string]http.Header{
				"wrong secret": headers(fx.event, fx.body, "not the secret"),
				"no signature": headers(fx.event, fx.body, ""),
			} {
				if err := src.Verify(h, fx.body); delivery.ErrorCode(err) != delivery.EUNAUTHORIZED {
					t.Errorf("Verify with %s = %v, want an %s error", name, err, delivery.EUNAUTHORIZED)
				}
			}

			events, err := src.Translate(headers(fx.event, fx.body, testSecret), fx.body)
			g := pinned{Event: fx.event}
			switch {
			case errors.Is(err, ingest.ErrIgnored):
				g.Ignored = err.Error()
			case err != nil:
				t.Fatalf("Translate: %v", err)
			case len(events) == 0:
				t.Fatalf("Translate returned neither events nor an error")
			}
			for _, e := range events {
				again := e
				if err := again.Validate(); err != nil {
					t.Errorf("event %s does not pass Validate: %v", e.Key, err)
				}
				if e.Source != Name {
					t.Errorf("event %s has source %q, want %q", e.Key, e.Source, Name)
				}
				g.Events = append(g.Events, goldenEventOf(e))
			}
			golden.CheckJSON(t, filepath.Join(goldenDir, fx.event, strings.TrimSuffix(fx.name, ".json")+".golden.json"), g)
		})
	}
}

// pinned is what a golden file pins: the events a fixture maps to, or the
// reason it is ignored.
type pinned struct {
	Event   string        `json:"event"`
	Ignored string        `json:"ignored,omitempty"`
	Events  []goldenEvent `json:"events,omitempty"`
}

type goldenEvent struct {
	Key    string `json:"key"`
	Kind   string `json:"kind"`
	Source string `json:"source"`
	Entity any    `json:"entity"`
}

func goldenEventOf(e delivery.Event) goldenEvent {
	g := goldenEvent{Key: e.Key, Kind: string(e.Kind), Source: e.Source}
	switch {
	case e.Change != nil:
		g.Entity = e.Change
	case e.Deployment != nil:
		g.Entity = e.Deployment
	case e.Incident != nil:
		g.Entity = e.Incident
	case e.PullRequest != nil:
		g.Entity = e.PullRequest
	case e.WorkItem != nil:
		g.Entity = e.WorkItem
	case e.Build != nil:
		g.Entity = e.Build
	}
	return g
}

func TestVerify(t *testing.T) {
	body := []byte(`{"zen":"Design for failure."}`)
	tests := []struct {
		name      string
		secret    string
		signature string // "" sends no header
		body      []byte
		ok        bool
	}{
		{name: "accepts the signature of the configured secret", secret: testSecret, signature: Sign(testSecret, body), body: body, ok: true},
		{name: "rejects a delivery without a signature", secret: testSecret, body: body},
		{name: "rejects another secret's signature", secret: testSecret, signature: Sign("other", body), body: body},
		{name: "rejects a tampered body", secret: testSecret, signature: Sign(testSecret, body), body: []byte(`{"zen":"Trust me."}`)},
		{name: "rejects a SHA-1 signature header value", secret: testSecret, signature: "sha1=" + strings.TrimPrefix(Sign(testSecret, body), "sha256="), body: body},
		{name: "rejects a signature that is not hexadecimal", secret: testSecret, signature: "sha256=zz", body: body},
		{name: "rejects a truncated signature", secret: testSecret, signature: Sign(testSecret, body)[:20], body: body},
		{name: "rejects everything when no secret is configured, even unsigned", secret: "", body: body},
		{name: "rejects everything when no secret is configured, even signed with the empty secret", secret: "", signature: Sign("", body), body: body},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.signature != "" {
				h.Set(HeaderSignature, tt.signature)
			}
			err := New(Config{Secret: tt.secret}).Verify(h, tt.body)
			if tt.ok && err != nil {
				t.Fatalf("Verify = %v, want nil", err)
			}
			if !tt.ok && delivery.ErrorCode(err) != delivery.EUNAUTHORIZED {
				t.Fatalf("Verify = %v, want an %s error", err, delivery.EUNAUTHORIZED)
			}
		})
	}
}

func TestDeliveryID(t *testing.T) {
	src := New(Config{Secret: testSecret})
	body := []byte(`{"a":1}`)
	h := http.Header{}
	h.Set(HeaderDelivery, "d-1")
	if got := src.DeliveryID(h, body); got != "d-1" {
		t.Errorf("with the header: DeliveryID = %q, want d-1", got)
	}
	a := src.DeliveryID(http.Header{}, body)
	if !strings.HasPrefix(a, "sha256:") || a != src.DeliveryID(http.Header{}, body) {
		t.Errorf("without the header: DeliveryID = %q, want a stable sha256 digest", a)
	}
	if a == src.DeliveryID(http.Header{}, []byte(`{"a":2}`)) {
		t.Errorf("without the header: two bodies share the id %q", a)
	}
}

func FuzzTranslate(f *testing.F) {
	for _, fx := range append(fixtures(f, payloadDir), vendorFixtures(f)...) {
		f.Add(fx.event, fx.body)
	}
	f.Add("push", []byte(`{"ref":"refs/heads/main","repository":{"full_name":"a/b","default_branch":"main"},"commits":[{"id":"x","timestamp":"2024-01-01T00:00:00Z"}]}`))
	f.Add("issues", []byte(`{"action":"opened","repository":{"full_name":"a/b"},"issue":{"number":1,"labels":[{"name":"incident"}],"created_at":"2024-01-01T00:00:00Z"}}`))
	src := New(Config{Secret: testSecret, ReleasesAsDeployments: true})
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		h := http.Header{}
		h.Set(HeaderEvent, event)
		events, err := src.Translate(h, body)
		if err != nil {
			if len(events) != 0 {
				t.Fatalf("Translate returned %d events with the error %v", len(events), err)
			}
			return
		}
		if len(events) == 0 {
			t.Fatal("Translate returned neither events nor an error")
		}
		for _, e := range events {
			if err := e.Validate(); err != nil {
				t.Fatalf("event %s does not pass Validate: %v", e.Key, err)
			}
		}
	})
}

// BenchmarkDeliver measures what the webhook handler spends in the
// connector per delivery: checking the signature and translating. It runs
// over GitHub's own payloads when they are beside the repository (the
// figures quoted in the README), else over the project's.
func BenchmarkDeliver(b *testing.B) {
	all := vendorFixtures(b)
	if all == nil {
		b.Logf("../shared/fixtures is not beside the repository: benchmarking the payloads under %s", payloadDir)
		all = fixtures(b, payloadDir)
	}
	for _, event := range []string{"push", "pull_request"} {
		var set []fixture
		var size int64
		for _, fx := range all {
			if fx.event == event {
				set = append(set, fx)
				size += int64(len(fx.body))
			}
		}
		if len(set) == 0 {
			b.Fatalf("no %s fixtures", event)
		}
		src := New(goldenConfig())
		hs := make([]http.Header, len(set))
		for i, fx := range set {
			hs[i] = headers(fx.event, fx.body, testSecret)
		}
		b.Run(event, func(b *testing.B) {
			b.SetBytes(size / int64(len(set)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				fx := set[n%len(set)]
				if err := src.Verify(hs[n%len(set)], fx.body); err != nil {
					b.Fatal(err)
				}
				if _, err := src.Translate(hs[n%len(set)], fx.body); err != nil && !errors.Is(err, ingest.ErrIgnored) {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// TestPayloadsCoverEveryEvent keeps the project's own payloads complete: each
// event the connector translates has one that maps to events, so no rule is
// left to the optional conformance suite.
func TestPayloadsCoverEveryEvent(t *testing.T) {
	src := New(goldenConfig())
	mapped := map[string]bool{}
	for _, fx := range fixtures(t, payloadDir) {
		if events, err := src.Translate(headers(fx.event, fx.body, testSecret), fx.body); err == nil && len(events) > 0 {
			mapped[fx.event] = true
		}
	}
	for event := range translators {
		if event != "ping" && !mapped[event] {
			t.Errorf("no payload under %s/%s maps to events", payloadDir, event)
		}
	}
}
