package slo

import (
	"fmt"
	"strings"
	"time"
)

// Freeze is a service's budget policy state: frozen for feature deploys
// while any of its SLOs has no budget left (docs/metrics.md). Known is
// false when the service has no SLO report, so gates can skip the check
// rather than fail it. Until is when the last freeze is projected to
// lift, nil when frozen and that cannot be projected.
type Freeze struct {
	Service string     `json:"service"`
	Known   bool       `json:"known"`
	Frozen  bool       `json:"frozen"`
	SLOs    []string   `json:"slos"`
	Until   *time.Time `json:"until,omitempty"`
	Reason  string     `json:"reason"`
}

// FreezeOf derives a service's freeze from its SLO reports (reports of
// other services are ignored), for `stride gate` and `stride promote`.
func FreezeOf(service string, reports []Report) Freeze {
	f := Freeze{Service: service, SLOs: []string{}}
	var parts []string
	projectable := true
	for _, r := range reports {
		if r.Service != service {
			continue
		}
		f.Known = true
		if !r.Frozen {
			continue
		}
		f.Frozen = true
		f.SLOs = append(f.SLOs, r.Name)
		part := fmt.Sprintf("%s has %s of its %s budget left", r.Name, percent(r.BudgetRemaining*100), r.WindowName)
		if r.FrozenUntil != nil {
			part += ", projected to lift at " + r.FrozenUntil.UTC().Format(time.RFC3339)
			if f.Until == nil || r.FrozenUntil.After(*f.Until) {
				t := *r.FrozenUntil
				f.Until = &t
			}
		} else {
			projectable = false
		}
		parts = append(parts, part)
	}
	if !projectable {
		f.Until = nil
	}
	switch {
	case !f.Known:
		f.Reason = "no SLOs configured for " + service
	case f.Frozen:
		f.Reason = "frozen for feature deployments: " + strings.Join(parts, "; ")
	default:
		f.Reason = "every SLO of " + service + " has budget left"
	}
	return f
}
