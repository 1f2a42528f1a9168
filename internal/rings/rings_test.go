package rings

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func dep(ring string, status delivery.DeploymentStatus, finished time.Time) delivery.Deployment {
	return delivery.Deployment{Service: "api", Environment: "preview", ID: ring + finished.Format(time.RFC3339),
		Status: status, FinishedAt: finished, SHA: "abc123", Ring: ring}
}

// allowed returns facts under which promoting abc123 to ring1 is allowed:
// it has run in ring0 for three hours (soak two), passed its gates, and the
// service has no severe incident and budget left.
func allowed() Facts {
	return Facts{
		Config:      DefaultConfig("api"),
		SHA:         "abc123",
		To:          delivery.RingPreview,
		Gates:       []GateRun{{Name: "ci", Passed: true, At: now.Add(-4 * time.Hour)}},
		Deployments: []delivery.Deployment{dep(delivery.RingInternal, delivery.DeploymentSuccess, now.Add(-3*time.Hour))},
		Incidents:   []delivery.Incident{{Service: "api", ID: "INC-1", Severity: 2, OpenedAt: now.Add(-time.Hour)}},
		Budget:      Budget{Known: true},
		Now:         now,
	}
}

func status(d Decision, name string) Condition {
	for _, c := range d.Conditions {
		if c.Name == name {
			return c
		}
	}
	return Condition{Name: name, Status: "missing"}
}

func TestDecideFlipsEachCondition(t *testing.T) {
	base := Decide(allowed())
	if !base.Allowed || base.From != delivery.RingInternal {
		t.Fatalf("baseline not allowed: %+v", base)
	}
	for _, c := range base.Conditions {
		if c.Status != Pass {
			t.Fatalf("baseline condition %s is %s: %s", c.Name, c.Status, c.Reason)
		}
	}
	tests := []struct {
		name      string
		condition string
		change    func(*Facts)
		reason    string
	}{
		{"an unknown ring is refused", CondTargetRing, func(f *Facts) { f.To = "ring9" }, `"ring9" is not a ring`},
		{"skipping a ring is refused", CondTargetRing, func(f *Facts) { f.To = delivery.RingGA }, "would skip ring1"},
		{"a failed gate blocks", CondGates, func(f *Facts) {
			f.Gates = append(f.Gates, GateRun{Name: "load", Passed: false, At: now})
		}, "gate failed: load"},
		{"the latest run of a gate counts", CondGates, func(f *Facts) {
			f.Gates = []GateRun{{Name: "ci", Passed: true, At: now.Add(-2 * time.Hour)}, {Name: "ci", Passed: false, At: now.Add(-time.Hour)}}
		}, "gate failed: ci"},
		{"no gate result blocks", CondGates, func(f *Facts) { f.Gates = nil }, "no gate result"},
		{"a short soak blocks", CondSoak, func(f *Facts) {
			f.Deployments = []delivery.Deployment{dep(delivery.RingInternal, delivery.DeploymentSuccess, now.Add(-90*time.Minute))}
		}, "ready at 2026-03-10T12:30:00Z"},
		{"a rollback restarts the soak", CondSoak, func(f *Facts) {
			f.Deployments = append(f.Deployments,
				dep(delivery.RingInternal, delivery.DeploymentRolledBack, now.Add(-2*time.Hour)),
				dep(delivery.RingInternal, delivery.DeploymentSuccess, now.Add(-time.Hour)))
		}, "running in ring0 for 1h0m0s of 2h0m0s"},
		{"a failed deployment in the previous ring blocks", CondSoak, func(f *Facts) {
			f.Deployments = append(f.Deployments, dep(delivery.RingInternal, delivery.DeploymentFailure, now.Add(-time.Minute)))
		}, "not running successfully in ring0"},
		{"another commit's deployment does not count", CondTargetRing, func(f *Facts) { f.Deployments[0].SHA = "other" }, "would skip ring0"},
		{"an open severity 1 incident blocks", CondIncidents, func(f *Facts) {
			f.Incidents = append(f.Incidents, delivery.Incident{Service: "api", ID: "INC-2", Severity: 1, OpenedAt: now})
		}, "INC-2 (sev 1)"},
		{"an open severity 0 incident blocks", CondIncidents, func(f *Facts) {
			f.Incidents = append(f.Incidents, delivery.Incident{Service: "api", ID: "INC-3", Severity: 0, OpenedAt: now})
		}, "INC-3 (sev 0)"},
		{"an exhausted budget blocks", CondBudget, func(f *Facts) { f.Budget.Exhausted = true }, "frozen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := allowed()
			tt.change(&f)
			d := Decide(f)
			if d.Allowed {
				t.Fatalf("allowed: %+v", d.Conditions)
			}
			c := status(d, tt.condition)
			if c.Status != Fail || !strings.Contains(c.Reason, tt.reason) {
				t.Errorf("%s = %s %q, want fail containing %q", c.Name, c.Status, c.Reason, tt.reason)
			}
			if len(d.Conditions) != 5 {
				t.Errorf("%d conditions, want all 5 listed", len(d.Conditions))
			}
		})
	}
}

