package delivery

import "time"

// IncidentCause is the production deployment an incident is linked to:
// named by the source, or inferred. Deployment is nil when there is none
// (an incident before any deployment, or none recent enough).
type IncidentCause struct {
	Deployment *DeploymentKey
	// Inferred is true when the link was inferred, not given.
	Inferred bool
}

// CauseOf links an incident to the deployment that caused it. A cause the
// source named wins. Otherwise the cause is inferred as the latest
// successful production deployment of the service that finished before the
// incident opened, which the caller passes as before (nil when there is
// none): the change most recently put in front of users is the first
// suspect. A window above zero bounds how long before the incident opened
// that deployment may have finished, so a quiet service does not blame a
// deployment of months ago; zero means no bound.
func CauseOf(in Incident, before *Deployment, window time.Duration) IncidentCause {
	if in.CauseDeployment != "" {
		return IncidentCause{Deployment: &DeploymentKey{Service: in.Service, Environment: EnvironmentProduction, ID: in.CauseDeployment}}
	}
	if before == nil || !before.FinishedAt.Before(in.OpenedAt) {
		return IncidentCause{}
	}
	if window > 0 && in.OpenedAt.Sub(before.FinishedAt) > window {
		return IncidentCause{}
	}
	return IncidentCause{Deployment: &DeploymentKey{Service: in.Service, Environment: EnvironmentProduction, ID: before.ID}, Inferred: true}
}
