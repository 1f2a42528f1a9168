package delivery

import (
	"errors"
	"testing"
	"time"
)

// TestBadPeriodsNameTheirField: every 400 names its field, a bad time too.
func TestBadPeriodsNameTheirField(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct{ from, to, field string }{
		{"yesterday", "", "from"},
		{"", "2026-13-01", "to"},
		{"2026-02-01", "2026-01-01", "from"},
	}
	for _, tt := range tests {
		_, err := ParsePeriod(tt.from, tt.to, now)
		var e *Error
		if !errors.As(err, &e) || e.Field != tt.field || e.Code != EINVALID {
			t.Errorf("ParsePeriod(%q, %q) = %v; want an invalid %s", tt.from, tt.to, err, tt.field)
		}
	}
}

// TestAKnownEntityMayLeaveOutItsRequiredFields: Validate holds a new entity
// to every required field and lets a report of a known one leave out those
// it is known with.
func TestAKnownEntityMayLeaveOutItsRequiredFields(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		event Event
		field string // "" when valid
	}{
		{"a new incident needs opened_at", Event{Key: "k", Kind: KindIncident,
			Incident: &Incident{Service: "a", ID: "1", Severity: SeverityUnknown, ResolvedAt: t0}}, "incident.opened_at"},
		{"a known one may be resolved alone", Event{Key: "k", Kind: KindIncident, Known: KnownFields{OpenedAt: true},
			Incident: &Incident{Service: "a", ID: "1", Severity: SeverityUnknown, ResolvedAt: t0}}, ""},
		{"a new success needs its finish time", Event{Key: "k", Kind: KindDeployment,
			Deployment: &Deployment{Service: "a", ID: "1", SHA: "s", Status: DeploymentSuccess}}, "deployment.finished_at"},
		{"a known one without a time of its own cannot be ordered", Event{Key: "k", Kind: KindDeployment, Known: KnownFields{FinishedAt: true, SHA: true},
			Deployment: &Deployment{Service: "a", ID: "1", Status: DeploymentRolledBack}}, "deployment.updated_at"},
		{"a known one dated by updated_at is valid", Event{Key: "k", Kind: KindDeployment, Known: KnownFields{FinishedAt: true, SHA: true},
			Deployment: &Deployment{Service: "a", ID: "1", Status: DeploymentRolledBack, UpdatedAt: t0}}, ""},
		{"knowing the finish time does not excuse the sha", Event{Key: "k", Kind: KindDeployment, Known: KnownFields{FinishedAt: true},
			Deployment: &Deployment{Service: "a", ID: "1", Status: DeploymentSuccess, UpdatedAt: t0}}, "deployment.sha"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.event.Validate()
			var e *Error
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("Validate = %v, want valid", err)
			case tt.field != "" && (!errors.As(err, &e) || e.Field != tt.field):
				t.Errorf("Validate = %v, want an error on %s", err, tt.field)
			}
		})
	}
}
