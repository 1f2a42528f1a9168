package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/sloeval"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

const apiSLO = `apiVersion: openslo/v1
kind: SLO
metadata: {name: api-availability}
spec:
  service: api
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: stride}}
        total: {metricSource: {type: stride}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
`

// sloEnv is env with an admin token and the SLO of api applied.
func sloEnv(t *testing.T, db *store.DB) (*env, string) {
	t.Helper()
	e := newEnv(t, db, nil)
	_, admin, err := db.CreateToken(ctx, "ops", delivery.ScopeAdmin)
	if err != nil {
		t.Fatal(err)
	}
	var def slo.SLO
	if code := e.do("PUT", "/api/v1/slos/api-availability", admin, apiSLO, &def); code != http.StatusCreated || def.Service != "api" {
		t.Fatalf("PUT SLO: %d %+v", code, def)
	}
	return e, admin
}

// pushMinutes pushes n minutes of 1,000 calls from start, good of them good.
func (e *env) pushMinutes(start time.Time, n int, good int64) map[string]int {
	e.t.Helper()
	var ps []slo.Push
	for i := range n {
		s := start.Add(time.Duration(i) * time.Minute)
		ps = append(ps, slo.Push{SLO: "api-availability", Start: s, End: s.Add(time.Minute), Good: good, Total: 1000})
	}
	var out map[string]int
	if code := e.do("POST", "/api/v1/sli", e.ingest, ps, &out); code != http.StatusOK {
		e.t.Fatalf("POST sli: %d %v", code, out)
	}
	return out
}

// evaluate runs the evaluation job once at the env's clock.
func (e *env) evaluate() {
	e.t.Helper()
	if err := sloeval.Task(e.db, e.clock.Now).Run(ctx); err != nil {
		e.t.Fatal(err)
	}
}

func TestSLOEndpoints(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e, admin := sloEnv(t, db)
		now := t0.Add(3 * time.Hour)
		e.clock.Set(now)
		var errBody map[string]any
		if code := e.do("PUT", "/api/v1/slos/api-availability", admin, apiSLO, nil); code != http.StatusOK {
			t.Errorf("PUT again: %d, want 200", code)
		}
		if code := e.do("PUT", "/api/v1/slos/other", admin, apiSLO, &errBody); code != http.StatusBadRequest || errBody["field"] != "metadata.name" {
			t.Errorf("PUT under another name: %d %v", code, errBody)
		}
		if code := e.do("PUT", "/api/v1/slos/api-availability", e.ingest, apiSLO, nil); code != http.StatusForbidden {
			t.Errorf("PUT with an ingest token: %d, want 403", code)
		}
		bad := strings.Replace(apiSLO, "0.999", "1.5", 1)
		if code := e.do("PUT", "/api/v1/slos/api-availability", admin, bad, nil); code != http.StatusBadRequest {
			t.Errorf("PUT objective 1.5: %d, want 400", code)
		}
		if got := e.pushMinutes(now.Add(-2*time.Hour), 60, 1000); got["added"] != 60 {
			t.Errorf("push: %v", got)
		}
		e.pushMinutes(now.Add(-time.Hour), 60, 980)
		// One object, not an array; a repeat of a stored minute replaces it.
		one := slo.Push{SLO: "api-availability", Start: now.Add(-time.Minute), End: now, Good: 980, Total: 1000}
		var res map[string]int
		if code := e.do("POST", "/api/v1/sli", e.ingest, one, &res); code != http.StatusOK || res["replaced"] != 1 || res["added"] != 0 {
			t.Errorf("repeat push: %d %v", code, res)
		}
		if code := e.do("POST", "/api/v1/sli", e.ingest, `{"slo": "api-availability", "start": "2026-03-02T11:00:30Z", "end": "2026-03-02T11:01:30Z"}`, &errBody); code != http.StatusBadRequest || errBody["field"] != "start" {
			t.Errorf("push off the minute: %d %v", code, errBody)
		}

		var m struct {
			slo.Maintenance
			Scheduled bool `json:"scheduled"`
		}
		if code := e.do("POST", "/api/v1/maintenance", e.ingest, map[string]any{"service": "api", "from": now.Add(24 * time.Hour), "to": now.Add(25 * time.Hour), "reason": "db"}, &m); code != http.StatusCreated ||
			m.Scheduled || !m.AnnouncedAt.Equal(now) {
			t.Errorf("maintenance a day ahead: %d %+v; want recorded now, not scheduled", code, m)
		}
		var ms map[string][]map[string]any
		if code := e.do("GET", "/api/v1/maintenance?service=api", e.read, nil, &ms); code != http.StatusOK || len(ms["maintenance"]) != 1 {
			t.Errorf("GET maintenance: %d %v", code, ms)
		}

		var list struct {
			SLOs    []slo.Report `json:"slos"`
			Pending []string     `json:"pending"`
		}
		e.do("GET", "/api/v1/slos", e.read, nil, &list)
		if len(list.SLOs) != 0 || len(list.Pending) != 1 {
			t.Errorf("before the job ran: %+v, want api-availability pending", list)
		}
		if code := e.do("GET", "/api/v1/slos/api-availability", e.read, nil, nil); code != http.StatusNotFound {
			t.Errorf("report before the job ran: %d, want 404", code)
		}

		e.evaluate()
		var r slo.Report
		if code := e.do("GET", "/api/v1/slos/api-availability", e.read, nil, &r); code != http.StatusOK {
			t.Fatalf("GET report: %d", code)
		}
		// 1,200 bad of 120,000 against a budget of 120: −9, frozen.
		if r.Total != 120000 || r.BudgetRemaining != -9 || !r.Frozen || r.BurnRates["1h"] != 20 || len(r.Alerts) != 4 {
			t.Errorf("report %+v", r)
		}
		e.do("GET", "/api/v1/slos?service=api", e.read, nil, &list)
		if len(list.SLOs) != 1 || len(list.Pending) != 0 {
			t.Errorf("after the job: %+v", list)
		}
		e.do("GET", "/api/v1/slos?service=web", e.read, nil, &list)
		if len(list.SLOs) != 0 {
			t.Errorf("web has no SLOs, got %+v", list)
		}
		var ex struct {
			Spent []slo.Spend `json:"spent"`
		}
		if code := e.do("GET", "/api/v1/slos/api-availability/explain?limit=3", e.read, nil, &ex); code != http.StatusOK || len(ex.Spent) != 3 || ex.Spent[0].Bad != 20 {
			t.Errorf("explain: %d %+v; want 3 minutes of 20 bad calls", code, ex)
		}
		if code := e.do("GET", "/api/v1/slos/nope", e.read, nil, nil); code != http.StatusNotFound {
			t.Errorf("unknown SLO: %d", code)
		}
		var alerts struct {
			Alerts []slo.Transition `json:"alerts"`
		}
		if code := e.do("GET", "/api/v1/alerts?service=api", e.read, nil, &alerts); code != http.StatusOK || len(alerts.Alerts) != 4 || alerts.Alerts[0].Kind != slo.Fired {
			t.Errorf("alerts: %d %+v", code, alerts)
		}
	})
}

