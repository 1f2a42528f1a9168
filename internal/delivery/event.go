package delivery

import (
	"slices"
	"strings"
	"time"
)

// Kind names what an event carries.
type Kind string

const (
	KindChange      Kind = "change"
	KindDeployment  Kind = "deployment"
	KindIncident    Kind = "incident"
	KindPullRequest Kind = "pull_request"
	KindWorkItem    Kind = "work_item"
	KindBuild       Kind = "build"
)

// Event is one fact from a source: exactly one of its entity fields is set,
// the one its Kind names. Key is the idempotency key: an event whose key was
// seen before changes nothing.
type Event struct {
	Key    string
	Kind   Kind
	Source string // "api", "git", "github", ...

	Change      *Change
	Deployment  *Deployment
	Incident    *Incident
	PullRequest *PullRequest
	WorkItem    *WorkItem
	Build       *Build

	// Known says which fields a new entity must give this report may leave
	// out, because the entity is already known with them (stored, or given
	// in full elsewhere in the batch): a later report carries only what
	// changed. The write path sets it; a report of a new entity leaves it
	// zero and is held to every required field.
	Known KnownFields `json:"-"`
}

// KnownFields are the required fields an entity is already known with.
type KnownFields struct {
	OpenedAt   bool // an incident's opened_at
	FinishedAt bool // a deployment's finished_at
	SHA        bool // a deployment's sha
}

// MaxKeyLength bounds idempotency keys and identifiers, so one event cannot
// bloat an index.
const MaxKeyLength = 512

// Validate checks the event and normalises it in place: times to UTC at
// microsecond precision (what both stores keep), defaults filled in. The
// returned error is an *Error naming the field.
func (e *Event) Validate() error {
	if strings.TrimSpace(e.Key) == "" {
		return FieldError("key", "is required (the idempotency key)")
	}
	if len(e.Key) > MaxKeyLength {
		return FieldError("key", "is longer than %d bytes", MaxKeyLength)
	}
	if err := validText("key", e.Key); err != nil {
		return err
	}
	set := 0
	for _, p := range []bool{e.Change != nil, e.Deployment != nil, e.Incident != nil, e.PullRequest != nil, e.WorkItem != nil, e.Build != nil} {
		if p {
			set++
		}
	}
	if set != 1 {
		return FieldError("kind", "an event carries exactly one entity, found %d", set)
	}
	switch e.Kind {
	case KindChange:
		if e.Change == nil {
			return FieldError("kind", "is change but no change is given")
		}
		return validateChange(e.Change)
	case KindDeployment:
		if e.Deployment == nil {
			return FieldError("kind", "is deployment but no deployment is given")
		}
		return validateDeployment(e.Deployment, e.Known)
	case KindIncident:
		if e.Incident == nil {
			return FieldError("kind", "is incident but no incident is given")
		}
		return validateIncident(e.Incident, e.Known)
	case KindPullRequest:
		if e.PullRequest == nil {
			return FieldError("kind", "is pull_request but no pull request is given")
		}
		return validatePullRequest(e.PullRequest)
	case KindWorkItem:
		if e.WorkItem == nil {
			return FieldError("kind", "is work_item but no work item is given")
		}
		return validateWorkItem(e.WorkItem)
	case KindBuild:
		if e.Build == nil {
			return FieldError("kind", "is build but no build is given")
		}
		return validateBuild(e.Build)
	case "":
		return FieldError("kind", "is required")
	default:
		return FieldError("kind", "unknown kind %q (want change, deployment, incident, pull_request, work_item or build)", e.Kind)
	}
}

// NormalizeTime returns t in UTC at microsecond precision, the precision both
// stores keep, so a value reads back equal to what was written.
func NormalizeTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

func required(field, v string) error {
	if strings.TrimSpace(v) == "" {
		return FieldError(field, "is required")
	}
	if len(v) > MaxKeyLength {
		return FieldError(field, "is longer than %d bytes", MaxKeyLength)
	}
	return validText(field, v)
}

