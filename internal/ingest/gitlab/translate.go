package gitlab

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

const zeroSHA = "0000000000000000000000000000000000000000"

func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return ingest.Malformed("%v", err)
	}
	return nil
}

func repository(p project) (string, error) {
	if strings.TrimSpace(p.PathWithNamespace) == "" {
		return "", ingest.Malformed("project.path_with_namespace is missing")
	}
	return p.PathWithNamespace, nil
}

func timeKey(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMicro(), 10)
}

// push turns the commits of a push to the default branch, or to a branch
// ReleaseBranches names, into changes. Other branches are not read: a
// commit reaches production through the default branch (or a release
// branch), and commits on feature branches reach Stride again when they
// land there.
//
// GitLab lists a push's commits, at most 20 of them, without their parents,
// and Stride infers no more than the push proves (docs/metrics.md,
// "Change"): the listed commits are ancestors of the pushed head ("after")
// and "before" is an ancestor of it unless the branch is new. So the head's
// change says those are its proven ancestors, and the other listed
// commits' history is unknown; chaining them in list order would invent
// ancestry wherever the push holds a merge. GitLab does not say whether a
// push was forced; "before" is taken as an ancestor all the same, since
// the default branch is protected against force pushes unless a maintainer
// allows them. The git importer supplies the exact graph where it matters.
func (s *Source) push(body []byte) ([]delivery.Event, error) {
	var p pushEvent
	if err := decode(body, &p); err != nil {
		return nil, err
	}
	repo, err := repository(p.Project)
	if err != nil {
		return nil, err
	}
	if p.Project.DefaultBranch == "" {
		return nil, ingest.Ignored("gitlab: push to %s: the project's default branch is not given", p.Ref)
	}
	branch, isBranch := strings.CutPrefix(p.Ref, "refs/heads/")
	if !isBranch || branch != p.Project.DefaultBranch && !s.releaseBranch(branch) {
		if len(s.cfg.ReleaseBranches) == 0 {
			return nil, ingest.Ignored("gitlab: push to %s, not to the default branch %s (name release branches in release_branches to take their pushes)", p.Ref, p.Project.DefaultBranch)
		}
		return nil, ingest.Ignored("gitlab: push to %s, not to the default branch %s nor a branch of release_branches %v", p.Ref, p.Project.DefaultBranch, s.cfg.ReleaseBranches)
	}
	if p.After == zeroSHA {
		return nil, ingest.Ignored("gitlab: push deletes %s", p.Ref)
	}
	if len(p.Commits) == 0 {
		return nil, ingest.Ignored("gitlab: push to %s carries no commits", p.Ref)
	}
	proven := make([]string, 0, len(p.Commits))
	for _, c := range p.Commits {
		if c.ID != p.After && c.ID != "" {
			proven = append(proven, c.ID)
		}
	}
	if p.Before != "" && p.Before != zeroSHA {
		proven = append(proven, p.Before)
	}
	slices.Sort(proven)
	proven = slices.Compact(proven)
	events := make([]delivery.Event, 0, len(p.Commits))
	for _, c := range p.Commits {
		author := c.Author.Email
		if author == "" {
			author = c.Author.Name
		}
		title := c.Title
		if title == "" {
			title, _, _ = strings.Cut(c.Message, "\n")
		}
		ch := &delivery.Change{
			Repository: repo,
			SHA:        c.ID,
			Ancestry:   delivery.AncestryUnknown,
			Author:     author,
			// GitLab's commit timestamp is the committer date.
			CommitTime: c.Timestamp.Time,
			Title:      strings.TrimSpace(title),
			Paths:      ingest.TouchedPaths(c.Added, c.Modified, c.Removed),
		}
		if c.ID == p.After {
			ch.Ancestry, ch.ProvenAncestors = delivery.AncestryProven, proven
		}
		events = append(events, delivery.Event{
			Key:    key("push", repo, p.Before+".."+p.After, c.ID),
			Kind:   delivery.KindChange,
			Change: ch,
		})
	}
	return events, nil
}

// releaseBranch reports whether branch is one of the configured release
// branches, matched as git matches patterns (delivery.MatchTag).
func (s *Source) releaseBranch(branch string) bool {
	return slices.ContainsFunc(s.cfg.ReleaseBranches, func(p string) bool { return delivery.MatchTag(p, branch) })
}

// prStates maps GitLab's merge request states to the domain's.
var prStates = map[string]delivery.PullRequestState{
	"opened":   delivery.PullRequestOpen,
	"reopened": delivery.PullRequestOpen,
	"locked":   delivery.PullRequestOpen,
	"closed":   delivery.PullRequestClosed,
	"merged":   delivery.PullRequestMerged,
}

