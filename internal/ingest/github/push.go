package github

import (
	"regexp"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// zeroSHA is what GitHub sends as "before" when a branch is created and as
// "after" when it is deleted.
const zeroSHA = "0000000000000000000000000000000000000000"

// incidentRef finds "incident #12" (or "incident: #12") in a commit message:
// the commit fixes the incident that issue 12 tracks.
var incidentRef = regexp.MustCompile(`(?i)\bincident\s*:?\s*#(\d+)\b`)

// push turns the commits pushed to the default branch into changes. Only
// the default branch counts: commits on other branches reach production
// through a merge, which arrives as its own push. A tag push is a release's
// deployment when releases count as deployments (see tagPush).
func (s *Source) push(body []byte) ([]delivery.Event, error) {
	var p pushEvent
	if err := decode(body, &p); err != nil {
		return nil, err
	}
	if p.Repository == nil || p.Repository.FullName == "" {
		return nil, missing("push", "repository.full_name")
	}
	if p.Ref == "" {
		return nil, missing("push", "ref")
	}
	repo := p.Repository.FullName
	if tag, ok := strings.CutPrefix(p.Ref, "refs/tags/"); ok {
		return s.tagPush(&p, tag)
	}
	branch, ok := strings.CutPrefix(p.Ref, "refs/heads/")
	switch {
	case !ok:
		return nil, ingest.Ignored("github: push to %s is not a branch push", p.Ref)
	case p.Deleted:
		return nil, ingest.Ignored("github: push deletes branch %s", branch)
	case p.Repository.defaultBranch() == "":
		return nil, missing("push", "repository.default_branch")
	case branch != p.Repository.defaultBranch():
		return nil, ingest.Ignored("github: push to %s, not to the default branch %s", branch, p.Repository.defaultBranch())
	}
	commits := p.Commits
	if len(commits) == 0 && p.HeadCommit != nil && p.HeadCommit.ID != "" {
		// A branch moved to a commit already known (no new commits): the
		// head is still worth reporting, without parents, which Stride
		// cannot tell from this payload.
		commits = []pushCommit{*p.HeadCommit}
	}
	if len(commits) == 0 {
		return nil, ingest.Ignored("github: push to %s carries no commits", branch)
	}
	events := make([]delivery.Event, 0, len(commits))
	for i, c := range commits {
		if c.ID == "" {
			return nil, missing("push", "commits[].id")
		}
		if c.Timestamp.IsZero() {
			return nil, missing("push", "commits[].timestamp")
		}
		// The payload lists the pushed commits oldest first and carries no
		// parents; chaining them is exact for the linear history a default
		// branch usually has. The first commit's parent is the branch's
		// previous head, unless the push created the branch or was forced
		// (then the previous head is not an ancestor).
		var parents []string
		switch {
		case i > 0:
			parents = []string{commits[i-1].ID}
		case len(p.Commits) > 0 && p.Before != "" && p.Before != zeroSHA && !p.Forced:
			parents = []string{p.Before}
		}
		ch := &delivery.Change{
			Repository: repo,
			SHA:        c.ID,
			Parents:    parents,
			Author:     c.Author.who(),
			CommitTime: c.Timestamp,
			Title:      firstLine(c.Message),
			Paths:      ingest.TouchedPaths(c.Added, c.Modified, c.Removed),
		}
		if m := incidentRef.FindStringSubmatch(c.Message); m != nil {
			ch.Incident = issueIncidentID(m[1])
		}
		events = append(events, delivery.Event{
			Key:    "github:push:" + repo + ":" + c.ID,
			Kind:   delivery.KindChange,
			Change: ch,
		})
	}
	return events, nil
}

// tagPush counts the push of a release tag as the release's production
// deployment when ReleasesAsDeployments is on. The release event itself
// names no commit when the release was cut from a branch (the usual case);
// the tag push does, and it has the same deployment ID, release-<tag>, so
// the two reports of one release merge into one deployment.
//
// The tagged commit is head_commit.id: for an annotated tag, "after" is the
// tag object, not a commit. The deployment finished when the tag was pushed
// (repository.pushed_at), or else at the commit's time.
func (s *Source) tagPush(p *pushEvent, tag string) ([]delivery.Event, error) {
	switch {
	case !s.cfg.ReleasesAsDeployments:
		return nil, ingest.Ignored("github: push of tag %s is not a branch push (tag pushes count as deployments only when releases_as_deployments is on in the github source of stride.yaml)", tag)
	case p.Deleted:
		return nil, ingest.Ignored("github: push deletes tag %s", tag)
	}
	if ok, why := s.tagCounts(tag); !ok {
		return nil, ingest.Ignored("github: push of tag %s: %s", tag, why)
	}
	if p.HeadCommit == nil || p.HeadCommit.ID == "" {
		return nil, ingest.Ignored("github: push of tag %s names no commit (head_commit), so the deployed commit is unknown", tag)
	}
	at := p.Repository.PushedAt.Time
	if at.IsZero() {
		at = p.HeadCommit.Timestamp
	}
	if at.IsZero() {
		return nil, missing("push", "repository.pushed_at")
	}
	repo := p.Repository.FullName
	return s.releaseDeployments("github:tag:"+repo+":"+tag, repo, tag, p.HeadCommit.ID, at, at), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// issueIncidentID is the incident ID of GitHub issue number n, the same for
// the issue's own events and for commits that reference it.
func issueIncidentID(n string) string { return "github-issue-" + n }
