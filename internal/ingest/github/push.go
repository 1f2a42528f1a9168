package github

import (
	"regexp"
	"slices"
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

// push turns the commits pushed to the default branch, or to a branch
// ReleaseBranches names, into changes. Other branches do not count: their
// commits reach production through a merge, which arrives as its own push.
// A tag push is a release's deployment when releases count as deployments
// (see tagPush).
//
// The payload carries no parents, and Stride infers no more than a push
// proves (docs/metrics.md, "Change"): the listed commits are ancestors of
// the pushed head ("after") and not of "before", and, unless the push was
// forced or created the branch, "before" is an ancestor of the head. So
// the head's change says those commits are its proven ancestors, and every
// other listed commit's history is unknown: chaining them in list order
// would invent ancestry wherever the push holds a merge (a maintenance
// branch merged back would have the default branch's previous head as an
// ancestor, and its release would ship the default branch's changes).
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
	case branch != p.Repository.defaultBranch() && !s.releaseBranch(branch):
		if len(s.cfg.ReleaseBranches) == 0 {
			return nil, ingest.Ignored("github: push to %s, not to the default branch %s (name release branches in release_branches to take their pushes)", branch, p.Repository.defaultBranch())
		}
		return nil, ingest.Ignored("github: push to %s, not to the default branch %s nor a branch of release_branches %v", branch, p.Repository.defaultBranch(), s.cfg.ReleaseBranches)
	}
	commits := p.Commits
	if p.HeadCommit != nil && p.HeadCommit.ID != "" && !slices.ContainsFunc(commits, func(c pushCommit) bool { return c.ID == p.HeadCommit.ID }) {
		// The branch moved to a commit already pushed elsewhere (no new
		// commits), or the list was cut short: the head is still worth
		// reporting, with what the push proves of it.
		commits = append(slices.Clip(commits), *p.HeadCommit)
	}
	if len(commits) == 0 {
		return nil, ingest.Ignored("github: push to %s carries no commits", branch)
	}
	// The head is "after"; payloads without it (older ones, tests) end
	// their oldest-first list on it.
	head := p.After
	if head == "" || head == zeroSHA {
		head = commits[len(commits)-1].ID
		if p.HeadCommit != nil && p.HeadCommit.ID != "" {
			head = p.HeadCommit.ID
		}
	}
	proven := make([]string, 0, len(commits))
	for _, c := range commits {
		if c.ID != head && c.ID != "" {
			proven = append(proven, c.ID)
		}
	}
	if p.Before != "" && p.Before != zeroSHA && !p.Forced {
		proven = append(proven, p.Before)
	}
	slices.Sort(proven)
	proven = slices.Compact(proven)
	events := make([]delivery.Event, 0, len(commits))
	for _, c := range commits {
		if c.ID == "" {
			return nil, missing("push", "commits[].id")
		}
		if c.Timestamp.IsZero() {
			return nil, missing("push", "commits[].timestamp")
		}
		ch := &delivery.Change{
			Repository: repo,
			SHA:        c.ID,
			Ancestry:   delivery.AncestryUnknown,
			Author:     c.Author.who(),
			CommitTime: c.Timestamp,
			Title:      firstLine(c.Message),
			Paths:      ingest.TouchedPaths(c.Added, c.Modified, c.Removed),
		}
		key := "github:push:" + repo + ":" + c.ID
		if c.ID == head {
			ch.Ancestry, ch.ProvenAncestors = delivery.AncestryProven, proven
			key = headKey(repo, c.ID, p.Before, p.Forced)
		}
		if m := incidentRef.FindStringSubmatch(c.Message); m != nil {
			ch.Incident = issueIncidentID(m[1])
		}
		events = append(events, delivery.Event{
			Key:    key,
			Kind:   delivery.KindChange,
			Change: ch,
		})
	}
	return events, nil
}

// headKey is the idempotency key of a push's head: one per proof, not per
// commit, so that a commit first listed inside a push (its history
// unknown) and later pushed as a head keeps what the later push proved,
// and the proofs of several pushes of one head unite, in whatever order
// the deliveries arrive. A redelivery of the push has the same key.
func headKey(repo, sha, before string, forced bool) string {
	if before == "" {
		before = zeroSHA
	}
	k := "github:push:" + repo + ":" + sha + ":head:" + before
	if forced {
		k += ":forced"
	}
	return k
}

// releaseBranch reports whether branch is one of the configured release
// branches, matched as git matches patterns (delivery.MatchTag).
func (s *Source) releaseBranch(branch string) bool {
	return slices.ContainsFunc(s.cfg.ReleaseBranches, func(p string) bool { return delivery.MatchTag(p, branch) })
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
