package argocd

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/golden"
	"github.com/stride-oss/stride/internal/ingest"
)

// notifications are the kinds of notification the shipped triggers send,
// each with a body testdata/<name>.json and a golden testdata/<name>.golden.
var notifications = []string{"sync-running", "sync-succeeded", "sync-failed", "health-degraded"}

func readPayload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func edit(t testing.TB, body []byte, f func(n map[string]any)) []byte {
	t.Helper()
	var n map[string]any
	if err := json.Unmarshal(body, &n); err != nil {
		t.Fatal(err)
	}
	f(n)
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func translateOne(t *testing.T, s *Source, body []byte) delivery.Deployment {
	t.Helper()
	events, err := s.Translate(http.Header{}, body)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Kind != delivery.KindDeployment || events[0].Source != Name {
		t.Fatalf("got %+v, want one deployment event", events)
	}
	return *events[0].Deployment
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
		{"rejects an empty bearer token", "t0ken", http.Header{"Authorization": {"Bearer "}}, false},
		{"rejects everything when no token is configured", "", http.Header{"Authorization": {"Bearer t0ken"}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := New(Config{Token: c.configured}).Verify(c.header, readPayload(t, "sync-succeeded"))
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
	for _, name := range notifications {
		t.Run(name, func(t *testing.T) {
			events, err := s.Translate(http.Header{}, readPayload(t, name))
			if err != nil {
				t.Fatal(err)
			}
			golden.CheckJSON(t, filepath.Join("testdata", name+".golden"), events)
		})
	}
}

func TestTranslateStatus(t *testing.T) {
	s := New(Config{})
	cases := []struct {
		name string
		want delivery.DeploymentStatus
		env  string
	}{
		{"sync-running", delivery.DeploymentInProgress, "production"},
		{"sync-succeeded", delivery.DeploymentSuccess, "production"},
		{"sync-failed", delivery.DeploymentFailure, "staging"},
		{"health-degraded", delivery.DeploymentFailure, "production"},
	}
	for _, c := range cases {
		t.Run(c.name+" is "+string(c.want), func(t *testing.T) {
			d := translateOne(t, s, readPayload(t, c.name))
			if d.Status != c.want || d.Environment != c.env || d.Service != "checkout-prod" || d.Repository != "acme/checkout-deploy" {
				t.Errorf("got %+v", d)
			}
		})
	}
}

func TestService(t *testing.T) {
	mapping := delivery.Mapping{Services: []delivery.ServiceMapping{{Name: "checkout", Repositories: []string{"acme/checkout-deploy"}}}}
	cases := []struct {
		name string
		cfg  Config
		want string
	}{
		{"falls back to the application name", Config{}, "checkout-prod"},
		{"maps the application by name", Config{Services: map[string]string{"checkout-prod": "checkout"}}, "checkout"},
		{"maps the source repository", Config{Mapping: mapping}, "checkout"},
		{"takes the spelling of a mapped service", Config{Mapping: delivery.Mapping{Services: []delivery.ServiceMapping{{Name: "Checkout-Prod"}}}}, "Checkout-Prod"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := translateOne(t, New(c.cfg), readPayload(t, "sync-succeeded")).Service; got != c.want {
				t.Errorf("service %q, want %q", got, c.want)
			}
		})
	}
}

func TestRepository(t *testing.T) {
	for in, want := range map[string]string{
		"https://github.com/acme/api.git":       "acme/api",
		"https://gitlab.example.com/g/sub/api/": "g/sub/api",
		"git@github.com:acme/api.git":           "acme/api",
		"ssh://git@github.com/acme/api.git":     "acme/api",
		"":                                      "",
		"registry-1.docker.io/bitnamicharts":    "registry-1.docker.io/bitnamicharts",
	} {
		if got := repository(in); got != want {
			t.Errorf("repository(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDeploymentIDFallsBackToStart(t *testing.T) {
	body := edit(t, readPayload(t, "sync-succeeded"), func(n map[string]any) { n["deploymentId"] = "<no value>" })
	if d := translateOne(t, New(Config{}), body); d.ID != "checkout-prod@2026-03-02T10:00:03Z" {
		t.Errorf("id %q", d.ID)
	}
}

func TestTranslateIgnoresOtherPhases(t *testing.T) {
	body := edit(t, readPayload(t, "sync-running"), func(n map[string]any) { n["syncPhase"] = "Terminating" })
	if _, err := New(Config{}).Translate(http.Header{}, body); !errors.Is(err, ingest.ErrIgnored) {
		t.Errorf("got %v, want ErrIgnored", err)
	}
}

func TestTranslateRejectsMalformed(t *testing.T) {
	good := readPayload(t, "sync-succeeded")
	cases := []struct {
		name string
		body []byte
	}{
		{"a body that is not JSON", []byte("Application checkout-prod synced")},
		{"a notification without app", edit(t, good, func(n map[string]any) { delete(n, "app") })},
		{"a notification without syncPhase", edit(t, good, func(n map[string]any) { delete(n, "syncPhase") })},
		{"a succeeded sync without revision", edit(t, good, func(n map[string]any) { n["revision"] = "" })},
		{"a succeeded sync without finishedAt", edit(t, good, func(n map[string]any) { n["finishedAt"] = "" })},
		{"a finishedAt that is not a time", edit(t, good, func(n map[string]any) { n["finishedAt"] = "a minute ago" })},
		{"neither deploymentId nor startedAt", edit(t, good, func(n map[string]any) { n["deploymentId"], n["startedAt"] = "", "" })},
		{"a field of the wrong type", edit(t, good, func(n map[string]any) { n["revision"] = 42 })},
	}
	for _, c := range cases {
		t.Run("rejects "+c.name, func(t *testing.T) {
			events, err := New(Config{}).Translate(http.Header{}, c.body)
			if delivery.ErrorCode(err) != delivery.EINVALID || len(events) != 0 {
				t.Fatalf("got %v, %v; want an invalid error", events, err)
			}
		})
	}
}

func TestKeysAndDeliveryID(t *testing.T) {
	s := New(Config{})
	keys := map[string]string{}
	for _, name := range notifications {
		body := readPayload(t, name)
		a, _ := s.Translate(http.Header{}, body)
		b, _ := s.Translate(http.Header{}, body)
		id1, id2 := s.DeliveryID(nil, body), s.DeliveryID(nil, append([]byte(nil), body...))
		if a[0].Key != b[0].Key || id1 != id2 {
			t.Errorf("%s: key or delivery id is not stable", name)
		}
		if other, dup := keys[a[0].Key]; dup {
			t.Errorf("%s and %s share key %q", name, other, a[0].Key)
		}
		keys[a[0].Key] = name
	}
}

// TestOutOfOrderDeliveryConverges merges the reports of one sync in every
// order: the later, further report wins, so the degraded health after a
// succeeded sync leaves the deployment failed however they arrive.
func TestOutOfOrderDeliveryConverges(t *testing.T) {
	s := New(Config{})
	var reports []delivery.Deployment
	for _, name := range []string{"sync-running", "sync-succeeded", "health-degraded"} {
		reports = append(reports, translateOne(t, s, readPayload(t, name)))
	}
	merge := func(order ...int) delivery.Deployment {
		m := reports[order[0]]
		for _, i := range order[1:] {
			m = delivery.MergeDeployment(m, reports[i])
		}
		return m
	}
	ok := merge(0, 1)
	if ok != merge(1, 0) || ok.Status != delivery.DeploymentSuccess || !ok.StartedAt.Equal(time.Date(2026, 3, 2, 10, 0, 3, 0, time.UTC)) {
		t.Errorf("running and succeeded: %+v vs %+v", ok, merge(1, 0))
	}
	want := merge(0, 1, 2)
	if want.Status != delivery.DeploymentFailure {
		t.Fatalf("in-order state %+v", want)
	}
	for _, o := range [][]int{{2, 1, 0}, {1, 2, 0}, {2, 0, 1}} {
		if got := merge(o...); !reflect.DeepEqual(got, want) {
			t.Errorf("order %v gives %+v\nwant %+v", o, got, want)
		}
	}
}

func FuzzTranslate(f *testing.F) {
	for _, name := range notifications {
		f.Add(readPayload(f, name))
	}
	f.Add([]byte(`{"app":" ","syncPhase":"Succeeded","revision":"x","finishedAt":"2026-03-02T10:00:00Z","deploymentId":"1"}`))
	s := New(Config{})
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
