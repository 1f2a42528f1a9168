package collect

import (
	"context"
	"slices"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
)

// Commit is what CommitPaths needs to know of a listed commit.
type Commit struct {
	SHA   string
	Merge bool // it has more than one parent
}

// CommitPaths decides, for one repository's run, which listed commits'
// files must be asked of the API. A commit's files decide whose it is only
// when a service of the mapping owns some paths of the repository (a
// monorepo); then a commit is asked for once a run, and not at all when the
// store already holds its files or it is a merge commit, which touches
// nothing of its own, as the git importer reads it. The vendors' lists of
// commits do not carry files, so each commit asked costs a request.
type CommitPaths struct {
	// Wanted is false when no service owns paths of the repository:
	// then Select asks for nothing.
	Wanted bool
	read   map[string]bool
}

// NewCommitPaths is the CommitPaths of repository under mapping.
func NewCommitPaths(mapping delivery.Mapping, repository string) *CommitPaths {
	return &CommitPaths{Wanted: ownsPaths(mapping, repository), read: map[string]bool{}}
}

// Select returns the files already settled of page (merge commits: none)
// and the shas to ask the API for; stored reports, of shas, those the store
// holds the files of.
func (p *CommitPaths) Select(ctx context.Context, page []Commit, stored func(ctx context.Context, shas []string) (map[string]bool, error)) (settled map[string][]string, ask []string, err error) {
	if !p.Wanted {
		return nil, nil, nil
	}
	settled = map[string][]string{}
	var unknown []string
	for _, c := range page {
		switch {
		case p.read[c.SHA]:
		case c.Merge:
			settled[c.SHA] = []string{}
			p.read[c.SHA] = true
		default:
			unknown = append(unknown, c.SHA)
		}
	}
	if len(unknown) == 0 {
		return settled, nil, nil
	}
	known, err := stored(ctx, unknown)
	if err != nil {
		return nil, nil, err
	}
	for _, sha := range unknown {
		p.read[sha] = true
		if !known[sha] {
			ask = append(ask, sha)
		}
	}
	return settled, ask, nil
}

// ownsPaths reports whether a service of mapping owns only some paths of
// repository.
func ownsPaths(mapping delivery.Mapping, repository string) bool {
	for _, s := range mapping.Services {
		if len(s.Paths) > 0 && slices.ContainsFunc(s.Repositories, func(r string) bool { return strings.EqualFold(r, repository) }) {
			return true
		}
	}
	return false
}
