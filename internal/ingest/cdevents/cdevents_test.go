package cdevents

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/golden"
	"github.com/stride-oss/stride/internal/ingest"
)

// types are the CDEvents types Stride reads, each with a delivery
// testdata/<type>.http (headers, a blank line, the body) and a golden
// testdata/<type>.golden.
var types = []string{
	"change.created", "change.reviewed", "change.merged", "change.abandoned",
	"build.queued", "build.started", "build.finished", "pipelinerun.finished",
	"service.deployed", "service.upgraded", "service.rolledback",
	"incident.detected", "incident.reported", "incident.resolved",
}

// readDelivery reads a delivery file into its headers and body.
func readDelivery(t testing.TB, name string) (http.Header, []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".http"))
	if err != nil {
		t.Fatal(err)
	}
	head, body, ok := bytes.Cut(b, []byte("\n\n"))
	if !ok {
		t.Fatalf("%s: no blank line after the headers", name)
	}
	h := http.Header{}
	for _, line := range strings.Split(string(head), "\n") {
		k, v, _ := strings.Cut(line, ":")
		h.Add(k, strings.TrimSpace(v))
	}
	return h, body
}

func translateOne(t *testing.T, s *Source, name string) delivery.Event {
	t.Helper()
	h, body := readDelivery(t, name)
	events, err := s.Translate(h, body)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Source != Name {
		t.Fatalf("got %+v, want one event", events)
	}
	return events[0]
}

// cdEventOf returns the CDEvent of a delivery file as a generic value.
func cdEventOf(t testing.TB, name string) map[string]any {
	t.Helper()
	h, body := readDelivery(t, name)
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if mode(h) == modeStructured {
		return v["data"].(map[string]any)
	}
	return v
}

func binary(t testing.TB, ev map[string]any) (http.Header, []byte) {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Content-Type": {"application/json"}}, b
}

func TestVerify(t *testing.T) {
	cases := []struct {
		name       string
		configured string
		header     http.Header
		ok         bool
	}{
		{"accepts the bearer token", "t0ken", http.Header{"Authorization": {"Bearer t0ken"}}, true},
		{"accepts the token copied from the query", "t0ken", http.Header{TokenHeader: {"t0ken"}}, true},
		{"rejects a wrong token", "t0ken", http.Header{"Authorization": {"Bearer guess"}}, false},
		{"rejects a missing token", "t0ken", http.Header{}, false},
		{"rejects everything when no token is configured", "", http.Header{"Authorization": {"Bearer t0ken"}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := New(Config{Token: c.configured}).Verify(c.header, []byte("{}"))
			switch {
			case c.ok && err != nil:
				t.Fatalf("rejected: %v", err)
			case !c.ok && delivery.ErrorCode(err) != delivery.EUNAUTHORIZED:
				t.Fatalf("got %v, want an unauthorized error", err)
			}
		})
	}
}

func TestTranslateGolden(t *testing.T) {
	s := New(Config{})
	for _, name := range types {
		t.Run(name, func(t *testing.T) {
			h, body := readDelivery(t, name)
			events, err := s.Translate(h, body)
			if err != nil {
				t.Fatal(err)
			}
			golden.CheckJSON(t, filepath.Join("testdata", name+".golden"), events)
		})
	}
}

const sha = "9f2c4e1d7a3b5c6d8e0f1a2b3c4d5e6f7a8b9c0d"

