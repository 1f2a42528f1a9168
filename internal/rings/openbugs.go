package rings

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
)

// CondOpenBugs is the zero-bug-bounce condition: few enough open bugs of
// the priorities that matter for the service at promotion time.
const CondOpenBugs = "open_bugs"

// OpenBugs is the zero-bug-bounce release criterion of a service: at most
// Max open work items of IssueTypes (default Bug) with one of Priorities,
// belonging to the service, when a commit is promoted into one of Rings
// (every ring when empty). Names match without regard to case.
type OpenBugs struct {
	Priorities []string `json:"priorities" yaml:"priorities"`
	Max        int      `json:"max" yaml:"max"`
	IssueTypes []string `json:"issue_types,omitempty" yaml:"issue_types"`
	Rings      []string `json:"rings,omitempty" yaml:"rings"`
}

// DefaultBugTypes are the issue types counted when IssueTypes is empty.
var DefaultBugTypes = []string{"Bug"}

// Types returns the issue types counted.
func (o OpenBugs) Types() []string {
	if len(o.IssueTypes) == 0 {
		return DefaultBugTypes
	}
	return o.IssueTypes
}

// Validate checks the criterion against the service's rings.
func (o OpenBugs) Validate(c Config) error {
	if len(o.Priorities) == 0 {
		return delivery.FieldError("open_bugs.priorities", "name the priorities whose open bugs block a promotion (e.g. [Highest, High])")
	}
	if o.Max < 0 {
		return delivery.FieldError("open_bugs.max", "%d is negative", o.Max)
	}
	for _, r := range o.Rings {
		if c.Index(r) < 0 {
			return delivery.FieldError("open_bugs.rings", "%q is not a ring of %s (rings: %s)", r, c.Service, ringNames(c))
		}
	}
	return nil
}

// openBugsCondition judges the criterion from the service's open work
// items (Facts.OpenWorkItems); nil when the service has none configured,
// so services without it decide as before.
func openBugsCondition(f Facts) *Condition {
	o := f.Config.OpenBugs
	if o == nil {
		return nil
	}
	c := &Condition{Name: CondOpenBugs}
	if len(o.Rings) > 0 && !slices.Contains(o.Rings, f.To) {
		c.Status, c.Reason = Skipped, fmt.Sprintf("open bugs are checked on promotion to %s only", strings.Join(o.Rings, ", "))
		return c
	}
	var open []string
	for _, w := range f.OpenWorkItems {
		if w.Deleted || w.Category == delivery.CategoryDone || !w.ResolvedAt.IsZero() ||
			!containsFold(o.Types(), w.Type) || !containsFold(o.Priorities, w.Priority) {
			continue
		}
		open = append(open, fmt.Sprintf("%s (%s) %q", w.Key, w.Priority, w.Title))
	}
	slices.Sort(open)
	plural := "s"
	if len(open) == 1 {
		plural = ""
	}
	which := fmt.Sprintf("open %s%s of priority %s for %s", strings.ToLower(strings.Join(o.Types(), "/")), plural, strings.Join(o.Priorities, ", "), f.Config.Service)
	if len(open) > o.Max {
		c.Status = Fail
		c.Reason = fmt.Sprintf("%d %s, at most %d allowed: %s; fix them or lower their priority in the tracker, then promote again",
			len(open), which, o.Max, strings.Join(open, ", "))
		return c
	}
	c.Status, c.Reason = Pass, fmt.Sprintf("%d %s (at most %d)", len(open), which, o.Max)
	return c
}

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(strings.TrimSpace(x), strings.TrimSpace(s)) })
}
