package rings

import (
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// TestOpenBugsCondition judges the zero-bug-bounce criterion of service api
// on a first-ring promotion (so only gates and this condition matter) over
// hand-picked open items: PAY-1 a Highest bug, PAY-2 a Low bug, PAY-3 a
// High story, PAY-4 a High bug already done, PAY-5 a High bug of web.
func TestOpenBugsCondition(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	bug := func(key, typ, priority string, cat delivery.WorkItemCategory) delivery.WorkItem {
		return delivery.WorkItem{Tracker: "jira", Key: key, Type: typ, Priority: priority, Category: cat, Title: key + " title", Services: []string{"api"}}
	}
	items := []delivery.WorkItem{
		bug("PAY-1", "Bug", "Highest", delivery.CategoryInProgress),
		bug("PAY-2", "Bug", "Low", delivery.CategoryToDo),
		bug("PAY-3", "Story", "High", delivery.CategoryToDo),
		bug("PAY-4", "Bug", "High", delivery.CategoryDone),
	}
	criterion := func(max int, ringsOnly ...string) *OpenBugs {
		return &OpenBugs{Priorities: []string{"highest", "High"}, Max: max, Rings: ringsOnly}
	}
	for _, c := range []struct {
		name     string
		criteria *OpenBugs
		items    []delivery.WorkItem
		to       string
		status   Status // "" when the condition must be absent
		reason   string
		allowed  bool
	}{
		{"not configured: no condition, as before", nil, items, delivery.RingInternal, "", "", true},
		{"one Highest bug over a max of 0 blocks", criterion(0), items, delivery.RingInternal, Fail,
			`1 open bug of priority highest, High for api, at most 0 allowed: PAY-1 (Highest) "PAY-1 title"; fix them or lower their priority`, false},
		{"one over a max of 1 passes", criterion(1), items, delivery.RingInternal, Pass, "1 open bug of priority highest, High for api (at most 1)", true},
		{"none open passes", criterion(0), items[1:], delivery.RingInternal, Pass, "0 open bugs of priority", true},
		{"checked on ring2 only: skipped for ring0", criterion(0, delivery.RingGA), items, delivery.RingInternal, Skipped, "checked on promotion to ring2 only", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig("api")
			cfg.OpenBugs = c.criteria
			d := Decide(Facts{Config: cfg, SHA: "abc", To: c.to, Now: now, OpenWorkItems: c.items,
				Gates: []GateRun{{Name: "ci", Passed: true, At: now}}})
			var got *Condition
			for i := range d.Conditions {
				if d.Conditions[i].Name == CondOpenBugs {
					got = &d.Conditions[i]
				}
			}
			switch {
			case c.status == "" && got != nil:
				t.Errorf("condition %+v, want none", got)
			case c.status != "" && (got == nil || got.Status != c.status || !strings.Contains(got.Reason, c.reason)):
				t.Errorf("condition %+v, want %s with %q", got, c.status, c.reason)
			}
			if d.Allowed != c.allowed {
				t.Errorf("allowed = %v, want %v: %+v", d.Allowed, c.allowed, d.Conditions)
			}
		})
	}
}

func TestOpenBugsValidate(t *testing.T) {
	cfg := DefaultConfig("api")
	for name, o := range map[string]OpenBugs{
		"no priorities": {Max: 0},
		"negative max":  {Priorities: []string{"High"}, Max: -1},
		"unknown ring":  {Priorities: []string{"High"}, Rings: []string{"prod"}},
	} {
		cfg.OpenBugs = &o
		if err := cfg.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	cfg.OpenBugs = &OpenBugs{Priorities: []string{"High"}, Rings: []string{delivery.RingGA}}
	if err := cfg.Validate(); err != nil {
		t.Errorf("a valid criterion: %v", err)
	}
}
