package gate

import (
	"sort"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
)

// Name names the gate a result belongs to: the criteria it judged (those
// not skipped), sorted and joined with "+", or "gate" when it judged none.
// A gate result carries no name of its own, yet one commit is often judged
// by several gates (unit tests in one job, a load test in another); naming
// a run by what it judged makes a re-run of the same gate supersede the
// earlier result, while a passing load test cannot hide a failed unit-test
// gate. Dropping a report to get past a failure changes the name, so the
// failure still counts.
func Name(r Result) string {
	var names []string
	seen := map[string]bool{}
	for _, c := range r.Criteria {
		if c.Status != Skipped && !seen[c.Name] {
			seen[c.Name] = true
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		return "gate"
	}
	sort.Strings(names)
	return strings.Join(names, "+")
}

// CheckRecordable reports, as a field error, why a result posted by CI
// cannot be recorded: it must name its service, its sha must be of bounded
// length, and its verdict must be pass or fail (skipped judges nothing).
func (r Result) CheckRecordable() error {
	if strings.TrimSpace(r.Service) == "" {
		return delivery.FieldError("service", "is required")
	}
	if len(r.Service) > delivery.MaxKeyLength {
		return delivery.FieldError("service", "is longer than %d bytes", delivery.MaxKeyLength)
	}
	if len(r.SHA) > delivery.MaxKeyLength {
		return delivery.FieldError("sha", "is longer than %d bytes", delivery.MaxKeyLength)
	}
	if r.Verdict != Pass && r.Verdict != Fail {
		return delivery.FieldError("verdict", "must be pass or fail, got %q", r.Verdict)
	}
	return nil
}
