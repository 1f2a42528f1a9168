package dora

import "time"

// Tier is a DORA performance cluster. Reports carry it as a string so the
// API, the CLI and the dashboard print the same word.
type Tier string

// The four tiers of the 2023 DORA clusters, best first.
const (
	TierElite  Tier = "elite"
	TierHigh   Tier = "high"
	TierMedium Tier = "medium"
	TierLow    Tier = "low"
)

// rank orders tiers so that the overall tier can take the lowest; an unknown
// tier ranks below low so that a corrupt value never flatters a team.
func (t Tier) rank() int {
	switch t {
	case TierElite:
		return 4
	case TierHigh:
		return 3
	case TierMedium:
		return 2
	case TierLow:
		return 1
	}
	return 0
}

// Thresholds is the one table of tier boundaries (docs/metrics.md, "Performance
// tiers"). It is a plain value with exported fields so that configuration can
// override any boundary and the dashboard can show the table it was judged
// against. A figure that meets the Elite boundary is elite, else one that
// meets High is high, else one that meets Medium is medium, else low.
type Thresholds struct {
	// DeploymentFrequency is judged on deployment days. Elite and High are
	// minimums of the median weekly deployment days (ISO weeks). Medium is a
	// minimum of deployment days per month (the period's deployment days ÷
	// its length in average Gregorian months of 30.436875 days): a median of
	// weekly counts is 0 for any team deploying on fewer than half of the
	// weeks, so it cannot express "once a month"; the monthly rate can.
	DeploymentFrequency DeploymentFrequencyThresholds
	// LeadTime holds strict upper bounds (<) of the median change lead time.
	LeadTime DurationThresholds
	// ChangeFailureRate holds inclusive upper bounds (≤) of the ratio.
	ChangeFailureRate RatioThresholds
	// TimeToRestore holds strict upper bounds (<) of the median time to
	// restore.
	TimeToRestore DurationThresholds
}

// DeploymentFrequencyThresholds are minimums (≥); see Thresholds for which
// figure each reads.
type DeploymentFrequencyThresholds struct {
	EliteDaysPerWeek   float64 // median weekly deployment days
	HighDaysPerWeek    float64 // median weekly deployment days
	MediumDaysPerMonth float64 // deployment days per month
}

// DurationThresholds are strict upper bounds: a median below Elite is elite.
type DurationThresholds struct {
	Elite, High, Medium time.Duration
}

// RatioThresholds are inclusive upper bounds: a ratio at or below Elite is
// elite, so exactly 5 % is still elite as docs/metrics.md says.
type RatioThresholds struct {
	Elite, High, Medium float64
}

// daysPerMonth is the average Gregorian month, which the medium deployment
// frequency tier reads its monthly rate in.
const daysPerMonth = 365.2425 / 12

// DefaultThresholds returns the boundaries of docs/metrics.md. It returns a fresh
// value so that a caller overriding one field cannot change another's.
func DefaultThresholds() Thresholds {
	const day = 24 * time.Hour
	return Thresholds{
		DeploymentFrequency: DeploymentFrequencyThresholds{EliteDaysPerWeek: 5, HighDaysPerWeek: 1, MediumDaysPerMonth: 1},
		LeadTime:            DurationThresholds{Elite: day, High: 7 * day, Medium: 30 * day},
		ChangeFailureRate:   RatioThresholds{Elite: 0.05, High: 0.10, Medium: 0.15},
		TimeToRestore:       DurationThresholds{Elite: time.Hour, High: day, Medium: 7 * day},
	}
}

// deploymentFrequencyTier reads the median weekly deployment days for elite
// and high, and the monthly rate of deployment days for medium.
func (t Thresholds) deploymentFrequencyTier(medianDaysPerWeek, daysPerMonth float64) Tier {
	f := t.DeploymentFrequency
	switch {
	case medianDaysPerWeek >= f.EliteDaysPerWeek:
		return TierElite
	case medianDaysPerWeek >= f.HighDaysPerWeek:
		return TierHigh
	case daysPerMonth >= f.MediumDaysPerMonth:
		return TierMedium
	}
	return TierLow
}

// below judges a median duration (in nanoseconds, possibly a half) against
// strict upper bounds.
func (d DurationThresholds) below(medianNanos float64) Tier {
	switch {
	case medianNanos < float64(d.Elite):
		return TierElite
	case medianNanos < float64(d.High):
		return TierHigh
	case medianNanos < float64(d.Medium):
		return TierMedium
	}
	return TierLow
}

// atMost judges a ratio against inclusive upper bounds.
func (r RatioThresholds) atMost(ratio float64) Tier {
	switch {
	case ratio <= r.Elite:
		return TierElite
	case ratio <= r.High:
		return TierHigh
	case ratio <= r.Medium:
		return TierMedium
	}
	return TierLow
}
