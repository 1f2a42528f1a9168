package delivery

import (
	"encoding/json"
	"regexp"
	"time"
)

// The records of incident response, kept by the store and worked on by the
// incident and notify packages: they are domain values, so the store reads
// and writes them without depending on the packages that apply the rules.

// IncidentKey identifies an incident.
type IncidentKey struct{ Service, ID string }

// ResponseState is what the breach-and-escalation job already did for an
// incident: whether its breach is marked, and how many escalation steps
// were sent.
type ResponseState struct {
	Breached bool
	Sent     int
}

// Breach is a breach to mark: At is the moment the incident became overdue
// (its SLA due time), not the moment the job noticed.
type Breach struct {
	Service  string
	Incident string
	At       time.Time
}

// IncidentAction is what a transition does to an incident.
type IncidentAction string

// The incident actions.
const (
	ActionOpen        IncidentAction = "open"
	ActionAcknowledge IncidentAction = "acknowledge"
	ActionResolve     IncidentAction = "resolve"
	ActionReopen      IncidentAction = "reopen"
	ActionSeverity    IncidentAction = "severity"
)

// IncidentTransition is one change of an incident's state, kept as a value
// with who made it and when, so that the history of an incident can be
// stored and shown as it happened.
type IncidentTransition struct {
	Action IncidentAction `json:"action"`
	At     time.Time      `json:"at"`
	By     string         `json:"by,omitempty"`
	// Severity is the new severity of ActionOpen and ActionSeverity.
	Severity int    `json:"severity"`
	Note     string `json:"note,omitempty"`
}

// FollowUp is an RCA follow-up item of an incident, tracked until done. It
// may name the issue-tracker item that carries the work, so that the item
// closing (through its webhook) closes the follow-up.
type FollowUp struct {
	ID       string `json:"id"`
	Service  string `json:"service"`
	Incident string `json:"incident"`
	Title    string `json:"title"`
	// Tracker is jira, github or gitlab when IssueKey is set.
	Tracker string `json:"tracker,omitempty"`
	// IssueKey is the tracker's key: PAY-123 for Jira, owner/repo#42 for
	// GitHub and GitLab.
	IssueKey  string    `json:"issue_key,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Due       time.Time `json:"due,omitzero"`
	DoneAt    time.Time `json:"done_at,omitzero"`
}

var (
	jiraKey  = regexp.MustCompile(`^[A-Z][A-Z0-9_]+-[1-9][0-9]*$`)
	repoKey  = regexp.MustCompile(`^[^\s#]+/[^\s#]+#[1-9][0-9]*$`)
	trackers = map[string]*regexp.Regexp{"jira": jiraKey, "github": repoKey, "gitlab": repoKey}
)

// Validate checks a follow-up given through the API or the CLI.
func (f FollowUp) Validate() error {
	switch {
	case f.Service == "":
		return FieldError("service", "is required")
	case f.Incident == "":
		return FieldError("incident", "is required")
	case f.Title == "":
		return FieldError("title", "is required")
	case f.IssueKey == "" && f.Tracker != "":
		return FieldError("issue_key", "is required with a tracker")
	}
	if f.IssueKey != "" {
		re, ok := trackers[f.Tracker]
		if !ok {
			return FieldError("tracker", "want jira, github or gitlab, got %q", f.Tracker)
		}
		if !re.MatchString(f.IssueKey) {
			return FieldError("issue_key", "%q is not a %s issue key", f.IssueKey, f.Tracker)
		}
	}
	if !f.DoneAt.IsZero() && f.DoneAt.Before(f.CreatedAt) {
		return FieldError("done_at", "is before the follow-up was created")
	}
	return nil
}

// Open reports whether the follow-up is still to do as of now.
func (f FollowUp) Open(now time.Time) bool { return f.DoneAt.IsZero() || f.DoneAt.After(now) }

// Overdue reports whether the follow-up is open past its due date.
func (f FollowUp) Overdue(now time.Time) bool {
	return f.Open(now) && !f.Due.IsZero() && now.After(f.Due)
}

// Review is the blameless post-incident review of an incident. It records
// what happened and which conditions contributed; by design it has no field
// that names a person at fault.
type Review struct {
	Service             string    `json:"service"`
	Incident            string    `json:"incident"`
	HeldAt              time.Time `json:"held_at"`
	Document            string    `json:"document,omitempty"`
	Summary             string    `json:"summary,omitempty"`
	ContributingFactors []string  `json:"contributing_factors,omitempty"`
}

// Notification is a message in the durable outbox. It is written in the
// same transaction as the change that causes it; a job picks the ones that
// are Due, attempts delivery and stores the result, so that a crash between
// commit and delivery only delays it.
type Notification struct {
	ID int64 `json:"id"`
	// Route names the target whose sender delivers it.
	Route string `json:"route"`
	// Payload is the message as JSON.
	Payload       json.RawMessage `json:"payload"`
	Attempts      int             `json:"attempts"`
	NextAttemptAt time.Time       `json:"next_attempt_at"`
	LastError     string          `json:"last_error,omitempty"`
	DeliveredAt   time.Time       `json:"delivered_at,omitzero"`
	GaveUpAt      time.Time       `json:"gave_up_at,omitzero"`
	// History is every attempt, oldest first.
	History []DeliveryAttempt `json:"history,omitempty"`
}

// DeliveryAttempt is one try at delivering a notification.
type DeliveryAttempt struct {
	At    time.Time `json:"at"`
	Error string    `json:"error,omitempty"`
}

// Pending reports whether the notification is neither delivered nor given up.
func (n Notification) Pending() bool { return n.DeliveredAt.IsZero() && n.GaveUpAt.IsZero() }

// Due reports whether the notification should be attempted at now.
func (n Notification) Due(now time.Time) bool { return n.Pending() && !n.NextAttemptAt.After(now) }
