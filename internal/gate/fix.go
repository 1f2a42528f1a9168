package gate

import (
	"fmt"

	"github.com/stride-oss/stride/internal/delivery"
)

// FixLabel returns the first of labels that one of patterns matches, as
// fix_branches are matched (a * crosses /), and whether there is one.
func FixLabel(patterns, labels []string) (string, bool) {
	for _, l := range labels {
		for _, p := range patterns {
			if l != "" && delivery.MatchTag(p, l) {
				return l, true
			}
		}
	}
	return "", false
}

// FixOf decides whether a change is a fix by what the pipeline says of it:
// the --fix flag, its branch against fix_branches, or one of its labels
// against fix_labels. The reason names which, so a change let through a
// freeze says why. Labels of the commit's stored pull requests are the
// server's to judge (see Response.FixReason).
func (c Criteria) FixOf(flag bool, branch string, labels []string) (bool, string) {
	switch {
	case flag:
		return true, "marked with --fix"
	case c.IsFix(branch):
		return true, fmt.Sprintf("branch %s matches fix_branches", branch)
	}
	if l, ok := FixLabel(c.FixLabels, labels); ok {
		return true, fmt.Sprintf("label %s matches fix_labels", l)
	}
	return false, ""
}
