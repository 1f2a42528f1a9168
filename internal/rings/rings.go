// Package rings decides whether a commit may be promoted from one
// deployment ring to the next. Decide is a pure function of the facts the
// caller gathers (gate results, deployments, incidents, error budget, the
// clock), so the rules are tested without a store or a server, and the API
// can explain every refusal condition by condition.
package rings

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Ring is one stage of a service's rollout. Soak is how long a commit must
// run successfully in this ring before it may move on to the next one.
// Production marks the ring that counts as production for DORA metrics.
type Ring struct {
	Name       string        `json:"name" yaml:"name"`
	Soak       time.Duration `json:"soak" yaml:"soak"`
	Production bool          `json:"production" yaml:"production"`
	// Approval requires a person's sign-off (a latest vote of yes, see
	// approval.go) before a commit may move into this ring.
	Approval bool `json:"approval,omitempty" yaml:"approval"`
	// RequireGates names gates whose latest result on the commit must
	// have passed before it enters this ring (required.go), such as
	// sonarqube, which arrives by webhook rather than from the pipeline.
	RequireGates []string `json:"require_gates,omitempty" yaml:"require_gates"`
}

// Config lists a service's rings in rollout order.
type Config struct {
	Service string `json:"service" yaml:"service"`
	Rings   []Ring `json:"rings" yaml:"rings"`
	// OpenBugs is the service's zero-bug-bounce criterion; nil for none.
	OpenBugs *OpenBugs `json:"open_bugs,omitempty" yaml:"open_bugs"`
}

// DefaultConfig is the rollout Stride assumes when a service configures
// none: internal users for two hours, preview customers for a day, then
// general availability, which is production.
func DefaultConfig(service string) Config {
	return Config{Service: service, Rings: []Ring{
		{Name: delivery.RingInternal, Soak: 2 * time.Hour},
		{Name: delivery.RingPreview, Soak: 24 * time.Hour},
		{Name: delivery.RingGA, Production: true},
	}}
}

// Index returns the position of a ring in the rollout, or -1.
func (c Config) Index(ring string) int {
	return slices.IndexFunc(c.Rings, func(r Ring) bool { return r.Name == ring })
}

// Validate checks that the config names at least one ring, each once, with
// a non-negative soak time.
func (c Config) Validate() error {
	if len(c.Rings) == 0 {
		return delivery.FieldError("rings", "service %s has no rings", c.Service)
	}
	seen := map[string]bool{}
	for i, r := range c.Rings {
		switch {
		case r.Name == "":
			return delivery.FieldError(fmt.Sprintf("rings[%d].name", i), "is required")
		case seen[r.Name]:
			return delivery.FieldError(fmt.Sprintf("rings[%d].name", i), "ring %s appears twice", r.Name)
		case r.Soak < 0:
			return delivery.FieldError(fmt.Sprintf("rings[%d].soak", i), "%v is negative", r.Soak)
		case slices.Contains(r.RequireGates, ""):
			return delivery.FieldError(fmt.Sprintf("rings[%d].require_gates", i), "names an empty gate")
		}
		seen[r.Name] = true
	}
	if c.OpenBugs != nil {
		return c.OpenBugs.Validate(c)
	}
	return nil
}

// ringOf returns the ring a deployment ran in. A deployment that names no
// ring but went to production is counted in the production ring, so
// pipelines that predate rings still count as running in GA.
func (c Config) ringOf(d delivery.Deployment) string {
	if d.Ring != "" || d.Environment != delivery.EnvironmentProduction {
		return d.Ring
	}
	for _, r := range c.Rings {
		if r.Production {
			return r.Name
		}
	}
	return ""
}

// Status of a condition.
type Status string

// Conditions pass, fail, or are skipped when the facts to judge them are
// missing and the rules say that must not block (an unknown error budget).
const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Skipped Status = "skipped"
)

// Condition names, stable for API clients.
const (
	CondTargetRing = "target_ring"
	CondGates      = "gates"
	CondSoak       = "soak"
	CondIncidents  = "incidents"
	CondBudget     = "error_budget"
)

// Condition is one rule of a promotion decision with its outcome and a
// reason a person can act on.
type Condition struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Reason string `json:"reason"`
}

