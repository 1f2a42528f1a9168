package delivery

import (
	"slices"
	"strings"
	"time"
)

// The Merge functions combine two reports of one entity into the state
// Stride keeps. Each is a join: commutative, associative and idempotent, so
// the stored state does not depend on the order events arrive in nor on how
// often one is delivered. Mutable fields come from the later report (by
// UpdatedAt, then by how far its status has progressed); a report that
// leaves a field empty does not erase it; first-seen times keep the earliest.

// order compares two reports: +1 when a is the later, -1 when b is, 0 when
// neither is (then each field takes the greater value, so the result is still
// the same whichever comes first).
func order(aAt, bAt time.Time, aRank, bRank int) int {
	switch {
	case aAt.After(bAt):
		return 1
	case bAt.After(aAt):
		return -1
	case aRank > bRank:
		return 1
	case bRank > aRank:
		return -1
	}
	return 0
}

func pickString(a, b string, ord int) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case ord > 0:
		return a
	case ord < 0:
		return b
	}
	return max(a, b)
}

func pickTime(a, b time.Time, ord int) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case ord > 0:
		return a
	case ord < 0:
		return b
	}
	if a.After(b) {
		return a
	}
	return b
}

func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case b.Before(a):
		return b
	}
	return a
}

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// union returns the sorted union of two string sets; nil when both are nil,
// so "not reported" stays distinct from "reported empty".
func union(a, b []string) []string {
	if a == nil && b == nil {
		return nil
	}
	out := make([]string, 0, len(a)+len(b))
	out = append(out, a...)
	out = append(out, b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// MergeChange joins two reports of one commit. A commit does not change, so
// this only fills what one report lacked, deterministically.
func MergeChange(a, b Change) Change {
	m := a
	m.Author = pickString(a.Author, b.Author, 0)
	m.Title = pickString(a.Title, b.Title, 0)
	m.Incident = pickString(a.Incident, b.Incident, 0)
	m.AuthorTime = earliest(a.AuthorTime, b.AuthorTime)
	m.CommitTime = earliest(a.CommitTime, b.CommitTime)
	// Reports of one commit list the same files, or one does not know
	// them: the union keeps what any report knew.
	m.Paths = union(a.Paths, b.Paths)
	// True parents (from the git importer or an API collector) replace
	// what pushes proved; the proofs of several pushes unite; a report
	// that knows nothing of the history adds nothing (see ancestryRank).
	ra, rb := ancestryRank(a), ancestryRank(b)
	switch {
	case rb > ra:
		m.Ancestry, m.Parents, m.ProvenAncestors = b.Ancestry, b.Parents, b.ProvenAncestors
	case rb == ra && a.Ancestry == AncestryParents:
		switch {
		case len(b.Parents) > len(a.Parents):
			m.Parents = b.Parents
		case len(b.Parents) == len(a.Parents) && strings.Join(b.Parents, ",") > strings.Join(a.Parents, ","):
			m.Parents = b.Parents
		}
	case rb == ra && a.Ancestry == AncestryProven:
		m.ProvenAncestors = union(a.ProvenAncestors, b.ProvenAncestors)
	}
	if m.Ancestry != AncestryProven {
		m.ProvenAncestors = nil
	}
	if m.Ancestry != AncestryParents {
		m.Parents = nil
	}
	return m
}

// MergeDeployment joins two reports of one deployment.
func MergeDeployment(a, b Deployment) Deployment {
	ord := order(a.UpdatedAt, b.UpdatedAt, statusRank[a.Status], statusRank[b.Status])
	m := a
	switch {
	case ord < 0:
		m.Status = b.Status
	case ord == 0 && statusRank[b.Status] > statusRank[a.Status]:
		m.Status = b.Status
	}
	m.StartedAt = earliest(a.StartedAt, b.StartedAt)
	m.FinishedAt = pickTime(a.FinishedAt, b.FinishedAt, ord)
	m.SHA = pickString(a.SHA, b.SHA, ord)
	m.Repository = pickString(a.Repository, b.Repository, ord)
	m.Ring = pickString(a.Ring, b.Ring, ord)
	m.Hotfix = a.Hotfix || b.Hotfix
	m.Rollback = a.Rollback || b.Rollback
	m.UpdatedAt = laterOf(a.UpdatedAt, b.UpdatedAt)
	return m
}

// MergeIncident joins two reports of one incident. Opened and acknowledged
// keep the earliest time reported; severity follows the latest report that
// gave one (a known severity beats an unknown one in any order); status
// and resolution follow the latest report that gave a status, so a reopened
// incident has no resolution until a still later report resolves it.
func MergeIncident(a, b Incident) Incident {
	ord := order(a.UpdatedAt, b.UpdatedAt, 0, 0)
	m := a
	m.Title = pickString(a.Title, b.Title, ord)
	// Severity and SeverityAt travel together from the greatest report by
	// (SeverityAt, known, more severe): a join for any values. Unknown
	// severities carry no time, so every reported severity outranks them.
	if severityAfter(b, a) {
		m.Severity, m.SeverityAt = b.Severity, b.SeverityAt
	}
	m.OpenedAt = earliest(a.OpenedAt, b.OpenedAt)
	m.AcknowledgedAt = earliest(a.AcknowledgedAt, b.AcknowledgedAt)
	// Status, StatusAt and ResolvedAt travel together from one report: the
	// greatest by (StatusAt, status rank, ResolvedAt). A maximum under a
	// total order is a join whatever the values, and for validated reports
	// it is the latest report that said open or resolved.
	if statusAfter(b, a) {
		m.Status, m.StatusAt, m.ResolvedAt = b.Status, b.StatusAt, b.ResolvedAt
	}
	m.CauseDeployment = pickString(a.CauseDeployment, b.CauseDeployment, ord)
	m.UpdatedAt = laterOf(a.UpdatedAt, b.UpdatedAt)
	return MergeOrigin(m, a, b)
}

// severityAfter reports whether b's severity report is greater than a's;
// of two given at the same instant, the more severe.
func severityAfter(b, a Incident) bool {
	if c := b.SeverityAt.Compare(a.SeverityAt); c != 0 {
		return c > 0
	}
	if kb, ka := b.Severity != SeverityUnknown, a.Severity != SeverityUnknown; kb != ka {
		return kb
	}
	return b.Severity < a.Severity
}

// statusAfter reports whether b's status report is greater than a's.
func statusAfter(b, a Incident) bool {
	if c := b.StatusAt.Compare(a.StatusAt); c != 0 {
		return c > 0
	}
	if rb, ra := incidentStatusRank[b.Status], incidentStatusRank[a.Status]; rb != ra {
		return rb > ra
	}
	if c := b.ResolvedAt.Compare(a.ResolvedAt); c != 0 {
		return c > 0
	}
	return b.Status > a.Status // unknown statuses, never validated: still one order
}

// MergePullRequest joins two reports of one pull request. Milestones keep
// the earliest time reported (the first review is the first, whichever
// webhook told of it first); counts keep the highest; state and labels follow
// the later report.
func MergePullRequest(a, b PullRequest) PullRequest {
	ord := order(a.UpdatedAt, b.UpdatedAt, prStateRank[a.State], prStateRank[b.State])
	m := a
	m.Title = pickString(a.Title, b.Title, ord)
	m.Author = pickString(a.Author, b.Author, ord)
	switch {
	case a.State == "":
		m.State = b.State
	case b.State == "":
	case ord < 0:
		m.State = b.State
	case ord == 0 && prStateRank[b.State] > prStateRank[a.State]:
		m.State = b.State
	}
	m.CreatedAt = earliest(a.CreatedAt, b.CreatedAt)
	m.ReadyAt = earliest(a.ReadyAt, b.ReadyAt)
	m.FirstCommitAt = earliest(a.FirstCommitAt, b.FirstCommitAt)
	m.FirstReviewAt = earliest(a.FirstReviewAt, b.FirstReviewAt)
	m.ApprovedAt = earliest(a.ApprovedAt, b.ApprovedAt)
	m.MergedAt = earliest(a.MergedAt, b.MergedAt)
	m.ClosedAt = pickTime(a.ClosedAt, b.ClosedAt, ord)
	if !m.MergedAt.IsZero() {
		m.State = PullRequestMerged
	}
	m.Additions = max(a.Additions, b.Additions)
	m.Deletions = max(a.Deletions, b.Deletions)
	m.ChangedFiles = max(a.ChangedFiles, b.ChangedFiles)
	m.Comments = max(a.Comments, b.Comments)
	m.ReviewComments = max(a.ReviewComments, b.ReviewComments)
	m.MergeSHA = pickString(a.MergeSHA, b.MergeSHA, ord)
	m.Commits = union(a.Commits, b.Commits)
	switch {
	case a.Labels == nil:
		m.Labels = b.Labels
	case b.Labels == nil:
	case ord < 0:
		m.Labels = b.Labels
	case ord == 0:
		m.Labels = union(a.Labels, b.Labels)
	}
	m.UpdatedAt = laterOf(a.UpdatedAt, b.UpdatedAt)
	return m
}

// MergeWorkItem joins two reports of one tracker issue: the later report's
// state wins, creation keeps the earliest time.
func MergeWorkItem(a, b WorkItem) WorkItem {
	ord := order(a.UpdatedAt, b.UpdatedAt, 0, 0)
	if ord == 0 && workItemDigest(b) > workItemDigest(a) {
		ord = -1
	}
	m := a
	if ord < 0 {
		m = b
	}
	lo := b
	if ord < 0 {
		lo = a
	}
	m.Project = pickString(m.Project, lo.Project, 1)
	m.Team = pickString(m.Team, lo.Team, 1)
	m.Title = pickString(m.Title, lo.Title, 1)
	m.Type = pickString(m.Type, lo.Type, 1)
	// SprintStart belongs to Sprint, which the later report names.
	// Labels, priority, assignee and services are one group, the latest
	// report that carried any of them (DetailAt) wins; reports of the same
	// moment unite their labels and services. Comparing DetailAt rather
	// than UpdatedAt keeps this a join when a later report carries none.
	switch c := a.DetailAt.Compare(b.DetailAt); {
	case c > 0:
		m.Labels, m.Priority, m.Assignee, m.Services = a.Labels, a.Priority, a.Assignee, a.Services
	case c < 0:
		m.Labels, m.Priority, m.Assignee, m.Services = b.Labels, b.Priority, b.Assignee, b.Services
	default:
		m.Labels, m.Services = union(a.Labels, b.Labels), union(a.Services, b.Services)
		m.Priority, m.Assignee = max(a.Priority, b.Priority), max(a.Assignee, b.Assignee)
	}
	m.DetailAt = laterOf(a.DetailAt, b.DetailAt)
	m.Sprints = mergeSprints(a.Sprints, b.Sprints)
	m.Transitions = mergeTransitions(a.Transitions, b.Transitions)
	m.CreatedAt = earliest(a.CreatedAt, b.CreatedAt)
	m.UpdatedAt = laterOf(a.UpdatedAt, b.UpdatedAt)
	return m
}

// mergeSprints unites two reports' sprints by ID; each field of one sprint
// takes the greater value (states only move forward, a later AddedAt is a
// later entry), so the result does not depend on order.
func mergeSprints(a, b []SprintMembership) []SprintMembership {
	if a == nil && b == nil {
		return nil
	}
	byID := map[string]SprintMembership{}
	for _, s := range append(slices.Clone(a), b...) {
		o, ok := byID[s.ID]
		if !ok {
			byID[s.ID] = s
			continue
		}
		o.Name = max(o.Name, s.Name)
		o.Board = max(o.Board, s.Board)
		if sprintStateRank[s.State] > sprintStateRank[o.State] || (sprintStateRank[s.State] == sprintStateRank[o.State] && s.State > o.State) {
			o.State = s.State
		}
		o.StartAt = laterOf(o.StartAt, s.StartAt)
		o.EndAt = laterOf(o.EndAt, s.EndAt)
		o.CompletedAt = laterOf(o.CompletedAt, s.CompletedAt)
		o.AddedAt = laterOf(o.AddedAt, s.AddedAt)
		byID[s.ID] = o
	}
	out := make([]SprintMembership, 0, len(byID))
	for _, s := range byID {
		out = append(out, s)
	}
	slices.SortFunc(out, func(x, y SprintMembership) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// mergeTransitions unites two changelogs: an entry is a fact of the past,
// so every report's entries are kept, once each, in time order.
func mergeTransitions(a, b []Transition) []Transition {
	if a == nil && b == nil {
		return nil
	}
	out := append(slices.Clone(a), b...)
	if out == nil {
		out = []Transition{}
	}
	slices.SortFunc(out, compareTransitions)
	return slices.CompactFunc(out, func(x, y Transition) bool { return compareTransitions(x, y) == 0 })
}

func compareTransitions(x, y Transition) int {
	if c := x.At.Compare(y.At); c != 0 {
		return c
	}
	if c := strings.Compare(x.Status, y.Status); c != 0 {
		return c
	}
	if c := strings.Compare(string(x.Category), string(y.Category)); c != 0 {
		return c
	}
	return flagRank(x.Flagged) - flagRank(y.Flagged)
}

func flagRank(f *bool) int {
	switch {
	case f == nil:
		return 0
	case !*f:
		return 1
	}
	return 2
}

// workItemDigest orders two same-time reports of a work item so that the
// choice between them does not depend on arrival order.
func workItemDigest(w WorkItem) string {
	pts := ""
	if w.StoryPoints != nil {
		pts = time.Duration(*w.StoryPoints * 1000).String()
	}
	return strings.Join([]string{string(w.Category), w.Status, w.Sprint, pts, w.ResolvedAt.String(), boolString(w.Deleted), boolString(w.AcceptanceCriteria),
		w.SprintStart.String(), w.SprintEnd.String()}, "\x00")
}

func boolString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// MergeBuild joins two reports of one CI run.
func MergeBuild(a, b Build) Build {
	ord := order(a.UpdatedAt, b.UpdatedAt, buildRank[a.Status], buildRank[b.Status])
	m := a
	m.Name = pickString(a.Name, b.Name, ord)
	m.SHA = pickString(a.SHA, b.SHA, ord)
	m.Branch = pickString(a.Branch, b.Branch, ord)
	switch {
	case a.Status == "":
		m.Status = b.Status
	case b.Status == "":
	case ord < 0:
		m.Status = b.Status
	case ord == 0 && buildRank[b.Status] > buildRank[a.Status]:
		m.Status = b.Status
	}
	m.StartedAt = earliest(a.StartedAt, b.StartedAt)
	m.FinishedAt = pickTime(a.FinishedAt, b.FinishedAt, ord)
	m.UpdatedAt = laterOf(a.UpdatedAt, b.UpdatedAt)
	// Attempts only grow: a re-run never becomes its first attempt again,
	// whatever order the reports arrive in.
	m.Attempt = max(a.Attempt, b.Attempt)
	// Two reports of one run naming different default branches (it was
	// renamed while the run ran) are rare; the greater name is kept, so the
	// merge does not depend on the order and the next run says the new one.
	m.DefaultBranch = pickString(a.DefaultBranch, b.DefaultBranch, 0)
	return m
}
