package incident

import (
	"fmt"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// openIncidents is 100,000 open incidents over 1,000 services in 50 teams,
// opened over the last four days, a third acknowledged.
func openIncidents() ([]delivery.Incident, map[string]string, time.Time) {
	now := ts("2026-03-06T12:00:00Z")
	teams := map[string]string{}
	out := make([]delivery.Incident, 100_000)
	for i := range out {
		svc := fmt.Sprintf("svc-%03d", i%1000)
		teams[svc] = fmt.Sprintf("team-%02d", i%1000%50)
		in := delivery.Incident{Service: svc, ID: fmt.Sprint(i), Severity: i % 4, OpenedAt: now.Add(-time.Duration(i%5760) * time.Minute)}
		if i%3 == 0 {
			in.AcknowledgedAt = in.OpenedAt.Add(time.Duration(i%90) * time.Minute)
		}
		out[i] = in
	}
	return out, teams, now
}

// benchPolicies gives every fifth team its own SLA and an escalation, and
// (with hours) runs severities 2 and 3 in business hours for every team.
func benchPolicies(hours bool) Policies {
	ps := Policies{Default: escalatingPolicy(), Teams: map[string]Policy{}}
	if hours {
		ps.Default.Hours = &BusinessHours{Start: 9 * time.Hour, End: 17 * time.Hour, Holidays: []string{"2026-03-05"}}
		ps.Default.Business = [4]bool{false, false, true, true}
	}
	for t := 0; t < 50; t += 5 {
		ps.Teams[fmt.Sprintf("team-%02d", t)] = Policy{Within: [4]time.Duration{1: 2 * time.Hour}, Escalation: []Step{{15 * time.Minute, "lead"}}}
	}
	return ps
}

// BenchmarkBreachCheck is the breach-and-escalation job over 100,000 open
// incidents against a raw loop over the same slice that applies the fixed
// SLA table and nothing else; the ratio of the two is the cost of policies.
func BenchmarkBreachCheck(b *testing.B) {
	incs, teams, now := openIncidents()
	for _, c := range []struct {
		name  string
		hours bool
	}{{"policies", false}, {"policies-business-hours", true}} {
		ps := benchPolicies(c.hours)
		// A first run finds every breach new; a steady run (the job every
		// minute) finds the breaches marked and the steps sent before.
		b.Run(c.name+"/first-run", func(b *testing.B) {
			for b.Loop() {
				if len(ps.Check(incs, teams, now, nil).Breaches) == 0 {
					b.Fatal("no breaches")
				}
			}
		})
		b.Run(c.name+"/steady", func(b *testing.B) {
			state := map[Key]State{}
			sw := ps.Check(incs, teams, now, nil)
			for _, br := range sw.Breaches {
				state[Key{Service: br.Service, ID: br.Incident}] = State{Breached: true}
			}
			for _, e := range sw.Escalations {
				k := Key{Service: e.Service, ID: e.Incident}
				st := state[k]
				st.Sent = e.Step + 1
				state[k] = st
			}
			for b.Loop() {
				if sw := ps.Check(incs, teams, now, state); len(sw.Breaches)+len(sw.Escalations) != 0 {
					b.Fatal("a steady run found something new")
				}
			}
		})
	}
	b.Run("raw-loop", func(b *testing.B) {
		for b.Loop() {
			n := 0
			for i := range incs {
				in := &incs[i]
				due := in.OpenedAt.Add(delivery.AcknowledgeWithin[in.Severity])
				if now.After(due) && (in.AcknowledgedAt.IsZero() || in.AcknowledgedAt.After(due)) {
					n++
				}
			}
			if n == 0 {
				b.Fatal("no breaches")
			}
		}
	})
}