// GateRun is one gate result of the commit. Several gates may judge one
// commit (unit tests, load test); the latest run of each name counts.
type GateRun struct {
	Name   string    `json:"name"`
	Passed bool      `json:"passed"`
	At     time.Time `json:"at"`
}

// Budget is the service's error-budget state. Known is false when the
// service has no SLOs or the budget could not be computed. Reason says
// which SLOs froze the service and when the freeze lifts.
type Budget struct {
	Known     bool
	Exhausted bool
	Reason    string
}

// Facts is everything Decide needs. Deployments are the commit's
// deployments (any status; other commits' are ignored), Incidents the
// service's incidents (resolved ones are ignored).
type Facts struct {
	Config      Config
	SHA         string
	To          string
	Gates       []GateRun
	Deployments []delivery.Deployment
	Incidents   []delivery.Incident
	Budget      Budget
	// OpenWorkItems are the service's open work items of the types
	// Config.OpenBugs counts (read only when it is configured).
	OpenWorkItems []delivery.WorkItem
	// Fix marks the promotion as a fix, which an exhausted budget lets
	// through (docs/metrics.md: a frozen service still ships fixes).
	Fix bool
	// FixReason says what made it a fix (a flag, a branch, a label).
	FixReason string
	// Approvals are the sign-off votes of the commit, in arrival order.
	Approvals []Approval
	Now       time.Time
}

// Decision is the outcome of a promotion request. Allowed is true only when
// no condition failed; every condition is listed either way.
type Decision struct {
	Service    string      `json:"service"`
	SHA        string      `json:"sha"`
	From       string      `json:"from,omitempty"`
	To         string      `json:"to"`
	Allowed    bool        `json:"allowed"`
	Conditions []Condition `json:"conditions"`
}

