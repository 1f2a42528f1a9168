// Package notify delivers notifications (incident pages, breach and
// escalation notices, SLO burn-rate alerts) to PagerDuty, Slack-compatible
// chat, signed JSON webhooks and e-mail, and decides for each attempt of a
// durable outbox row whether it is delivered, retried later or given up.
// Nothing is dropped without a trace: every attempt is kept with its error.
//
// How the rest of Stride uses it: the change that causes a notification
// writes NewRow(target, message, now) in its own transaction; the outbox job
// selects the rows that are Due, calls Outbox.Deliver for each and stores the
// returned row (Attempts, NextAttemptAt, LastError, DeliveredAt, GaveUpAt,
// History). A row with GaveUpAt set is what the API lists as undelivered and
// /metrics counts. Outbox.Routes maps each target name of the incident
// routing to its configured Sender.
package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Action is what a notification does to the alert it is about, in
// PagerDuty's terms: raise it (again), acknowledge it or resolve it.
type Action string

const (
	ActionTrigger     Action = "trigger"
	ActionAcknowledge Action = "acknowledge"
	ActionResolve     Action = "resolve"
)

// Reason is why a notification was sent.
type Reason string

const (
	ReasonOpened       Reason = "opened"
	ReasonAcknowledged Reason = "acknowledged"
	ReasonResolved     Reason = "resolved"
	ReasonBreached     Reason = "breached"
	ReasonEscalated    Reason = "escalated"
	ReasonSLOBurn      Reason = "slo_burn"
	ReasonDigest       Reason = "digest"
)

// Message is one notification, whatever carries it. It is what an outbox
// row stores (as JSON), so its field names are a stored format.
type Message struct {
	Action Action `json:"action"`
	Reason Reason `json:"reason"`
	// DedupKey ties the notifications of one incident (or one SLO alert)
	// together, so the receiver updates one alert rather than opening many.
	DedupKey string `json:"dedup_key"`
	Summary  string `json:"summary"`
	// Severity is Stride's 0–3 (0 critical).
	Severity int               `json:"severity"`
	Service  string            `json:"service"`
	Team     string            `json:"team,omitempty"`
	Incident string            `json:"incident,omitempty"`
	Target   string            `json:"target,omitempty"` // the escalation target, when escalating
	Link     string            `json:"link,omitempty"`
	At       time.Time         `json:"at"`
	Details  map[string]string `json:"details,omitempty"`
	// Body, when set, is the message's own rendering (a weekly digest),
	// sent instead of the summary and fields.
	Body *Body `json:"body,omitempty"`
}

// Body is a message rendered by its maker: Text is an e-mail's text/plain
// part, HTML its text/html alternative (left out when empty), Chat the
// text of a chat message (Slack mrkdwn). An empty part falls back to the
// summary and fields.
type Body struct {
	Text string `json:"text,omitempty"`
	HTML string `json:"html,omitempty"`
	Chat string `json:"chat,omitempty"`
}

// Sender delivers one message, once. An error that must not be retried (the
// receiver refused the message itself) is marked Permanent.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// DetailAcknowledgeDue is the Details key of an incident's acknowledgement
// due time (RFC 3339), in its opening and breach notices.
const DetailAcknowledgeDue = "acknowledge_due"

// DedupKey is the key of every notification about one incident.
func DedupKey(service, id string) string { return "stride/" + service + "/" + id }

// IncidentMessage is the notification about an incident for the given
// reason at now.
func IncidentMessage(in delivery.Incident, team string, reason Reason, now time.Time) Message {
	action := ActionTrigger
	switch reason {
	case ReasonAcknowledged:
		action = ActionAcknowledge
	case ReasonResolved:
		action = ActionResolve
	}
	sev := in.Severity
	if sev < delivery.SeverityCritical || sev > delivery.SeverityLow {
		sev = delivery.SeverityDefault
	}
	title := in.Title
	if title == "" {
		title = "incident " + in.ID
	}
	return Message{
		Action: action, Reason: reason, DedupKey: DedupKey(in.Service, in.ID),
		Summary:  fmt.Sprintf("[SEV%d] %s: %s (%s)", sev, in.Service, title, reason),
		Severity: sev, Service: in.Service, Team: team, Incident: in.ID, At: now.UTC(),
	}
}
