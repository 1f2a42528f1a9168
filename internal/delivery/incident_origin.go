package delivery

import "time"

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

// MergeOrigin returns m with the Source, Origin and AcknowledgedBy that two
// reports a and b of one incident merge to, in either order (MergeIncident
// is to call it on its result, as MergeOrigin(m, a, b)):
//   - AcknowledgedBy travels with the earliest acknowledgement;
//   - Source is pagerduty when either report came from PagerDuty (the
//     incident exists there, so it must not be paged back), else the source
//     of the report that saw the incident open first;
//   - Origin is the one given by the report that saw the incident open
//     first among those that gave one.
//
// Ties fall to the smaller non-empty string, so the result never depends on
// the order of the reports.
func MergeOrigin(m, a, b Incident) Incident {
	m.AcknowledgedBy = byEarliest(a.AcknowledgedAt, a.AcknowledgedBy, b.AcknowledgedAt, b.AcknowledgedBy)
	if a.Source == SourcePagerDuty || b.Source == SourcePagerDuty {
		m.Source = SourcePagerDuty
	} else {
		m.Source = byEarliest(a.OpenedAt, a.Source, b.OpenedAt, b.Source)
	}
	m.Origin = IncidentOrigin(byEarliest(a.OpenedAt, string(a.Origin), b.OpenedAt, string(b.Origin)))
	return m
}

// byEarliest picks the non-empty value whose time is earliest (a zero time
// counting as latest); of equal times, the smaller value.
func byEarliest(ta time.Time, va string, tb time.Time, vb string) string {
	switch {
	case va == "":
		return vb
	case vb == "":
		return va
	case ta.IsZero() != tb.IsZero():
		if ta.IsZero() {
			return vb
		}
		return va
	case ta.Before(tb):
		return va
	case tb.Before(ta):
		return vb
	}
	return min(va, vb)
}