// Decide applies the promotion rules: the target is a configured ring that
// does not skip one; the commit passed its gates; it has run successfully
// in the previous ring for that ring's soak time; the service has no open
// severity 0–1 incident; and its error budget is not exhausted (an unknown
// budget is skipped, not failed, until SLOs exist). Two conditions appear
// only when a ring uses them: the gates the target ring requires
// (required.go) and the sign-off (approval.go).
func Decide(f Facts) Decision {
	d := Decision{Service: f.Config.Service, SHA: f.SHA, To: f.To}
	add := func(name string, s Status, format string, args ...any) {
		d.Conditions = append(d.Conditions, Condition{Name: name, Status: s, Reason: fmt.Sprintf(format, args...)})
	}
	var mine []delivery.Deployment
	for _, dep := range f.Deployments {
		if dep.SHA == f.SHA && (f.Config.Service == "" || dep.Service == f.Config.Service) {
			mine = append(mine, dep)
		}
	}

	// Target ring.
	target := f.Config.Index(f.To)
	var prev *Ring
	switch {
	case target < 0:
		add(CondTargetRing, Fail, "%q is not a ring of %s (rings: %s)", f.To, f.Config.Service, ringNames(f.Config))
	case target == 0:
		add(CondTargetRing, Pass, "%s is the first ring", f.To)
	default:
		prev = &f.Config.Rings[target-1]
		d.From = prev.Name
		reached := -1
		for _, dep := range mine {
			if dep.Status == delivery.DeploymentSuccess {
				reached = max(reached, f.Config.Index(f.Config.ringOf(dep)))
			}
		}
		if reached >= target-1 {
			add(CondTargetRing, Pass, "%s follows %s", f.To, prev.Name)
		} else {
			add(CondTargetRing, Fail, "%s would skip %s: promote ring by ring", f.To, prev.Name)
		}
	}

	// Gates.
	latest := map[string]GateRun{}
	for _, g := range f.Gates {
		if cur, ok := latest[g.Name]; !ok || g.At.After(cur.At) {
			latest[g.Name] = g
		}
	}
	var failed []string
	for name, g := range latest {
		if !g.Passed {
			failed = append(failed, name)
		}
	}
	sort.Strings(failed)
	switch {
	case len(latest) == 0:
		add(CondGates, Fail, "no gate result for %s", short(f.SHA))
	case len(failed) > 0:
		add(CondGates, Fail, "gate failed: %s", strings.Join(failed, ", "))
	default:
		add(CondGates, Pass, "%d gate(s) passed", len(latest))
	}

	// Soak in the previous ring.
	switch {
	case target < 0:
		add(CondSoak, Skipped, "unknown target ring")
	case prev == nil:
		add(CondSoak, Skipped, "the first ring has no previous ring to soak in")
	default:
		since, ok := runningSince(f.Config, mine, prev.Name)
		switch {
		case !ok:
			add(CondSoak, Fail, "not running successfully in %s", prev.Name)
		case f.Now.Sub(since) >= prev.Soak:
			add(CondSoak, Pass, "running in %s for %s (soak %s)", prev.Name, f.Now.Sub(since).Round(time.Minute), prev.Soak)
		default:
			add(CondSoak, Fail, "running in %s for %s of %s soak; ready at %s", prev.Name,
				f.Now.Sub(since).Round(time.Minute), prev.Soak, since.Add(prev.Soak).UTC().Format(time.RFC3339))
		}
	}

	// Open severe incidents.
	var open []string
	for _, in := range f.Incidents {
		if in.ResolvedAt.IsZero() && in.SeverityOrDefault() <= delivery.SeverityMajor &&
			(f.Config.Service == "" || in.Service == f.Config.Service) {
			open = append(open, fmt.Sprintf("%s (sev %d)", in.ID, in.SeverityOrDefault()))
		}
	}
	sort.Strings(open)
	if len(open) > 0 {
		add(CondIncidents, Fail, "open severity 0–1 incident(s): %s", strings.Join(open, ", "))
	} else {
		add(CondIncidents, Pass, "no open severity 0–1 incident")
	}

	// Error budget.
	switch {
	case !f.Budget.Known:
		add(CondBudget, Skipped, "error budget unknown (no SLOs configured); not checked")
	case f.Budget.Exhausted && f.Fix:
		add(CondBudget, Pass, "error budget exhausted, but this is a fix%s", budgetReason(Budget{Reason: f.FixReason}))
	case f.Budget.Exhausted && target == 0:
		// The first ring is where a frozen service's team still tries
		// its work; the freeze holds a non-fix from going further.
		add(CondBudget, Pass, "error budget exhausted, but the first ring still takes non-fixes%s", budgetReason(f.Budget))
	case f.Budget.Exhausted:
		add(CondBudget, Fail, "error budget exhausted: the service is frozen except for fixes beyond the first ring%s", budgetReason(f.Budget))
	default:
		add(CondBudget, Pass, "error budget remaining")
	}

	if c := openBugsCondition(f); c != nil {
		d.Conditions = append(d.Conditions, *c)
	}
	if c, ok := requiredGatesCondition(f, target); ok {
		d.Conditions = append(d.Conditions, c)
	}
	if c, ok := approvalCondition(f, target); ok {
		d.Conditions = append(d.Conditions, c)
	}

	d.Allowed = true
	for _, c := range d.Conditions {
		if c.Status == Fail {
			d.Allowed = false
		}
	}
	return d
}

// runningSince returns when the commit began its current successful run in
// a ring: the first success after its last failed or rolled-back deployment
// there, so a rollback restarts the soak clock.
func runningSince(c Config, deps []delivery.Deployment, ring string) (time.Time, bool) {
	var inRing []delivery.Deployment
	for _, d := range deps {
		if c.ringOf(d) == ring && d.Status.Terminal() {
			inRing = append(inRing, d)
		}
	}
	sort.SliceStable(inRing, func(i, j int) bool { return inRing[i].FinishedAt.Before(inRing[j].FinishedAt) })
	var since time.Time
	ok := false
	for _, d := range inRing {
		switch {
		case d.Status.Failed():
			ok = false
		case !ok:
			since, ok = d.FinishedAt, true
		}
	}
	return since, ok
}

func ringNames(c Config) string {
	var names []string
	for _, r := range c.Rings {
		names = append(names, r.Name)
	}
	return strings.Join(names, ", ")
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func budgetReason(b Budget) string {
	if b.Reason == "" {
		return ""
	}
	return " (" + b.Reason + ")"
}
