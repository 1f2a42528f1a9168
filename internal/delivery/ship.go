package delivery

import (
	"slices"
)

// Shipping is the result of assigning changes to deployments.
type Shipping struct {
	// Changes lists, for each deployment that shipped anything, the shas of
	// the changes it shipped.
	Changes map[DeploymentKey][]string
	// Missing are shas the walk needed but the graph does not hold: a
	// deployed commit or a parent Stride has not been told of. A change
	// arriving later with one of these shas makes the assignment stale.
	Missing []string
}

// ShipChanges assigns the changes of one repository to the successful
// production deployments of one service, as docs/metrics.md defines: the changes
// of deployment D are the commits reachable from D.SHA and not reachable from
// the SHA of any earlier deployment (by finish time), the equivalent of
// `git rev-list D.sha --not E1.sha E2.sha ...`. Each change is thus shipped
// once, by the first deployment that contains it, even when release branches
// are deployed out of line, and a rollback ships nothing.
//
// parents is the commit graph (sha → parent shas). The first deployment
// ships only its own commit, so history from before Stride knew the service
// does not inflate lead time; when base is given, it ships instead the commits
// reachable from it and not from base. deployments may come in any order and
// may include non-successful ones, which are skipped.
func ShipChanges(parents map[string][]string, deployments []Deployment, base []string) Shipping {
	ds := make([]Deployment, 0, len(deployments))
	for _, d := range deployments {
		if d.Status == DeploymentSuccess && d.SHA != "" {
			ds = append(ds, d)
		}
	}
	SortByFinish(ds)

	out := Shipping{Changes: make(map[DeploymentKey][]string)}
	covered := make(map[string]struct{}, len(parents))
	missing := make(map[string]struct{})
	var stack []string

	// walk marks every commit reachable from start and not yet covered, and
	// calls visit for each (when visit is not nil).
	walk := func(start string, visit func(sha string)) {
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			sha := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if _, seen := covered[sha]; seen {
				continue
			}
			ps, known := parents[sha]
			if !known {
				missing[sha] = struct{}{}
				continue
			}
			covered[sha] = struct{}{}
			if visit != nil {
				visit(sha)
			}
			stack = append(stack, ps...)
		}
	}

	for _, b := range base {
		walk(b, nil)
	}
	for i, d := range ds {
		var shipped []string
		if i == 0 && len(base) == 0 {
			if _, known := parents[d.SHA]; known {
				shipped = []string{d.SHA}
			}
			walk(d.SHA, nil)
		} else {
			walk(d.SHA, func(sha string) { shipped = append(shipped, sha) })
		}
		if len(shipped) > 0 {
			out.Changes[d.Key()] = shipped
		}
	}
	for sha := range missing {
		out.Missing = append(out.Missing, sha)
	}
	slices.Sort(out.Missing)
	return out
}

// Touches reports whether a change with the given paths belongs to a service
// with the given monorepo path prefixes: always when the service has none or
// the change's paths are unknown (nil), else when a path is a prefix or lies
// under one ("api" and "api/" both take "api/main.go", not "apis/x").
func Touches(paths, prefixes []string) bool {
	if len(prefixes) == 0 || paths == nil {
		return true
	}
	return anyUnder(paths, prefixes)
}

// SortByFinish orders deployments by finish time, then by ID, so that two
// deployments finishing in the same instant still have one order.
func SortByFinish(ds []Deployment) {
	slices.SortStableFunc(ds, func(a, b Deployment) int {
		if c := a.FinishedAt.Compare(b.FinishedAt); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
}
