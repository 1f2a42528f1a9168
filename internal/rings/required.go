package rings

import (
	"fmt"
	"sort"
	"strings"
)

// CondRequiredGates is the condition that the gates a ring requires (such
// as sonarqube, which SonarQube's webhook records) have a passing latest
// result on the commit.
const CondRequiredGates = "required_gates"

// requiredGatesCondition judges the target ring's require_gates. The gates
// condition already fails on any failed gate; this one fails as well on a
// required gate that has not reported, which the gates condition cannot
// know to wait for. A ring that requires none gets no condition.
func requiredGatesCondition(f Facts, target int) (Condition, bool) {
	if target < 0 || len(f.Config.Rings[target].RequireGates) == 0 {
		return Condition{}, false
	}
	latest := map[string]GateRun{}
	for _, g := range LatestGates(f.Gates) {
		latest[g.Name] = g
	}
	var missing, failed, passed []string
	for _, name := range f.Config.Rings[target].RequireGates {
		g, ok := latest[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case !g.Passed:
			failed = append(failed, name)
		default:
			passed = append(passed, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(failed)
	ring := f.Config.Rings[target].Name
	var why []string
	if len(failed) > 0 {
		why = append(why, "failed: "+strings.Join(failed, ", "))
	}
	if len(missing) > 0 {
		why = append(why, fmt.Sprintf("no result yet for %s: %s", short(f.SHA), strings.Join(missing, ", ")))
	}
	if len(why) > 0 {
		return Condition{Name: CondRequiredGates, Status: Fail, Reason: fmt.Sprintf("%s requires gate(s) %s; %s",
			ring, strings.Join(f.Config.Rings[target].RequireGates, ", "), strings.Join(why, "; "))}, true
	}
	return Condition{Name: CondRequiredGates, Status: Pass, Reason: fmt.Sprintf("%s requires gate(s) %s: passed",
		ring, strings.Join(passed, ", "))}, true
}
