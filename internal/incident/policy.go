// Package incident holds the response side of incidents as pure policy: the
// acknowledgement SLA of each severity (optionally in business hours), when an
// incident is breached, whom to escalate to, where notifications go, the
// transitions of an incident, RCA follow-ups and reviews, and the incident
// report. Nothing here does I/O: the store supplies the facts, a job or the
// API acts on the answers. Definitions are those of docs/metrics.md,
// section "Incidents".
//
// How the rest of Stride uses it:
//   - the CLI and the API change an incident with Apply(incident, Transition)
//     and store both the result and the Transition (who and when);
//   - the breach-and-escalation job loads the open incidents and its State
//     per incident, calls Policies.Check, and in one transaction marks the
//     Breaches, records the new State, and writes an outbox row (package
//     notify) for each Routing.For target of a breach and for the target of
//     each Escalation;
//   - a report reader loads the incidents opened or resolved in the period
//     (filtered by service or team), their follow-ups and reviews, and calls
//     Compute, Explain or WriteText.
package incident

import (
	"fmt"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Policy is the response policy in force for one service: how long each
// severity may wait for an acknowledgement, whether that clock runs in
// business hours only, and whom to escalate to when it runs out.
type Policy struct {
	// Within is the acknowledgement SLA per severity (index 0–3).
	Within [4]time.Duration
	// Hours is the business calendar; nil means the clock always runs.
	Hours *BusinessHours
	// Business marks the severities whose clock runs in business hours
	// only (typically 2 and 3); it has no effect while Hours is nil.
	Business [4]bool
	// Escalation is the list of steps taken once an incident is overdue.
	Escalation []Step
}

// DefaultPolicy is the SLA table of docs/metrics.md: 30 minutes, 1 hour,
// 24 hours and 48 hours of wall-clock time, and no escalation.
func DefaultPolicy() Policy {
	return Policy{Within: delivery.AcknowledgeWithin}
}

// Step is one rung of an escalation: once an incident is After past its
// acknowledgement due time and still unanswered, Target is notified.
type Step struct {
	After  time.Duration
	Target string
}

// Policies is the policy of every service: a default, overridden by the
// owning team's, overridden in turn by the service's own. An override
// replaces only what it sets: a zero Within entry, a nil Hours and a nil
// Escalation inherit from the level below.
type Policies struct {
	Default  Policy
	Teams    map[string]Policy
	Services map[string]Policy
}

// DefaultPolicies has the default policy and no overrides.
func DefaultPolicies() Policies { return Policies{Default: DefaultPolicy()} }

// For returns the policy in force for a service owned by team.
func (ps Policies) For(service, team string) Policy {
	p := ps.Default
	if t, ok := ps.Teams[team]; ok && team != "" {
		p = overlay(p, t)
	}
	if s, ok := ps.Services[service]; ok {
		p = overlay(p, s)
	}
	return p
}

func overlay(base, over Policy) Policy {
	for i, d := range over.Within {
		if d > 0 {
			base.Within[i] = d
		}
	}
	if over.Hours != nil {
		base.Hours = over.Hours
		base.Business = over.Business
	}
	if over.Escalation != nil {
		base.Escalation = over.Escalation
	}
	return base
}

// Validate checks a policy read from configuration, naming the field at
// fault so that the HTTP mapper and the config loader can point at it.
// MostSteps is the length of the longest escalation of any policy: an
// incident sent that many steps is owed no more under any of them.
func (ps Policies) MostSteps() int {
	n := len(ps.Default.Escalation)
	for _, p := range ps.Teams {
		n = max(n, len(p.Escalation))
	}
	for _, p := range ps.Services {
		n = max(n, len(p.Escalation))
	}
	return n
}

func (p Policy) Validate() error {
	for i, d := range p.Within {
		if d < 0 {
			return delivery.FieldError(fmt.Sprintf("within[%d]", i), "must not be negative, got %s", d)
		}
	}
	if p.Hours != nil {
		if err := p.Hours.Validate(); err != nil {
			return err
		}
	}
	for i, s := range p.Escalation {
		if s.After < 0 {
			return delivery.FieldError(fmt.Sprintf("escalation[%d].after", i), "must not be negative, got %s", s.After)
		}
		if s.Target == "" {
			return delivery.FieldError(fmt.Sprintf("escalation[%d].target", i), "is required")
		}
		if i > 0 && s.After < p.Escalation[i-1].After {
			return delivery.FieldError(fmt.Sprintf("escalation[%d].after", i), "must not come before the step above it")
		}
	}
	return nil
}

// Validate checks every policy of ps.
func (ps Policies) Validate() error {
	if err := ps.Default.Validate(); err != nil {
		return err
	}
	for name, p := range ps.Teams {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("team %s: %w", name, err)
		}
	}
	for name, p := range ps.Services {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("service %s: %w", name, err)
		}
	}
	return nil
}

