package incident

import (
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Alarm is what the breach-and-escalation job must act on for one open
// incident: the breach (with the moment it happened, the SLA due time) and
// the escalation steps owed and not yet sent.
type Alarm struct {
	Service     string
	Incident    string
	Breached    bool
	BreachedAt  time.Time
	Escalations []Escalation
}

// Key identifies an incident across the job's maps.
type Key struct{ Service, ID string }

// Check runs the breach and escalation rules over the open incidents as of
// now. teams maps a service to its team; sent says how many escalation steps
// each incident was already sent. Only incidents with something to report
// are returned; the job marks the breaches it has not marked yet (the breach
// time is the due time, not now) and enqueues the escalations. The policy of
// each service is resolved once, not per incident.
func (ps Policies) Check(open []delivery.Incident, teams map[string]string, now time.Time, sent map[Key]int) []Alarm {
	policies := map[string]*Policy{}
	var out []Alarm
	for _, in := range open {
		p := policies[in.Service]
		if p == nil {
			pol := ps.For(in.Service, teams[in.Service])
			p = &pol
			policies[in.Service] = p
		}
		if !p.Breached(in, now) {
			continue
		}
		a := Alarm{Service: in.Service, Incident: in.ID, Breached: true, BreachedAt: p.DueAt(in.OpenedAt, in.Severity)}
		if len(p.Escalation) > 0 {
			a.Escalations = p.Escalations(in, now, sent[Key{in.Service, in.ID}])
		}
		out = append(out, a)
	}
	return out
}
