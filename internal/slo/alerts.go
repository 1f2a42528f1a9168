package slo

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Episode is an alert that has fired and not yet resolved.
type Episode struct {
	Alert    string    `json:"alert"`
	Severity string    `json:"severity"`
	Since    time.Time `json:"since"`
	Reason   string    `json:"reason"`
}

// State is what the alert job keeps between runs for one SLO: the episodes
// in progress. Its JSON form is meant to be stored as is.
type State struct {
	Firing map[string]Episode `json:"firing"`
}

// Transition kinds.
const (
	Fired    = "fired"
	Resolved = "resolved"
)

// Transition is an alert starting or ending, for the notifier. Since is when
// the episode began; At is this transition's moment.
type Transition struct {
	SLO      string    `json:"slo"`
	Service  string    `json:"service"`
	Alert    string    `json:"alert"`
	Severity string    `json:"severity"`
	Kind     string    `json:"kind"`
	Since    time.Time `json:"since"`
	At       time.Time `json:"at"`
	Reason   string    `json:"reason"`
}

// Evaluate turns an assessment into alert episodes: an alert pair that
// fires and was not firing before starts an episode (one Fired
// transition), one that keeps firing says nothing more, and one that no
// longer fires ends its episode (one Resolved transition). prev is not
// changed. Transitions come in the order of Pairs.
func Evaluate(prev State, now time.Time, r Report) (State, []Transition) {
	next := State{Firing: map[string]Episode{}}
	var out []Transition
	firing := map[string]Alert{}
	for _, a := range r.Alerts {
		firing[a.Name] = a
	}
	for _, p := range Pairs {
		a, on := firing[p.Name]
		ep, was := prev.Firing[p.Name]
		switch {
		case on && was:
			next.Firing[p.Name] = ep
		case on:
			ep = Episode{Alert: p.Name, Severity: p.Severity, Since: now, Reason: a.Reason}
			next.Firing[p.Name] = ep
			out = append(out, Transition{SLO: r.Name, Service: r.Service, Alert: p.Name, Severity: p.Severity,
				Kind: Fired, Since: now, At: now, Reason: a.Reason})
		case was:
			out = append(out, Transition{SLO: r.Name, Service: r.Service, Alert: p.Name, Severity: p.Severity,
				Kind: Resolved, Since: ep.Since, At: now, Reason: resolvedReason(p, r)})
		}
	}
	// Episodes of alerts no longer defined end too, so none is left open.
	if len(next.Firing)+countResolved(out) == len(prev.Firing) {
		return next, out
	}
	for _, name := range slices.Sorted(maps.Keys(prev.Firing)) {
		if !slices.ContainsFunc(Pairs, func(p Pair) bool { return p.Name == name }) {
			ep := prev.Firing[name]
			out = append(out, Transition{SLO: r.Name, Service: r.Service, Alert: name, Severity: ep.Severity,
				Kind: Resolved, Since: ep.Since, At: now, Reason: "the alert is no longer defined"})
		}
	}
	return next, out
}

func resolvedReason(p Pair, r Report) string {
	long, short := burnWindow(p.Long), burnWindow(p.Short)
	return fmt.Sprintf("burn rate no longer above %s× over both windows: %s over %s and %s over %s",
		trimFloat(p.Factor.Float(), 1), times(r.BurnRates[p.Long]), long.short, times(r.BurnRates[p.Short]), short.short)
}

func countResolved(ts []Transition) int {
	n := 0
	for _, t := range ts {
		if t.Kind == Resolved {
			n++
		}
	}
	return n
}
