package config

import (
	"strings"
	"testing"
	"time"
)

const digestRoutes = `
response:
  routes:
    payments-mail: {smtp: {addr: "mail.example.com:587", from: stride@example.com, to: [payments@example.com]}}
    payments-chat: {slack: {url: "https://hooks.example.com/T1"}}
    page: {pagerduty: {routing_key: k}}
`

func TestDigestSchedules(t *testing.T) {
	c, err := load(t, digestRoutes+`
teams:
  - name: payments
    digest: {weekday: mon, hour: 9, timezone: Europe/Berlin, routes: [payments-mail, payments-chat]}
  - name: search
    digest: {weekday: Fri, routes: [payments-chat]}
  - name: quiet
`)
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.DigestSchedules()
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 2 {
		t.Fatalf("schedules %+v, want payments and search", s)
	}
	if p := s[0]; p.Team != "payments" || p.Weekday != time.Monday || p.Hour != 9 || p.Location.String() != "Europe/Berlin" ||
		strings.Join(p.Routes, ",") != "payments-mail,payments-chat" {
		t.Errorf("payments %+v", p)
	}
	// Left out: 09:00 UTC.
	if q := s[1]; q.Weekday != time.Friday || q.Hour != 9 || q.Location != time.UTC {
		t.Errorf("search %+v", q)
	}
}

func TestDigestSchedulesAreValidatedOnLoad(t *testing.T) {
	for _, tc := range []struct{ name, team, want string }{
		{"a weekday nobody has", "{weekday: someday, routes: [payments-mail]}", `teams[0] (payments).digest.weekday: "someday"`},
		{"hour 24", "{weekday: mon, hour: 24, routes: [payments-mail]}", "digest.hour: 24 is not an hour"},
		{"an unknown time zone", "{weekday: mon, timezone: Mars/Olympus, routes: [payments-mail]}", "digest.timezone"},
		{"no route", "{weekday: mon}", "digest.routes: name at least one route"},
		{"an unknown route", "{weekday: mon, routes: [nowhere]}", `"nowhere" is not a route`},
		{"a pager", "{weekday: mon, routes: [page]}", `"page" is a PagerDuty route`},
		{"an unknown key", "{weekday: mon, routes: [payments-mail], day: 1}", "day"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, digestRoutes+"teams:\n  - name: payments\n    digest: "+tc.team+"\n")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
