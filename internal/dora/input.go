// Package dora computes the DORA keys, their performance tiers and the
// records behind each figure, as docs/metrics.md defines them.
// It is pure: package report gathers the records, this package does the
// counting.
package dora

import (
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Input is everything one report reads, for one scope (a service, a team's
// services, or the org) and one period.
type Input struct {
	Period delivery.Period
	// Deployments are the scope's production deployments with a terminal
	// status: at least those finished in Period, plus later successful ones,
	// which recovery time needs to find the fix after a failure.
	Deployments []delivery.Deployment
	// Shipments are the changes shipped by each of those deployments, as the
	// store assigned them (each change shipped once, by the first successful
	// production deployment that contains it).
	Shipments []Shipment
	// Summaries are more shipments of those deployments, known only by
	// their commit times (none linked to an incident): what a report over
	// a long history reads instead of naming every change. Compute counts
	// them exactly as it counts Shipments; Explain lists them as changes
	// without a repository or sha.
	Summaries []ShippedTimes
	// Incidents are the scope's incidents opened or resolved up to Period.To,
	// with the deployment each was linked to.
	Incidents []IncidentLink
	// Thresholds are the tier boundaries; nil means the defaults of
	// docs/metrics.md (DefaultThresholds).
	Thresholds *Thresholds
	// Reported says which kinds of fact the scope's sources ever reported,
	// at any time, so that a figure without records in the period can be
	// told apart from a figure without a source. Nil means the caller does
	// not know: no deployments then read as missing data, and failure data
	// counts as present only when the input holds an incident or a failed
	// deployment.
	Reported *Reported
}

// Reported is what the scope's sources reported over all time, not only in
// the period.
type Reported struct {
	// Deployments is true when some production deployment of the scope was
	// ever reported: a period without one is then a fact (zero), not a gap.
	Deployments bool
	// Failures is true when some incident or failed or rolled-back
	// production deployment of the scope was ever reported. Without one, a
	// change failure rate of 0 % may only mean that no incident source is
	// connected, so it gets no tier.
	Failures bool
}

// Shipment is one change shipped by one deployment; which deployment
// shipped which change is a domain notion, so the type lives there.
type Shipment = delivery.Shipment

// ShippedTimes is the commit times of the changes one deployment shipped.
type ShippedTimes = delivery.ShippedTimes

// IncidentLink is an incident with the production deployment it is linked
// to: given explicitly by the source, or inferred (delivery.CauseOf) as the
// latest successful production deployment of the service that finished
// before the incident opened. Deployment is nil when there is none (an incident before
// any deployment).
type IncidentLink struct {
	Incident   delivery.Incident
	Deployment *delivery.DeploymentKey
	// Inferred is true when the link was inferred, not given.
	Inferred bool
	// Rule is the rule that linked it or left it unlinked (empty: not
	// said, read from Deployment and Inferred); Window is the incident
	// cause window it applied (0: none) and Gap, when the latest
	// deployment was beyond the window, how long before it opened that
	// deployment finished.
	Rule   delivery.CauseRule
	Window time.Duration
	Gap    time.Duration
	// Candidates are deployments of the service that the impact job
	// flagged (error rate or latency up) within the cause window before
	// the incident opened, with their evidence in words. They do not
	// change the link the rule made; they are suspects shown beside it.
	Candidates []CandidateCause
}

// CandidateCause is a flagged deployment shortly before an incident.
type CandidateCause struct {
	Deployment delivery.DeploymentKey
	Evidence   string
}
