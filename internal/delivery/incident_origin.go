package delivery

// IncidentOrigin says who raised an incident: a customer (a support ticket, a
// user-reported bug) or monitoring (an alert). The incident report counts the
// two apart, because an outage customers find first is a monitoring gap.
type IncidentOrigin string

const (
	OriginUnknown    IncidentOrigin = ""
	OriginCustomer   IncidentOrigin = "customer"
	OriginMonitoring IncidentOrigin = "monitoring"
)

// Valid reports whether o is empty or a known origin.
func (o IncidentOrigin) Valid() bool {
	return o == OriginUnknown || o == OriginCustomer || o == OriginMonitoring
}

// SourcePagerDuty is the Source of an incident PagerDuty reported; such an
// incident is not paged back to PagerDuty.
const SourcePagerDuty = "pagerduty"

// OriginOf is the origin an incident is counted under: the one a report gave;
// else monitoring for the alerting sources (PagerDuty, Alertmanager); else
// customer for severity 3, which METRICS defines as a user-reported bug; else
// unknown.
func OriginOf(in Incident) IncidentOrigin {
	switch {
	case in.Origin != OriginUnknown:
		return in.Origin
	case in.Source == SourcePagerDuty || in.Source == "alertmanager":
		return OriginMonitoring
	case in.Severity == SeverityLow:
		return OriginCustomer
	}
	return OriginUnknown
}