func validateChange(c *Change) error {
	if err := required("change.repository", c.Repository); err != nil {
		return err
	}
	if err := required("change.sha", c.SHA); err != nil {
		return err
	}
	if c.CommitTime.IsZero() {
		return FieldError("change.commit_time", "is required")
	}
	c.CommitTime = NormalizeTime(c.CommitTime)
	c.AuthorTime = NormalizeTime(c.AuthorTime)
	if c.AuthorTime.IsZero() {
		c.AuthorTime = c.CommitTime
	}
	for i, p := range c.Parents {
		if strings.TrimSpace(p) == "" {
			return FieldError("change.parents", "parent %d is empty", i)
		}
	}
	if err := validateAncestry(c); err != nil {
		return err
	}
	if c.Paths != nil {
		c.Paths = slices.DeleteFunc(slices.Clone(c.Paths), func(p string) bool { return p == "" })
		slices.Sort(c.Paths)
		c.Paths = slices.Compact(c.Paths)
	}
	return nil
}

func validateDeployment(d *Deployment, known KnownFields) error {
	if err := required("deployment.service", d.Service); err != nil {
		return err
	}
	if err := required("deployment.id", d.ID); err != nil {
		return err
	}
	if d.Environment == "" {
		d.Environment = EnvironmentProduction
	}
	if d.Status == "" {
		return FieldError("deployment.status", "is required")
	}
	if !d.Status.Valid() {
		return FieldError("deployment.status", "unknown status %q (want pending, in_progress, success, failure or rolled_back)", d.Status)
	}
	d.StartedAt = NormalizeTime(d.StartedAt)
	d.FinishedAt = NormalizeTime(d.FinishedAt)
	d.UpdatedAt = NormalizeTime(d.UpdatedAt)
	if d.Status.Terminal() && d.FinishedAt.IsZero() && !known.FinishedAt {
		return FieldError("deployment.finished_at", "is required when the status is %s (a later report of a deployment Stride knows with one may leave it out)", d.Status)
	}
	if d.Status == DeploymentSuccess && d.SHA == "" && !known.SHA {
		return FieldError("deployment.sha", "is required for a successful deployment (a later report of a deployment Stride knows with one may leave it out)")
	}
	partial := known != KnownFields{}
	// A report of a known deployment that names no repository keeps the
	// stored one; a new one defaults to its service's name.
	if d.Repository == "" && !partial {
		d.Repository = d.Service
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = latest(d.FinishedAt, d.StartedAt)
	}
	if partial && d.UpdatedAt.IsZero() {
		// Without a time the update could not be ordered against the
		// stored report, and merging would keep the stored status.
		return FieldError("deployment.updated_at", "is required for a report that leaves out finished_at: it dates the change")
	}
	return nil
}

func validateIncident(in *Incident, known KnownFields) error {
	if err := required("incident.service", in.Service); err != nil {
		return err
	}
	if err := required("incident.id", in.ID); err != nil {
		return err
	}
	if (in.Severity < 0 || in.Severity > 3) && in.Severity != SeverityUnknown {
		return FieldError("incident.severity", "must be 0 (critical) to 3, got %d", in.Severity)
	}
	if in.OpenedAt.IsZero() && !known.OpenedAt {
		return FieldError("incident.opened_at", "is required for a new incident (a later report of a known one may leave it out)")
	}
	if !in.Origin.Valid() {
		return FieldError("incident.origin", "unknown origin %q (want customer or monitoring)", in.Origin)
	}
	in.OpenedAt = NormalizeTime(in.OpenedAt)
	in.AcknowledgedAt = NormalizeTime(in.AcknowledgedAt)
	in.ResolvedAt = NormalizeTime(in.ResolvedAt)
	in.UpdatedAt = NormalizeTime(in.UpdatedAt)
	if in.UpdatedAt.IsZero() {
		in.UpdatedAt = latest(in.ResolvedAt, in.AcknowledgedAt, in.OpenedAt)
	}
	if !in.Status.Valid() {
		return FieldError("incident.status", "unknown status %q (want open or resolved)", in.Status)
	}
	// A resolution without a status is a report that the incident is
	// resolved (as every report meant before statuses existed).
	if in.Status == "" && !in.ResolvedAt.IsZero() {
		in.Status = IncidentResolved
	}
	switch in.Status {
	case IncidentOpen:
		if !in.ResolvedAt.IsZero() {
			return FieldError("incident.resolved_at", "must be empty when the status is open")
		}
	case IncidentResolved:
		if in.ResolvedAt.IsZero() {
			return FieldError("incident.resolved_at", "is required when the status is resolved")
		}
	}
	// A severity dates from this report; an unknown one has no date, so
	// any reported severity outranks it when merged.
	in.SeverityAt = time.Time{}
	if in.Severity != SeverityUnknown {
		in.SeverityAt = in.UpdatedAt
	}
	// The status dates from this report; a report without one must not
	// carry a time that would outrank a real status when merged.
	in.StatusAt = time.Time{}
	if in.Status != "" {
		in.StatusAt = in.UpdatedAt
	}
	return nil
}