// TestBudgetFreezeFlipsGateAndPromote: once the job finds api's budget
// spent, a feature fails the gate and cannot go beyond the first ring; a
// fix still can. With budget left both pass the budget check.
func TestBudgetFreezeFlipsGateAndPromote(t *testing.T) {
	tests := []struct {
		name     string
		good     int64 // of 1,000 calls a minute in the last hour
		fix      bool
		to       string
		frozen   bool
		gate     gate.Status // the gate's verdict after the budget check
		budget   rings.Status
		promoted bool
	}{
		{name: "budget left: a feature passes", good: 1000, to: "ring1", gate: gate.Pass, budget: rings.Pass, promoted: true},
		{name: "frozen: a feature fails the gate and stays out of ring1", good: 980, to: "ring1", frozen: true, gate: gate.Fail, budget: rings.Fail},
		{name: "frozen: a fix passes and goes on", good: 980, fix: true, to: "ring1", frozen: true, gate: gate.Pass, budget: rings.Pass, promoted: true},
		{name: "frozen: a feature may still enter the first ring", good: 980, to: "ring0", frozen: true, gate: gate.Fail, budget: rings.Pass, promoted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				e, _ := sloEnv(t, db)
				e.gate("abc", gate.Pass)
				e.events(deployment("1", "abc", "canary", "ring0", delivery.DeploymentSuccess, t0))
				now := t0.Add(3 * time.Hour)
				e.clock.Set(now)
				e.pushMinutes(now.Add(-2*time.Hour), 60, 1000)
				e.pushMinutes(now.Add(-time.Hour), 60, tt.good)
				e.evaluate()

				res := gate.Result{Service: "api", SHA: "abc", Verdict: gate.Pass, Fix: tt.fix, Criteria: []gate.Criterion{{Name: "tests", Status: gate.Pass}}}
				var resp gate.Response
				if code := e.do("POST", "/api/v1/gates", e.ingest, res, &resp); code != http.StatusCreated {
					t.Fatalf("POST gate: %d", code)
				}
				if resp.Frozen != tt.frozen || !resp.SLOsConfigured || tt.frozen != strings.Contains(resp.Reason, "api-availability has") {
					t.Errorf("gate answer %+v, want frozen %v", resp, tt.frozen)
				}
				res.AddErrorBudget(resp) // what stride gate --server does with the answer
				if res.Verdict != tt.gate {
					t.Errorf("gate verdict %s, want %s: %+v", res.Verdict, tt.gate, res.Criteria)
				}
				if tt.frozen && !tt.fix && !strings.Contains(res.Criteria[len(res.Criteria)-1].Detail, "frozen for feature deployments: api-availability has -900 % of its 30-day budget left") {
					t.Errorf("gate detail %q does not give the reason", res.Criteria[len(res.Criteria)-1].Detail)
				}

				p, _ := e.promote(rings.PromotionRequest{Service: "api", SHA: "abc", To: tt.to, Fix: tt.fix})
				if c := condition(p.Decision, rings.CondBudget); c.Status != tt.budget || p.Allowed != tt.promoted {
					t.Errorf("promotion to %s: allowed %v, budget %s (%s); want %v, %s", tt.to, p.Allowed, c.Status, c.Reason, tt.promoted, tt.budget)
				}
			})
		})
	}
}

func TestFlagdEndpoint(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		e.events(deployment("1", "abc", "canary", "ring0", delivery.DeploymentSuccess, t0))
		e.clock.Set(t0.Add(time.Hour))
		var f rings.FlagdFile
		if code := e.do("GET", "/api/v1/rings/flagd?service=api&sha=abc", e.read, nil, &f); code != http.StatusOK {
			t.Fatalf("GET flagd: %d", code)
		}
		ring, released := f.Flags["api.ring"], f.Flags["api.released"]
		if f.Schema != rings.FlagdSchema || ring.State != "ENABLED" || released.Metadata["reached"] != "ring0" {
			t.Errorf("flagd %+v", f)
		}
		if code := e.do("GET", "/api/v1/rings/flagd", e.read, nil, nil); code != http.StatusBadRequest {
			t.Errorf("without a service: %d, want 400", code)
		}
	})
}
