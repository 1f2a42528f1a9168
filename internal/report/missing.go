package report

import (
	"context"
	"fmt"
	"strings"

	"github.com/stride-oss/stride/internal/store"
)

// UnknownCommitCode is the code of the DORA report warning that some
// deployments' commits are unknown, so they ship nothing.
const UnknownCommitCode = "unknown_commit"

// maxNamed bounds how many deployments one warning names; the count says
// how many there are.
const maxNamed = 5

// unknownCommitWarning says in words which deployments ship nothing
// because Stride never saw their commit, and what to do about it. It
// returns "" when there are none.
func unknownCommitWarning(missing []store.MissingCommit) string {
	if len(missing) == 0 {
		return ""
	}
	var plain, defaulted []string
	var configured []string
	for _, m := range missing {
		name := fmt.Sprintf("%s (commit %s of %s)", m.Deployment, short(m.SHA), m.Repository)
		if len(m.Configured) > 0 {
			defaulted = append(defaulted, name)
			configured = m.Configured
			continue
		}
		plain = append(plain, name)
	}
	var parts []string
	if len(plain) > 0 {
		parts = append(parts, fmt.Sprintf("%s %s nothing and %s no lead time, because Stride was never told of %s commit; "+
			"import the repository with `stride import git`, add its branch to `release_branches`, or enable the collector",
			names(plain), verb(len(plain), "ships", "ship"), verb(len(plain), "has", "have"), verb(len(plain), "its", "their")))
	}
	if len(defaulted) > 0 {
		parts = append(parts, fmt.Sprintf("%s %s sent without a repository, and none of the service's repositories (%s) holds %s commit; "+
			"send the deployment's `repository`, or import the repository that holds it with `stride import git`",
			names(defaulted), verb(len(defaulted), "was", "were"), strings.Join(configured, ", "), verb(len(defaulted), "its", "their")))
	}
	return strings.Join(parts, "; and ")
}

// names lists up to maxNamed of names and says how many more there are.
func names(all []string) string {
	prefix := "deployment "
	if len(all) > 1 {
		prefix = "deployments "
	}
	shown := all[:min(len(all), maxNamed)]
	s := strings.Join(shown, ", ")
	if rest := len(all) - len(shown); rest > 0 {
		s += fmt.Sprintf(" and %d more", rest)
	}
	return prefix + s
}

func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// short is the first 12 characters of a sha, as git abbreviates them.
func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// UnknownAncestryCode is the code of the DORA report warning that some
// deployments ship only their own commit, because only a webhook push
// reported it and that push did not end on it, so its history is unknown.
const UnknownAncestryCode = "unknown_ancestry"

// unknownAncestry names the deployments of services whose change set rests
// on missing ancestry, as the last refresh found them, and says what to do.
// It returns "" and 0 when there are none.
func (r *Reader) unknownAncestry(ctx context.Context, services []string) (string, int, error) {
	gaps, err := r.Store.ShippingGapsOf(ctx, services)
	if err != nil {
		return "", 0, err
	}
	var named []string
	for _, s := range services {
		for _, d := range gaps[s].UnknownAncestry {
			named = append(named, s+"/"+d)
		}
	}
	if len(named) == 0 {
		return "", 0, nil
	}
	return fmt.Sprintf("%s %s only %s own commit, because only a webhook push reported it and that push did not end on it, "+
		"so what it carries is unknown; its lead time may leave changes out. Run `stride import git` on the repository, "+
		"or `stride collect github`, which send each commit's parents",
		names(named), verb(len(named), "ships", "ship"), verb(len(named), "its", "their")), len(named), nil
}
