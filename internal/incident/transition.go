package incident

import (
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Action is what a transition does to an incident.
type Action = delivery.IncidentAction

// The actions, as the domain names them.
const (
	ActionOpen        = delivery.ActionOpen
	ActionAcknowledge = delivery.ActionAcknowledge
	ActionResolve     = delivery.ActionResolve
	ActionReopen      = delivery.ActionReopen
	ActionSeverity    = delivery.ActionSeverity
)

// Transition is one change of an incident's state, with who made it and
// when.
type Transition = delivery.IncidentTransition

// Apply returns the incident after the transition, or a domain error when
// the transition does not fit the incident's state: acknowledging or
// resolving before the incident opened, resolving a resolved incident,
// reopening an open one. A second acknowledgement keeps the first (the SLA
// reads the first answer), so it is not an error. in is not changed.
func Apply(in delivery.Incident, t Transition) (delivery.Incident, error) {
	if t.At.IsZero() {
		return in, delivery.FieldError("at", "is required")
	}
	at := t.At.UTC()
	if t.Action != ActionOpen && at.Before(in.OpenedAt) {
		return in, delivery.FieldError("at", "%s at %s is before the incident opened (%s)", t.Action, at.Format(time.RFC3339), in.OpenedAt.Format(time.RFC3339))
	}
	resolved := in.Status == delivery.IncidentResolved || (in.Status == "" && !in.ResolvedAt.IsZero())
	switch t.Action {
	case ActionOpen:
		if in.Service == "" {
			return in, delivery.FieldError("service", "is required")
		}
		if in.ID == "" {
			return in, delivery.FieldError("id", "is required")
		}
		if t.Severity < delivery.SeverityCritical || t.Severity > delivery.SeverityLow {
			return in, delivery.FieldError("severity", "must be 0–3, got %d", t.Severity)
		}
		if !in.OpenedAt.IsZero() {
			return in, delivery.Errorf(delivery.ECONFLICT, "incident %s/%s is already open", in.Service, in.ID)
		}
		in.OpenedAt, in.Severity, in.SeverityAt = at, t.Severity, at
		in.Status, in.StatusAt = delivery.IncidentOpen, at
	case ActionAcknowledge:
		if in.AcknowledgedAt.IsZero() || at.Before(in.AcknowledgedAt) {
			in.AcknowledgedAt, in.AcknowledgedBy = at, t.By
		}
	case ActionResolve:
		if resolved {
			return in, delivery.Errorf(delivery.ECONFLICT, "incident %s/%s is already resolved", in.Service, in.ID)
		}
		in.ResolvedAt, in.Status, in.StatusAt = at, delivery.IncidentResolved, at
	case ActionReopen:
		if !resolved {
			return in, delivery.Errorf(delivery.ECONFLICT, "incident %s/%s is not resolved", in.Service, in.ID)
		}
		in.ResolvedAt, in.Status, in.StatusAt = time.Time{}, delivery.IncidentOpen, at
	case ActionSeverity:
		if t.Severity < delivery.SeverityCritical || t.Severity > delivery.SeverityLow {
			return in, delivery.FieldError("severity", "must be 0–3, got %d", t.Severity)
		}
		in.Severity, in.SeverityAt = t.Severity, at
	default:
		return in, delivery.FieldError("action", "unknown action %q", t.Action)
	}
	in.UpdatedAt = at
	return in, nil
}
