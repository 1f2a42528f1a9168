package sonarqube

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/ingest"
)

const secret = "s3cr3t-webhook"

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerify(t *testing.T) {
	body := read(t, "quality-gate-ok.json")
	tests := []struct {
		name   string
		secret string
		sig    string
		body   []byte
		ok     bool
		reason string
	}{
		{name: "a good signature", secret: secret, sig: Sign(secret, body), body: body, ok: true},
		{name: "upper-case hex is the same signature", secret: secret, sig: strings.ToUpper(Sign(secret, body)), body: body, ok: true},
		{name: "signed with another secret", secret: secret, sig: Sign("other", body), body: body, reason: "does not match"},
		{name: "a body changed after signing", secret: secret, sig: Sign(secret, body), body: append([]byte(" "), body...), reason: "does not match"},
		{name: "no signature", secret: secret, body: body, reason: "has no X-Sonar-Webhook-HMAC-SHA256 header"},
		{name: "a signature that is not hex", secret: secret, sig: "sha256=" + Sign(secret, body), body: body, reason: "not hexadecimal"},
		{name: "no secret configured", sig: Sign("", body), body: body, reason: "no webhook secret is configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.sig != "" {
				h.Set(HeaderSignature, tt.sig)
			}
			err := New(Config{Secret: tt.secret}).Verify(h, tt.body)
			if tt.ok != (err == nil) || (err != nil && (delivery.ErrorCode(err) != delivery.EUNAUTHORIZED || !strings.Contains(err.Error(), tt.reason))) {
				t.Errorf("Verify = %v, want ok %v or %q", err, tt.ok, tt.reason)
			}
		})
	}
}

// TestSignMatchesHMACSHA256 pins Sign to a value computed outside Go:
// printf '{"a":1}' | openssl dgst -sha256 -hmac key
func TestSignMatchesHMACSHA256(t *testing.T) {
	if got, want := Sign("key", []byte(`{"a":1}`)), "88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342"; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
	h := http.Header{}
	h.Set(HeaderSignature, "88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342")
	if err := New(Config{Secret: "key"}).Verify(h, []byte(`{"a":1}`)); err != nil {
		t.Errorf("Verify of the openssl signature: %v", err)
	}
}

func gateOf(t *testing.T, cfg Config, body []byte) (ingest.GateReport, []gate.Criterion) {
	t.Helper()
	s := New(cfg)
	events, err := s.Translate(http.Header{}, body)
	if err != nil || len(events) != 0 {
		t.Fatalf("Translate = %v, %v; want no events, no error", events, err)
	}
	g, err := s.Gate(http.Header{}, body)
	if err != nil {
		t.Fatal(err)
	}
	var cs []gate.Criterion
	if err := json.Unmarshal(g.Criteria, &cs); err != nil {
		t.Fatal(err)
	}
	return g, cs
}

func f(v float64) *float64 { return &v }

func TestAPassingGate(t *testing.T) {
	g, cs := gateOf(t, Config{Secret: secret, Projects: map[string]string{"acme:api": "api"}}, read(t, "quality-gate-ok.json"))
	if g.Service != "api" || g.SHA != "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39" || g.Name != "sonarqube" || !g.Passed {
		t.Errorf("gate %+v", g)
	}
	want := []gate.Criterion{
		{Name: "quality gate", Status: gate.Pass, Detail: `SonarQube quality gate "Sonar way" of acme:api: OK, 0 of 5 condition(s) failed (branch main), analysed at 2026-03-02T09:46:28Z`},
		{Name: "new_reliability_rating", Measured: f(1), Op: "<=", Threshold: 1, Status: gate.Pass, Detail: "reliability rating on new code A; fails worse than A"},
		{Name: "new_security_rating", Measured: f(1), Op: "<=", Threshold: 1, Status: gate.Pass, Detail: "security rating on new code A; fails worse than A"},
		{Name: "new_maintainability_rating", Measured: f(1), Op: "<=", Threshold: 1, Status: gate.Pass, Detail: "maintainability rating on new code A; fails worse than A"},
		{Name: "new_coverage", Measured: f(84.3), Op: ">=", Threshold: 80, Unit: "%", Status: gate.Pass, Detail: "new_coverage: 84.3%; fails below 80%"},
		{Name: "new_duplicated_lines_density", Op: "<=", Threshold: 3, Unit: "%", Status: gate.Skipped, Detail: "new_duplicated_lines_density: no value; fails above 3%"},
	}
	if !reflect.DeepEqual(cs, want) {
		t.Errorf("criteria\n%s\nwant\n%s", js(cs), js(want))
	}
}

