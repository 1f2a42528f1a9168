package git

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// maxNames is how many tag names a summary line lists before it says how
// many more there are: enough to recognise a mistake, short enough for a
// terminal.
const maxNames = 5

// WriteText writes the one summary of an import of service, as `stride
// import git` prints it: the counts first, then a line for each thing that
// made a tag count or not count, so no number changes without a word.
//
//	imported app: 4 commits, 2 deployments from 4 tags, 2 new events in 31ms
//	  tags: 'v*' took 3 and left 1; '*-rc*' left out 1 of them
//	  folded: 1 tag on a commit an earlier tag deployed: v0.301.0 (into v3.1.0)
//	  deployments: 1 added (v1.3.0), 1 moved (v1.2.0), 1 removed (v1.0.1), 0 unchanged
//	  files: read for every commit, so that a service with paths counts only the changes under them
func (s Summary) WriteText(w io.Writer, service string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "imported %s: %d commits, %d deployments from %d tags, %d new events in %s\n",
		service, s.Commits, s.Deployments, s.Tags, s.EventsAdded, s.Duration.Round(time.Millisecond))
	var took, left []string
	for _, p := range s.Patterns {
		if p.Exclude {
			left = append(left, fmt.Sprintf("%s left out %d of them", quote(p.Pattern), p.Matched))
		} else {
			took = append(took, fmt.Sprintf("%s took %d and left %d", quote(p.Pattern), p.Matched, s.Tags-p.Matched))
		}
	}
	if pats := append(took, left...); len(pats) > 0 {
		fmt.Fprintf(&b, "  tags: %s\n", strings.Join(pats, "; "))
	}
	if len(s.Folded) > 0 {
		names := make([]string, len(s.Folded))
		for i, f := range s.Folded {
			names[i] = f.Tag + " (into " + f.Into + ")"
		}
		fmt.Fprintf(&b, "  folded: %s on a commit an earlier tag deployed: %s\n", plural(len(s.Folded), "tag"), list(names))
	}
	if len(s.Undated) > 0 {
		fmt.Fprintf(&b, "  undated: %s without a date git can read, left out: %s\n", plural(len(s.Undated), "tag"), list(s.Undated))
	}
	r := s.Reconciled
	fmt.Fprintf(&b, "  deployments: %s, %s, %s, %d unchanged\n",
		counted(r.Added, "added"), counted(r.Moved, "moved"), counted(r.Removed, "removed"), r.Unchanged)
	if len(r.Kept) > 0 {
		fmt.Fprintf(&b, "  kept: %s no tag deploys any more, kept because another source reported it too: %s\n",
			plural(len(r.Kept), "deployment"), list(r.Kept))
	}
	if s.PathsRead {
		b.WriteString("  files: read for every commit, so that a service with paths counts only the changes under them\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func quote(pattern string) string { return "'" + pattern + "'" }

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// counted is "2 removed (v1.0.1, v1.1.0)", or "0 removed".
func counted(names []string, verb string) string {
	if len(names) == 0 {
		return "0 " + verb
	}
	return fmt.Sprintf("%d %s (%s)", len(names), verb, list(names))
}

// list joins the first maxNames names and says how many more there are.
func list(names []string) string {
	if len(names) <= maxNames {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxNames], ", ") + fmt.Sprintf(" and %d more", len(names)-maxNames)
}
