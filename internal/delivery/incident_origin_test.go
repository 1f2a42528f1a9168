package delivery

import (
	"testing"
	"time"
)

func TestMergeOriginIsOrderFree(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	pd := Incident{Source: SourcePagerDuty, OpenedAt: t0.Add(time.Minute), AcknowledgedAt: t0.Add(20 * time.Minute), AcknowledgedBy: "alice"}
	api := Incident{Source: "api", Origin: OriginCustomer, OpenedAt: t0, AcknowledgedAt: t0.Add(25 * time.Minute), AcknowledgedBy: "bob"}
	gh := Incident{Source: "github", OpenedAt: t0.Add(time.Hour)}
	for _, c := range []struct {
		name          string
		a, b          Incident
		source, ackBy string
		origin        IncidentOrigin
	}{
		{"PagerDuty wins the source; the first acknowledgement names who", pd, api, SourcePagerDuty, "alice", OriginCustomer},
		{"the source that saw it open first", api, gh, "api", "bob", OriginCustomer},
		{"a report without an origin keeps the other's", gh, pd, SourcePagerDuty, "alice", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, m := range []Incident{MergeOrigin(MergeIncident(c.a, c.b), c.a, c.b), MergeOrigin(MergeIncident(c.b, c.a), c.b, c.a)} {
				if m.Source != c.source || m.AcknowledgedBy != c.ackBy || m.Origin != c.origin {
					t.Errorf("source %q ack by %q origin %q, want %q %q %q", m.Source, m.AcknowledgedBy, m.Origin, c.source, c.ackBy, c.origin)
				}
			}
		})
	}
	if got := OriginOf(Incident{Source: "alertmanager"}); got != OriginMonitoring {
		t.Errorf("alertmanager: %q", got)
	}
	if got := OriginOf(Incident{Source: "jira", Severity: SeverityLow}); got != OriginCustomer {
		t.Errorf("a severity 3 report: %q", got)
	}
	if got := OriginOf(Incident{Source: "api", Severity: SeverityMajor}); got != OriginUnknown {
		t.Errorf("an API report that said nothing: %q", got)
	}
}
