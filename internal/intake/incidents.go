package intake

import (
	"context"
	"fmt"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/notify"
	"github.com/stride-oss/stride/internal/store"
)

// IncidentRequest is one change of an incident asked for through the CLI or
// the API: open (with a title, an origin and the severity of the
// transition), acknowledge, resolve, reopen or change severity.
type IncidentRequest struct {
	Service    string
	ID         string
	Title      string
	Origin     delivery.IncidentOrigin
	Transition incident.Transition
}

// IncidentResult is what a change did: the incident as stored after it,
// and the routes notified (each an outbox row written with the change).
type IncidentResult struct {
	Incident delivery.Incident `json:"incident"`
	Notified []string          `json:"notified"`
	// Duplicate is true when the same change was made before (a retried
	// request): nothing was stored or notified again.
	Duplicate bool `json:"duplicate,omitempty"`
}

// ChangeIncident applies a transition to a stored incident (or opens a new
// one) as an incident event from source, so it merges with what the
// connectors report of the same incident, and stores in the same
// transaction the transition (who and when) and a notification to each
// target routing names for the incident. A transition that does not fit the
// incident's state is a domain error (ECONFLICT, EINVALID); changing an
// incident that was never opened is ENOTFOUND.
func (in *Intake) ChangeIncident(ctx context.Context, source string, routing incident.Routing, req IncidentRequest) (IncidentResult, error) {
	t := req.Transition
	if t.At.IsZero() {
		t.At = in.db.Now()
	}
	t.At = t.At.UTC().Truncate(time.Microsecond)
	if req.Service == "" {
		return IncidentResult{}, delivery.FieldError("service", "is required")
	}
	if req.ID == "" {
		return IncidentResult{}, delivery.FieldError("id", "is required")
	}
	if !req.Origin.Valid() {
		return IncidentResult{}, delivery.FieldError("origin", "want customer or monitoring, got %q", req.Origin)
	}
	current, err := in.db.Incident(ctx, req.Service, req.ID)
	switch {
	case err == nil:
	case delivery.ErrorCode(err) == delivery.ENOTFOUND && t.Action == incident.ActionOpen:
		current = delivery.Incident{Service: req.Service, ID: req.ID, Title: req.Title, Origin: req.Origin}
	default:
		return IncidentResult{}, err
	}
	if err == nil {
		// The same action at the same instant made before is the request
		// retried (its answer was lost), whatever happened since: a
		// duplicate that stores and sends nothing, not a conflict (a
		// second opening or resolution) nor a different report under the
		// same key (an acknowledgement retried after the resolution).
		dup, err := in.madeBefore(ctx, req.Service, req.ID, t)
		if err != nil {
			return IncidentResult{}, err
		}
		if dup {
			return IncidentResult{Incident: current, Duplicate: true}, nil
		}
	}
	next, err := incident.Apply(current, t)
	if err != nil {
		return IncidentResult{}, err
	}
	ev := delivery.Event{
		Key:      fmt.Sprintf("%s:incident:%s/%s:%s:%d", source, req.Service, req.ID, t.Action, t.At.UnixMicro()),
		Kind:     delivery.KindIncident,
		Incident: &next,
	}
	events := []delivery.Event{ev}
	if err := in.prepare(ctx, source, events); err != nil {
		return IncidentResult{}, err
	}
	services, err := in.db.ServiceTeams(ctx)
	if err != nil {
		return IncidentResult{}, err
	}
	team := store.TeamOf(services)[req.Service]
	var rows []notify.Row
	var notified []string
	if reason, ok := notifyReason(current, next, t); ok {
		now := in.db.Now()
		m := notify.IncidentMessage(next, team, reason, now)
		if t.Action == incident.ActionOpen {
			// Whoever is told of an opening is told by when to answer.
			m.Details = map[string]string{notify.DetailAcknowledgeDue: in.policies().For(req.Service, team).DueAt(next.OpenedAt, next.Severity).Format(time.RFC3339)}
		}
		for _, target := range routing.For(next, team) {
			row, err := notify.NewRow(target.Name, m, now)
			if err != nil {
				return IncidentResult{}, err
			}
			rows = append(rows, row)
			notified = append(notified, target.Name)
		}
	}
	stored, ids, err := in.db.ChangeIncident(ctx, store.IncidentChange{Event: events[0], Transition: t, Notify: rows})
	if err != nil {
		return IncidentResult{}, err
	}
	res := IncidentResult{Incident: stored, Notified: notified}
	if len(ids) < len(rows) {
		res.Notified, res.Duplicate = nil, true
	} else {
		in.committed(1)
	}
	return res, nil
}

func (in *Intake) policies() incident.Policies {
	if in.Policies.Default.Within == ([4]time.Duration{}) {
		return incident.DefaultPolicies()
	}
	return in.Policies
}

// madeBefore reports whether the incident went through the same action at
// the same instant before.
func (in *Intake) madeBefore(ctx context.Context, service, id string, t incident.Transition) (bool, error) {
	trs, err := in.db.Transitions(ctx, service, id)
	if err != nil {
		return false, err
	}
	for _, old := range trs {
		if old.Action == t.Action && old.At.Equal(t.At) {
			return true, nil
		}
	}
	return false, nil
}

// notifyReason is why a transition notifies, if it does: an opening and a
// reopening raise the alert, an acknowledgement (the first) and a resolution
// update it, and a severity change notifies only when it makes the incident
// more severe (which may now page).
func notifyReason(before, after delivery.Incident, t incident.Transition) (notify.Reason, bool) {
	switch t.Action {
	case incident.ActionOpen, incident.ActionReopen:
		return notify.ReasonOpened, true
	case incident.ActionAcknowledge:
		return notify.ReasonAcknowledged, before.AcknowledgedAt.IsZero() || after.AcknowledgedAt.Before(before.AcknowledgedAt)
	case incident.ActionResolve:
		return notify.ReasonResolved, true
	case incident.ActionSeverity:
		return notify.ReasonOpened, after.Severity < before.Severity
	}
	return "", false
}

// AddFollowUp records an RCA follow-up of a stored incident, created now
// unless the follow-up says when.
func (in *Intake) AddFollowUp(ctx context.Context, f incident.FollowUp) (incident.FollowUp, error) {
	if f.CreatedAt.IsZero() {
		f.CreatedAt = in.db.Now().UTC().Truncate(time.Microsecond)
	}
	return in.db.AddFollowUp(ctx, f)
}

// FinishFollowUp marks a follow-up done, at now when at is zero.
func (in *Intake) FinishFollowUp(ctx context.Context, service, incidentID, id string, at time.Time) (incident.FollowUp, error) {
	if at.IsZero() {
		at = in.db.Now()
	}
	return in.db.FinishFollowUp(ctx, service, incidentID, id, at.UTC())
}

// PutReview records the blameless review of a stored incident.
func (in *Intake) PutReview(ctx context.Context, r incident.Review) error {
	switch {
	case r.Service == "":
		return delivery.FieldError("service", "is required")
	case r.Incident == "":
		return delivery.FieldError("incident", "is required")
	case r.HeldAt.IsZero():
		return delivery.FieldError("held_at", "is required")
	}
	return in.db.PutReview(ctx, r)
}
