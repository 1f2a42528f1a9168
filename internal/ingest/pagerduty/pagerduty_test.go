package pagerduty

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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

// handled are the event types that become incident reports, each with a
// payload testdata/<type>.json and a golden testdata/<type>.golden.
var handled = []string{
	"incident.triggered",
	"incident.priority_updated",
	"incident.escalated",
	"incident.acknowledged",
	"incident.resolved",
	"incident.reopened",
}

func newSource(t testing.TB, cfg Config) *Source {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readPayload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

func TestVerify(t *testing.T) {
	body := readPayload(t, "incident.triggered")
	cases := []struct {
		name    string
		secrets []string
		header  string
		body    []byte
		ok      bool
	}{
		{"accepts the signature of the one secret", []string{"s3cret"}, sign("s3cret", body), body, true},
		{"accepts when any of several signatures matches", []string{"new"}, sign("old", body) + "," + sign("new", body), body, true},
		{"accepts spaces after the commas", []string{"new"}, sign("old", body) + ", " + sign("new", body), body, true},
		{"accepts a delivery signed with the old secret during rotation", []string{"new", "old"}, sign("old", body), body, true},
		{"skips signatures of unknown versions", []string{"s3cret"}, "v2=abcd," + sign("s3cret", body), body, true},
		{"rejects a wrong secret", []string{"s3cret"}, sign("guess", body), body, false},
		{"rejects a tampered body", []string{"s3cret"}, sign("s3cret", body), append([]byte(" "), body...), false},
		{"rejects a missing header", []string{"s3cret"}, "", body, false},
		{"rejects a signature without its version", []string{"s3cret"}, strings.TrimPrefix(sign("s3cret", body), "v1="), body, false},
		{"rejects a signature that is not hex", []string{"s3cret"}, "v1=zz", body, false},
		{"rejects everything when no secret is configured", nil, sign("", body), body, false},
		{"rejects a signature under an empty configured secret", []string{""}, sign("", body), body, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSource(t, Config{Secrets: c.secrets})
			h := http.Header{}
			if c.header != "" {
				h.Set(SignatureHeader, c.header)
			}
			err := s.Verify(h, c.body)
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
	s := newSource(t, Config{})
	for _, name := range handled {
		t.Run(name, func(t *testing.T) {
			events, err := s.Translate(http.Header{}, readPayload(t, name))
			if err != nil {
				t.Fatal(err)
			}
			golden.CheckJSON(t, filepath.Join("testdata", name+".golden"), events)
		})
	}
}

func TestTranslateFields(t *testing.T) {
	s := newSource(t, Config{})
	opened := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		want delivery.Incident
	}{
		{"incident.triggered", delivery.Incident{Severity: 1, Status: delivery.IncidentOpen, StatusAt: time.Date(2026, 3, 2, 10, 0, 0, 512e6, time.UTC), UpdatedAt: time.Date(2026, 3, 2, 10, 0, 0, 512e6, time.UTC)}},
		{"incident.priority_updated", delivery.Incident{Severity: 0, UpdatedAt: time.Date(2026, 3, 2, 10, 4, 10, 3e6, time.UTC)}},
		{"incident.acknowledged", delivery.Incident{Severity: 0, AcknowledgedAt: time.Date(2026, 3, 2, 10, 7, 31, 250e6, time.UTC), Status: delivery.IncidentOpen, StatusAt: time.Date(2026, 3, 2, 10, 7, 31, 250e6, time.UTC), UpdatedAt: time.Date(2026, 3, 2, 10, 7, 31, 250e6, time.UTC)}},
		{"incident.resolved", delivery.Incident{Severity: 0, ResolvedAt: time.Date(2026, 3, 2, 10, 52, 9, 801e6, time.UTC), Status: delivery.IncidentResolved, StatusAt: time.Date(2026, 3, 2, 10, 52, 9, 801e6, time.UTC), UpdatedAt: time.Date(2026, 3, 2, 10, 52, 9, 801e6, time.UTC)}},
		{"incident.reopened", delivery.Incident{Severity: 0, Status: delivery.IncidentOpen, StatusAt: time.Date(2026, 3, 2, 11, 10, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 3, 2, 11, 10, 0, 0, time.UTC)}},
	}
	for _, c := range cases {
		t.Run(c.name+" carries the milestone of its type", func(t *testing.T) {
			events, err := s.Translate(http.Header{}, readPayload(t, c.name))
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 {
				t.Fatalf("got %d events, want 1", len(events))
			}
			e := events[0]
			want := c.want
			want.Service, want.ID, want.Title, want.OpenedAt = "API Service", "pagerduty-PGR0VU2", "Checkout latency above SLO", opened
			want.SeverityAt = want.UpdatedAt // every PagerDuty report gives a severity
			if e.Kind != delivery.KindIncident || e.Source != Name || *e.Incident != want {
				t.Errorf("got %+v %+v\nwant %+v", e, e.Incident, want)
			}
			if !strings.HasPrefix(e.Key, "pagerduty:01DEN") {
				t.Errorf("key %q is not derived from event.id", e.Key)
			}
		})
	}
}

func TestTranslateKeyIsStable(t *testing.T) {
	s := newSource(t, Config{})
	keys := map[string]string{}
	for _, name := range handled {
		body := readPayload(t, name)
		a, err := s.Translate(http.Header{}, body)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := s.Translate(http.Header{}, body)
		if a[0].Key != b[0].Key {
			t.Errorf("%s: key changed between two translations: %q, %q", name, a[0].Key, b[0].Key)
		}
		if other, dup := keys[a[0].Key]; dup {
			t.Errorf("%s and %s share the key %q", name, other, a[0].Key)
		}
		keys[a[0].Key] = name
	}
}

func TestTranslateIgnores(t *testing.T) {
	s := newSource(t, Config{})
	ping := []byte(`{"event":{"id":"01CB8ZT2Y3T8Z6X4ZJ4GXVCB2A","event_type":"pagey.ping","resource_type":"pagey","occurred_at":"2026-03-02T10:00:00Z","agent":null,"client":null,"data":{"message":"Hello from your friend Pagey!","type":"ping"}}}`)
	cases := map[string][]byte{
		"incident.annotated": readPayload(t, "incident.annotated"),
		"service.updated":    readPayload(t, "service.updated"),
		"pagey.ping":         ping,
	}
	for name, body := range cases {
		t.Run(name+" is ignored", func(t *testing.T) {
			events, err := s.Translate(http.Header{}, body)
			if !errors.Is(err, ingest.ErrIgnored) || len(events) != 0 {
				t.Fatalf("got %v, %v; want ErrIgnored", events, err)
			}
		})
	}
}

func TestTranslateRejectsMalformed(t *testing.T) {
	s := newSource(t, Config{})
	good := readPayload(t, "incident.resolved")
	edit := func(f func(ev map[string]any)) []byte {
		var p map[string]map[string]any
		if err := json.Unmarshal(good, &p); err != nil {
			t.Fatal(err)
		}
		f(p["event"])
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	data := func(ev map[string]any) map[string]any { return ev["data"].(map[string]any) }
	cases := []struct {
		name string
		body []byte
	}{
		{"a body that is not JSON", []byte("event=incident.triggered")},
		{"a body without an event", []byte(`{"messages":[]}`)},
		{"an event without a type", edit(func(ev map[string]any) { delete(ev, "event_type") })},
		{"an event without occurred_at", edit(func(ev map[string]any) { delete(ev, "occurred_at") })},
		{"an occurred_at that is not a time", edit(func(ev map[string]any) { ev["occurred_at"] = "yesterday" })},
		{"an incident without data", edit(func(ev map[string]any) { ev["data"] = nil })},
		{"data that is not an object", edit(func(ev map[string]any) { ev["data"] = []int{1} })},
		{"an incident without an id", edit(func(ev map[string]any) { delete(data(ev), "id") })},
		{"an incident without created_at", edit(func(ev map[string]any) { delete(data(ev), "created_at") })},
		{"an incident created at the zero time", edit(func(ev map[string]any) { data(ev)["created_at"] = "0001-01-01T00:00:00Z" })},
		{"an incident without a service", edit(func(ev map[string]any) { data(ev)["service"] = nil })},
	}
	for _, c := range cases {
		t.Run("rejects "+c.name, func(t *testing.T) {
			events, err := s.Translate(http.Header{}, c.body)
			if delivery.ErrorCode(err) != delivery.EINVALID || len(events) != 0 {
				t.Fatalf("got %v, %v; want an invalid error", events, err)
			}
		})
	}
}

func TestSeverity(t *testing.T) {
	override := SeverityMap{Priority: map[string]int{"P3": 1, "SEV-1": 0}, Urgency: map[string]int{"LOW": 2}}
	cases := []struct {
		name              string
		m                 SeverityMap
		priority, urgency string
		want              int
	}{
		{"P1 is critical", SeverityMap{}, "P1", "high", 0},
		{"P2 is major", SeverityMap{}, "P2", "low", 1},
		{"P3 is minor", SeverityMap{}, "P3", "high", 2},
		{"P4 is low", SeverityMap{}, "P4", "high", 3},
		{"P5 is low", SeverityMap{}, "p5", "high", 3},
		{"high urgency without priority is major", SeverityMap{}, "", "high", 1},
		{"low urgency without priority is low", SeverityMap{}, "", "low", 3},
		{"an unknown priority falls back to urgency", SeverityMap{}, "Urgent!", "low", 3},
		{"nothing known is minor", SeverityMap{}, "", "", 2},
		{"a configured priority overrides its default", override, "P3", "high", 1},
		{"other priorities keep their defaults", override, "P1", "low", 0},
		{"a custom priority name maps", override, "sev-1", "low", 0},
		{"a configured urgency overrides its default", override, "", "low", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.m.severity(c.priority, c.urgency); got != c.want {
				t.Errorf("severity(%q, %q) = %d, want %d", c.priority, c.urgency, got, c.want)
			}
		})
	}
}

func TestNewRejectsSeverityOutOfRange(t *testing.T) {
	for _, m := range []SeverityMap{{Priority: map[string]int{"P1": -1}}, {Urgency: map[string]int{"high": 4}}} {
		if _, err := New(Config{Severity: m}); err == nil {
			t.Errorf("New accepted %+v", m)
		}
	}
}

func TestService(t *testing.T) {
	mapping := delivery.Mapping{Services: []delivery.ServiceMapping{{Name: "api service", Team: "core"}}}
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"falls back to the PagerDuty service name", Config{}, "API Service"},
		{"maps by id", Config{Services: map[string]string{"PF9KMXH": "api", "API Service": "wrong"}}, "api"},
		{"maps by name", Config{Services: map[string]string{"API Service": "api"}}, "api"},
		{"takes the spelling of the mapping", Config{Mapping: mapping}, "api service"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			events, err := newSource(t, c.cfg).Translate(http.Header{}, readPayload(t, "incident.triggered"))
			if err != nil {
				t.Fatal(err)
			}
			if got := events[0].Incident.Service; got != c.want {
				t.Errorf("service %q, want %q", got, c.want)
			}
		})
	}
}

