package github

import (
	"fmt"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// prActions are the pull_request actions that change what flow metrics
// read; the others (assigned, locked, review_requested, ...) do not.
var prActions = map[string]bool{
	"opened": true, "ready_for_review": true, "synchronize": true, "closed": true,
	"reopened": true, "edited": true, "labeled": true, "unlabeled": true,
}

// pullRequest reports the whole pull request as GitHub sends it with each
// action; the merge keeps the earliest milestones and the latest state.
func (s *Source) pullRequest(body []byte) ([]delivery.Event, error) {
	var e pullRequestEvent
	if err := decode(body, &e); err != nil {
		return nil, err
	}
	if !prActions[e.Action] {
		return nil, ingest.Ignored("github: pull_request action %q does not change flow metrics", e.Action)
	}
	repo, pr, err := prOf("pull_request", e.Repository, e.PullRequest)
	if err != nil {
		return nil, err
	}
	out := &delivery.PullRequest{
		Repository: repo,
		Number:     pr.Number,
		Title:      pr.Title,
		Author:     pr.author(),
		State:      delivery.PullRequestState(pr.State),
		CreatedAt:  pr.CreatedAt,
		ClosedAt:   pr.ClosedAt,
		Labels:     labelNames(pr.Labels),
		UpdatedAt:  pr.UpdatedAt,
	}
	if out.State != delivery.PullRequestOpen && out.State != delivery.PullRequestClosed {
		return nil, ingest.Malformed("github: pull_request: unknown pull_request.state %q", pr.State)
	}
	if pr.Merged || !pr.MergedAt.IsZero() {
		out.State = delivery.PullRequestMerged
		out.MergedAt = pr.MergedAt
		out.MergeSHA = pr.MergeCommitSHA
	}
	if e.Action == "ready_for_review" {
		out.ReadyAt = pr.UpdatedAt
	}
	out.Additions = deref(pr.Additions)
	out.Deletions = deref(pr.Deletions)
	out.ChangedFiles = deref(pr.ChangedFiles)
	out.Comments = deref(pr.Comments)
	out.ReviewComments = deref(pr.ReviewComments)

	// Several actions can share one updated_at (labeled twice in a second),
	// so the key names what changed as well.
	detail := ""
	switch {
	case (e.Action == "labeled" || e.Action == "unlabeled") && e.Label != nil:
		detail = ":" + e.Label.Name
	case e.Action == "synchronize" && e.After != "":
		detail = ":" + e.After
	}
	key := fmt.Sprintf("github:pull_request:%s:%d:%s:%s%s", repo, pr.Number, e.Action, stamp(pr.UpdatedAt), detail)
	return []delivery.Event{{Key: key, Kind: delivery.KindPullRequest, PullRequest: out}}, nil
}

// pullRequestReview reports the first review of someone other than the
// author (pickup time) and the approval.
func (s *Source) pullRequestReview(body []byte) ([]delivery.Event, error) {
	var e reviewEvent
	if err := decode(body, &e); err != nil {
		return nil, err
	}
	if e.Action != "submitted" {
		return nil, ingest.Ignored("github: pull_request_review action %q", e.Action)
	}
	repo, pr, err := prOf("pull_request_review", e.Repository, e.PullRequest)
	if err != nil {
		return nil, err
	}
	if e.Review == nil || e.Review.SubmittedAt.IsZero() {
		return nil, missing("pull_request_review", "review.submitted_at")
	}
	reviewer := ""
	if e.Review.User != nil {
		reviewer = e.Review.User.Login
	}
	if reviewer == "" {
		return nil, ingest.Ignored("github: review of %s#%d by an unknown user", repo, pr.Number)
	}
	if selfReview(reviewer, pr.author()) {
		return nil, ingest.Ignored("github: %s reviewed their own pull request %s#%d", reviewer, repo, pr.Number)
	}
	out := partialPR(repo, pr, e.Review.SubmittedAt)
	out.FirstReviewAt = e.Review.SubmittedAt
	if strings.EqualFold(e.Review.State, "approved") {
		out.ApprovedAt = e.Review.SubmittedAt
	}
	key := fmt.Sprintf("github:pull_request_review:%s:%d:%d", repo, pr.Number, e.Review.ID)
	return []delivery.Event{{Key: key, Kind: delivery.KindPullRequest, PullRequest: out}}, nil
}

// pullRequestReviewComment reports a review comment of someone other than
// the author, which starts the review as much as a submitted review does.
func (s *Source) pullRequestReviewComment(body []byte) ([]delivery.Event, error) {
	var e reviewCommentEvent
	if err := decode(body, &e); err != nil {
		return nil, err
	}
	if e.Action != "created" {
		return nil, ingest.Ignored("github: pull_request_review_comment action %q", e.Action)
	}
	repo, pr, err := prOf("pull_request_review_comment", e.Repository, e.PullRequest)
	if err != nil {
		return nil, err
	}
	if e.Comment == nil || e.Comment.CreatedAt.IsZero() {
		return nil, missing("pull_request_review_comment", "comment.created_at")
	}
	commenter := ""
	if e.Comment.User != nil {
		commenter = e.Comment.User.Login
	}
	if commenter == "" {
		return nil, ingest.Ignored("github: review comment on %s#%d by an unknown user", repo, pr.Number)
	}
	if selfReview(commenter, pr.author()) {
		return nil, ingest.Ignored("github: %s commented on their own pull request %s#%d", commenter, repo, pr.Number)
	}
	out := partialPR(repo, pr, e.Comment.CreatedAt)
	out.FirstReviewAt = e.Comment.CreatedAt
	out.ReviewComments = deref(pr.ReviewComments)
	key := fmt.Sprintf("github:pull_request_review_comment:%s:%d:%d", repo, pr.Number, e.Comment.ID)
	return []delivery.Event{{Key: key, Kind: delivery.KindPullRequest, PullRequest: out}}, nil
}

// issueComment counts conversation comments on a pull request. Comments on
// plain issues say nothing Stride measures, incident or not: an incident's
// times come from its own issue events.
func (s *Source) issueComment(body []byte) ([]delivery.Event, error) {
	var e issueCommentEvent
	if err := decode(body, &e); err != nil {
		return nil, err
	}
	if e.Action != "created" {
		return nil, ingest.Ignored("github: issue_comment action %q", e.Action)
	}
	if e.Repository == nil || e.Repository.FullName == "" {
		return nil, missing("issue_comment", "repository.full_name")
	}
	if e.Issue == nil || e.Issue.Number <= 0 {
		return nil, missing("issue_comment", "issue.number")
	}
	if !e.Issue.isPullRequest() {
		return nil, ingest.Ignored("github: comment on issue %s#%d, not on a pull request", e.Repository.FullName, e.Issue.Number)
	}
	if e.Comment == nil || e.Comment.CreatedAt.IsZero() {
		return nil, missing("issue_comment", "comment.created_at")
	}
	repo := e.Repository.FullName
	out := &delivery.PullRequest{
		Repository: repo,
		Number:     e.Issue.Number,
		Title:      e.Issue.Title,
		CreatedAt:  e.Issue.CreatedAt,
		// The issue's count already includes this comment; the merge
		// keeps the highest count reported.
		Comments:  deref(e.Issue.Comments),
		UpdatedAt: e.Comment.CreatedAt,
	}
	if e.Issue.User != nil {
		out.Author = e.Issue.User.Login
	}
	key := fmt.Sprintf("github:issue_comment:%s:%d:%d", repo, e.Issue.Number, e.Comment.ID)
	return []delivery.Event{{Key: key, Kind: delivery.KindPullRequest, PullRequest: out}}, nil
}

// prOf checks what every pull request event needs: the repository and the
// pull request's number.
func prOf(event string, r *repository, pr *pullRequest) (string, *pullRequest, error) {
	if r == nil || r.FullName == "" {
		return "", nil, missing(event, "repository.full_name")
	}
	if pr == nil {
		return "", nil, missing(event, "pull_request")
	}
	if pr.Number <= 0 {
		return "", nil, missing(event, "pull_request.number")
	}
	return r.FullName, pr, nil
}

// partialPR is the report of a review or comment: identity and the facts
// that never change, with Labels and State left unreported so they do not
// overwrite what the pull request's own events said.
func partialPR(repo string, pr *pullRequest, at time.Time) *delivery.PullRequest {
	return &delivery.PullRequest{
		Repository: repo,
		Number:     pr.Number,
		Title:      pr.Title,
		Author:     pr.author(),
		CreatedAt:  pr.CreatedAt,
		UpdatedAt:  at,
	}
}

// selfReview reports whether a review is the author's own, which does not
// count as the review starting. Logins are compared without case, as GitHub
// does. (An unknown reviewer is ignored before this: without a name Stride
// cannot tell, and an early pickup time would flatter.)
func selfReview(reviewer, author string) bool {
	return strings.EqualFold(reviewer, author)
}

func deref(p *int) int {
	if p == nil || *p < 0 {
		return 0
	}
	return *p
}

// stamp formats t for an idempotency key: the same instant always gives the
// same text, whatever zone the payload wrote it in.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
