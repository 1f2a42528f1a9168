package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/sprint"
)

// yamlAfter returns the first yaml example of a doc after the given text.
func yamlAfter(t *testing.T, doc, after string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", doc))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), after)
	if !ok {
		t.Fatalf("docs/%s has no %q", doc, after)
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	if !ok {
		t.Fatalf("docs/%s has no yaml example after %q", doc, after)
	}
	example, _, _ := strings.Cut(rest, "```")
	return example
}

// TestSprintAndOpenBugsDocExamples loads the stride.yaml examples of the
// sprint section of docs/metrics.md and of the open-bugs criterion of
// docs/release-criteria.md, so the pages cannot drift from what Stride
// accepts; the documented work types are the defaults.
func TestSprintAndOpenBugsDocExamples(t *testing.T) {
	for _, c := range []struct{ doc, after string }{
		{"metrics.md", "## Sprint and team health"},
		{"release-criteria.md", "### Open bugs (zero bug bounce)"},
	} {
		path := filepath.Join(t.TempDir(), "stride.yaml")
		if err := os.WriteFile(path, []byte(yamlAfter(t, c.doc, c.after)), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, false)
		if err != nil {
			t.Fatalf("docs/%s: %v", c.doc, err)
		}
		switch c.doc {
		case "metrics.md":
			for name, wt := range sprint.DefaultWorkTypes {
				got := cfg.Sprint.WorkTypes[name]
				if strings.Join(got.IssueTypes, ",") != strings.Join(wt.IssueTypes, ",") || strings.Join(got.Labels, ",") != strings.Join(wt.Labels, ",") {
					t.Errorf("docs/metrics.md shows %s as %+v, the default is %+v", name, got, wt)
				}
			}
		default:
			if ob := cfg.Rings("api").OpenBugs; ob == nil || ob.Max != 0 || len(ob.Priorities) != 2 {
				t.Errorf("docs/release-criteria.md: open_bugs read as %+v", ob)
			}
		}
	}
}