func TestTranslateKinds(t *testing.T) {
	s := New(Config{})
	at := func(v string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	t.Run("a merged change is a merged pull request with its merge sha", func(t *testing.T) {
		pr := translateOne(t, s, "change.merged").PullRequest
		if pr == nil || pr.Repository != "acme/checkout" || pr.Number != 42 || pr.State != delivery.PullRequestMerged || pr.MergeSHA != sha || !pr.MergedAt.Equal(at("2026-03-02T09:12:44Z")) {
			t.Errorf("got %+v", pr)
		}
	})
	t.Run("a created change is an open pull request titled by its description", func(t *testing.T) {
		pr := translateOne(t, s, "change.created").PullRequest
		if pr == nil || pr.State != delivery.PullRequestOpen || pr.Title != "Retry payment provider timeouts" || pr.Author != "ann" || pr.CreatedAt.IsZero() {
			t.Errorf("got %+v", pr)
		}
	})
	t.Run("a finished build reads its commit from the purl's vcs_url", func(t *testing.T) {
		b := translateOne(t, s, "build.finished").Build
		if b == nil || b.SHA != sha || b.Repository != "acme/checkout" || b.Status != delivery.BuildSuccess || b.Branch != "main" {
			t.Errorf("got %+v", b)
		}
	})
	t.Run("a failed pipeline run is a failed build", func(t *testing.T) {
		b := translateOne(t, s, "pipelinerun.finished").Build
		if b == nil || b.Status != delivery.BuildFailure || b.Name != "checkout-release" || b.FinishedAt.IsZero() {
			t.Errorf("got %+v", b)
		}
	})
	t.Run("a deployed service is a successful production deployment of the purl's commit", func(t *testing.T) {
		d := translateOne(t, s, "service.deployed").Deployment
		want := delivery.Deployment{Service: "checkout", Environment: "production", ID: "c2a4e6f8-0b1d-4e3f-9a5c-7e9f1b3d5001", Status: delivery.DeploymentSuccess,
			FinishedAt: at("2026-03-02T09:31:05Z"), SHA: sha, Repository: "acme/checkout", UpdatedAt: at("2026-03-02T09:31:05Z")}
		if d == nil || *d != want {
			t.Errorf("got %+v\nwant %+v", d, want)
		}
	})
	t.Run("an upgraded service reads the sha qualifier", func(t *testing.T) {
		if d := translateOne(t, s, "service.upgraded").Deployment; d.SHA != "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678" || d.Rollback {
			t.Errorf("got %+v", d)
		}
	})
	t.Run("a rolled back service is a rollback deployment of a bare commit", func(t *testing.T) {
		if d := translateOne(t, s, "service.rolledback").Deployment; d.SHA != sha || !d.Rollback || d.Status != delivery.DeploymentSuccess {
			t.Errorf("got %+v", d)
		}
	})
	t.Run("a reported incident takes its severity from customData", func(t *testing.T) {
		in := translateOne(t, s, "incident.reported").Incident
		if in == nil || in.Service != "checkout" || in.ID != "cdevents-incident-123" || in.Severity != 1 {
			t.Errorf("got %+v", in)
		}
	})
}

func TestCommit(t *testing.T) {
	cases := []struct {
		name, artifact string
		custom         customData
		sha, repo      string
	}{
		{"customData wins", "pkg:github/acme/api@" + sha, customData{SHA: "abc1234", Repository: "acme/x"}, "abc1234", "acme/x"},
		{"a bare commit", sha, customData{}, sha, ""},
		{"a github purl", "pkg:github/acme/api@" + sha, customData{}, sha, "acme/api"},
		{"a sha qualifier", "pkg:oci/api@sha256%3Aabcd?sha=" + sha, customData{}, sha, ""},
		{"a commit qualifier", "pkg:docker/acme/api@1.2.3?commit=" + sha, customData{}, sha, ""},
		{"a vcs_url qualifier", "pkg:oci/api?vcs_url=git%2Bhttps://github.com/acme/api.git@" + sha, customData{}, sha, "acme/api"},
		{"an image digest is not a commit", "pkg:oci/api@sha256%3A0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427", customData{}, "", ""},
		{"a version is not a commit", "pkg:github/acme/api@v1.2.3", customData{}, "", ""},
		{"nothing", "", customData{}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if sha, repo := commit(c.artifact, c.custom); sha != c.sha || repo != c.repo {
				t.Errorf("commit(%q) = %q, %q; want %q, %q", c.artifact, sha, repo, c.sha, c.repo)
			}
		})
	}
}

