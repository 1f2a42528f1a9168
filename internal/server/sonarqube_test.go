package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/ingest"
	"github.com/stride-oss/stride/internal/ingest/sonarqube"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

const sonarSecret = "sonar-s3cret"

// sonarPayload is one of the connector's documented payloads, for commit
// sha.
func sonarPayload(t *testing.T, name, sha string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "ingest", "sonarqube", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	p["revision"] = sha
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *env) sonar(body []byte, sig string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.url+"/webhooks/sonarqube", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(sonarqube.HeaderProject, "acme:api")
	if sig != "" {
		req.Header.Set(sonarqube.HeaderSignature, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestSonarQubeGateThroughTheWebhook: ring1 requires the gate sonarqube.
// The commit abc passed its CI gate and soaked in ring0; until SonarQube
// reports it may not enter ring1; a signed failing quality gate keeps it
// out (and a redelivery records nothing twice), unsigned or badly signed
// deliveries are refused and stored nowhere, and a later passing quality
// gate lets it in. `stride gate` sees the same result through the answer
// of POST /api/v1/gates.
func TestSonarQubeGateThroughTheWebhook(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		c := &clock{now: t0}
		db.Now = c.Now
		ringsFor := func(service string) rings.Config {
			rc := rings.DefaultConfig(service)
			rc.Rings[1].RequireGates = []string{"sonarqube"}
			return rc
		}
		src := sonarqube.New(sonarqube.Config{Secret: sonarSecret, Projects: map[string]string{"acme:api": "api"}})
		srv := &server.Server{DB: db, Reports: reader(db), Now: c.Now, Rings: ringsFor,
			Sources: map[string]ingest.Source{"sonarqube": src}}
		hs := httptest.NewServer(srv.Handler())
		t.Cleanup(hs.Close)
		e := &env{t: t, db: db, clock: c, url: hs.URL}
		var err error
		if _, e.ingest, err = db.CreateToken(ctx, "ci", delivery.ScopeIngest); err != nil {
			t.Fatal(err)
		}
		e.gate("abc", gate.Pass)
		e.events(deployment("1", "abc", "canary", "ring0", delivery.DeploymentSuccess, t0))
		c.Set(t0.Add(3 * time.Hour))

		promote := func(allowed bool, status rings.Status, reason string) {
			t.Helper()
			p, _ := e.promote(rings.PromotionRequest{Service: "api", SHA: "abc", To: "ring1", DryRun: true})
			got := condition(p.Decision, rings.CondRequiredGates)
			if p.Allowed != allowed || got.Status != status || !strings.Contains(got.Reason, reason) {
				t.Errorf("promotion allowed %v, required_gates %s %q; want %v, %s %q\n%+v", p.Allowed, got.Status, got.Reason, allowed, status, reason, p.Conditions)
			}
		}
		promote(false, rings.Fail, "ring1 requires gate(s) sonarqube; no result yet for abc: sonarqube")

		failing := sonarPayload(t, "quality-gate-error.json", "abc")
		for _, bad := range []struct{ name, sig string }{
			{"unsigned", ""}, {"signed with another secret", sonarqube.Sign("nope", failing)}, {"not hex", "zz"}} {
			if code, body := e.sonar(failing, bad.sig); code != http.StatusUnauthorized {
				t.Errorf("%s delivery: %d %v, want 401", bad.name, code, body)
			}
		}
		if runs, _ := latestGates(db, "api", "abc"); len(runs) != 1 {
			t.Fatalf("refused deliveries recorded gates: %+v", runs)
		}

		if code, body := e.sonar(failing, sonarqube.Sign(sonarSecret, failing)); code != http.StatusOK || body["added"] != 1.0 {
			t.Fatalf("failing gate: %d %v", code, body)
		}
		if code, body := e.sonar(failing, sonarqube.Sign(sonarSecret, failing)); code != http.StatusOK || body["duplicates"] != 1.0 {
			t.Errorf("redelivery: %d %v, want a duplicate", code, body)
		}
		results, err := db.GateResults(ctx, "api", "abc")
		if err != nil || len(results) != 2 || results[1].Name != "sonarqube" || results[1].Verdict != "fail" {
			t.Fatalf("stored gates %+v %v, want the CI gate and one failed sonarqube", results, err)
		}
		promote(false, rings.Fail, "failed: sonarqube")

		// What stride gate --server with require_gates: [sonarqube] sees.
		res := gate.Result{Service: "api", SHA: "abc", Verdict: gate.Pass, Criteria: []gate.Criterion{{Name: "tests", Status: gate.Pass}}}
		var resp gate.Response
		if code := e.do("POST", "/api/v1/gates", e.ingest, res, &resp); code != http.StatusCreated {
			t.Fatalf("POST gate: %d", code)
		}
		res.AddRequiredGates([]string{"sonarqube"}, resp.Gates, true)
		if last := res.Criteria[len(res.Criteria)-1]; res.Verdict != gate.Fail || last.Name != "gate sonarqube" || last.Detail != "gate sonarqube failed at 2026-03-02T12:00:00Z" {
			t.Errorf("stride gate with the failed sonarqube gate: %s %+v", res.Verdict, res.Criteria)
		}

		c.Set(t0.Add(4 * time.Hour))
		passing := sonarPayload(t, "quality-gate-ok.json", "abc")
		if code, body := e.sonar(passing, sonarqube.Sign(sonarSecret, passing)); code != http.StatusOK || body["added"] != 1.0 {
			t.Fatalf("passing gate: %d %v", code, body)
		}
		promote(true, rings.Pass, "ring1 requires gate(s) sonarqube: passed")

		res = gate.Result{Service: "api", SHA: "abc", Verdict: gate.Pass, Criteria: []gate.Criterion{{Name: "tests", Status: gate.Pass}}}
		if code := e.do("POST", "/api/v1/gates", e.ingest, res, &resp); code != http.StatusCreated {
			t.Fatalf("POST gate: %d", code)
		}
		res.AddRequiredGates([]string{"sonarqube"}, resp.Gates, true)
		if res.Verdict != gate.Pass {
			t.Errorf("stride gate with the passed sonarqube gate: %+v", res.Criteria)
		}
		// A commit SonarQube has not analysed still waits.
		res = gate.Result{Service: "api", SHA: "def", Verdict: gate.Pass, Criteria: []gate.Criterion{{Name: "tests", Status: gate.Pass}}}
		e.do("POST", "/api/v1/gates", e.ingest, res, &resp)
		res.AddRequiredGates([]string{"sonarqube"}, resp.Gates, true)
		if res.Verdict != gate.Fail || !strings.Contains(res.Criteria[len(res.Criteria)-1].Detail, "no result of the required gate sonarqube for def") {
			t.Errorf("an unanalysed commit: %+v", res.Criteria)
		}
	})
}
