package config

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/notify"
)

// Response is the response: section of stride.yaml: the acknowledgement SLAs
// (a default overridden per team and per service), the notification routes
// and which severities notify them, the RCA rules and the outbox's retries.
// Everything left out keeps the defaults of docs/incidents.md.
type Response struct {
	// SLA is the default policy; Teams and Services override it.
	SLA      ResponsePolicy            `yaml:"sla"`
	Teams    map[string]ResponsePolicy `yaml:"teams"`
	Services map[string]ResponsePolicy `yaml:"services"`
	// Routes are the named notification targets.
	Routes map[string]Route `yaml:"routes"`
	// Notify lists, per severity (0–3), the routes an incident notifies;
	// left out, 0 and 1 notify "page" and 2 "email" when those routes exist.
	Notify map[int][]string `yaml:"notify"`
	// TeamNotify overrides Notify for a team, severity by severity.
	TeamNotify map[string]map[int][]string `yaml:"team_notify"`
	// ReviewWithin is how long a resolved severity 0–1 incident may go
	// without a review before the report lists it (default 168h).
	ReviewWithin time.Duration `yaml:"review_within"`
	// CheckEvery is the period of the breach-and-escalation job (30s).
	CheckEvery time.Duration `yaml:"check_every"`
	Outbox     OutboxConfig  `yaml:"outbox"`
}

// ResponsePolicy is one level of the SLA policy as written in the file.
type ResponsePolicy struct {
	// Within is the acknowledgement SLA by severity, e.g. {0: 15m}.
	Within map[int]time.Duration `yaml:"within"`
	// BusinessHours, when set, is the calendar the severities listed in
	// BusinessSeverities count their SLA in.
	BusinessHours      *BusinessHours `yaml:"business_hours"`
	BusinessSeverities []int          `yaml:"business_severities"`
	Escalation         []Escalation   `yaml:"escalation"`
}

// BusinessHours is a working calendar: "09:00" to "17:30" on the weekdays
// (mon … sun; Monday to Friday when left out) in the time zone, minus the
// holidays (YYYY-MM-DD).
type BusinessHours struct {
	Timezone string   `yaml:"timezone"`
	Start    string   `yaml:"start"`
	End      string   `yaml:"end"`
	Weekdays []string `yaml:"weekdays"`
	Holidays []string `yaml:"holidays"`
}

// Escalation is one step: After past the due time, notify the route Target.
type Escalation struct {
	After  time.Duration `yaml:"after"`
	Target string        `yaml:"target"`
}

// Route is one notification target: exactly one of its kinds is set.
type Route struct {
	PagerDuty *PagerDutyRoute `yaml:"pagerduty"`
	Slack     *SlackRoute     `yaml:"slack"`
	Webhook   *WebhookRoute   `yaml:"webhook"`
	SMTP      *SMTPRoute      `yaml:"smtp"`
}

// PagerDutyRoute sends to the Events API v2 (URL: the public endpoint).
type PagerDutyRoute struct {
	RoutingKey string `yaml:"routing_key"`
	URL        string `yaml:"url"`
}

// SlackRoute posts to a Slack-compatible incoming webhook.
type SlackRoute struct {
	URL string `yaml:"url"`
}

// WebhookRoute posts signed JSON.
type WebhookRoute struct {
	URL    string `yaml:"url"`
	Secret string `yaml:"secret"`
}

// SMTPRoute sends e-mail; STARTTLS is used whenever the server offers it.
type SMTPRoute struct {
	Addr       string   `yaml:"addr"`
	From       string   `yaml:"from"`
	To         []string `yaml:"to"`
	Username   string   `yaml:"username"`
	Password   string   `yaml:"password"`
	RequireTLS bool     `yaml:"require_tls"`
}

