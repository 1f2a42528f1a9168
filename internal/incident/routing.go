package incident

import (
	"fmt"

	"github.com/stride-oss/stride/internal/delivery"
)

// Kind is the kind of sender a target is delivered by.
type Kind string

const (
	KindPagerDuty Kind = "pagerduty"
	KindSlack     Kind = "slack"
	KindWebhook   Kind = "webhook"
	KindEmail     Kind = "email"
)

// Target is a named destination of notifications (a route of the outbox):
// "page" delivered through PagerDuty, "ops-mail" through SMTP, ...
type Target struct {
	Name string
	Kind Kind
}

// Routing says which targets each severity notifies, per team. Breaches,
// escalations and SLO alerts use the same routes as openings.
type Routing struct {
	// Targets are every known target, by name.
	Targets map[string]Target
	// Severity lists, per severity, the names of the targets notified.
	Severity [4][]string
	// Teams override Severity for a team, severity by severity: a nil
	// entry inherits, an empty non-nil one notifies nobody.
	Teams map[string][4][]string
}

// Default target names.
const (
	TargetPage  = "page"
	TargetEmail = "email"
)

// DefaultRouting is the strategy of docs/metrics.md: severities 0 and 1 page
// (through PagerDuty), severity 2 sends e-mail, severity 3 notifies nobody.
func DefaultRouting() Routing {
	return Routing{
		Targets: map[string]Target{
			TargetPage:  {Name: TargetPage, Kind: KindPagerDuty},
			TargetEmail: {Name: TargetEmail, Kind: KindEmail},
		},
		Severity: [4][]string{{TargetPage}, {TargetPage}, {TargetEmail}, {}},
	}
}

// Validate checks that every route names a known target.
func (r Routing) Validate() error {
	check := func(where string, names [4][]string) error {
		for s, list := range names {
			for _, n := range list {
				if _, ok := r.Targets[n]; !ok {
					return delivery.FieldError(fmt.Sprintf("%sseverity[%d]", where, s), "unknown target %q", n)
				}
			}
		}
		return nil
	}
	if err := check("", r.Severity); err != nil {
		return err
	}
	for team, names := range r.Teams {
		if err := check("teams."+team+".", names); err != nil {
			return err
		}
	}
	return nil
}

// For returns the targets an incident of a service owned by team notifies.
// An incident that came from PagerDuty is not paged back to PagerDuty: it
// is already paging there, and a second page would open a second incident.
func (r Routing) For(in delivery.Incident, team string) []Target {
	return r.targets(severityOf(in.Severity), team, in.Source == delivery.SourcePagerDuty)
}

// ForAlert returns the targets an alert that is not an incident (an SLO
// burn-rate alert) notifies, routed as an incident of the given severity: a
// paging alert as severity 1, a ticket as severity 2.
func (r Routing) ForAlert(severity int, team string) []Target {
	return r.targets(severityOf(severity), team, false)
}

func (r Routing) targets(s int, team string, fromPagerDuty bool) []Target {
	names := r.Severity[s]
	if t, ok := r.Teams[team]; ok && t[s] != nil {
		names = t[s]
	}
	var out []Target
	for _, n := range names {
		t, ok := r.Targets[n]
		if !ok || (t.Kind == KindPagerDuty && fromPagerDuty) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// CheckTargets reports an escalation step of any policy that names no target
// of r, so that a configuration cannot escalate to nowhere.
func CheckTargets(ps Policies, r Routing) error {
	check := func(scope string, p Policy) error {
		for i, s := range p.Escalation {
			if _, ok := r.Targets[s.Target]; !ok {
				return delivery.FieldError(fmt.Sprintf("%sescalation[%d].target", scope, i), "unknown target %q", s.Target)
			}
		}
		return nil
	}
	if err := check("", ps.Default); err != nil {
		return err
	}
	for name, p := range ps.Teams {
		if err := check("teams."+name+".", p); err != nil {
			return err
		}
	}
	for name, p := range ps.Services {
		if err := check("services."+name+".", p); err != nil {
			return err
		}
	}
	return nil
}
