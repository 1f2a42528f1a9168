package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/slo"
)

// TestWebhooksDocConfig loads the stride.yaml example of docs/webhooks.md,
// so the page cannot drift from what Stride accepts: every source it shows
// must be enabled by it.
func TestWebhooksDocConfig(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "webhooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	if !ok {
		t.Fatal("docs/webhooks.md has no yaml example")
	}
	example, _, _ := strings.Cut(rest, "```")
	for _, v := range []string{"GITHUB_WEBHOOK_SECRET", "GITLAB_WEBHOOK_TOKEN", "JIRA_WEBHOOK_SECRET", "PAGERDUTY_SIGNING_SECRET",
		"ALERTMANAGER_TOKEN", "ARGOCD_TOKEN", "CDEVENTS_TOKEN", "SONARQUBE_WEBHOOK_SECRET"} {
		t.Setenv(v, "x-"+strings.ToLower(v))
	}
	path := filepath.Join(t.TempDir(), "stride.yaml")
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, false)
	if err != nil {
		t.Fatalf("the documented stride.yaml does not load: %v", err)
	}
	sources, err := buildSources(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range sources {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"alertmanager", "argocd", "cdevents", "github", "gitlab", "jira", "pagerduty", "sonarqube"}
	if !slices.Equal(names, want) {
		t.Errorf("sources %v, want %v", names, want)
	}
}

// yamlExample is one ```yaml block of a page.
type yamlExample struct {
	line int    // of the opening fence, 1-based
	body string // the block's lines, without the fence's indentation
}

// yamlExamples returns the ```yaml (or ```yml) blocks of a Markdown page,
// including those indented inside a list.
func yamlExamples(doc []byte) []yamlExample {
	var out []yamlExample
	var cur *yamlExample
	indent := ""
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " \t")
		switch {
		case cur == nil && (trimmed == "```yaml" || trimmed == "```yml"):
			cur, indent = &yamlExample{line: n}, line[:len(line)-len(trimmed)]
		case cur != nil && strings.HasPrefix(trimmed, "```"):
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.body += strings.TrimPrefix(line, indent) + "\n"
		}
	}
	return out
}

// The kinds of YAML example the docs hold.
const (
	strideYAML      = "stride.yaml"
	releaseCriteria = "release-criteria.yaml"
	sloYAML         = "slos.yaml" // OpenSLO documents, as stride slo apply reads them
	otherYAML       = "other"     // another tool's file (Alertmanager, Kubernetes): it must parse
)

// exampleKind tells what an example is: by its first line when that is a
// comment naming the file ("# stride.yaml", "# release-criteria.yaml"),
// else by the page. "rejected" in that first comment marks an example the
// page shows as an error, which must fail to load.
func exampleKind(page, body string) (kind string, rejected bool) {
	first, _, _ := strings.Cut(body, "\n")
	if comment, ok := strings.CutPrefix(strings.TrimSpace(first), "#"); ok {
		comment = strings.TrimSpace(comment)
		rejected = strings.Contains(comment, "rejected")
		for _, k := range []string{strideYAML, releaseCriteria, sloYAML} {
			if strings.HasPrefix(comment, k) {
				return k, rejected
			}
		}
	}
	switch page {
	case "release-criteria.md":
		return releaseCriteria, rejected
	case "slos.md":
		return sloYAML, rejected
	case "rings.md", "webhooks.md":
		return strideYAML, rejected
	}
	return otherYAML, rejected
}

var exampleEnvReference = regexp.MustCompile(`\$\{(\w+)\}`)

// loadStrideYAML loads an example through config.Load, with every
// environment variable it names set.
func loadStrideYAML(t *testing.T, body string) error {
	t.Helper()
	for _, m := range exampleEnvReference.FindAllStringSubmatch(body, -1) {
		t.Setenv(m[1], "x-"+strings.ToLower(m[1]))
	}
	path := filepath.Join(t.TempDir(), "stride.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path, false)
	return err
}

// parseYAML decodes every document of an example.
func parseYAML(body string) error {
	dec := yaml.NewDecoder(strings.NewReader(body))
	for {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// TestDocsYAMLExamples checks every YAML example of docs/: each parses, a
// stride.yaml example loads through config.Load and a release-criteria
// example through the policy loader, as Stride would read them, and an
// example shown as rejected is rejected.
func TestDocsYAMLExamples(t *testing.T) {
	pages, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("no pages under docs/")
	}
	seen := map[string]int{} // page/kind → examples
	for _, page := range pages {
		doc, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(page)
		for _, ex := range yamlExamples(doc) {
			kind, rejected := exampleKind(name, ex.body)
			seen[name+"/"+kind]++
			t.Run(fmt.Sprintf("%s:%d %s", name, ex.line, kind), func(t *testing.T) {
				if err := parseYAML(ex.body); err != nil {
					t.Fatalf("the example is not YAML: %v\n%s", err, ex.body)
				}
				switch kind {
				case strideYAML:
					err = loadStrideYAML(t, ex.body)
				case releaseCriteria:
					_, err = gate.ParsePolicy(strings.NewReader(ex.body))
				case sloYAML:
					_, err = slo.ParseOpenSLO(strings.NewReader(ex.body))
				default:
					return
				}
				switch {
				case rejected && err == nil:
					t.Errorf("the example is shown as rejected, but %s accepts it:\n%s", kind, ex.body)
				case !rejected && err != nil:
					t.Errorf("the example does not load as %s: %v\n%s", kind, err, ex.body)
				}
			})
		}
	}
	// The reference pages must keep examples to check.
	for _, want := range []string{"release-criteria.md/" + releaseCriteria, "rings.md/" + strideYAML, "webhooks.md/" + strideYAML, "dashboard.md/" + strideYAML, "slos.md/" + sloYAML} {
		if seen[want] == 0 {
			t.Errorf("no %s example found in docs/%s", strings.SplitN(want, "/", 2)[1], strings.SplitN(want, "/", 2)[0])
		}
	}
}

func TestYAMLExamplesAndKinds(t *testing.T) {
	doc := []byte("text\n```yaml\n# stride.yaml, rejected: a reason\nservices: []\n```\n\n1. a list\n   ```yml\n   a:\n     b: 1\n   ```\n```sh\necho no\n```\n")
	got := yamlExamples(doc)
	want := []yamlExample{
		{line: 2, body: "# stride.yaml, rejected: a reason\nservices: []\n"},
		{line: 8, body: "a:\n  b: 1\n"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("yamlExamples = %+v, want %+v", got, want)
	}
	tests := []struct {
		page, body, kind string
		rejected         bool
	}{
		{"alertmanager.md", want[0].body, strideYAML, true},
		{"alertmanager.md", want[1].body, otherYAML, false},
		{"release-criteria.md", "defaults: {}\n", releaseCriteria, false},
		{"rings.md", "services: []\n", strideYAML, false},
		{"argocd.md", "# release-criteria.yaml\ndefaults: {}\n", releaseCriteria, false},
	}
	for _, tt := range tests {
		kind, rejected := exampleKind(tt.page, tt.body)
		if kind != tt.kind || rejected != tt.rejected {
			t.Errorf("exampleKind(%s, %q) = %s, %v, want %s, %v", tt.page, tt.body, kind, rejected, tt.kind, tt.rejected)
		}
	}
}
