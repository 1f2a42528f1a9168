package gitlab

import (
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// CommitChange is a commit read from the API (GET /repository/commits),
// with its true parents. The author is named as a push names it, by
// address, else by name, so a collected commit and the push that carried
// it agree on who wrote it.
func CommitChange(repo, sha string, parents []string, authorName, authorEmail string, authorTime, commitTime time.Time, title string) *delivery.Change {
	author := authorEmail
	if author == "" {
		author = authorName
	}
	if parents == nil {
		parents = []string{}
	}
	return &delivery.Change{
		Repository: repo,
		SHA:        sha,
		Parents:    parents,
		Author:     author,
		AuthorTime: authorTime,
		CommitTime: commitTime,
		Title:      strings.TrimSpace(title),
	}
}

// CommitKey is the idempotency key of a commit read from the API. It is not
// a push's key: a push that reported the commit first, with only what it
// could prove of its history, must not hide the true parents.
func CommitKey(repo, sha string) string { return key("commit", repo, sha) }
