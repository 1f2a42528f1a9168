package dora

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// t0 is Monday 2024-01-01 00:00 UTC, the start of ISO week 2024-W01, so that
// day offsets in the tests read directly as weekdays (day 0 is a Monday).
var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	hour = time.Hour
	day  = 24 * time.Hour
	week = 7 * day
)

// at is t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// period is [t0+from, t0+to).
func period(from, to time.Duration) delivery.Period {
	return delivery.Period{From: at(from), To: at(to)}
}

// dep is a production deployment of service "api" finished at t0+finished.
func dep(id string, status delivery.DeploymentStatus, finished time.Duration) delivery.Deployment {
	return delivery.Deployment{
		Service: "api", Environment: delivery.EnvironmentProduction, ID: id,
		Status: status, StartedAt: at(finished - 10*time.Minute), FinishedAt: at(finished),
		SHA: "sha-" + id, Repository: "api", UpdatedAt: at(finished),
	}
}

func key(id string) delivery.DeploymentKey {
	return delivery.DeploymentKey{Service: "api", Environment: delivery.EnvironmentProduction, ID: id}
}

// ship is change sha, committed at t0+committed, shipped by deployment id.
func ship(id, sha string, committed time.Duration) Shipment {
	return Shipment{Deployment: key(id), Repository: "api", SHA: sha, CommitTime: at(committed)}
}

// unresolved, as an incident's resolved offset, means it is still open.
const unresolved = time.Duration(math.MinInt64)

// incident is opened at t0+opened and resolved at t0+resolved (or not, with
// unresolved), linked to deployment id ("" for none).
func incident(id string, opened, resolved time.Duration, depID string, inferred bool) IncidentLink {
	l := IncidentLink{Incident: delivery.Incident{Service: "api", ID: id, Severity: 1, OpenedAt: at(opened)}, Inferred: inferred}
	if resolved != unresolved {
		l.Incident.ResolvedAt = at(resolved)
	}
	if depID != "" {
		k := key(depID)
		l.Deployment = &k
	}
	return l
}

// deref prints a nullable figure for failure messages.
func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// eqPtr reports whether a nullable figure is null when want is nil, or equals
// *want.
func eqPtr[T comparable](got, want *T) bool {
	if got == nil || want == nil {
		return got == want
	}
	return *got == *want
}

// secs is a duration in seconds, as reports carry it.
func secs(d time.Duration) *float64 { return ptr(d.Seconds()) }

func warningCount(r Report, code string) int {
	for _, w := range r.Warnings {
		if w.Code == code {
			return w.Count
		}
	}
	return 0
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}
