package delivery

import (
	"slices"
	"strings"
	"time"
)

// Period is the half-open interval [From, To) in UTC.
type Period struct {
	From time.Time
	To   time.Time
}

// Contains reports whether t lies in [From, To).
func (p Period) Contains(t time.Time) bool {
	return !t.Before(p.From) && t.Before(p.To)
}

// Team owns services.
type Team struct {
	Name string
}

// Service is the unit that is deployed. Repositories name the repositories
// whose commits it ships; when empty, the service's own name is taken as its
// only repository.
//
// Paths, when given, are path prefixes inside a monorepo: a deployment of the
// service ships only the changes that touch one of them (or whose paths are
// unknown).
type Service struct {
	Name         string
	Team         string
	Repositories []string
	Paths        []string
}

// Change is a commit, identified by (Repository, SHA). CommitTime is the
// committer date, which lead time reads; AuthorTime is kept for flow metrics.
// Parents give the commit graph that decides which deployment ships a change.
type Change struct {
	Repository string
	SHA        string
	// Parents are the commit's true parents, when Ancestry is
	// AncestryParents (the git importer, the API, a collector).
	Parents []string
	// Ancestry says what the reports of this commit proved of its
	// history: its parents, only some of its ancestors (a push), or
	// nothing. The zero value is AncestryParents, so a source that sends
	// parents (or none, for a root commit) need not set it.
	Ancestry Ancestry `json:",omitempty"`
	// ProvenAncestors are commits a push proved to be ancestors of this
	// one when its parents are unknown (Ancestry is AncestryProven): for
	// the pushed head, every other commit the push listed and, unless the
	// push was forced, the branch's previous head. Not necessarily
	// parents, and not necessarily all ancestors; sorted.
	ProvenAncestors []string `json:",omitempty"`
	Author          string
	AuthorTime      time.Time
	CommitTime      time.Time
	// Title is the first line of the commit message.
	Title string
	// Incident names an incident this change is linked to (a fix for it);
	// a deployment shipping such a change counts as unplanned (rework).
	Incident string
	// Paths are the files the commit touched (added, modified, removed),
	// sorted; nil when the source did not say, which is not the same as an
	// empty list (a commit that touched nothing of its own, like a merge).
	Paths []string
}

// Ancestry is how much of a commit's history Stride was told. A webhook
// push carries no parents: it proves only that its listed commits are
// ancestors of its head ("after") and not of "before", and, unless forced,
// that "before" is an ancestor of the head. Stride infers nothing more, so
// a deployment never ships a commit that only a guess put in its history.
type Ancestry string

const (
	// AncestryParents: Parents are the commit's true parents (none for a
	// root commit).
	AncestryParents Ancestry = ""
	// AncestryProven: the parents are unknown, but a push proved
	// ProvenAncestors to be ancestors (the commit was a pushed head).
	AncestryProven Ancestry = "proven"
	// AncestryUnknown: nothing is known of the commit's history (a push
	// listed it, but it was not the head). A deployment of it ships it
	// alone, and says so.
	AncestryUnknown Ancestry = "unknown"
)

// knownAncestries are the values Ancestry may take.
var knownAncestries = map[Ancestry]bool{AncestryParents: true, AncestryProven: true, AncestryUnknown: true}

// ancestryRank orders what reports of one commit know of its history: true
// parents replace what pushes proved, which replaces knowing nothing. A
// report of no parents without saying its ancestry is unknown ranks just
// above knowing nothing: it is a root commit (the git importer's first
// commit) or, as often, a sender that did not say (an API report that only
// links an incident), so it does not erase what a push proved. Of a root
// commit no push can prove an ancestor, so either way the walk finds the
// same.
func ancestryRank(c Change) int {
	switch {
	case c.Ancestry == AncestryUnknown:
		return 0
	case c.Ancestry == AncestryParents && len(c.Parents) == 0:
		return 1
	case c.Ancestry == AncestryProven:
		return 2
	}
	return 3
}

// DeploymentStatus is the state of a deployment. Only the last three are
// terminal; metrics read terminal deployments only.
type DeploymentStatus string

const (
	DeploymentPending    DeploymentStatus = "pending"
	DeploymentInProgress DeploymentStatus = "in_progress"
	DeploymentSuccess    DeploymentStatus = "success"
	DeploymentFailure    DeploymentStatus = "failure"
	DeploymentRolledBack DeploymentStatus = "rolled_back"
)

// statusRank orders statuses so that a later stage wins when two events of
// one deployment carry the same time: a deployment is never moved back from
// finished to pending by a late "started" event.
var statusRank = map[DeploymentStatus]int{
	DeploymentPending:    1,
	DeploymentInProgress: 2,
	DeploymentSuccess:    3,
	DeploymentFailure:    4,
	DeploymentRolledBack: 5,
}

