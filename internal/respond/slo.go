package respond

import (
	"context"
	"fmt"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/notify"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/store"
)

// SLOAlertSeverity is the incident severity whose routes a burn-rate alert
// takes: a page alert pages as a major incident (severity 1) does, a
// ticket alert goes where a minor one (severity 2) does, by e-mail.
func SLOAlertSeverity(alertSeverity string) int {
	if alertSeverity == slo.Page {
		return delivery.SeverityMajor
	}
	return delivery.SeverityMinor
}

// SLOAlerts returns the hook the SLO evaluation job hands its fired and
// resolved alerts to: each becomes a notification in the outbox on the
// routes of its service's team, so burn-rate alerts use the same routes,
// retries and record of undelivered messages as incidents. A failure is
// logged: the alert itself is already stored by the evaluation, and listed
// by GET /api/v1/alerts.
func (r *Responder) SLOAlerts(ctx context.Context) func([]slo.Transition) {
	return func(ts []slo.Transition) {
		services, err := r.db.ServiceTeams(ctx)
		if err != nil {
			r.logger().Error("hand SLO alerts to the notifier", "err", err)
			return
		}
		teams := store.TeamOf(services)
		for _, t := range ts {
			m := notify.Message{Action: notify.ActionTrigger, Reason: notify.ReasonSLOBurn,
				DedupKey: "stride/slo/" + t.SLO + "/" + t.Alert, Service: t.Service, Team: teams[t.Service],
				Severity: SLOAlertSeverity(t.Severity), At: t.At,
				Summary: fmt.Sprintf("SLO %s of %s: %s", t.SLO, t.Service, t.Reason)}
			if t.Kind == slo.Resolved {
				m.Action = notify.ActionResolve
				m.Summary = fmt.Sprintf("SLO %s of %s: %s alert resolved", t.SLO, t.Service, t.Alert)
			}
			if _, err := r.Alert(ctx, m.Severity, m.Team, m); err != nil {
				r.logger().Error("hand SLO alert to the notifier", "slo", t.SLO, "alert", t.Alert, "err", err)
			}
		}
	}
}
