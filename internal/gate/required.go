package gate

import (
	"fmt"
	"time"
)

// GateRun is another gate's latest result on the same commit, as the
// server answers a posted result with them: what require_gates judges.
type GateRun struct {
	Name   string    `json:"name"`
	Passed bool      `json:"passed"`
	At     time.Time `json:"at"`
}

// AddRequiredGates adds one criterion per gate the policy requires
// (require_gates, such as sonarqube, whose result SonarQube's webhook
// records): it passes when the latest result of that gate on the commit
// passed, and fails when it failed, has not arrived, or could not be read
// because no server was asked (asked is false), since a required gate that
// was not seen must not pass by omission.
func (r *Result) AddRequiredGates(required []string, runs []GateRun, asked bool) {
	latest := map[string]GateRun{}
	for _, g := range runs {
		if cur, ok := latest[g.Name]; !ok || !g.At.Before(cur.At) {
			latest[g.Name] = g
		}
	}
	for _, name := range required {
		c := Criterion{Name: "gate " + name}
		g, ok := latest[name]
		switch {
		case !asked:
			c.Status, c.Detail = Fail, fmt.Sprintf("required gate %s cannot be checked without --server", name)
		case r.SHA == "":
			c.Status, c.Detail = Fail, fmt.Sprintf("required gate %s cannot be checked without the commit (--sha)", name)
		case !ok:
			c.Status, c.Detail = Fail, fmt.Sprintf("no result of the required gate %s for %s yet", name, r.SHA)
		case g.Passed:
			c.Status, c.Detail = Pass, fmt.Sprintf("gate %s passed at %s", name, g.At.UTC().Format(time.RFC3339))
		default:
			c.Status, c.Detail = Fail, fmt.Sprintf("gate %s failed at %s", name, g.At.UTC().Format(time.RFC3339))
		}
		r.Criteria = append(r.Criteria, c)
	}
	r.Verdict = verdict(r.Criteria)
}
