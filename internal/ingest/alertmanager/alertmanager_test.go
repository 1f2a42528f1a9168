package alertmanager

import (
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

// statuses are the alert statuses, each with a notification
// testdata/<status>.json and a golden testdata/<status>.golden.
var statuses = []string{"firing", "resolved"}

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

// edit decodes a notification, lets f change it and encodes it again.
func edit(t testing.TB, body []byte, f func(p map[string]any, alerts []any)) []byte {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	f(p, p["alerts"].([]any))
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerify(t *testing.T) {
	cases := []struct {
		name       string
		configured string
		header     http.Header
		ok         bool
	}{
		{"accepts the bearer token", "t0ken", http.Header{"Authorization": {"Bearer t0ken"}}, true},
		{"accepts the scheme in any case", "t0ken", http.Header{"Authorization": {"bearer t0ken"}}, true},
		{"accepts the token copied from the query", "t0ken", http.Header{TokenHeader: {"t0ken"}}, true},
		{"rejects a wrong token", "t0ken", http.Header{"Authorization": {"Bearer guess"}}, false},
		{"rejects a prefix of the token", "t0ken", http.Header{"Authorization": {"Bearer t0k"}}, false},
		{"rejects a wrong query token", "t0ken", http.Header{TokenHeader: {"guess"}}, false},
		{"rejects basic authentication", "t0ken", http.Header{"Authorization": {"Basic dDBrZW4="}}, false},
		{"rejects a missing token", "t0ken", http.Header{}, false},
		{"rejects everything when no token is configured", "", http.Header{"Authorization": {"Bearer "}, TokenHeader: {""}}, false},
		{"rejects any token when none is configured", "", http.Header{"Authorization": {"Bearer t0ken"}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := newSource(t, Config{Token: c.configured}).Verify(c.header, readPayload(t, "firing"))
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
	for _, name := range statuses {
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
	events, err := newSource(t, Config{}).Translate(http.Header{}, readPayload(t, "resolved"))
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("got %d events, want one per alert", len(events))
	}
	start := time.Date(2026, 3, 2, 10, 0, 0, 123456000, time.UTC)
	want := []delivery.Incident{{
		Service:    "checkout",
		ID:         "alertmanager-1a30ba71cca2921f-1772445600",
		Title:      "Checkout p99 latency above 500ms",
		Severity:   0,
		OpenedAt:   start,
		ResolvedAt: time.Date(2026, 3, 2, 10, 41, 15, 5e8, time.UTC),
		Status:     delivery.IncidentResolved, // a resolution is a resolved status
		StatusAt:   time.Date(2026, 3, 2, 10, 41, 15, 5e8, time.UTC),
		SeverityAt: time.Date(2026, 3, 2, 10, 41, 15, 5e8, time.UTC),
		UpdatedAt:  time.Date(2026, 3, 2, 10, 41, 15, 5e8, time.UTC),
	}, {
		Service:    "checkout", // from the job label
		ID:         "alertmanager-c6eadffa33fcdf37-1772442150",
		Title:      "CheckoutErrorBudgetBurn", // no summary annotation
		Severity:   2,
		OpenedAt:   time.Date(2026, 3, 2, 9, 2, 30, 0, time.UTC),
		ResolvedAt: time.Date(2026, 3, 2, 9, 20, 0, 0, time.UTC),
		Status:     delivery.IncidentResolved,
		StatusAt:   time.Date(2026, 3, 2, 9, 20, 0, 0, time.UTC),
		SeverityAt: time.Date(2026, 3, 2, 9, 20, 0, 0, time.UTC),
		UpdatedAt:  time.Date(2026, 3, 2, 9, 20, 0, 0, time.UTC),
	}}
	for i, e := range events {
		if e.Kind != delivery.KindIncident || e.Source != Name || *e.Incident != want[i] {
			t.Errorf("event %d: got %+v %+v\nwant %+v", i, e, e.Incident, want[i])
		}
	}
}

func TestTranslateKeys(t *testing.T) {
	s := newSource(t, Config{})
	firing := readPayload(t, "firing")
	a, err := s.Translate(http.Header{}, firing)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Translate(http.Header{}, firing)
	r, err := s.Translate(http.Header{}, readPayload(t, "resolved"))
	if err != nil {
		t.Fatal(err)
	}
	if a[0].Key != b[0].Key {
		t.Errorf("a resent notification changed the key: %q, %q", a[0].Key, b[0].Key)
	}
	seen := map[string]bool{}
	for _, e := range append(a, r...) {
		if seen[e.Key] {
			t.Errorf("key %q used twice", e.Key)
		}
		seen[e.Key] = true
	}
	if a[0].Incident.ID != r[0].Incident.ID {
		t.Errorf("firing and resolved reports name different incidents: %q, %q", a[0].Incident.ID, r[0].Incident.ID)
	}
}

func TestRefireIsANewIncident(t *testing.T) {
	s := newSource(t, Config{})
	refire := edit(t, readPayload(t, "firing"), func(_ map[string]any, alerts []any) {
		alerts[0].(map[string]any)["startsAt"] = "2026-03-02T12:00:00Z"
	})
	first, err := s.Translate(http.Header{}, readPayload(t, "firing"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Translate(http.Header{}, refire)
	if err != nil {
		t.Fatal(err)
	}
	if first[0].Incident.ID == again[0].Incident.ID || first[0].Key == again[0].Key {
		t.Errorf("a re-fire reused incident %q", first[0].Incident.ID)
	}
}

func TestSeverityAndService(t *testing.T) {
	mapping := delivery.Mapping{Services: []delivery.ServiceMapping{{Name: "Checkout-API"}}}
	cases := []struct {
		name     string
		cfg      Config
		labels   map[string]string
		severity int
		service  string
	}{
		{"critical pages", Config{}, map[string]string{"severity": "critical", "service": "api"}, 0, "api"},
		{"page is major", Config{}, map[string]string{"severity": "page", "service": "api"}, 1, "api"},
		{"high is major", Config{}, map[string]string{"severity": "HIGH", "service": "api"}, 1, "api"},
		{"error is major", Config{}, map[string]string{"severity": "error", "service": "api"}, 1, "api"},
		{"warning is minor", Config{}, map[string]string{"severity": "warning", "service": "api"}, 2, "api"},
		{"info is low", Config{}, map[string]string{"severity": "info", "service": "api"}, 3, "api"},
		{"an unknown value is minor", Config{}, map[string]string{"severity": "sev9", "service": "api"}, 2, "api"},
		{"no severity is minor", Config{}, map[string]string{"service": "api"}, 2, "api"},
		{"a configured value overrides its default", Config{Severity: map[string]int{"Warning": 3, "P0": 0}}, map[string]string{"severity": "warning", "service": "api"}, 3, "api"},
		{"a configured value is added", Config{Severity: map[string]int{"P0": 0}}, map[string]string{"severity": "p0", "service": "api"}, 0, "api"},
		{"a configured severity label is read", Config{SeverityLabel: "priority"}, map[string]string{"priority": "critical", "severity": "info", "service": "api"}, 0, "api"},
		{"the service falls back to job", Config{}, map[string]string{"job": "node"}, 2, "node"},
		{"a configured service label is read", Config{ServiceLabel: "app"}, map[string]string{"app": "web", "service": "api"}, 2, "web"},
		{"the mapping's spelling wins", Config{Mapping: mapping}, map[string]string{"service": "checkout-api"}, 2, "Checkout-API"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := edit(t, readPayload(t, "firing"), func(p map[string]any, alerts []any) {
				a := alerts[0].(map[string]any)
				labels := map[string]any{"alertname": "X"}
				for k, v := range c.labels {
					labels[k] = v
				}
				a["labels"] = labels
				p["alerts"] = alerts[:1]
			})
			events, err := newSource(t, c.cfg).Translate(http.Header{}, body)
			if err != nil {
				t.Fatal(err)
			}
			if in := events[0].Incident; in.Severity != c.severity || in.Service != c.service {
				t.Errorf("severity %d service %q, want %d %q", in.Severity, in.Service, c.severity, c.service)
			}
		})
	}
}

func TestNewRejectsSeverityOutOfRange(t *testing.T) {
	if _, err := New(Config{Severity: map[string]int{"critical": -1}}); err == nil {
		t.Error("New accepted severity -1")
	}
}

func TestMissingFingerprintFallsBackToLabels(t *testing.T) {
	s := newSource(t, Config{})
	strip := func(name string) []byte {
		return edit(t, readPayload(t, name), func(_ map[string]any, alerts []any) {
			for _, a := range alerts {
				delete(a.(map[string]any), "fingerprint")
			}
		})
	}
	f, err := s.Translate(http.Header{}, strip("firing"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Translate(http.Header{}, strip("resolved"))
	if err != nil {
		t.Fatal(err)
	}
	if f[0].Incident.ID != r[0].Incident.ID || f[0].Incident.ID == f[1].Incident.ID {
		t.Errorf("label digests do not identify alerts: %q %q %q", f[0].Incident.ID, r[0].Incident.ID, f[1].Incident.ID)
	}
}

func TestTranslateRejectsMalformed(t *testing.T) {
	s := newSource(t, Config{})
	good := readPayload(t, "resolved")
	alertEdit := func(f func(a map[string]any)) []byte {
		return edit(t, good, func(_ map[string]any, alerts []any) { f(alerts[0].(map[string]any)) })
	}
	cases := []struct {
		name    string
		body    []byte
		message string
	}{
		{"a body that is not JSON", []byte("<html>"), "decode"},
		{"version 3", edit(t, good, func(p map[string]any, _ []any) { p["version"] = "3" }), `version "3" is not supported`},
		{"no version", edit(t, good, func(p map[string]any, _ []any) { delete(p, "version") }), `version "" is not supported`},
		{"an unknown status", alertEdit(func(a map[string]any) { a["status"] = "pending" }), "status"},
		{"a missing startsAt", alertEdit(func(a map[string]any) { delete(a, "startsAt") }), "startsAt"},
		{"a zero startsAt", alertEdit(func(a map[string]any) { a["startsAt"] = "0001-01-01T00:00:00Z" }), "startsAt"},
		{"a startsAt that is not a time", alertEdit(func(a map[string]any) { a["startsAt"] = "10:00" }), "startsAt"},
		{"a resolved alert without endsAt", alertEdit(func(a map[string]any) { a["endsAt"] = "0001-01-01T00:00:00Z" }), "endsAt"},
		{"an alert without service or job", alertEdit(func(a map[string]any) { a["labels"] = map[string]any{"alertname": "X"} }), "job"},
		{"labels that are not strings", alertEdit(func(a map[string]any) { a["labels"] = map[string]any{"job": 1} }), "decode"},
	}
	for _, c := range cases {
		t.Run("rejects "+c.name, func(t *testing.T) {
			events, err := s.Translate(http.Header{}, c.body)
			if delivery.ErrorCode(err) != delivery.EINVALID || len(events) != 0 {
				t.Fatalf("got %v, %v; want an invalid error", events, err)
			}
			if !strings.Contains(err.Error(), c.message) {
				t.Errorf("message %q does not mention %q", err, c.message)
			}
		})
	}
}

func TestEmptyNotificationIsIgnored(t *testing.T) {
	body := edit(t, readPayload(t, "firing"), func(p map[string]any, _ []any) { p["alerts"] = []any{} })
	if _, err := newSource(t, Config{}).Translate(http.Header{}, body); !errors.Is(err, ingest.ErrIgnored) {
		t.Errorf("got %v, want ErrIgnored", err)
	}
}

func TestDeliveryID(t *testing.T) {
	s := newSource(t, Config{})
	firing, resolved := readPayload(t, "firing"), readPayload(t, "resolved")
	reformatted := edit(t, firing, func(p map[string]any, _ []any) { p["receiver"] = "other" })
	id := s.DeliveryID(http.Header{}, firing)
	if id != s.DeliveryID(http.Header{}, reformatted) {
		t.Error("fields outside the group key and alert states changed the delivery id")
	}
	if id == s.DeliveryID(http.Header{}, resolved) {
		t.Error("a resolution has the id of the firing notification")
	}
	if a, b := s.DeliveryID(http.Header{}, []byte("x")), s.DeliveryID(http.Header{}, []byte("x")); a != b || a == id {
		t.Errorf("body digest %q, %q", a, b)
	}
}

// TestOutOfOrderDeliveryConverges merges the resolution before the firing
// report and expects the in-order state.
func TestOutOfOrderDeliveryConverges(t *testing.T) {
	s := newSource(t, Config{})
	f, err := s.Translate(http.Header{}, readPayload(t, "firing"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Translate(http.Header{}, readPayload(t, "resolved"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range f {
		inOrder := delivery.MergeIncident(*f[i].Incident, *r[i].Incident)
		reversed := delivery.MergeIncident(*r[i].Incident, *f[i].Incident)
		if !reflect.DeepEqual(inOrder, reversed) {
			t.Errorf("alert %d: in order %+v\nreversed %+v", i, inOrder, reversed)
		}
		if inOrder.ResolvedAt.IsZero() || !inOrder.OpenedAt.Equal(f[i].Incident.OpenedAt) {
			t.Errorf("alert %d: merged state %+v", i, inOrder)
		}
	}
	if ttr := delivery.MergeIncident(*r[0].Incident, *f[0].Incident); ttr.ResolvedAt.Sub(ttr.OpenedAt) != 41*time.Minute+15*time.Second+376544*time.Microsecond {
		t.Errorf("time to restore %v", ttr.ResolvedAt.Sub(ttr.OpenedAt))
	}
}

func FuzzTranslate(f *testing.F) {
	for _, name := range statuses {
		f.Add(readPayload(f, name))
	}
	f.Add([]byte(`{"version":"4","alerts":[{"status":"firing","labels":{"job":" "},"startsAt":"2026-03-02T10:00:00Z"}]}`))
	f.Add([]byte(`{"version":"4","alerts":[null]}`))
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