// mergeRequest maps a merge request event to a pull request. GitLab's hook
// names the author only by id (user is whoever acted), so Author is the
// author's numeric user id, the one identity every event of the merge
// request carries. GitLab sends no line counts; changes_count, when present,
// gives the changed files.
func (s *Source) mergeRequest(body []byte) ([]delivery.Event, error) {
	var m mergeRequestEvent
	if err := decode(body, &m); err != nil {
		return nil, err
	}
	repo, err := repository(m.Project)
	if err != nil {
		return nil, err
	}
	a := m.Attrs
	pr := &delivery.PullRequest{
		Repository:   repo,
		Number:       a.IID,
		Title:        a.Title,
		State:        prStates[a.State],
		CreatedAt:    a.CreatedAt.Time,
		MergedAt:     a.MergedAt.Time,
		ClosedAt:     a.ClosedAt.Time,
		MergeSHA:     a.MergeCommitSHA,
		ChangedFiles: a.ChangesCount.N,
		UpdatedAt:    a.UpdatedAt.Time,
	}
	if a.AuthorID > 0 {
		pr.Author = strconv.FormatInt(a.AuthorID, 10)
	}
	if pr.MergedAt.IsZero() && a.Action == "merge" {
		pr.MergedAt = a.UpdatedAt.Time
	}
	if pr.ClosedAt.IsZero() && a.Action == "close" {
		pr.ClosedAt = a.UpdatedAt.Time
	}
	if d := m.Changes.Draft; d != nil && d.Previous && !d.Current {
		pr.ReadyAt = a.UpdatedAt.Time
	}
	// An approval by someone other than the author is a review.
	if (a.Action == "approved" || a.Action == "approval") && m.User.ID != 0 && m.User.ID != a.AuthorID {
		pr.ApprovedAt = a.UpdatedAt.Time
		pr.FirstReviewAt = a.UpdatedAt.Time
	}
	switch {
	case m.Labels != nil:
		pr.Labels = labelTitles(m.Labels)
	case a.Labels != nil:
		pr.Labels = labelTitles(a.Labels)
	}
	if a.LastCommit.ID != "" {
		pr.Commits = []string{a.LastCommit.ID}
	}
	return []delivery.Event{{
		Key:         key("merge_request", repo, strconv.Itoa(a.IID), a.Action, a.State, timeKey(a.UpdatedAt.Time)),
		Kind:        delivery.KindPullRequest,
		PullRequest: pr,
	}}, nil
}

// note maps a comment on a merge request by someone other than its author
// to the first-review milestone. The report is partial: it carries no
// UpdatedAt, so it only fills what merge request events left empty and never
// overrides their state. It carries no comment count either: a single note
// does not tell how many there are, and counts merge by maximum.
func (s *Source) note(body []byte) ([]delivery.Event, error) {
	var n noteEvent
	if err := decode(body, &n); err != nil {
		return nil, err
	}
	a := n.Attrs
	if a.NoteableType != "MergeRequest" {
		return nil, ingest.Ignored("gitlab: note on a %s, not a merge request", orUnknown(a.NoteableType))
	}
	if n.MergeRequest == nil {
		return nil, ingest.Malformed("note on a merge request without merge_request")
	}
	if a.System {
		return nil, ingest.Ignored("gitlab: system note")
	}
	noteAuthor := a.AuthorID
	if noteAuthor == 0 {
		noteAuthor = n.User.ID
	}
	if noteAuthor == 0 || noteAuthor == n.MergeRequest.AuthorID {
		return nil, ingest.Ignored("gitlab: note by the merge request's author is not a review")
	}
	repo, err := repository(n.Project)
	if err != nil {
		return nil, err
	}
	pr := &delivery.PullRequest{
		Repository:    repo,
		Number:        n.MergeRequest.IID,
		Title:         n.MergeRequest.Title,
		CreatedAt:     n.MergeRequest.CreatedAt.Time,
		FirstReviewAt: a.CreatedAt.Time,
	}
	if n.MergeRequest.AuthorID > 0 {
		pr.Author = strconv.FormatInt(n.MergeRequest.AuthorID, 10)
	}
	return []delivery.Event{{
		Key:         key("note", repo, strconv.FormatInt(a.ID, 10)),
		Kind:        delivery.KindPullRequest,
		PullRequest: pr,
	}}, nil
}

