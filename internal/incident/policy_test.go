package incident

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/stride-oss/stride/internal/delivery"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDueAtWallClockFollowsTheSeverityTable(t *testing.T) {
	p := DefaultPolicy()
	opened := ts("2026-03-02T10:00:00Z")
	for _, c := range []struct {
		severity int
		want     string
	}{
		{0, "2026-03-02T10:30:00Z"},
		{1, "2026-03-02T11:00:00Z"},
		{2, "2026-03-03T10:00:00Z"},
		{3, "2026-03-04T10:00:00Z"},
		{delivery.SeverityUnknown, "2026-03-03T10:00:00Z"}, // counted as the default, 2
	} {
		if got := p.DueAt(opened, c.severity); !got.Equal(ts(c.want)) {
			t.Errorf("severity %d: due %s, want %s", c.severity, got, c.want)
		}
	}
}

// berlin works Monday to Friday, 9:00–17:00 Berlin time, with Christmas Day
// (Friday 2026-12-25) off. Severities 2 and 3 run on its clock.
func berlinPolicy(t *testing.T) Policy {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultPolicy()
	p.Hours = &BusinessHours{Location: loc, Start: 9 * time.Hour, End: 17 * time.Hour, Holidays: []string{"2026-12-25"}}
	p.Business = [4]bool{false, false, true, true}
	return p
}

func TestDueAtInBusinessHours(t *testing.T) {
	p := berlinPolicy(t)
	short := p
	short.Within[2] = 2 * time.Hour
	short.Within[3] = 30 * time.Minute
	for _, c := range []struct {
		name     string
		p        Policy
		opened   string
		severity int
		want     string
	}{
		// Thu 24 Dec 16:00 CET: 1 h on Thursday, Friday is a holiday, the
		// weekend does not count, 8 h Monday, 8 h Tuesday, 7 h Wednesday.
		{"a day's SLA skips a holiday and a weekend", p, "2026-12-24T15:00:00Z", 2, "2026-12-30T15:00:00Z"},
		{"opened on a Saturday starts on Monday at nine", short, "2026-12-05T09:00:00Z", 2, "2026-12-07T10:00:00Z"},
		{"opened before the day starts counts from nine", short, "2026-12-01T06:00:00Z", 2, "2026-12-01T10:00:00Z"},
		{"an SLA ending at five is due at five", short, "2026-12-01T14:00:00Z", 2, "2026-12-01T16:00:00Z"},
		{"opened after five counts from the next morning", short, "2026-12-01T17:00:00Z", 3, "2026-12-02T08:30:00Z"},
		// Fri 23 Oct 16:00 CEST (14:00Z): 1 h Friday; clocks go back on
		// Sunday; Monday 9:00 CET + 1 h = 10:00 CET = 09:00Z.
		{"nine o'clock stays nine across a daylight-saving change", short, "2026-10-23T14:00:00Z", 2, "2026-10-26T09:00:00Z"},
		{"severity 0 runs on the wall clock even on a Saturday", p, "2026-12-05T09:00:00Z", 0, "2026-12-05T09:30:00Z"},
		// 48 business hours = 6 working days: Tue 1 Dec 9:00 → Tue 8 Dec 17:00 CET.
		{"two days of business time are six working days", p, "2026-12-01T08:00:00Z", 3, "2026-12-08T16:00:00Z"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.p.DueAt(ts(c.opened), c.severity); !got.Equal(ts(c.want)) {
				t.Errorf("due %s, want %s", got.UTC().Format(time.RFC3339), c.want)
			}
		})
	}
}

func TestPoliciesOverrideByTeamThenService(t *testing.T) {
	ps := DefaultPolicies()
	ps.Teams = map[string]Policy{"payments": {Within: [4]time.Duration{1: 2 * time.Hour}, Escalation: []Step{{After: 0, Target: "lead"}}}}
	ps.Services = map[string]Policy{"api": {Within: [4]time.Duration{0: 15 * time.Minute}}}
	for _, c := range []struct {
		service, team string
		want          [4]time.Duration
		escalation    int
	}{
		{"api", "payments", [4]time.Duration{15 * time.Minute, 2 * time.Hour, 24 * time.Hour, 48 * time.Hour}, 1},
		{"ledger", "payments", [4]time.Duration{30 * time.Minute, 2 * time.Hour, 24 * time.Hour, 48 * time.Hour}, 1},
		{"api", "", [4]time.Duration{15 * time.Minute, time.Hour, 24 * time.Hour, 48 * time.Hour}, 0},
		{"web", "growth", delivery.AcknowledgeWithin, 0},
	} {
		p := ps.For(c.service, c.team)
		if p.Within != c.want || len(p.Escalation) != c.escalation {
			t.Errorf("%s of %q: within %v with %d steps, want %v with %d", c.service, c.team, p.Within, len(p.Escalation), c.want, c.escalation)
		}
	}
}