func TestDeliveryID(t *testing.T) {
	s := newSource(t, Config{})
	if got := s.DeliveryID(http.Header{}, readPayload(t, "incident.resolved")); got != "01DEN7A7TQ5YX1P0M3D5ZJ2R8G" {
		t.Errorf("got %q, want event.id", got)
	}
	a, b := s.DeliveryID(http.Header{}, []byte("not json")), s.DeliveryID(http.Header{}, []byte("not json"))
	if a != b || !strings.HasPrefix(a, "sha256:") {
		t.Errorf("body digest %q, %q is not stable", a, b)
	}
	if s.DeliveryID(http.Header{}, []byte("other")) == a {
		t.Error("two bodies share a digest")
	}
}

// TestOutOfOrderDeliveryConverges merges the reports of one incident in
// every order and expects the state of in-order delivery each time.
func TestOutOfOrderDeliveryConverges(t *testing.T) {
	s := newSource(t, Config{})
	names := []string{"incident.triggered", "incident.priority_updated", "incident.escalated", "incident.acknowledged", "incident.resolved"}
	var reports []delivery.Incident
	for _, name := range names {
		events, err := s.Translate(http.Header{}, readPayload(t, name))
		if err != nil {
			t.Fatal(err)
		}
		reports = append(reports, *events[0].Incident)
	}
	merge := func(order []int) delivery.Incident {
		m := reports[order[0]]
		for _, i := range order[1:] {
			m = delivery.MergeIncident(m, reports[i])
		}
		return m
	}
	want := merge([]int{0, 1, 2, 3, 4})
	opened := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	resolved := time.Date(2026, 3, 2, 10, 52, 9, 801e6, time.UTC)
	if want.Severity != 0 || !want.OpenedAt.Equal(opened) || want.AcknowledgedAt.IsZero() || !want.ResolvedAt.Equal(resolved) {
		t.Fatalf("in-order state is wrong: %+v", want)
	}
	if ttr := want.ResolvedAt.Sub(want.OpenedAt); ttr != 52*time.Minute+9801*time.Millisecond {
		t.Errorf("time to restore %v", ttr)
	}
	orders := [][]int{{4, 3, 2, 1, 0}, {4, 0, 3, 1, 2}, {3, 4, 0, 2, 1}, {1, 4, 0, 3, 2}}
	for _, o := range orders {
		if got := merge(o); !reflect.DeepEqual(got, want) {
			t.Errorf("order %v gives %+v\nwant %+v", o, got, want)
		}
	}
}

func FuzzTranslate(f *testing.F) {
	for _, name := range append(handled, "incident.annotated", "service.updated") {
		f.Add(readPayload(f, name))
	}
	f.Add([]byte(`{"event":{"event_type":"incident.triggered","occurred_at":"2026-03-02T10:00:00Z","data":{"id":"P1","created_at":"2026-03-02T10:00:00Z","service":{"summary":" "}}}}`))
	f.Add([]byte(`{"event":null}`))
	s := newSource(f, Config{})
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := s.Translate(http.Header{}, body)
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