// buildStatuses maps pipeline statuses to build statuses. Everything not yet
// finished (created, pending, manual, ...) is running; a skipped pipeline
// never ran to an end, like a cancelled one.
var buildStatuses = map[string]delivery.BuildStatus{
	"created":              delivery.BuildRunning,
	"waiting_for_resource": delivery.BuildRunning,
	"preparing":            delivery.BuildRunning,
	"pending":              delivery.BuildRunning,
	"running":              delivery.BuildRunning,
	"scheduled":            delivery.BuildRunning,
	"manual":               delivery.BuildRunning,
	"success":              delivery.BuildSuccess,
	"failed":               delivery.BuildFailure,
	"canceled":             delivery.BuildCancelled,
	"canceling":            delivery.BuildCancelled,
	"skipped":              delivery.BuildCancelled,
}

// pipeline maps a pipeline event to a build. The hook has no start time, so
// StartedAt is the pipeline's creation.
func (s *Source) pipeline(body []byte) ([]delivery.Event, error) {
	var p pipelineEvent
	if err := decode(body, &p); err != nil {
		return nil, err
	}
	repo, err := repository(p.Project)
	if err != nil {
		return nil, err
	}
	a := p.Attrs
	if a.ID <= 0 {
		return nil, ingest.Malformed("pipeline without object_attributes.id")
	}
	status, ok := buildStatuses[a.Status]
	if !ok {
		return nil, ingest.Malformed("pipeline status %q is unknown", a.Status)
	}
	name := a.Name
	if name == "" {
		name = "pipeline"
	}
	b := &delivery.Build{
		Repository: repo,
		ID:         strconv.FormatInt(a.ID, 10),
		Name:       name,
		SHA:        a.SHA,
		Status:     status,
		StartedAt:  a.CreatedAt.Time,
		FinishedAt: a.FinishedAt.Time,
		// The pipeline hook lists only the latest run of each job, so it
		// cannot say whether a job was retried: Attempt stays 0 (not
		// known) rather than claiming a first attempt.
		DefaultBranch: p.Project.DefaultBranch,
	}
	if !a.Tag {
		b.Branch = a.Ref
	}
	return []delivery.Event{{
		Key:   key("pipeline", repo, b.ID, a.Status, timeKey(a.FinishedAt.Time)),
		Kind:  delivery.KindBuild,
		Build: b,
	}}, nil
}

// deploymentStatuses maps GitLab's deployment statuses to the domain's.
// canceled and skipped are absent on purpose: see deployment.
var deploymentStatuses = map[string]delivery.DeploymentStatus{
	"created": delivery.DeploymentPending,
	"blocked": delivery.DeploymentPending,
	"running": delivery.DeploymentInProgress,
	"success": delivery.DeploymentSuccess,
	"failed":  delivery.DeploymentFailure,
}

var shaPattern = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// deployment maps a deployment event to a deployment of the project's
// service (the first the Mapping names for the project). GitLab sends the
// deployed commit only as short_sha and inside commit_url; the full sha is
// taken from the URL when it is one. A cancelled or skipped deployment
// shipped nothing and failed nothing, and the domain has no status for it,
// so it is ignored: the deployment stays non-terminal and is not counted.
func (s *Source) deployment(body []byte) ([]delivery.Event, error) {
	var d deploymentEvent
	if err := decode(body, &d); err != nil {
		return nil, err
	}
	if d.Status == "canceled" || d.Status == "skipped" {
		return nil, ingest.Ignored("gitlab: deployment %d was %s; a deployment that did not run counts neither as success nor as failure", d.DeploymentID, d.Status)
	}
	status, ok := deploymentStatuses[d.Status]
	if !ok {
		return nil, ingest.Malformed("deployment status %q is unknown", d.Status)
	}
	if d.DeploymentID <= 0 {
		return nil, ingest.Malformed("deployment without deployment_id")
	}
	repo, err := repository(d.Project)
	if err != nil {
		return nil, err
	}
	at := d.StatusChangedAt.Time
	dep := &delivery.Deployment{
		Service:     s.cfg.Mapping.Service(repo).Name,
		Environment: s.cfg.Mapping.Environment(d.Environment),
		ID:          strconv.FormatInt(d.DeploymentID, 10),
		Status:      status,
		SHA:         deployedSHA(d),
		Repository:  repo,
		UpdatedAt:   at,
	}
	switch {
	case status.Terminal():
		dep.FinishedAt = at
	case status == delivery.DeploymentInProgress:
		dep.StartedAt = at
	}
	return []delivery.Event{{
		Key:        key("deployment", repo, dep.ID, d.Status, timeKey(at)),
		Kind:       delivery.KindDeployment,
		Deployment: dep,
	}}, nil
}