func TestDecideAllowsWithoutBlocking(t *testing.T) {
	tests := []struct {
		name      string
		condition string
		want      Status
		change    func(*Facts)
	}{
		{"an unknown budget is skipped, not failed", CondBudget, Skipped, func(f *Facts) { f.Budget = Budget{} }},
		{"a fix passes an exhausted budget", CondBudget, Pass, func(f *Facts) { f.Budget.Exhausted, f.Fix = true, true }},
		{"a resolved severe incident does not block", CondIncidents, Pass, func(f *Facts) {
			f.Incidents = []delivery.Incident{{Service: "api", ID: "INC-4", Severity: 0, ResolvedAt: now.Add(-time.Minute)}}
		}},
		{"an open incident no report gave a severity counts as severity 2 and does not block", CondIncidents, Pass, func(f *Facts) {
			f.Incidents = []delivery.Incident{{Service: "api", ID: "INC-6", Severity: delivery.SeverityUnknown, OpenedAt: now}}
		}},
		{"another service's incident does not block", CondIncidents, Pass, func(f *Facts) {
			f.Incidents = []delivery.Incident{{Service: "web", ID: "INC-5", Severity: 0}}
		}},
		{"the first ring needs no soak", CondSoak, Skipped, func(f *Facts) { f.To, f.Deployments = delivery.RingInternal, nil }},
		{"the soak is exactly met", CondSoak, Pass, func(f *Facts) { f.Deployments[0].FinishedAt = now.Add(-2 * time.Hour) }},
		{"an unringed production deployment counts as GA", CondSoak, Pass, func(f *Facts) {
			f.To = "ring3"
			f.Config.Rings = append(f.Config.Rings, Ring{Name: "ring3"})
			f.Deployments = append(f.Deployments,
				dep(delivery.RingPreview, delivery.DeploymentSuccess, now.Add(-48*time.Hour)),
				delivery.Deployment{Service: "api", Environment: "production", Status: delivery.DeploymentSuccess, SHA: "abc123", FinishedAt: now.Add(-time.Hour)})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := allowed()
			tt.change(&f)
			d := Decide(f)
			if c := status(d, tt.condition); c.Status != tt.want {
				t.Errorf("%s = %s (%s), want %s", c.Name, c.Status, c.Reason, tt.want)
			}
			if !d.Allowed {
				t.Errorf("not allowed: %+v", d.Conditions)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig("api").Validate(); err != nil {
		t.Errorf("default config: %v", err)
	}
	bad := []Config{
		{Service: "api"},
		{Service: "api", Rings: []Ring{{Name: "a"}, {Name: "a"}}},
		{Service: "api", Rings: []Ring{{Name: ""}}},
		{Service: "api", Rings: []Ring{{Name: "a", Soak: -time.Second}}},
	}
	for _, c := range bad {
		if err := c.Validate(); delivery.ErrorCode(err) != delivery.EINVALID {
			t.Errorf("%+v: err = %v, want EINVALID", c, err)
		}
	}
}

func TestLocate(t *testing.T) {
	deps := []delivery.Deployment{
		dep(delivery.RingInternal, delivery.DeploymentSuccess, now.Add(-30*time.Hour)),
		dep(delivery.RingPreview, delivery.DeploymentSuccess, now.Add(-3*time.Hour)),
		dep(delivery.RingGA, delivery.DeploymentFailure, now.Add(-time.Hour)),
		{Service: "api", SHA: "other", Ring: delivery.RingGA, Status: delivery.DeploymentSuccess, FinishedAt: now},
	}
	p := Locate(DefaultConfig("api"), "abc123", deps, now)
	want := []string{StateSoaked, StateSoaking, StateFailed}
	for i, r := range p.Rings {
		if r.State != want[i] {
			t.Errorf("%s: %s, want %s", r.Ring, r.State, want[i])
		}
	}
	if d := p.Rings[1].DeployedAt; d == nil || !d.Equal(now.Add(-3*time.Hour)) {
		t.Errorf("ring1 deployed at %v", d)
	}
	if !p.Rings[2].Production || p.Rings[2].DeployedAt != nil {
		t.Errorf("ring2 = %+v", p.Rings[2])
	}
	if p := Locate(DefaultConfig("api"), "nothing", deps, now); p.Rings[0].State != StateNotDeployed {
		t.Errorf("undeployed commit: %+v", p.Rings[0])
	}
}

func TestPromotionJSON(t *testing.T) {
	var req PromotionRequest
	if err := json.Unmarshal([]byte(`{"service":"api","sha":"abc123","to":"ring1","dry_run":true}`), &req); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(req, PromotionRequest{Service: "api", SHA: "abc123", To: "ring1", DryRun: true}) || req.Validate() != nil {
		t.Errorf("request = %+v, %v", req, req.Validate())
	}
	if err := (PromotionRequest{Service: "api", SHA: "abc"}).Validate(); err == nil || !strings.Contains(err.Error(), "to") {
		t.Errorf("missing to: %v", err)
	}
	resp := PromotionResponse{Decision: Decide(allowed()), DryRun: true}
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"allowed":true`, `"dry_run":true`, `"from":"ring0"`, `"conditions":[{"name":"target_ring","status":"pass"`} {
		if !strings.Contains(string(b), s) {
			t.Errorf("%s lacks %s", b, s)
		}
	}
}