func TestValidateNamesTheField(t *testing.T) {
	for _, c := range []struct {
		name  string
		p     Policy
		field string
	}{
		{"a negative SLA", Policy{Within: [4]time.Duration{-time.Minute}}, "within[0]"},
		{"an end before the start", Policy{Hours: &BusinessHours{Start: 17 * time.Hour, End: 9 * time.Hour}}, "business_hours"},
		{"a holiday that is not a date", Policy{Hours: &BusinessHours{Start: 9 * time.Hour, End: 17 * time.Hour, Holidays: []string{"25.12.2026"}}}, "business_hours.holidays[0]"},
		{"a step without a target", Policy{Escalation: []Step{{After: time.Minute}}}, "escalation[0].target"},
		{"steps out of order", Policy{Escalation: []Step{{After: time.Hour, Target: "a"}, {After: time.Minute, Target: "b"}}}, "escalation[1].after"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var e *delivery.Error
			if err := c.p.Validate(); !errors.As(err, &e) || e.Field != c.field || e.Code != delivery.EINVALID {
				t.Fatalf("got %v, want an invalid %s", err, c.field)
			}
		})
	}
	if err := berlinPolicy(t).Validate(); err != nil {
		t.Errorf("the Berlin policy is valid, got %v", err)
	}
}

func TestBreached(t *testing.T) {
	p := DefaultPolicy()
	// A severity 1 incident opened at 10:00 is due at 11:00.
	sev1 := delivery.Incident{Service: "api", ID: "1", Severity: 1, OpenedAt: ts("2026-03-02T10:00:00Z")}
	with := func(f func(*delivery.Incident)) delivery.Incident { in := sev1; f(&in); return in }
	for _, c := range []struct {
		name string
		in   delivery.Incident
		now  string
		want bool
	}{
		{"unanswered a minute before due", sev1, "2026-03-02T10:59:00Z", false},
		{"unanswered at the due instant", sev1, "2026-03-02T11:00:00Z", false},
		{"unanswered a second past due, with no further event", sev1, "2026-03-02T11:00:01Z", true},
		{"acknowledged after 1 h 30 min", with(func(in *delivery.Incident) { in.AcknowledgedAt = ts("2026-03-02T11:30:00Z") }), "2026-03-02T12:00:00Z", true},
		{"acknowledged in time", with(func(in *delivery.Incident) { in.AcknowledgedAt = ts("2026-03-02T10:45:00Z") }), "2026-03-02T12:00:00Z", false},
		{"acknowledged exactly at due", with(func(in *delivery.Incident) { in.AcknowledgedAt = ts("2026-03-02T11:00:00Z") }), "2026-03-02T12:00:00Z", false},
		{"resolved in time without an acknowledgement", with(func(in *delivery.Incident) { in.ResolvedAt = ts("2026-03-02T10:50:00Z") }), "2026-03-02T12:00:00Z", false},
		{"resolved late without an acknowledgement", with(func(in *delivery.Incident) { in.ResolvedAt = ts("2026-03-02T11:10:00Z") }), "2026-03-02T12:00:00Z", true},
		{"raised to severity 0 forty minutes in", with(func(in *delivery.Incident) { in.Severity = 0 }), "2026-03-02T10:40:00Z", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := p.Breached(c.in, ts(c.now)); got != c.want {
				t.Errorf("breached %v, want %v", got, c.want)
			}
		})
	}
}

func escalatingPolicy() Policy {
	p := DefaultPolicy()
	p.Escalation = []Step{{10 * time.Minute, "secondary"}, {30 * time.Minute, "manager"}, {time.Hour, "director"}}
	return p
}