// Valid reports whether s is a known status.
func (s DeploymentStatus) Valid() bool { return statusRank[s] > 0 }

// Terminal reports whether the deployment has finished.
func (s DeploymentStatus) Terminal() bool {
	return s == DeploymentSuccess || s == DeploymentFailure || s == DeploymentRolledBack
}

// Failed reports whether the deployment failed or was rolled back.
func (s DeploymentStatus) Failed() bool {
	return s == DeploymentFailure || s == DeploymentRolledBack
}

// EnvironmentProduction is the canonical name of the production environment.
const EnvironmentProduction = "production"

// Default ring names: internal users, preview customers, everyone.
const (
	RingInternal = "ring0"
	RingPreview  = "ring1"
	RingGA       = "ring2"
)

// Deployment is one deployment of a service to an environment, identified by
// (Service, Environment, ID).
type Deployment struct {
	Service     string
	Environment string
	ID          string
	Status      DeploymentStatus
	StartedAt   time.Time
	FinishedAt  time.Time
	// SHA is the deployed commit of Repository (the service's repository
	// when empty). For a config-repository bump, it is the application sha.
	SHA        string
	Repository string
	Ring       string
	// Hotfix and Rollback mark an unplanned deployment (rework); Rollback
	// means this deployment itself rolls back to an earlier version.
	Hotfix   bool
	Rollback bool
	// UpdatedAt is the time of the event that reported this state; of two
	// reports, the later one's status wins.
	UpdatedAt time.Time
}

// Key returns the deployment's identity.
func (d Deployment) Key() DeploymentKey {
	return DeploymentKey{Service: d.Service, Environment: d.Environment, ID: d.ID}
}

// DeploymentKey identifies a deployment.
type DeploymentKey struct {
	Service     string
	Environment string
	ID          string
}

func (k DeploymentKey) String() string { return k.Service + "/" + k.Environment + "/" + k.ID }

// Severities run from 0 (critical) to 3 (user-reported bug).
const (
	SeverityCritical = 0
	SeverityMajor    = 1
	SeverityMinor    = 2
	SeverityLow      = 3
)

// SeverityUnknown marks a report that gives no severity (a CDEvents incident
// without customData.severity, an issue without a severity label). It is not
// a severity: merging prefers any reported severity to it, and an incident
// no report gave a severity counts as SeverityDefault (SeverityOrDefault).
const SeverityUnknown = -1

// SeverityDefault is the severity an incident is counted and reported with
// when no report ever gave one: it notifies without paging.
const SeverityDefault = SeverityMinor

// AcknowledgeWithin is the response SLA of each severity.
var AcknowledgeWithin = [4]time.Duration{30 * time.Minute, time.Hour, 24 * time.Hour, 48 * time.Hour}

// IncidentStatus says whether a report found an incident open or resolved.
// The empty status means the report did not say, which is not the same as
// open: a report that only changes a priority must not reopen an incident.
type IncidentStatus string

const (
	IncidentOpen     IncidentStatus = "open"
	IncidentResolved IncidentStatus = "resolved"
)

// incidentStatusRank breaks a tie between two statuses reported at the same
// instant: resolved wins, as a non-empty resolution did before statuses.
var incidentStatusRank = map[IncidentStatus]int{"": 0, IncidentOpen: 1, IncidentResolved: 2}

// Valid reports whether s is empty or a known status.
func (s IncidentStatus) Valid() bool { _, ok := incidentStatusRank[s]; return ok }

// Incident is a production incident of a service, identified by (Service, ID).
type Incident struct {
	Service string
	ID      string
	Title   string
	// Severity is 0–3, or SeverityUnknown when the report did not say.
	Severity int
	// SeverityAt is the UpdatedAt of the report Severity came from (zero
	// while unknown), so a later report without a severity cannot hide an
	// earlier one that had it, whatever the order they are merged in.
	SeverityAt     time.Time
	OpenedAt       time.Time
	AcknowledgedAt time.Time
	// ResolvedAt is the resolution time while Status is resolved; a
	// reopened incident has none until it is resolved again.
	ResolvedAt time.Time
	// Status is the state the latest report that gave one found, so a
	// reopened incident loses its resolution; empty when no report said.
	Status IncidentStatus
	// StatusAt is the UpdatedAt of the report Status came from. Merging by
	// it, rather than by UpdatedAt, keeps a later report that says nothing
	// of the status from hiding an earlier one that did, whatever the order.
	StatusAt time.Time
	// CauseDeployment is the ID of the production deployment that caused the
	// incident, when someone said so, or NoCause when someone said none
	// did; otherwise the cause is inferred (CauseOf).
	CauseDeployment string
	UpdatedAt       time.Time
	// Source, Origin and AcknowledgedBy say where the incident came from and
	// who answered it; see incident_origin.go. They are left out of JSON
	// when empty, so that events recorded before them read the same.
	Source         string         `json:",omitempty"`
	Origin         IncidentOrigin `json:",omitempty"`
	AcknowledgedBy string         `json:",omitempty"`
}

