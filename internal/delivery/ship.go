package delivery

import (
	"slices"
	"strings"
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
	// UnknownAncestry are the deployments of a commit whose history Stride
	// was not told (a commit a push listed but did not end on): each ships
	// that commit alone, which may be too few changes. Sorted.
	UnknownAncestry []DeploymentKey
	// UnknownCommit are the deployments whose own commit the graph does
	// not hold (its sha is among Missing): each ships nothing until the
	// commit is reported (by `import git`, a push to a branch the source
	// takes, or a collector). Sorted.
	UnknownCommit []DeploymentKey
	// Covered are the commits the walk covered without shipping them: the
	// history behind base, or behind the first deployment when there is no
	// base. With the shipped ones they are what a later deployment's walk
	// stops at (see ShipAfter).
	Covered []string
}

// Graph is what Stride knows of one repository's commits.
type Graph struct {
	// Reachable maps each known commit to the commits known to be reachable
	// from it: its true parents, or the ancestors a push proved. Both are
	// facts, and the walk follows both alike.
	Reachable map[string][]string
	// Unknown are known commits whose history is unknown (nil when there
	// are none): a deployment of one ships it alone and is named in
	// Shipping.UnknownAncestry.
	Unknown map[string]bool
}

// GraphOf builds the Graph of a repository's changes.
func GraphOf(changes []Change) Graph {
	g := Graph{Reachable: make(map[string][]string, len(changes))}
	for _, c := range changes {
		g.Add(c.SHA, c.Ancestry, c.Parents, c.ProvenAncestors)
	}
	return g
}

// Add records one commit of the graph: its true parents when ancestry is
// AncestryParents, else the ancestors a push proved (none when unknown).
func (g *Graph) Add(sha string, ancestry Ancestry, parents, proven []string) {
	switch ancestry {
	case AncestryParents:
		g.Reachable[sha] = parents
	case AncestryProven:
		g.Reachable[sha] = proven
	default:
		g.Reachable[sha] = nil
		if g.Unknown == nil {
			g.Unknown = map[string]bool{}
		}
		g.Unknown[sha] = true
	}
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
	return ShipGraph(Graph{Reachable: parents}, deployments, base)
}

// ShipGraph is ShipChanges over a graph that may hold what pushes proved
// instead of true parents: the walk follows true parents and proven
// ancestors alike, since both say what is reachable. A deployment of a commit
// whose history is unknown ships that commit alone (the walk finds nothing
// behind it) and is listed in UnknownAncestry, so the report can say its
// changes may be too few.
func ShipGraph(g Graph, deployments []Deployment, base []string) Shipping {
	return shipWalk(g, deployments, base, nil)
}

// ShipAfter continues an assignment made before: deployments all finished
// after every deployment already assigned, and covered tells whether a
// commit was covered then (shipped by one of them, or behind the history's
// start). Since a covered commit's ancestors are covered too, each walk
// stops there, so its cost is that of the new commits, and g need hold only
// the commits reachable from the new deployments up to covered ones. The
// result is the part of ShipGraph's over all the deployments that concerns
// the new ones: ShipGraph runs the same walk in the same order, with the
// earlier deployments' walks having covered exactly what covered reports.
func ShipAfter(g Graph, covered func(sha string) bool, deployments []Deployment) Shipping {
	return shipWalk(g, deployments, nil, covered)
}

// shipWalk is ShipGraph when before is nil, and ShipAfter otherwise.
func shipWalk(g Graph, deployments []Deployment, base []string, before func(sha string) bool) Shipping {
	parents := g.Reachable
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
	// calls visit for each.
	walk := func(start string, visit func(sha string)) {
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			sha := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if _, seen := covered[sha]; seen {
				continue
			}
			if before != nil && before(sha) {
				covered[sha] = struct{}{}
				continue
			}
			ps, known := parents[sha]
			if !known {
				missing[sha] = struct{}{}
				continue
			}
			covered[sha] = struct{}{}
			visit(sha)
			stack = append(stack, ps...)
		}
	}
	history := func(sha string) { out.Covered = append(out.Covered, sha) }

	for _, b := range base {
		walk(b, history)
	}
	for i, d := range ds {
		if _, known := parents[d.SHA]; !known && (before == nil || !before(d.SHA)) {
			out.UnknownCommit = append(out.UnknownCommit, d.Key())
		} else if g.Unknown[d.SHA] {
			out.UnknownAncestry = append(out.UnknownAncestry, d.Key())
		}
		var shipped []string
		if i == 0 && len(base) == 0 && before == nil {
			// The first deployment ships its own commit alone; what lies
			// behind it is history from before Stride knew the service.
			walk(d.SHA, func(sha string) {
				if sha == d.SHA {
					shipped = append(shipped, sha)
				} else {
					history(sha)
				}
			})
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
	slices.Sort(out.Covered)
	byKey := func(a, b DeploymentKey) int { return strings.Compare(a.String(), b.String()) }
	slices.SortFunc(out.UnknownAncestry, byKey)
	slices.SortFunc(out.UnknownCommit, byKey)
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
