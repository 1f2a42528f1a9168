package incident

import (
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

func TestTransitionsKeepWhoAndWhen(t *testing.T) {
	in := delivery.Incident{Service: "api", ID: "42"}
	steps := []Transition{
		{Action: ActionOpen, At: ts("2026-03-02T10:00:00Z"), By: "alertmanager", Severity: 2},
		{Action: ActionSeverity, At: ts("2026-03-02T10:05:00Z"), By: "carol", Severity: 1},
		{Action: ActionAcknowledge, At: ts("2026-03-02T10:20:00Z"), By: "alice"},
		{Action: ActionAcknowledge, At: ts("2026-03-02T10:25:00Z"), By: "bob"}, // the first answer stays
		{Action: ActionResolve, At: ts("2026-03-02T11:00:00Z"), By: "alice"},
		{Action: ActionReopen, At: ts("2026-03-02T11:30:00Z"), By: "dave"},
		{Action: ActionResolve, At: ts("2026-03-02T12:00:00Z"), By: "alice"},
	}
	var history []Transition
	for _, s := range steps {
		var err error
		if in, err = Apply(in, s); err != nil {
			t.Fatalf("%s: %v", s.Action, err)
		}
		history = append(history, s)
	}
	if in.Severity != 1 || !in.SeverityAt.Equal(ts("2026-03-02T10:05:00Z")) {
		t.Errorf("severity %d at %s, want 1 at 10:05", in.Severity, in.SeverityAt)
	}
	if in.AcknowledgedBy != "alice" || !in.AcknowledgedAt.Equal(ts("2026-03-02T10:20:00Z")) {
		t.Errorf("acknowledged by %q at %s, want alice at 10:20", in.AcknowledgedBy, in.AcknowledgedAt)
	}
	if in.Status != delivery.IncidentResolved || !in.ResolvedAt.Equal(ts("2026-03-02T12:00:00Z")) {
		t.Errorf("status %q resolved %s, want resolved at 12:00", in.Status, in.ResolvedAt)
	}
	if len(history) != 7 || history[5].By != "dave" {
		t.Errorf("history %v", history)
	}
}

func TestAcknowledgementsOutOfOrderKeepTheFirst(t *testing.T) {
	in := delivery.Incident{Service: "api", ID: "42", Severity: 1, OpenedAt: ts("2026-03-02T10:00:00Z")}
	late := Transition{Action: ActionAcknowledge, At: ts("2026-03-02T10:25:00Z"), By: "bob"}
	early := Transition{Action: ActionAcknowledge, At: ts("2026-03-02T10:20:00Z"), By: "alice"}
	for _, order := range [][]Transition{{late, early}, {early, late}, {early, early, late, late}} {
		got := in
		for _, tr := range order {
			var err error
			if got, err = Apply(got, tr); err != nil {
				t.Fatal(err)
			}
		}
		if got.AcknowledgedBy != "alice" || !got.AcknowledgedAt.Equal(early.At) {
			t.Errorf("acknowledged by %q at %s, want alice at 10:20 whatever the order", got.AcknowledgedBy, got.AcknowledgedAt)
		}
	}
}

func TestTransitionsRefuseWhatDoesNotFit(t *testing.T) {
	open := delivery.Incident{Service: "api", ID: "42", Severity: 1, OpenedAt: ts("2026-03-02T10:00:00Z"), Status: delivery.IncidentOpen}
	resolved := open
	resolved.Status, resolved.ResolvedAt = delivery.IncidentResolved, ts("2026-03-02T11:00:00Z")
	later := ts("2026-03-02T12:00:00Z")
	for _, c := range []struct {
		name string
		in   delivery.Incident
		t    Transition
		code string
	}{
		{"resolving a resolved incident", resolved, Transition{Action: ActionResolve, At: later}, delivery.ECONFLICT},
		{"reopening an open incident", open, Transition{Action: ActionReopen, At: later}, delivery.ECONFLICT},
		{"opening an open incident", open, Transition{Action: ActionOpen, At: later, Severity: 1}, delivery.ECONFLICT},
		{"acknowledging before the opening", open, Transition{Action: ActionAcknowledge, At: ts("2026-03-02T09:00:00Z")}, delivery.EINVALID},
		{"a severity of 5", open, Transition{Action: ActionSeverity, At: later, Severity: 5}, delivery.EINVALID},
		{"no time", open, Transition{Action: ActionAcknowledge}, delivery.EINVALID},
		{"an unknown action", open, Transition{Action: "snooze", At: later}, delivery.EINVALID},
		{"opening without a service", delivery.Incident{ID: "1"}, Transition{Action: ActionOpen, At: later}, delivery.EINVALID},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Apply(c.in, c.t)
			if err == nil || delivery.ErrorCode(err) != c.code {
				t.Fatalf("got %v, want a %s error", err, c.code)
			}
			if got != c.in {
				t.Errorf("a refused transition changed the incident: %+v", got)
			}
		})
	}
	// Reopening clears the resolution and keeps the acknowledgement.
	resolved.AcknowledgedAt = ts("2026-03-02T10:10:00Z")
	got, err := Apply(resolved, Transition{Action: ActionReopen, At: later, By: "dave"})
	if err != nil || !got.ResolvedAt.IsZero() || got.Status != delivery.IncidentOpen || got.AcknowledgedAt.IsZero() {
		t.Errorf("reopened: %+v, %v", got, err)
	}
}