// severityOf maps an incident's severity to an index of Within; an unknown
// severity is read as the default, as the store does.
func severityOf(s int) int {
	if s < delivery.SeverityCritical || s > delivery.SeverityLow {
		return delivery.SeverityDefault
	}
	return s
}

// DueAt is the moment an incident opened at openedAt with the given severity
// must be acknowledged by: openedAt plus the severity's SLA, counting only
// business time when the policy says so for that severity.
func (p Policy) DueAt(openedAt time.Time, severity int) time.Time {
	s := severityOf(severity)
	d := p.Within[s]
	if p.Hours != nil && p.Business[s] {
		return p.Hours.Add(openedAt, d)
	}
	return openedAt.Add(d)
}

// RespondedAt is when an incident was answered: its acknowledgement, or its
// resolution when it was resolved without one (resolving is an answer). It is
// zero while the incident is unanswered.
func RespondedAt(in delivery.Incident) time.Time {
	a, r := in.AcknowledgedAt, in.ResolvedAt
	switch {
	case a.IsZero():
		return r
	case r.IsZero() || a.Before(r):
		return a
	}
	return r
}

// Breached reports whether the incident has breached its SLA as of now: its
// due time has passed and it was not answered by then. The breach belongs to
// the moment the incident became overdue: an acknowledgement or a resolution
// arriving later does not undo it, and no further event is needed to make it.
// An answer exactly at the due time is within the SLA.
func (p Policy) Breached(in delivery.Incident, now time.Time) bool {
	return breachedBy(in, p.DueAt(in.OpenedAt, in.Severity), now)
}

func breachedBy(in delivery.Incident, due, now time.Time) bool {
	if !now.After(due) {
		return false
	}
	r := RespondedAt(in)
	return r.IsZero() || r.After(due)
}

// Escalation is one notification an overdue incident is owed: Step is the
// index of the step in the policy, At the moment it became due.
type Escalation struct {
	Service  string
	Incident string
	Step     int
	Target   string
	At       time.Time
}

// Escalations lists the escalation steps an incident is owed as of now and
// not sent yet: alreadySent is how many steps (from the first) were sent
// before. An incident answered (acknowledged or resolved) by now is owed
// nothing more; a job that ran late still sends each step it missed, in
// order, so the next target is never skipped.
func (p Policy) Escalations(in delivery.Incident, now time.Time, alreadySent int) []Escalation {
	return p.appendEscalations(nil, in, p.DueAt(in.OpenedAt, in.Severity), now, alreadySent)
}

// appendEscalations appends the steps of Escalations to dst, for an incident
// due at due, so that a sweep over many incidents fills one slice.
func (p Policy) appendEscalations(dst []Escalation, in delivery.Incident, due, now time.Time, alreadySent int) []Escalation {
	if alreadySent >= len(p.Escalation) {
		return dst
	}
	if r := RespondedAt(in); !r.IsZero() && !r.After(now) {
		return dst
	}
	for i := max(alreadySent, 0); i < len(p.Escalation); i++ {
		s := p.Escalation[i]
		at := due.Add(s.After)
		if at.After(now) {
			break
		}
		dst = append(dst, Escalation{Service: in.Service, Incident: in.ID, Step: i, Target: s.Target, At: at})
	}
	return dst
}