// OutboxConfig tunes delivery: attempts (at least 3), the first backoff and
// its cap, the bound on one attempt and how often the outbox is polled.
type OutboxConfig struct {
	Attempts   int           `yaml:"attempts"`
	Backoff    time.Duration `yaml:"backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
	Timeout    time.Duration `yaml:"timeout"`
	Every      time.Duration `yaml:"every"`
}

// ResponseSettings is the response section made ready for use: what the
// incident API, the breach job and the outbox job are given.
type ResponseSettings struct {
	Policies     incident.Policies
	Routing      incident.Routing
	Rules        incident.Rules
	Senders      map[string]notify.Sender
	Retry        notify.Policy
	CheckEvery   time.Duration
	DeliverEvery time.Duration
}

// ResponseSettings converts and checks the response section. Load calls it,
// so a loaded configuration always converts.
func (c Config) ResponseSettings() (ResponseSettings, error) {
	r := c.Response
	var out ResponseSettings
	var err error
	if out.Policies.Default, err = r.SLA.policy(incident.DefaultPolicy()); err != nil {
		return out, fmt.Errorf("response.sla.%w", err)
	}
	convert := func(scope string, in map[string]ResponsePolicy) (map[string]incident.Policy, error) {
		if len(in) == 0 {
			return nil, nil
		}
		m := map[string]incident.Policy{}
		for name, p := range in {
			pol, err := p.policy(incident.Policy{})
			if err != nil {
				return nil, fmt.Errorf("response.%s.%s.%w", scope, name, err)
			}
			m[name] = pol
		}
		return m, nil
	}
	if out.Policies.Teams, err = convert("teams", r.Teams); err != nil {
		return out, err
	}
	if out.Policies.Services, err = convert("services", r.Services); err != nil {
		return out, err
	}
	if err := out.Policies.Validate(); err != nil {
		return out, fmt.Errorf("response: %w", err)
	}
	if out.Routing, out.Senders, err = r.routing(); err != nil {
		return out, err
	}
	if err := incident.CheckTargets(out.Policies, out.Routing); err != nil {
		return out, fmt.Errorf("response: %w", err)
	}
	out.Rules = incident.DefaultRules()
	if r.ReviewWithin < 0 {
		return out, fmt.Errorf("response.review_within: must not be negative")
	}
	if r.ReviewWithin > 0 {
		out.Rules.ReviewWithin = r.ReviewWithin
	}
	out.Retry = notify.DefaultPolicy()
	o := r.Outbox
	if o.Attempts < 0 || o.Backoff < 0 || o.MaxBackoff < 0 || o.Timeout < 0 || o.Every < 0 || r.CheckEvery < 0 {
		return out, fmt.Errorf("response: durations and attempts must not be negative")
	}
	if o.Attempts > 0 {
		if o.Attempts < 3 {
			return out, fmt.Errorf("response.outbox.attempts: at least 3, got %d", o.Attempts)
		}
		out.Retry.Attempts = o.Attempts
	}
	if o.Backoff > 0 {
		out.Retry.Backoff = o.Backoff
	}
	if o.MaxBackoff > 0 {
		out.Retry.MaxBackoff = o.MaxBackoff
	}
	if o.Timeout > 0 {
		out.Retry.Timeout = o.Timeout
	}
	out.CheckEvery, out.DeliverEvery = cmp(r.CheckEvery, 30*time.Second), cmp(o.Every, 5*time.Second)
	return out, nil
}

func cmp(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// policy converts one level; base supplies what a level leaves out (the
// defaults for the default level, nothing for an override).
func (p ResponsePolicy) policy(base incident.Policy) (incident.Policy, error) {
	out := base
	for s, d := range p.Within {
		if s < 0 || s > 3 {
			return out, fmt.Errorf("within: severity must be 0–3, got %d", s)
		}
		if d <= 0 {
			return out, fmt.Errorf("within.%d: must be positive, got %s", s, d)
		}
		out.Within[s] = d
	}
	if b := p.BusinessHours; b != nil {
		h := &incident.BusinessHours{Holidays: b.Holidays}
		loc, err := time.LoadLocation(cmpString(b.Timezone, "UTC"))
		if err != nil {
			return out, fmt.Errorf("business_hours.timezone: %v", err)
		}
		h.Location = loc
		if h.Start, err = clock(cmpString(b.Start, "09:00")); err != nil {
			return out, fmt.Errorf("business_hours.start: %v", err)
		}
		if h.End, err = clock(cmpString(b.End, "17:00")); err != nil {
			return out, fmt.Errorf("business_hours.end: %v", err)
		}
		for i, w := range b.Weekdays {
			d, ok := weekdays[strings.ToLower(w)]
			if !ok {
				return out, fmt.Errorf("business_hours.weekdays[%d]: want mon … sun, got %q", i, w)
			}
			h.Weekdays = append(h.Weekdays, d)
		}
		if err := h.Validate(); err != nil {
			return out, err
		}
		out.Hours = h
		out.Business = [4]bool{}
		sev := p.BusinessSeverities
		if sev == nil {
			sev = []int{2, 3}
		}
		for _, s := range sev {
			if s < 0 || s > 3 {
				return out, fmt.Errorf("business_severities: severity must be 0–3, got %d", s)
			}
			out.Business[s] = true
		}
	} else if p.BusinessSeverities != nil {
		return out, fmt.Errorf("business_severities: needs business_hours")
	}
	if p.Escalation != nil {
		out.Escalation = []incident.Step{}
		for _, e := range p.Escalation {
			out.Escalation = append(out.Escalation, incident.Step{After: e.After, Target: e.Target})
		}
	}
	return out, nil
}

func cmpString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// clock reads "HH:MM" as an offset from midnight; "24:00" is the day's end.
func clock(s string) (time.Duration, error) {
	if s == "24:00" {
		return 24 * time.Hour, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("want HH:MM, got %q", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// routing builds the targets, their senders and the severity routes.
func (r Response) routing() (incident.Routing, map[string]notify.Sender, error) {
	rt := incident.Routing{Targets: map[string]incident.Target{}}
	senders := map[string]notify.Sender{}
	client := &http.Client{}
	for name, route := range r.Routes {
		at := "response.routes." + name
		var kinds []incident.Kind
		if p := route.PagerDuty; p != nil {
			if p.RoutingKey == "" {
				return rt, nil, fmt.Errorf("%s.pagerduty.routing_key: is required", at)
			}
			kinds = append(kinds, incident.KindPagerDuty)
			senders[name] = &notify.PagerDuty{URL: p.URL, RoutingKey: p.RoutingKey, Client: client}
		}
		if s := route.Slack; s != nil {
			if s.URL == "" {
				return rt, nil, fmt.Errorf("%s.slack.url: is required", at)
			}
			kinds = append(kinds, incident.KindSlack)
			senders[name] = &notify.Slack{URL: s.URL, Client: client}
		}
		if w := route.Webhook; w != nil {
			if w.URL == "" || w.Secret == "" {
				return rt, nil, fmt.Errorf("%s.webhook: url and secret are required", at)
			}
			kinds = append(kinds, incident.KindWebhook)
			senders[name] = &notify.Webhook{URL: w.URL, Secret: w.Secret, Client: client}
		}
		if m := route.SMTP; m != nil {
			if m.Addr == "" || m.From == "" || len(m.To) == 0 {
				return rt, nil, fmt.Errorf("%s.smtp: addr, from and to are required", at)
			}
			kinds = append(kinds, incident.KindEmail)
			senders[name] = &notify.Mail{Addr: m.Addr, From: m.From, To: m.To, Username: m.Username, Password: m.Password, RequireTLS: m.RequireTLS}
		}
		if len(kinds) != 1 {
			return rt, nil, fmt.Errorf("%s: give exactly one of pagerduty, slack, webhook, smtp", at)
		}
		rt.Targets[name] = incident.Target{Name: name, Kind: kinds[0]}
	}
	lists := func(at string, m map[int][]string) ([4][]string, error) {
		var out [4][]string
		for s, names := range m {
			if s < 0 || s > 3 {
				return out, fmt.Errorf("%s: severity must be 0–3, got %d", at, s)
			}
			out[s] = append([]string{}, names...)
		}
		return out, nil
	}
	var err error
	if r.Notify == nil {
		def := incident.DefaultRouting()
		for s, names := range def.Severity {
			for _, n := range names {
				if _, ok := rt.Targets[n]; ok {
					rt.Severity[s] = append(rt.Severity[s], n)
				}
			}
		}
	} else if rt.Severity, err = lists("response.notify", r.Notify); err != nil {
		return rt, nil, err
	}
	for team, m := range r.TeamNotify {
		if rt.Teams == nil {
			rt.Teams = map[string][4][]string{}
		}
		if rt.Teams[team], err = lists("response.team_notify."+team, m); err != nil {
			return rt, nil, err
		}
	}
	if err := rt.Validate(); err != nil {
		return rt, nil, fmt.Errorf("response.notify: %w", err)
	}
	return rt, senders, nil
}

// RouteNames lists the configured routes, sorted, for messages.
func (r Response) RouteNames() []string {
	var out []string
	for n := range r.Routes {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