func validatePullRequest(p *PullRequest) error {
	if err := required("pull_request.repository", p.Repository); err != nil {
		return err
	}
	if p.Number <= 0 {
		return FieldError("pull_request.number", "must be a positive number")
	}
	if p.State != "" && prStateRank[p.State] == 0 {
		return FieldError("pull_request.state", "unknown state %q (want open, closed or merged)", p.State)
	}
	for _, c := range []struct {
		field string
		n     int
	}{{"additions", p.Additions}, {"deletions", p.Deletions}, {"changed_files", p.ChangedFiles}, {"comments", p.Comments}, {"review_comments", p.ReviewComments}} {
		if c.n < 0 || c.n > MaxCount {
			return FieldError("pull_request."+c.field, "must be 0 to %d, got %d", MaxCount, c.n)
		}
	}
	for _, t := range []*time.Time{&p.CreatedAt, &p.ReadyAt, &p.FirstCommitAt, &p.FirstReviewAt, &p.ApprovedAt, &p.MergedAt, &p.ClosedAt, &p.UpdatedAt} {
		*t = NormalizeTime(*t)
	}
	if !p.MergedAt.IsZero() {
		p.State = PullRequestMerged
	}
	return nil
}

func validateWorkItem(w *WorkItem) error {
	if err := required("work_item.tracker", w.Tracker); err != nil {
		return err
	}
	if err := required("work_item.key", w.Key); err != nil {
		return err
	}
	if err := validStoryPoints(w.StoryPoints); err != nil {
		return err
	}
	for _, t := range []*time.Time{&w.SprintEnd, &w.SprintStart, &w.CreatedAt, &w.ResolvedAt, &w.UpdatedAt} {
		*t = NormalizeTime(*t)
	}
	if w.DetailAt.IsZero() && (w.Labels != nil || w.Services != nil || w.Priority != "" || w.Assignee != "") {
		w.DetailAt = w.UpdatedAt
	}
	w.DetailAt = NormalizeTime(w.DetailAt)
	// Sorted sets and lists, so that merging two reports is a join.
	if w.Labels != nil {
		w.Labels = union(w.Labels, []string{})
	}
	if w.Services != nil {
		w.Services = union(w.Services, []string{})
	}
	for i := range w.Sprints {
		s := &w.Sprints[i]
		if s.ID == "" {
			s.ID = s.Name
		}
		if strings.TrimSpace(s.ID) == "" {
			return FieldError("work_item.sprints", "sprint %d has neither an id nor a name", i)
		}
		if s.State != "" && sprintStateRank[s.State] == 0 {
			return FieldError("work_item.sprints", "sprint %s: unknown state %q (want future, active or closed)", s.ID, s.State)
		}
		for _, t := range []*time.Time{&s.StartAt, &s.EndAt, &s.CompletedAt, &s.AddedAt} {
			*t = NormalizeTime(*t)
		}
	}
	if w.Sprints != nil {
		w.Sprints = mergeSprints(w.Sprints, nil)
	}
	for i := range w.Transitions {
		tr := &w.Transitions[i]
		if tr.At.IsZero() {
			return FieldError("work_item.transitions", "transition %d has no time", i)
		}
		if (tr.Status == "") == (tr.Flagged == nil) {
			return FieldError("work_item.transitions", "transition %d must be either a status change or a flag change", i)
		}
		tr.At = NormalizeTime(tr.At)
	}
	if w.Transitions != nil {
		w.Transitions = mergeTransitions(w.Transitions, nil)
	}
	return nil
}

func validateBuild(b *Build) error {
	if err := required("build.repository", b.Repository); err != nil {
		return err
	}
	if err := required("build.id", b.ID); err != nil {
		return err
	}
	if b.Status != "" && buildRank[b.Status] == 0 {
		return FieldError("build.status", "unknown status %q (want running, success, failure or cancelled)", b.Status)
	}
	if b.Attempt < 0 {
		return FieldError("build.attempt", "is %d; attempts count from 1 (0: not known)", b.Attempt)
	}
	for _, t := range []*time.Time{&b.StartedAt, &b.FinishedAt, &b.UpdatedAt} {
		*t = NormalizeTime(*t)
	}
	if b.UpdatedAt.IsZero() {
		b.UpdatedAt = latest(b.FinishedAt, b.StartedAt)
	}
	return nil
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}
