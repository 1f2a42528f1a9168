package delivery

import "time"

// NoCause is the cause a source names to say that no deployment caused an
// incident (`cause_deployment: "none"` in the events API), so it is not
// blamed on the latest deployment. A deployment whose id is "none" can
// therefore not be named as a cause. Like any cause, the latest report that
// names one wins, so merges stay independent of arrival order.
const NoCause = "none"

// DefaultCauseWindow is the incident cause window of a service whose
// configuration names none: how long before an incident opened a
// deployment may have finished to be inferred as its cause. One day covers
// a deployment whose fault shows with the next day's traffic peak, batch
// run or business hours, and no longer, so a quiet service does not blame
// last month's deployment (docs/metrics.md gives the reasoning).
const DefaultCauseWindow = 24 * time.Hour

// CauseRule is the rule that linked an incident to a deployment, or left
// it unlinked.
type CauseRule string

// The rules, as docs/metrics.md lists them.
const (
	// CauseExplicit: the source named the deployment.
	CauseExplicit CauseRule = "explicit"
	// CauseInferred: the latest successful production deployment before
	// the incident opened, within the window.
	CauseInferred CauseRule = "inferred"
	// CauseSaidNone: the source said no deployment caused it.
	CauseSaidNone CauseRule = "said_none"
	// CauseOutsideWindow: the latest deployment before it finished longer
	// before it opened than the window.
	CauseOutsideWindow CauseRule = "outside_window"
	// CauseNoneBefore: no successful production deployment finished before
	// it opened.
	CauseNoneBefore CauseRule = "none_before"
)

// IncidentCause is the production deployment an incident is linked to:
// named by the source, or inferred. Deployment is nil when there is none
// (an incident before any deployment, or none recent enough).
type IncidentCause struct {
	Deployment *DeploymentKey
	// Inferred is true when the link was inferred, not given.
	Inferred bool
	// Rule says which rule decided; Window is the window it applied
	// (0: none) and Gap, for CauseOutsideWindow, how long before the
	// incident the latest deployment finished.
	Rule   CauseRule
	Window time.Duration
	Gap    time.Duration
}

// CauseOf links an incident to the deployment that caused it. A cause the
// source named wins, NoCause included. Otherwise the cause is inferred as
// the latest successful production deployment of the service that finished
// before the incident opened, which the caller passes as before (nil when
// there is none): the change most recently put in front of users is the
// first suspect. A window above zero bounds how long before the incident
// opened that deployment may have finished, so a quiet service does not
// blame a deployment of months ago; zero means no bound.
func CauseOf(in Incident, before *Deployment, window time.Duration) IncidentCause {
	switch in.CauseDeployment {
	case NoCause:
		return IncidentCause{Rule: CauseSaidNone}
	case "":
	default:
		return IncidentCause{Deployment: &DeploymentKey{Service: in.Service, Environment: EnvironmentProduction, ID: in.CauseDeployment}, Rule: CauseExplicit}
	}
	if before == nil || !before.FinishedAt.Before(in.OpenedAt) {
		return IncidentCause{Rule: CauseNoneBefore, Window: window}
	}
	if gap := in.OpenedAt.Sub(before.FinishedAt); window > 0 && gap > window {
		return IncidentCause{Rule: CauseOutsideWindow, Window: window, Gap: gap}
	}
	return IncidentCause{Deployment: &DeploymentKey{Service: in.Service, Environment: EnvironmentProduction, ID: before.ID}, Inferred: true, Rule: CauseInferred, Window: window}
}