// PullRequest is identified by (Repository, Number). Times are zero when not
// known (yet).
// The json tags are the persisted schema: the store keeps this struct as
// JSON, and the names are those it has always written (the Go field names),
// so a field renamed in Go must keep its tag or stored data is lost.
type PullRequest struct {
	Repository     string           `json:"Repository"`
	Number         int              `json:"Number"`
	Title          string           `json:"Title"`
	Author         string           `json:"Author"`
	State          PullRequestState `json:"State"`
	CreatedAt      time.Time        `json:"CreatedAt"`
	ReadyAt        time.Time        `json:"ReadyAt"` // marked ready for review (drafts)
	FirstCommitAt  time.Time        `json:"FirstCommitAt"`
	FirstReviewAt  time.Time        `json:"FirstReviewAt"` // first review or review comment by someone other than the author
	ApprovedAt     time.Time        `json:"ApprovedAt"`
	MergedAt       time.Time        `json:"MergedAt"`
	ClosedAt       time.Time        `json:"ClosedAt"`
	Additions      int              `json:"Additions"`
	Deletions      int              `json:"Deletions"`
	ChangedFiles   int              `json:"ChangedFiles"`
	Comments       int              `json:"Comments"` // issue comments on the PR
	ReviewComments int              `json:"ReviewComments"`
	MergeSHA       string           `json:"MergeSHA"`
	// Commits are the PR's own commit shas, so that a merge commit or a
	// rebase still links the PR to the deployment that ships it.
	Commits   []string  `json:"Commits"`
	Labels    []string  `json:"Labels"`
	UpdatedAt time.Time `json:"UpdatedAt"`
}

// PullRequestState is open, closed or merged.
type PullRequestState string

const (
	PullRequestOpen   PullRequestState = "open"
	PullRequestClosed PullRequestState = "closed"
	PullRequestMerged PullRequestState = "merged"
)

var prStateRank = map[PullRequestState]int{"": 0, PullRequestOpen: 1, PullRequestClosed: 2, PullRequestMerged: 3}

// WorkItem is an issue of an issue tracker (a Jira story, bug or task),
// identified by (Tracker, Key).
// The json tags are the persisted schema: the store keeps this struct as
// JSON, and the names are those it has always written (the Go field names),
// so a field renamed in Go must keep its tag or stored data is lost.
type WorkItem struct {
	Tracker  string           `json:"Tracker"` // e.g. "jira"
	Key      string           `json:"Key"`     // e.g. "PAY-123"
	Project  string           `json:"Project"`
	Team     string           `json:"Team"`
	Type     string           `json:"Type"` // story, bug, task, incident, ...
	Title    string           `json:"Title"`
	Status   string           `json:"Status"`
	Category WorkItemCategory `json:"Category"`
	// StoryPoints is nil when the item carries no estimate, which is not
	// the same as an estimate of zero.
	StoryPoints        *float64  `json:"StoryPoints"`
	Sprint             string    `json:"Sprint"`
	SprintEnd          time.Time `json:"SprintEnd"`
	AcceptanceCriteria bool      `json:"AcceptanceCriteria"`
	CreatedAt          time.Time `json:"CreatedAt"`
	ResolvedAt         time.Time `json:"ResolvedAt"`
	Deleted            bool      `json:"Deleted"`
	UpdatedAt          time.Time `json:"UpdatedAt"`
	// Labels are the tracker's labels; nil when the report did not carry
	// them, which differs from a report of no labels.
	Labels   []string `json:"Labels"`
	Priority string   `json:"Priority,omitempty"`
	Assignee string   `json:"Assignee,omitempty"`
	// Services are the services the item belongs to (Jira components, or
	// the services a configured map names for them), sorted.
	Services []string `json:"Services,omitempty"`
	// DetailAt is the time of the report Labels, Priority, Assignee and
	// Services come from (set by Validate), so that a later report that
	// carries none of them does not erase them.
	DetailAt time.Time `json:"DetailAt"`
	// SprintStart is when Sprint started.
	SprintStart time.Time `json:"SprintStart"`
	// Sprints are every sprint the item was in, as the tracker lists them,
	// sorted by ID: what carry-over is counted from, since Sprint only
	// names the current one.
	Sprints []SprintMembership `json:"Sprints,omitempty"`
	// Transitions are the status changes and flags of the item's changelog,
	// sorted by time; nil when no changelog was read.
	Transitions []Transition `json:"Transitions"`
}

