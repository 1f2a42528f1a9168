package delivery

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestCauseOf(t *testing.T) {
	opened := time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)
	before := func(d time.Duration) *Deployment {
		return &Deployment{Service: "api", Environment: EnvironmentProduction, ID: "d7", Status: DeploymentSuccess, FinishedAt: opened.Add(-d)}
	}
	key := func(id string) *DeploymentKey {
		return &DeploymentKey{Service: "api", Environment: EnvironmentProduction, ID: id}
	}
	tests := []struct {
		name   string
		cause  string
		before *Deployment
		window time.Duration
		want   IncidentCause
	}{
		{"the source's cause wins over a later deployment", "d3", before(time.Hour), 0, IncidentCause{Deployment: key("d3"), Rule: CauseExplicit}},
		{"the source's cause holds whatever the window", "d3", nil, time.Minute, IncidentCause{Deployment: key("d3"), Rule: CauseExplicit}},
		{"else the preceding success is inferred", "", before(time.Hour), 0, IncidentCause{Deployment: key("d7"), Inferred: true, Rule: CauseInferred}},
		{"no window: a deployment of a year ago still counts", "", before(365 * 24 * time.Hour), 0, IncidentCause{Deployment: key("d7"), Inferred: true, Rule: CauseInferred}},
		{"inside the window", "", before(2 * time.Hour), 2 * time.Hour, IncidentCause{Deployment: key("d7"), Inferred: true, Rule: CauseInferred, Window: 2 * time.Hour}},
		{"outside the window", "", before(2*time.Hour + time.Second), 2 * time.Hour, IncidentCause{Rule: CauseOutsideWindow, Window: 2 * time.Hour, Gap: 2*time.Hour + time.Second}},
		{"no deployment before", "", nil, 0, IncidentCause{Rule: CauseNoneBefore}},
		{"a deployment finishing as it opens is not before it", "", before(0), 0, IncidentCause{Rule: CauseNoneBefore}},
		// The source may say no deployment caused it: nothing is inferred,
		// even from a deployment a minute before.
		{"the source says none caused it", NoCause, before(time.Minute), 24 * time.Hour, IncidentCause{Rule: CauseSaidNone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Incident{Service: "api", ID: "INC-1", OpenedAt: opened, CauseDeployment: tt.cause}
			if got := CauseOf(in, tt.before, tt.window); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("CauseOf = %+v (deployment %v), want %+v (deployment %v)", got, got.Deployment, tt.want, tt.want.Deployment)
			}
		})
	}
}

func TestTerminalStatuses(t *testing.T) {
	got := TerminalStatuses()
	if want := []DeploymentStatus{DeploymentSuccess, DeploymentFailure, DeploymentRolledBack}; !slices.Equal(got, want) {
		t.Fatalf("TerminalStatuses = %v, want %v", got, want)
	}
	for _, s := range []DeploymentStatus{DeploymentPending, DeploymentInProgress} {
		if slices.Contains(got, s) {
			t.Errorf("%s listed as terminal", s)
		}
	}
}

func TestScopeAllows(t *testing.T) {
	tests := []struct {
		have, want Scope
		ok         bool
	}{
		{ScopeAdmin, ScopeRead, true}, {ScopeAdmin, ScopeIngest, true}, {ScopeAdmin, ScopeAdmin, true},
		{ScopeRead, ScopeRead, true}, {ScopeRead, ScopeIngest, false}, {ScopeRead, ScopeAdmin, false},
		{ScopeIngest, ScopeIngest, true}, {ScopeIngest, ScopeRead, false}, {"", ScopeRead, false},
	}
	for _, tt := range tests {
		if got := tt.have.Allows(tt.want); got != tt.ok {
			t.Errorf("%q.Allows(%q) = %v, want %v", tt.have, tt.want, got, tt.ok)
		}
	}
	for _, s := range []Scope{"", "Admin", "write"} {
		if s.Valid() {
			t.Errorf("%q is valid", s)
		}
	}
}

func TestSeverityOrDefault(t *testing.T) {
	for sev, want := range map[int]int{SeverityUnknown: 2, 0: 0, 1: 1, 2: 2, 3: 3} {
		if got := (Incident{Severity: sev}).SeverityOrDefault(); got != want {
			t.Errorf("severity %d counts as %d, want %d", sev, got, want)
		}
	}
}