func TestFollowUpValidate(t *testing.T) {
	base := FollowUp{Service: "api", Incident: "42", Title: "rate-limit retries", CreatedAt: ts("2026-03-03T00:00:00Z")}
	with := func(f func(*FollowUp)) FollowUp { x := base; f(&x); return x }
	for _, c := range []struct {
		name  string
		f     FollowUp
		field string // "" when valid
	}{
		{"no issue key", base, ""},
		{"a Jira key", with(func(f *FollowUp) { f.Tracker, f.IssueKey = "jira", "PAY-123" }), ""},
		{"a GitHub issue", with(func(f *FollowUp) { f.Tracker, f.IssueKey = "github", "acme/api#42" }), ""},
		{"a GitLab issue in a subgroup", with(func(f *FollowUp) { f.Tracker, f.IssueKey = "gitlab", "acme/platform/api#7" }), ""},
		{"a Jira key in lower case", with(func(f *FollowUp) { f.Tracker, f.IssueKey = "jira", "pay-123" }), "issue_key"},
		{"a GitHub key without a number", with(func(f *FollowUp) { f.Tracker, f.IssueKey = "github", "acme/api" }), "issue_key"},
		{"a key without a tracker", with(func(f *FollowUp) { f.IssueKey = "PAY-1" }), "tracker"},
		{"no title", with(func(f *FollowUp) { f.Title = "" }), "title"},
		{"done before created", with(func(f *FollowUp) { f.DoneAt = ts("2026-03-01T00:00:00Z") }), "done_at"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.f.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("valid follow-up refused: %v", err)
				}
				return
			}
			e, ok := err.(*delivery.Error)
			if !ok || e.Field != c.field {
				t.Fatalf("got %v, want an error on %s", err, c.field)
			}
		})
	}
}

func TestRCARules(t *testing.T) {
	now := ts("2026-03-20T00:00:00Z")
	r := Rules{ReviewWithin: 7 * 24 * time.Hour}
	resolvedAt := func(s string, sev int) delivery.Incident {
		return delivery.Incident{Severity: sev, OpenedAt: ts("2026-03-01T00:00:00Z"), ResolvedAt: ts(s), Status: delivery.IncidentResolved}
	}
	for _, c := range []struct {
		name      string
		in        delivery.Incident
		hasReview bool
		needs     bool
		missing   bool
	}{
		{"severity 1 resolved eight days ago without a review", resolvedAt("2026-03-12T00:00:00Z", 1), false, true, true},
		{"severity 1 resolved exactly seven days ago", resolvedAt("2026-03-13T00:00:00Z", 1), false, true, false},
		{"severity 0 with its review", resolvedAt("2026-03-01T00:00:00Z", 0), true, true, false},
		{"severity 2 needs none", resolvedAt("2026-03-01T00:00:00Z", 2), false, false, false},
		{"an open severity 0 needs none yet", delivery.Incident{Severity: 0, OpenedAt: ts("2026-03-01T00:00:00Z")}, false, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := NeedsRCA(c.in); got != c.needs {
				t.Errorf("needs RCA %v, want %v", got, c.needs)
			}
			if got := r.ReviewMissing(c.in, c.hasReview, now); got != c.missing {
				t.Errorf("review missing %v, want %v", got, c.missing)
			}
		})
	}
	f := FollowUp{Due: ts("2026-03-19T00:00:00Z")}
	if !f.Open(now) || !f.Overdue(now) {
		t.Error("an undone follow-up past its due date is open and overdue")
	}
	f.DoneAt = ts("2026-03-19T12:00:00Z")
	if f.Open(now) || f.Overdue(now) {
		t.Error("a done follow-up is neither open nor overdue")
	}
}