// SprintMembership is one sprint a work item was in.
type SprintMembership struct {
	// ID is the tracker's sprint id (the name when it has none).
	ID          string    `json:"ID"`
	Name        string    `json:"Name"`
	Board       string    `json:"Board,omitempty"`
	State       string    `json:"State,omitempty"` // future, active or closed
	StartAt     time.Time `json:"StartAt"`
	EndAt       time.Time `json:"EndAt"`
	CompletedAt time.Time `json:"CompletedAt"`
	// AddedAt is when the item last entered the sprint, as its changelog
	// shows (its creation when created in it); zero when unknown. The item
	// was committed at the sprint's start when AddedAt is not after StartAt.
	AddedAt time.Time `json:"AddedAt"`
}

// Transition is one entry of a work item's changelog: a status entered or a
// flag (Jira's "Flagged", an impediment) set or cleared.
type Transition struct {
	At       time.Time        `json:"At"`
	Status   string           `json:"Status,omitempty"`
	Category WorkItemCategory `json:"Category,omitempty"`
	// Flagged is set for a flag change: whether the item is now flagged.
	Flagged *bool `json:"Flagged,omitempty"`
}

// sprintStateRank orders sprint states as they only move forward.
var sprintStateRank = map[string]int{"": 0, "future": 1, "active": 2, "closed": 3}

// WorkItemCategory is the tracker's status category.
type WorkItemCategory string

const (
	CategoryToDo       WorkItemCategory = "todo"
	CategoryInProgress WorkItemCategory = "in_progress"
	CategoryDone       WorkItemCategory = "done"
)

// Build is a CI run (a GitHub workflow run, a GitLab pipeline), identified
// by (Repository, ID).
// The json tags are the persisted schema: the store keeps this struct as
// JSON, and the names are those it has always written (the Go field names),
// so a field renamed in Go must keep its tag or stored data is lost.
type Build struct {
	Repository string      `json:"Repository"`
	ID         string      `json:"ID"`
	Name       string      `json:"Name"`
	SHA        string      `json:"SHA"`
	Branch     string      `json:"Branch"`
	Status     BuildStatus `json:"Status"`
	StartedAt  time.Time   `json:"StartedAt"`
	FinishedAt time.Time   `json:"FinishedAt"`
	UpdatedAt  time.Time   `json:"UpdatedAt"`
	// Attempt is the run's attempt, 1 for the first: GitHub's run_attempt,
	// GitLab's retries of a pipeline's jobs plus one. 0 means the source did
	// not say, which is not the same as a first attempt. A re-run keeps the
	// run's ID, so the reports of one run merge to its highest attempt.
	Attempt int `json:"Attempt,omitempty"`
	// DefaultBranch is the repository's default branch as the source saw
	// it when it reported the run (GitHub's and GitLab's
	// repository.default_branch); empty when it did not say.
	DefaultBranch string `json:"DefaultBranch,omitempty"`
}

// BuildStatus is the state of a build.
type BuildStatus string

const (
	BuildRunning   BuildStatus = "running"
	BuildSuccess   BuildStatus = "success"
	BuildFailure   BuildStatus = "failure"
	BuildCancelled BuildStatus = "cancelled"
)

var buildRank = map[BuildStatus]int{"": 0, BuildRunning: 1, BuildSuccess: 2, BuildFailure: 3, BuildCancelled: 4}

// validateAncestry checks that a change's history fields agree with its
// Ancestry, and sorts its proven ancestors (dropping the commit itself), so
// that merging two reports is a join.
func validateAncestry(c *Change) error {
	if !knownAncestries[c.Ancestry] {
		return FieldError("change.ancestry", "%q is not one of \"\", %q, %q", c.Ancestry, AncestryProven, AncestryUnknown)
	}
	if c.Ancestry != AncestryParents && len(c.Parents) > 0 {
		return FieldError("change.parents", "are given, but the ancestry is %q (parents unknown)", c.Ancestry)
	}
	if c.Ancestry != AncestryProven {
		if len(c.ProvenAncestors) > 0 {
			return FieldError("change.proven_ancestors", "are given, but the ancestry is not %q", AncestryProven)
		}
		c.ProvenAncestors = nil
		return nil
	}
	out := make([]string, 0, len(c.ProvenAncestors))
	for i, a := range c.ProvenAncestors {
		if strings.TrimSpace(a) == "" {
			return FieldError("change.proven_ancestors", "ancestor %d is empty", i)
		}
		if a != c.SHA {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	c.ProvenAncestors = slices.Compact(out)
	return nil
}