func TestEscalations(t *testing.T) {
	p := escalatingPolicy()
	// Severity 0 opened 10:00, due 10:30: steps at 10:40, 11:00 and 11:30.
	in := delivery.Incident{Service: "api", ID: "7", Severity: 0, OpenedAt: ts("2026-03-02T10:00:00Z")}
	acked := in
	acked.AcknowledgedAt = ts("2026-03-02T10:50:00Z")
	for _, c := range []struct {
		name string
		in   delivery.Incident
		now  string
		sent int
		want []string // target@time
	}{
		{"nothing before the first step", in, "2026-03-02T10:39:59Z", 0, nil},
		{"the first step at ten past due", in, "2026-03-02T10:40:00Z", 0, []string{"secondary@10:40"}},
		{"the next step once the first was sent", in, "2026-03-02T11:05:00Z", 1, []string{"manager@11:00"}},
		{"a late job sends every missed step in order", in, "2026-03-02T11:31:00Z", 0, []string{"secondary@10:40", "manager@11:00", "director@11:30"}},
		{"nothing once every step was sent", in, "2026-03-02T13:00:00Z", 3, nil},
		{"nothing once acknowledged", acked, "2026-03-02T11:31:00Z", 1, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, e := range p.Escalations(c.in, ts(c.now), c.sent) {
				got = append(got, e.Target+"@"+e.At.Format("15:04"))
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
}

// TestEscalationJobWithAClock drives Check as a job would, once a minute
// from the opening, and records when each step is sent and to whom; the
// incident is acknowledged at 11:10, so the director is never reached.
func TestEscalationJobWithAClock(t *testing.T) {
	ps := Policies{Default: escalatingPolicy()}
	in := delivery.Incident{Service: "api", ID: "7", Severity: 0, OpenedAt: ts("2026-03-02T10:00:00Z")}
	state := map[Key]State{}
	var breachedAt time.Time
	var log []string
	for now := in.OpenedAt; now.Before(ts("2026-03-02T13:00:00Z")); now = now.Add(time.Minute) {
		if now.Equal(ts("2026-03-02T11:10:00Z")) {
			in.AcknowledgedAt = now
		}
		sw := ps.Check([]delivery.Incident{in}, nil, now, state)
		for _, b := range sw.Breaches {
			breachedAt = b.At
			log = append(log, "breach seen "+now.Format("15:04"))
			st := state[Key{Service: b.Service, ID: b.Incident}]
			st.Breached = true
			state[Key{Service: b.Service, ID: b.Incident}] = st
		}
		for _, e := range sw.Escalations {
			log = append(log, e.Target+" "+now.Format("15:04"))
			st := state[Key{Service: e.Service, ID: e.Incident}]
			st.Sent = e.Step + 1
			state[Key{Service: e.Service, ID: e.Incident}] = st
		}
	}
	want := []string{"breach seen 10:31", "secondary 10:40", "manager 11:00"}
	if len(log) != len(want) || log[0] != want[0] || log[1] != want[1] || log[2] != want[2] {
		t.Fatalf("log %v, want %v", log, want)
	}
	if !breachedAt.Equal(ts("2026-03-02T10:30:00Z")) {
		t.Errorf("breached at %s, want the due time 10:30", breachedAt)
	}
}

func TestRouting(t *testing.T) {
	r := DefaultRouting()
	r.Targets["chat"] = Target{Name: "chat", Kind: KindSlack}
	r.Teams = map[string][4][]string{"payments": {1: {TargetPage, "chat"}, 3: {"chat"}}}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		severity int
		source   string
		team     string
		want     []string
	}{
		{"severity 0 pages", 0, "api", "growth", []string{"page"}},
		{"severity 1 pages", 1, "github", "", []string{"page"}},
		{"severity 2 sends e-mail", 2, "api", "growth", []string{"email"}},
		{"severity 3 notifies nobody", 3, "api", "growth", nil},
		{"an incident from PagerDuty is not paged back", 0, "pagerduty", "growth", nil},
		{"a team adds chat to its pages", 1, "api", "payments", []string{"page", "chat"}},
		{"a PagerDuty incident of that team only goes to chat", 1, "pagerduty", "payments", []string{"chat"}},
		{"a team override of severity 3", 3, "jira", "payments", []string{"chat"}},
		{"the team inherits severity 2", 2, "api", "payments", []string{"email"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, tg := range r.For(delivery.Incident{Severity: c.severity, Source: c.source}, c.team) {
				got = append(got, tg.Name)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
	if got := r.ForAlert(1, "payments"); len(got) != 2 || got[0].Name != "page" || got[1].Name != "chat" {
		t.Errorf("a paging SLO alert of payments goes to %v, want page and chat", got)
	}
	if got := r.ForAlert(2, "growth"); len(got) != 1 || got[0].Name != "email" {
		t.Errorf("an SLO ticket goes to %v, want email", got)
	}
	ps := Policies{Default: escalatingPolicy()}
	var e *delivery.Error
	if err := CheckTargets(ps, r); !errors.As(err, &e) || e.Field != "escalation[0].target" {
		t.Errorf("escalating to targets routing lacks: %v", err)
	}
	for _, name := range []string{"secondary", "manager", "director"} {
		r.Targets[name] = Target{Name: name, Kind: KindEmail}
	}
	if err := CheckTargets(ps, r); err != nil {
		t.Errorf("every step has a target: %v", err)
	}
	bad := DefaultRouting()
	bad.Severity[3] = []string{"nowhere"}
	if err := bad.Validate(); err == nil {
		t.Error("a route to an unknown target passed validation")
	}
}

func TestMostSteps(t *testing.T) {
	step := Step{After: time.Minute, Target: "lead"}
	tests := []struct {
		name string
		ps   Policies
		want int
	}{
		{"the defaults escalate to nobody", DefaultPolicies(), 0},
		{"the default's steps", Policies{Default: Policy{Escalation: []Step{step}}}, 1},
		{"a team's longer escalation", Policies{Default: Policy{Escalation: []Step{step}}, Teams: map[string]Policy{"pay": {Escalation: []Step{step, step, step}}}}, 3},
		{"a service's longer escalation", Policies{Services: map[string]Policy{"api": {Escalation: []Step{step, step}}}}, 2},
	}
	for _, tt := range tests {
		if got := tt.ps.MostSteps(); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
