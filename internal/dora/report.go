package dora

import "time"

// Report is the DORA report of one scope and period. Its JSON field names are
// the API's and the CLI's; figures without data are null (pointers), never 0,
// while the counts behind them stay 0, so "no deployments" cannot be read as
// "instant lead time".
type Report struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Service and Team name the scope; Compute leaves them empty and the
	// caller, which chose the scope, fills them in.
	Service string `json:"service,omitempty"`
	Team    string `json:"team,omitempty"`

	DeploymentFrequency DeploymentFrequency `json:"deployment_frequency"`
	LeadTime            LeadTime            `json:"lead_time"`
	ChangeFailureRate   ChangeFailureRate   `json:"change_failure_rate"`
	TimeToRestore       TimeToRestore       `json:"time_to_restore"`
	RecoveryTime        RecoveryTime        `json:"recovery_time"`
	ReworkRate          ReworkRate          `json:"rework_rate"`
	// Tier is the lowest tier of the four keys among those that have data,
	// and null when none has.
	Tier *Tier `json:"tier"`
	// TierMissing names the keys, of the four that have tiers, that could
	// not be judged (no data, or no source for it), never null; the overall
	// tier leaves them out.
	TierMissing []string `json:"tier_missing"`
	// TierPartial is true when Tier was judged on some keys but not all
	// four: it then says less than a full tier.
	TierPartial bool `json:"tier_partial"`
	// Warnings are data-quality problems found while counting (clock skew,
	// unlinked incidents); never null, so clients can range over it.
	Warnings []Warning `json:"warnings"`
}

// DeploymentFrequency counts successful production deployments finished in
// the period. When there were none, PerWeek, MedianDeploymentDaysPerWeek
// and Tier are 0, 0 and low if the scope ever reported a deployment (not
// deploying is a fact), and null otherwise: a scope with no deployments
// ever may simply have no deployment source connected, and a tier of "low"
// would claim more than we know.
type DeploymentFrequency struct {
	Count   int      `json:"count"`
	PerWeek *float64 `json:"per_week"`
	// DeploymentDays are the UTC dates of the period with at least one
	// successful deployment.
	DeploymentDays int `json:"deployment_days"`
	// MedianDeploymentDaysPerWeek is the median, over the ISO weeks that
	// overlap the period, of each week's deployment days inside the period.
	MedianDeploymentDaysPerWeek *float64 `json:"median_deployment_days_per_week"`
	Weeks                       int      `json:"weeks"`
	Tier                        *Tier    `json:"tier"`
}

// LeadTime is change lead time over the changes shipped by successful
// deployments finished in the period. Count is the number of changes,
// Deployments the number of deployments that shipped them.
type LeadTime struct {
	MedianSeconds *float64 `json:"median_seconds"`
	P90Seconds    *float64 `json:"p90_seconds"`
	Count         int      `json:"count"`
	Deployments   int      `json:"deployments"`
	Tier          *Tier    `json:"tier"`
}

// ChangeFailureRate is Failed ÷ Deployments over all production deployments
// finished in the period, with both terms kept so a reader can judge a ratio
// computed from three deployments. Its tier is null when the scope never
// reported an incident or a failed deployment: 0 % then may only mean that
// failures are not reported.
type ChangeFailureRate struct {
	Ratio       *float64 `json:"ratio"`
	Failed      int      `json:"failed"`
	Deployments int      `json:"deployments"`
	Tier        *Tier    `json:"tier"`
}

// TimeToRestore is resolved − opened over the incidents resolved in the
// period.
type TimeToRestore struct {
	MedianSeconds *float64 `json:"median_seconds"`
	P90Seconds    *float64 `json:"p90_seconds"`
	Count         int      `json:"count"`
	Tier          *Tier    `json:"tier"`
}

// RecoveryTime is DORA 2023's failed deployment recovery time. It has no
// tier: docs/metrics.md gives none, and borrowing time to restore's would mix two
// different clocks.
type RecoveryTime struct {
	MedianSeconds *float64 `json:"median_seconds"`
	P90Seconds    *float64 `json:"p90_seconds"`
	Count         int      `json:"count"`
}

// ReworkRate is Unplanned ÷ Deployments over production deployments finished
// in the period; it has no tier in docs/metrics.md.
type ReworkRate struct {
	Ratio       *float64 `json:"ratio"`
	Unplanned   int      `json:"unplanned"`
	Deployments int      `json:"deployments"`
}

// Warning is one kind of data-quality problem and how many records had it,
// so that a dashboard can say "3 changes left out (clock skew)" next to a
// figure instead of silently bending it.
type Warning struct {
	Code    string `json:"code"`
	Count   int    `json:"count"`
	Message string `json:"message"`
}

// warningCode indexes warningTable; counting into a fixed array keeps the hot
// loops free of maps and the output in a stable order.
type warningCode int

const (
	warnInvalidPeriod warningCode = iota
	warnMissingFinishTime
	warnDuplicateDeployment
	warnUnknownDeployment
	warnMissingCommitTime
	warnNegativeLeadTime
	warnUnlinkedIncident
	warnNegativeRestoreTime
	warnNegativeRecoveryTime
	warnNoDeploymentSource
	warnNoFailureData
	warnOutsideCauseWindow
	numWarnings
)

var warningTable = [numWarnings]struct{ code, message string }{
	warnInvalidPeriod:        {"invalid_period", "the period does not end after it starts, so nothing falls inside it"},
	warnMissingFinishTime:    {"missing_finish_time", "finished deployments without a finish time were left out"},
	warnDuplicateDeployment:  {"duplicate_deployment", "deployments given more than once were merged into one"},
	warnUnknownDeployment:    {"unknown_deployment", "shipped changes whose deployment is not in the input were left out"},
	warnMissingCommitTime:    {"missing_commit_time", "shipped changes without a commit time were left out of lead time"},
	warnNegativeLeadTime:     {"negative_lead_time", "changes committed after their deployment finished (clock skew) were left out of lead time"},
	warnUnlinkedIncident:     {"unlinked_incident", "incidents with no deployment to link (none finished before they opened) count in no change failure"},
	warnNegativeRestoreTime:  {"negative_restore_time", "incidents resolved before they opened (clock skew) were left out of time to restore"},
	warnNegativeRecoveryTime: {"negative_recovery_time", "failed deployments recovered before they finished (clock skew) were left out of recovery time"},
	warnNoDeploymentSource: {"no_deployment_source", "no production deployment was ever reported for this scope, so deployment frequency is unknown rather than zero; " +
		"send deployments (the events API, a deploy webhook) or import the repository with `stride import git --deploy-tags`"},
	warnOutsideCauseWindow: {"incident_outside_cause_window", "incidents whose latest earlier deployment finished before the incident cause window count in no change failure; " +
		"if a deployment did cause one, report it as the incident's cause_deployment, or widen the service's incident_cause_window"},
	warnNoFailureData: {"no_failure_data", "no incident and no failed deployment was ever reported for this scope, so the change failure rate may only show that failures are not reported and gets no tier; " +
		"connect an incident source (PagerDuty, Alertmanager, the events API) and report failed deployments"},
}

// warnings counts data-quality problems by code.
type warnings [numWarnings]int

func (w *warnings) add(c warningCode) { w[c]++ }

// addN counts n records raising c.
func (w *warnings) addN(c warningCode, n int) { w[c] += n }

// list returns the non-zero counts in table order, never nil.
func (w *warnings) list() []Warning {
	out := []Warning{}
	for c, n := range w {
		if n > 0 {
			out = append(out, Warning{Code: warningTable[c].code, Count: n, Message: warningTable[c].message})
		}
	}
	return out
}