func deployedSHA(d deploymentEvent) string {
	if d.SHA != "" {
		return d.SHA
	}
	if i := strings.LastIndex(d.CommitURL, "/"); i >= 0 {
		if sha := d.CommitURL[i+1:]; shaPattern.MatchString(sha) && strings.HasPrefix(sha, d.ShortSHA) {
			return sha
		}
	}
	return d.ShortSHA
}

// severityNames maps GitLab's incident severities (and the words used in
// severity labels) to the domain's 0 (critical) to 3.
var severityNames = map[string]int{
	"critical": delivery.SeverityCritical,
	"high":     delivery.SeverityMajor,
	"medium":   delivery.SeverityMinor,
	"low":      delivery.SeverityLow,
}

// defaultSeverity is given to an incident whose severity is not known (no
// label, GitLab's own "unknown"): the report leaves it unknown, so it does not
// overwrite a severity another report gave; the store keeps an incident that
// never had one at medium.
const defaultSeverity = delivery.SeverityUnknown

// labelSeverity reads a severity label: "severity::high" (GitLab's scoped
// label), "severity::1".."severity::4" or "S1".."S4" on GitLab's scale, where
// 1 is the most severe.
func labelSeverity(l string) (int, bool) {
	l = strings.ToLower(strings.TrimSpace(l))
	v, ok := strings.CutPrefix(l, "severity::")
	if !ok {
		v, ok = strings.CutPrefix(l, "severity:")
	}
	if !ok {
		if len(l) == 2 && l[0] == 's' {
			v, ok = l[1:], true
		}
	}
	if !ok {
		return 0, false
	}
	v = strings.TrimSpace(v)
	if sev, ok := severityNames[v]; ok {
		return sev, true
	}
	if len(v) == 1 && v[0] >= '1' && v[0] <= '4' {
		return int(v[0] - '1'), true
	}
	return 0, false
}

// issue maps an incident to an incident of the project's service. GitLab
// marks incidents by issue_type (or type) "incident"; escalation_status is
// sent only for incidents too; and a label the Mapping names marks one.
// Other issues are ignored: Stride reads planning from the issue tracker
// connectors. A closed incident is resolved at closed_at (or, without it,
// at the update that closed it), an open (or reopened) one is open; an acknowledged escalation status sets
// AcknowledgedAt.
func (s *Source) issue(body []byte) ([]delivery.Event, error) {
	var e issueEvent
	if err := decode(body, &e); err != nil {
		return nil, err
	}
	a := e.Attrs
	labels := labelTitles(e.Labels)
	if labels == nil {
		labels = labelTitles(a.Labels)
	}
	incident := strings.EqualFold(a.IssueType, "incident") || strings.EqualFold(a.Type, "incident") ||
		a.EscalationStatus != "" || s.cfg.Mapping.IsIncident(labels)
	if !incident {
		return nil, ingest.Ignored("gitlab: issue %d is not an incident", a.IID)
	}
	if a.IID <= 0 {
		return nil, ingest.Malformed("issue without object_attributes.iid")
	}
	repo, err := repository(e.Project)
	if err != nil {
		return nil, err
	}
	sev, found := defaultSeverity, false
	for _, l := range labels {
		if v, ok := labelSeverity(l); ok {
			sev, found = v, true
			break
		}
	}
	if !found {
		if v, ok := severityNames[strings.ToLower(a.Severity)]; ok {
			sev = v
		}
	}
	in := &delivery.Incident{
		Service:   s.cfg.Mapping.Service(repo).Name,
		ID:        repo + "#" + strconv.Itoa(a.IID),
		Title:     a.Title,
		Severity:  sev,
		OpenedAt:  a.CreatedAt.Time,
		UpdatedAt: a.UpdatedAt.Time,
	}
	// The state comes with every issue event: "opened" (also after a
	// reopen) clears an earlier resolution when this report is the later.
	switch {
	case a.State == "closed" || a.Action == "close":
		in.Status, in.ResolvedAt = delivery.IncidentResolved, a.ClosedAt.Time
		if in.ResolvedAt.IsZero() {
			in.ResolvedAt = a.UpdatedAt.Time
		}
	case a.State == "opened" || a.Action == "reopen":
		in.Status = delivery.IncidentOpen
	}
	if a.EscalationStatus == "acknowledged" {
		in.AcknowledgedAt = a.UpdatedAt.Time
	}
	return []delivery.Event{{
		Key:      key("issue", repo, strconv.Itoa(a.IID), a.Action, a.State, timeKey(a.UpdatedAt.Time)),
		Kind:     delivery.KindIncident,
		Incident: in,
	}}, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown noteable"
	}
	return s
}