func TestContentModes(t *testing.T) {
	s := New(Config{})
	ev := cdEventOf(t, "service.deployed")
	h, body := binary(t, ev)
	want, err := s.Translate(h, body)
	if err != nil {
		t.Fatal(err)
	}
	envelope := func(data any) map[string]any {
		return map[string]any{"specversion": "1.0", "id": "c2a4e6f8-0b1d-4e3f-9a5c-7e9f1b3d5001", "source": "/clusters/prod-eu/namespaces/shop", "type": "dev.cdevents.service.deployed.0.2.0", "data": data}
	}
	b64 := envelope(nil)
	delete(b64, "data")
	b64["data_base64"] = body
	batch, _ := json.Marshal([]any{envelope(ev), envelope(cdEventOf(t, "build.queued")), envelope(map[string]any{"context": map[string]any{"type": "dev.cdevents.artifact.published.0.2.0", "id": "x", "timestamp": "2026-03-02T09:00:00Z"}, "subject": map[string]any{"id": "y"}})})
	structured, _ := json.Marshal(envelope(ev))
	encoded, _ := json.Marshal(b64)
	cases := []struct {
		name, contentType string
		body              []byte
		events            int
	}{
		{"structured mode", "application/cloudevents+json; charset=UTF-8", structured, 1},
		{"structured mode with base64 data", "application/cloudevents+json", encoded, 1},
		{"batch mode, skipping types Stride does not use", "application/cloudevents-batch+json", batch, 2},
	}
	for _, c := range cases {
		t.Run("reads "+c.name, func(t *testing.T) {
			got, err := s.Translate(http.Header{"Content-Type": {c.contentType}}, c.body)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.events || !reflect.DeepEqual(got[0], want[0]) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestTranslateIgnores(t *testing.T) {
	s := New(Config{})
	cases := []struct {
		name string
		edit func(ev map[string]any)
	}{
		{"an artifact event", func(ev map[string]any) {
			ev["context"].(map[string]any)["type"] = "dev.cdevents.artifact.published.0.2.0"
		}},
		{"a service removal", func(ev map[string]any) {
			ev["context"].(map[string]any)["type"] = "dev.cdevents.service.removed.0.2.0"
		}},
		{"an incident outside production", func(ev map[string]any) {
			ev["subject"].(map[string]any)["content"].(map[string]any)["environment"] = map[string]any{"id": "staging"}
		}},
	}
	for _, c := range cases {
		t.Run(c.name+" is ignored", func(t *testing.T) {
			ev := cdEventOf(t, "incident.detected")
			if strings.HasPrefix(c.name, "a service") || strings.HasPrefix(c.name, "an artifact") {
				ev = cdEventOf(t, "service.deployed")
			}
			c.edit(ev)
			if _, err := s.Translate(binary(t, ev)); !errors.Is(err, ingest.ErrIgnored) {
				t.Errorf("got %v, want ErrIgnored", err)
			}
		})
	}
	ev := cdEventOf(t, "change.created")
	ev["subject"].(map[string]any)["id"] = "I8473b95934b5732ac55d26311a706c9c2bde9940"
	if _, err := s.Translate(binary(t, ev)); !errors.Is(err, ingest.ErrIgnored) {
		t.Errorf("a change without a number: got %v, want ErrIgnored", err)
	}
}

func TestTranslateRejectsMalformed(t *testing.T) {
	s := New(Config{})
	edit := func(name string, f func(ctx, subject, content map[string]any)) []byte {
		ev := cdEventOf(t, name)
		subject := ev["subject"].(map[string]any)
		content, _ := subject["content"].(map[string]any)
		f(ev["context"].(map[string]any), subject, content)
		delete(ev, "customData")
		_, b := binary(t, ev)
		return b
	}
	cases := []struct {
		name        string
		contentType string
		body        []byte
	}{
		{"a body that is not JSON", "application/json", []byte("deployed!")},
		{"a CloudEvent that is not JSON", "application/cloudevents+json", []byte("{")},
		{"a CloudEvent without data", "application/cloudevents+json", []byte(`{"specversion":"1.0","id":"1","source":"/x","type":"dev.cdevents.service.deployed.0.2.0"}`)},
		{"bad base64 data", "application/cloudevents+json", []byte(`{"specversion":"1.0","id":"1","data_base64":"%%%"}`)},
		{"a batch that is not an array", "application/cloudevents-batch+json", []byte(`{}`)},
		{"a type outside CDEvents", "application/json", edit("service.deployed", func(ctx, _, _ map[string]any) { ctx["type"] = "com.example.deployed" })},
		{"a type without predicate", "application/json", edit("service.deployed", func(ctx, _, _ map[string]any) { ctx["type"] = "dev.cdevents.service" })},
		{"no context id", "application/json", edit("service.deployed", func(ctx, _, _ map[string]any) { delete(ctx, "id") })},
		{"no subject id", "application/json", edit("service.deployed", func(_, s, _ map[string]any) { delete(s, "id") })},
		{"no timestamp", "application/json", edit("service.deployed", func(ctx, _, _ map[string]any) { delete(ctx, "timestamp") })},
		{"a timestamp that is not a time", "application/json", edit("service.deployed", func(ctx, _, _ map[string]any) { ctx["timestamp"] = "now" })},
		{"content of the wrong shape", "application/json", edit("service.deployed", func(_, s, _ map[string]any) { s["content"] = []int{1} })},
		{"a deployment without a commit", "application/json", edit("service.deployed", func(_, _, c map[string]any) { c["artifactId"] = "pkg:oci/checkout@sha256%3A0b31" })},
		{"a deployment without environment", "application/json", edit("service.deployed", func(_, _, c map[string]any) { delete(c, "environment") })},
		{"an incident without service", "application/json", edit("incident.detected", func(_, _, c map[string]any) { delete(c, "service") })},
		{"a change without repository", "application/json", edit("change.merged", func(_, _, c map[string]any) { delete(c, "repository") })},
		{"a pipeline run without outcome", "application/json", edit("pipelinerun.finished", func(_, _, c map[string]any) { delete(c, "outcome") })},
	}
	for _, c := range cases {
		t.Run("rejects "+c.name, func(t *testing.T) {
			events, err := s.Translate(http.Header{"Content-Type": {c.contentType}}, c.body)
			if delivery.ErrorCode(err) != delivery.EINVALID || len(events) != 0 {
				t.Fatalf("got %v, %v; want an invalid error", events, err)
			}
		})
	}
}

func TestKeysAndDeliveryIDs(t *testing.T) {
	s := New(Config{})
	keys := map[string]string{}
	for _, name := range types {
		h, body := readDelivery(t, name)
		a := translateOne(t, s, name)
		if b := translateOne(t, s, name); a.Key != b.Key {
			t.Errorf("%s: key is not stable", name)
		}
		if other, dup := keys[a.Key]; dup {
			t.Errorf("%s and %s share key %q", name, other, a.Key)
		}
		keys[a.Key] = name
		if id := s.DeliveryID(h, body); !strings.Contains(id, cdEventOf(t, name)["context"].(map[string]any)["id"].(string)) {
			t.Errorf("%s: delivery id %q is not the event's id", name, id)
		}
	}
	if id := s.DeliveryID(http.Header{"Content-Type": {"application/cloudevents-batch+json"}}, []byte("[]")); !strings.HasPrefix(id, "sha256:") {
		t.Errorf("batch delivery id %q", id)
	}
}

// TestOutOfOrderDeliveryConverges merges the incident's reports (resolved
// first) and a build's reports in every order, expecting in-order state.
func TestOutOfOrderDeliveryConverges(t *testing.T) {
	s := New(Config{})
	var incidents []delivery.Incident
	for _, name := range []string{"incident.detected", "incident.reported", "incident.resolved"} {
		incidents = append(incidents, *translateOne(t, s, name).Incident)
	}
	mergeIncidents := func(o ...int) delivery.Incident {
		m := incidents[o[0]]
		for _, i := range o[1:] {
			m = delivery.MergeIncident(m, incidents[i])
		}
		return m
	}
	want := mergeIncidents(0, 1, 2)
	if !want.OpenedAt.Equal(time.Date(2026, 3, 2, 11, 4, 20, 79e6, time.UTC)) || want.ResolvedAt.IsZero() || want.Severity != 1 {
		t.Fatalf("in-order state %+v", want)
	}
	for _, o := range [][]int{{2, 1, 0}, {2, 0, 1}, {1, 2, 0}} {
		if got := mergeIncidents(o...); !reflect.DeepEqual(got, want) {
			t.Errorf("incident order %v gives %+v\nwant %+v", o, got, want)
		}
	}
	var builds []delivery.Build
	for _, name := range []string{"build.queued", "build.started", "build.finished"} {
		builds = append(builds, *translateOne(t, s, name).Build)
	}
	inOrder := delivery.MergeBuild(delivery.MergeBuild(builds[0], builds[1]), builds[2])
	reversed := delivery.MergeBuild(delivery.MergeBuild(builds[2], builds[1]), builds[0])
	if !reflect.DeepEqual(inOrder, reversed) || inOrder.Status != delivery.BuildSuccess || inOrder.StartedAt.IsZero() {
		t.Errorf("builds: in order %+v\nreversed %+v", inOrder, reversed)
	}
}

func FuzzTranslate(f *testing.F) {
	for _, name := range types {
		h, body := readDelivery(f, name)
		f.Add(h.Get("Content-Type"), body)
	}
	f.Add("application/cloudevents-batch+json", []byte(`[{"data":{"context":{"id":"1","type":"dev.cdevents.incident.detected.0.2.0","timestamp":"2026-03-02T10:00:00Z"},"subject":{"id":"i","content":{"service":{"id":" "}}}}}]`))
	s := New(Config{})
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		events, err := s.Translate(http.Header{"Content-Type": {contentType}}, body)
		if err != nil {
			if len(events) != 0 {
				t.Fatalf("events %v returned with error %v", events, err)
			}
			if !errors.Is(err, ingest.ErrIgnored) && delivery.ErrorCode(err) != delivery.EINVALID {
				t.Fatalf("error %v is neither ignored nor invalid", err)
			}
			return
		}
		for i := range events {
			if err := events[i].Validate(); err != nil {
				t.Fatalf("event %d does not validate: %v", i, err)
			}
		}
	})
}

// TestBuildAttempt: customData's attempt and defaultBranch reach the
// build, and a pipeline run without them leaves the attempt unknown (0).
func TestBuildAttempt(t *testing.T) {
	s := &Source{}
	for _, tt := range []struct {
		name    string
		custom  map[string]any
		attempt int
		branch  string
	}{
		{"a re-run pipeline says its attempt", map[string]any{"attempt": 2, "defaultBranch": "main"}, 2, "main"},
		{"a pipeline run that does not say", nil, 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev := cdEventOf(t, "pipelinerun.finished")
			c, _ := ev["customData"].(map[string]any)
			if c == nil {
				c = map[string]any{}
			}
			delete(c, "attempt")
			delete(c, "defaultBranch")
			for k, v := range tt.custom {
				c[k] = v
			}
			ev["customData"] = c
			h, body := binary(t, ev)
			events, err := s.Translate(h, body)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].Build == nil || events[0].Build.Attempt != tt.attempt || events[0].Build.DefaultBranch != tt.branch {
				t.Errorf("got %+v, want one build of attempt %d, default branch %q", events, tt.attempt, tt.branch)
			}
		})
	}
}
