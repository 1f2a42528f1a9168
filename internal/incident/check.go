package incident

import (
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Key identifies an incident in the job's state.
type Key = delivery.IncidentKey

// State is what the breach-and-escalation job already did for an incident
// (a domain value, so the store can keep it).
type State = delivery.ResponseState

// Breach is a breach to mark: At is the moment the incident became overdue.
type Breach = delivery.Breach

// Sweep is what one run of the breach-and-escalation job must do.
type Sweep struct {
	Breaches    []Breach
	Escalations []Escalation
}

// Check runs the breach and escalation rules over the open incidents as of
// now. teams maps a service to its team; state says what was done before
// (a missing entry: nothing). Only what is new is returned: breaches not yet
// marked, escalation steps not yet sent. The caller marks and enqueues them
// and records the new state in the same transaction, so a crash between two
// runs repeats nothing and loses nothing. Each service's policy is resolved
// once per run, not once per incident.
func (ps Policies) Check(open []delivery.Incident, teams map[string]string, now time.Time, state map[Key]State) Sweep {
	var out Sweep
	policies := map[string]*Policy{}
	var lastService string
	var p *Policy
	for i := range open {
		in := &open[i]
		if p == nil || in.Service != lastService {
			if p = policies[in.Service]; p == nil {
				pol := ps.For(in.Service, teams[in.Service])
				p = &pol
				policies[in.Service] = p
			}
			lastService = in.Service
		}
		due := p.DueAt(in.OpenedAt, in.Severity)
		if !breachedBy(*in, due, now) {
			continue
		}
		st := state[Key{Service: in.Service, ID: in.ID}]
		if !st.Breached {
			out.Breaches = append(out.Breaches, Breach{Service: in.Service, Incident: in.ID, At: due})
		}
		if st.Sent < len(p.Escalation) {
			out.Escalations = p.appendEscalations(out.Escalations, *in, due, now, st.Sent)
		}
	}
	return out
}
