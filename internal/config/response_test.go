package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/notify"
)

func TestResponseSection(t *testing.T) {
	c, err := load(t, `
services: [{name: api, team: payments}]
response:
  sla:
    within: {0: 15m}
    business_hours: {timezone: Europe/Berlin, start: "09:00", end: "17:30", holidays: [2026-12-25]}
    escalation:
      - {after: 10m, target: lead}
  teams:
    payments: {within: {1: 45m}}
  routes:
    page: {pagerduty: {routing_key: KEY, url: "http://127.0.0.1:1/enqueue"}}
    lead: {slack: {url: "http://127.0.0.1:1/slack"}}
    email: {smtp: {addr: "127.0.0.1:25", from: "stride@example.com", to: [oncall@example.com]}}
  outbox: {attempts: 4, backoff: 2s}
`)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.ResponseSettings()
	if err != nil {
		t.Fatal(err)
	}
	p := rs.Policies.For("api", "payments")
	// 15m from the file, 45m from the team, the default 24h and 48h.
	if p.Within != [4]time.Duration{15 * time.Minute, 45 * time.Minute, 24 * time.Hour, 48 * time.Hour} {
		t.Errorf("within %v", p.Within)
	}
	if p.Hours == nil || p.Hours.Location.String() != "Europe/Berlin" || p.Hours.End != 17*time.Hour+30*time.Minute || p.Business != [4]bool{false, false, true, true} {
		t.Errorf("hours %+v business %v", p.Hours, p.Business)
	}
	if len(p.Escalation) != 1 || p.Escalation[0] != (incident.Step{After: 10 * time.Minute, Target: "lead"}) {
		t.Errorf("escalation %+v", p.Escalation)
	}
	// No notify list: the default routes, to those that exist.
	if sev := rs.Routing.Severity; !slices.Equal(sev[0], []string{"page"}) || !slices.Equal(sev[1], []string{"page"}) || !slices.Equal(sev[2], []string{"email"}) || len(sev[3]) != 0 {
		t.Errorf("routes %v", rs.Routing.Severity)
	}
	if pd, ok := rs.Senders["page"].(*notify.PagerDuty); !ok || pd.RoutingKey != "KEY" {
		t.Errorf("page sender %#v", rs.Senders["page"])
	}
	if rs.Retry.Attempts != 4 || rs.Retry.Backoff != 2*time.Second || rs.Retry.MaxBackoff != 30*time.Minute {
		t.Errorf("retry %+v", rs.Retry)
	}
	// An incident PagerDuty raised is not paged back.
	if got := rs.Routing.For(delivery.Incident{Severity: 0, Source: delivery.SourcePagerDuty}, "payments"); len(got) != 0 {
		t.Errorf("pagerduty incident routed to %v", got)
	}
}

func TestNoResponseSectionRoutesNothing(t *testing.T) {
	c, err := load(t, "services: [{name: api}]\n")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.ResponseSettings()
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.Routing.For(delivery.Incident{Severity: 0}, ""); len(got) != 0 {
		t.Errorf("routed to %v with no routes configured", got)
	}
	if rs.Policies.For("api", "").Within != delivery.AcknowledgeWithin || rs.CheckEvery != 30*time.Second {
		t.Errorf("defaults %+v", rs)
	}
}

func TestResponseSectionErrors(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"response: {sla: {within: {4: 1h}}}", "severity must be 0–3"},
		{"response: {sla: {escalation: [{after: 5m, target: nobody}]}}", `unknown target "nobody"`},
		{"response: {routes: {page: {pagerduty: {}}}}", "routing_key: is required"},
		{"response: {routes: {x: {slack: {url: u}, webhook: {url: u, secret: s}}}}", "exactly one of"},
		{"response: {routes: {x: {slack: {url: u}}}, notify: {0: [y]}}", `unknown target "y"`},
		{"response: {sla: {business_hours: {timezone: Mars/Olympus}}}", "timezone"},
		{"response: {sla: {business_hours: {start: '9am'}}}", "want HH:MM"},
		{"response: {outbox: {attempts: 2}}", "at least 3"},
		{"response: {routes: {x: {sms: {}}}}", "unknown setting"},
	}
	for _, tt := range tests {
		_, err := load(t, tt.yaml)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error with %q", tt.yaml, err, tt.want)
		}
		if err != nil && delivery.ErrorCode(err) != delivery.EINVALID {
			t.Errorf("%s: code %s", tt.yaml, delivery.ErrorCode(err))
		}
	}
}
