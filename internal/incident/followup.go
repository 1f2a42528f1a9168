package incident

import (
	"regexp"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// FollowUp is an RCA follow-up item of an incident, tracked until done. It
// may name the issue-tracker item that carries the work, so that the item
// closing (through its webhook) closes the follow-up.
type FollowUp struct {
	ID       string `json:"id"`
	Service  string `json:"service"`
	Incident string `json:"incident"`
	Title    string `json:"title"`
	// Tracker is jira, github or gitlab when IssueKey is set.
	Tracker string `json:"tracker,omitempty"`
	// IssueKey is the tracker's key: PAY-123 for Jira, owner/repo#42 for
	// GitHub and GitLab.
	IssueKey  string    `json:"issue_key,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Due       time.Time `json:"due,omitzero"`
	DoneAt    time.Time `json:"done_at,omitzero"`
}

var (
	jiraKey  = regexp.MustCompile(`^[A-Z][A-Z0-9_]+-[1-9][0-9]*$`)
	repoKey  = regexp.MustCompile(`^[^\s#]+/[^\s#]+#[1-9][0-9]*$`)
	trackers = map[string]*regexp.Regexp{"jira": jiraKey, "github": repoKey, "gitlab": repoKey}
)

// Validate checks a follow-up given through the API or the CLI.
func (f FollowUp) Validate() error {
	switch {
	case f.Service == "":
		return delivery.FieldError("service", "is required")
	case f.Incident == "":
		return delivery.FieldError("incident", "is required")
	case f.Title == "":
		return delivery.FieldError("title", "is required")
	case f.IssueKey == "" && f.Tracker != "":
		return delivery.FieldError("issue_key", "is required with a tracker")
	}
	if f.IssueKey != "" {
		re, ok := trackers[f.Tracker]
		if !ok {
			return delivery.FieldError("tracker", "want jira, github or gitlab, got %q", f.Tracker)
		}
		if !re.MatchString(f.IssueKey) {
			return delivery.FieldError("issue_key", "%q is not a %s issue key", f.IssueKey, f.Tracker)
		}
	}
	if !f.DoneAt.IsZero() && f.DoneAt.Before(f.CreatedAt) {
		return delivery.FieldError("done_at", "is before the follow-up was created")
	}
	return nil
}

// Open reports whether the follow-up is still to do as of now.
func (f FollowUp) Open(now time.Time) bool { return f.DoneAt.IsZero() || f.DoneAt.After(now) }

// Overdue reports whether the follow-up is open past its due date.
func (f FollowUp) Overdue(now time.Time) bool {
	return f.Open(now) && !f.Due.IsZero() && now.After(f.Due)
}

// Review is the blameless post-incident review of an incident. It records
// what happened and which conditions contributed; by design it has no field
// that names a person at fault.
type Review struct {
	Service             string    `json:"service"`
	Incident            string    `json:"incident"`
	HeldAt              time.Time `json:"held_at"`
	Document            string    `json:"document,omitempty"`
	Summary             string    `json:"summary,omitempty"`
	ContributingFactors []string  `json:"contributing_factors,omitempty"`
}

// Rules are the RCA rules of the report.
type Rules struct {
	// ReviewWithin is how long after its resolution a severity 0–1
	// incident may go without a review before it is listed as missing one.
	ReviewWithin time.Duration
}

// DefaultRules give a review five working days, counted as seven days.
func DefaultRules() Rules { return Rules{ReviewWithin: 7 * 24 * time.Hour} }

// NeedsRCA reports whether an incident needs follow-ups and a review: it is
// of severity 0 or 1 and resolved.
func NeedsRCA(in delivery.Incident) bool {
	s := severityOf(in.Severity)
	return s <= delivery.SeverityMajor && isResolved(in)
}

func isResolved(in delivery.Incident) bool {
	return !in.ResolvedAt.IsZero() && in.Status != delivery.IncidentOpen
}

// ReviewMissing reports whether an incident is overdue for its review as of
// now: it needs one, has none, and was resolved longer than ReviewWithin ago.
func (r Rules) ReviewMissing(in delivery.Incident, hasReview bool, now time.Time) bool {
	return NeedsRCA(in) && !hasReview && now.Sub(in.ResolvedAt) > r.ReviewWithin
}
