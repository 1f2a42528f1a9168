package incident

import (
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// FollowUp is an RCA follow-up item of an incident, tracked until done.
type FollowUp = delivery.FollowUp

// Review is the blameless post-incident review of an incident.
type Review = delivery.Review

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
