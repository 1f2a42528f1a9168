package github

import (
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// CommitChange is one commit as GitHub's commits API reports it, which a
// push cannot: with its true parents, so a merge commit has both and a
// deployment's change set follows the real graph. The title, the author
// and the incident a message names ("incident #12") are read as a push's
// commits are.
func CommitChange(repo, sha string, parents []string, author string, authorTime, commitTime time.Time, message string) *delivery.Change {
	ch := &delivery.Change{
		Repository: repo,
		SHA:        sha,
		Parents:    parents,
		Author:     author,
		AuthorTime: authorTime,
		CommitTime: commitTime,
		Title:      firstLine(message),
	}
	if m := incidentRef.FindStringSubmatch(message); m != nil {
		ch.Incident = issueIncidentID(m[1])
	}
	return ch
}

// CommitKey is the idempotency key of a commit read from the API. It is not
// a push's key: a push that reported the commit first, with parents it
// could only guess, must not hide the true parents.
func CommitKey(repo, sha string) string { return "github:commit:" + repo + ":" + sha }