// TestAFailingGate: SonarQube failed the gate on a pull request's
// analysis for a C reliability rating (3 > 1), two new vulnerabilities
// (> 0) and 72.5 % coverage of new code (< 80); the maintainability rating
// (A) and duplication (1.2 % <= 3) passed.
func TestAFailingGate(t *testing.T) {
	g, cs := gateOf(t, Config{Secret: secret}, read(t, "quality-gate-error.json"))
	if g.Service != "acme:api" || g.SHA != "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c" || g.Passed {
		t.Errorf("gate %+v: an unmapped project is its own service, and the gate failed", g)
	}
	want := []gate.Criterion{
		{Name: "quality gate", Status: gate.Fail, Detail: `SonarQube quality gate "Sonar way" of acme:api: ERROR, 3 of 5 condition(s) failed (pull request 1742), analysed at 2026-03-02T13:05:11Z`},
		{Name: "new_reliability_rating", Measured: f(3), Op: "<=", Threshold: 1, Status: gate.Fail, Detail: "reliability rating on new code C; fails worse than A"},
		{Name: "new_maintainability_rating", Measured: f(1), Op: "<=", Threshold: 1, Status: gate.Pass, Detail: "maintainability rating on new code A; fails worse than A"},
		{Name: "new_vulnerabilities", Measured: f(2), Op: "<=", Threshold: 0, Status: gate.Fail, Detail: "vulnerabilities in new code: 2; fails above 0"},
		{Name: "new_coverage", Measured: f(72.5), Op: ">=", Threshold: 80, Unit: "%", Status: gate.Fail, Detail: "new_coverage: 72.5%; fails below 80%"},
		{Name: "new_duplicated_lines_density", Measured: f(1.2), Op: "<=", Threshold: 3, Unit: "%", Status: gate.Pass, Detail: "new_duplicated_lines_density: 1.2%; fails above 3%"},
	}
	if !reflect.DeepEqual(cs, want) {
		t.Errorf("criteria\n%s\nwant\n%s", js(cs), js(want))
	}
}

func TestTranslateIgnoresAndRejects(t *testing.T) {
	ok := string(read(t, "quality-gate-ok.json"))
	tests := []struct {
		name    string
		body    string
		ignored bool
		reason  string
	}{
		{name: "a failed analysis has no gate", body: string(read(t, "analysis-failed.json")), ignored: true, reason: "has no quality gate (task status FAILED)"},
		{name: "an analysis without a revision", body: strings.Replace(ok, `"revision": "3f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39",`, "", 1), ignored: true, reason: "names no revision"},
		{name: "not JSON", body: "status=OK", reason: "not a webhook payload"},
		{name: "no project key", body: strings.Replace(ok, `"key": "acme:api"`, `"key": ""`, 1), reason: "no project.key"},
		{name: "an unknown gate status", body: strings.Replace(ok, `"status": "OK",
        "conditions"`, `"status": "WARN",
        "conditions"`, 1), reason: `qualityGate.status "WARN"`},
		{name: "an unknown operator", body: strings.Replace(ok, `"LESS_THAN"`, `"EQUALS"`, 1), reason: `conditions[3]: new_coverage: operator "EQUALS"`},
		{name: "a value that is not a number", body: strings.Replace(ok, `"84.3"`, `"B"`, 1), reason: `value "B" is not a number`},
		{name: "a time that is not a time", body: strings.Replace(ok, `"analysedAt": "2026-03-02T10:46:28+0100"`, `"analysedAt": "yesterday"`, 1), reason: `analysedAt "yesterday"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{Secret: secret}).Translate(http.Header{}, []byte(tt.body))
			switch {
			case err == nil:
				t.Fatal("accepted")
			case tt.ignored != errors.Is(err, ingest.ErrIgnored):
				t.Errorf("%v: want ignored %v", err, tt.ignored)
			case !tt.ignored && delivery.ErrorCode(err) != delivery.EINVALID:
				t.Errorf("%v: want EINVALID", err)
			case !strings.Contains(err.Error(), tt.reason):
				t.Errorf("%v: want %q", err, tt.reason)
			}
		})
	}
}

func TestDeliveryIDAndConnector(t *testing.T) {
	s := New(Config{Secret: secret})
	a, b := read(t, "quality-gate-ok.json"), read(t, "quality-gate-error.json")
	again := append([]byte(nil), a...) // the same body sent again
	if s.DeliveryID(nil, a) != s.DeliveryID(nil, again) || s.DeliveryID(nil, a) == s.DeliveryID(nil, b) {
		t.Error("the delivery id must be the body's digest")
	}
	cfg := Connector.Config().(*Config)
	cfg.Projects = map[string]string{"acme:web": ""}
	if _, err := Connector.New(cfg, delivery.Mapping{}); err == nil || !strings.Contains(err.Error(), "projects.acme:web") {
		t.Errorf("a project mapped to no service: %v", err)
	}
}

func js(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
