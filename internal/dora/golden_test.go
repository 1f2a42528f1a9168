package dora

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	goldenfile "github.com/stride-oss/stride/internal/golden"
)

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

// fullInput is two weeks of two services with every kind of record the
// report reads: planned and unplanned deployments, a failure fixed after the
// period, a rollback, explicit and inferred incidents, an incident before
// any deployment, and clock skew.
func fullInput() Input {
	web := func(id string, status delivery.DeploymentStatus, finished time.Duration) delivery.Deployment {
		d := dep(id, status, finished)
		d.Service, d.Repository = "web", "web"
		return d
	}
	webKey := func(id string) *delivery.DeploymentKey {
		k := delivery.DeploymentKey{Service: "web", Environment: delivery.EnvironmentProduction, ID: id}
		return &k
	}
	hotfix := dep("a5", success, 9*day+15*hour)
	hotfix.Hotfix = true
	fixShip := ship("a5", "fix", 9*day+13*hour)
	fixShip.Incident = "INC-2"

	in := Input{
		Period: period(0, 2*week),
		Deployments: []delivery.Deployment{
			dep("a0", success, -2*day), // before the period: linked by INC-0
			dep("a1", success, 10*hour),
			dep("a2", success, day+11*hour),
			dep("a3", failure, 2*day+9*hour),
			dep("a4", success, 2*day+14*hour),
			dep("a6", success, 9*day+10*hour),
			hotfix,
			dep("a7", rolledBack, 13*day+20*hour), // fixed by a8 after the period
			dep("a8", success, 15*day),
			web("w1", success, 3*day+12*hour),
			web("w2", success, 10*day+12*hour),
			{Service: "web", Environment: "production", ID: "w3", Status: delivery.DeploymentInProgress},
		},
		Shipments: []Shipment{
			ship("a1", "c1", 10*hour-30*time.Minute),
			ship("a1", "c2", 10*hour-3*hour),
			ship("a2", "c3", day+11*hour-26*hour),
			ship("a4", "c4", 2*day+8*hour),
			ship("a4", "c5", 2*day+15*hour), // clock skew: after a4 finished
			ship("a6", "c6", 9*day+10*hour-5*day),
			fixShip,
			ship("a8", "c8", 14*day),
			{Deployment: *webKey("w1"), Repository: "web", SHA: "c9", CommitTime: at(day + 12*hour)},
			{Deployment: *webKey("w2"), Repository: "web", SHA: "c10", CommitTime: at(10*day + 6*hour)},
		},
		Incidents: []IncidentLink{
			incident("INC-0", -day, hour, "a0", true),
			incident("INC-1", -3*day, -3*day+2*hour, "", false), // before any deployment
			incident("INC-2", 9*day+11*hour, 9*day+16*hour, "a6", false),
			{Incident: delivery.Incident{Service: "web", ID: "INC-3", Severity: 0, OpenedAt: at(10*day + 13*hour), ResolvedAt: at(10*day + 13*hour + 40*time.Minute)}, Deployment: webKey("w2"), Inferred: true},
		},
	}
	return in
}

// The golden report was checked by hand against fullInput:
//   - frequency: a1 a2 a4 a6 a5 w1 w2 succeeded in [0, 14d): 7, on days 0 1
//     2 3 (week 1) and 9 10 (week 2): 6 days, weekly 4 and 2 → median 3
//     (high); 7 ÷ 2 weeks = 3.5.
//   - lead time: 0.5h 3h (a1), 26h (a2), 6h (a4; c5 is skew), 120h (a6), 2h
//     (a5), 48h (w1), 6h (w2): 8 changes of 7 deployments; sorted middle
//     pair 6h 6h → 6h (elite); p90 rank ⌈7.2⌉ = 8 → 120h.
//   - failure: 9 deployments in the period (a0, a8 outside, w3 unfinished);
//     a3 failed, a7 rolled back, a6 (INC-2) and w2 (INC-3) caused
//     incidents: 4 ÷ 9 (low).
//   - restore: INC-0 25h, INC-2 5h, INC-3 40m (INC-1 resolved before the
//     period): median 5h (high), p90 25h.
//   - recovery: a3 → a4 5h; a6 → a5 5h (before INC-2's 6h); a7 → a8 28h
//     after the period; w2 → INC-3 resolved 1h40m: median 5h, p90 28h.
//   - rework: a5 is a hotfix shipping a fix: 1 ÷ 9.
//   - overall: the lowest of high, elite, low, high is low.
func TestFullReportMatchesGolden(t *testing.T) {
	r := Compute(fullInput())
	r.Service = "api, web"
	r.Team = "payments"
	golden(t, "report.golden.json", append(mustJSON(t, r), '\n'))
}
