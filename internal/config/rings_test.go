package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/rings"
)

func load(t *testing.T, yaml string) (Config, error) {
	t.Helper()
	return Load(writeConfig(t, yaml), false)
}

// writeConfig writes yaml to a stride.yaml of its own and returns its path.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stride.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRings(t *testing.T) {
	const file = `
services:
  - name: api
    rings:
      - {name: canary, soak: 30m}
      - {name: eu, soak: 1h30m}
      - {name: world, production: true}
  - name: web
`
	cfg, err := load(t, file)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		service string
		want    rings.Config
	}{
		{"configured rings in order with their soak times", "api", rings.Config{Service: "api", Rings: []rings.Ring{
			{Name: "canary", Soak: 30 * time.Minute}, {Name: "eu", Soak: 90 * time.Minute}, {Name: "world", Production: true}}}},
		{"a service without rings gets the default", "web", rings.DefaultConfig("web")},
		{"an unconfigured service gets the default", "unknown", rings.DefaultConfig("unknown")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cfg.Rings(tt.service); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Rings(%s) = %+v, want %+v", tt.service, got, tt.want)
			}
		})
	}
}

func TestInvalidRingsAreRefusedOnLoad(t *testing.T) {
	tests := []struct {
		name  string
		rings string
		want  string
	}{
		{"a soak that is not a duration", `[{name: a, soak: 2 days}]`, `rings[0].soak: "2 days" is not a duration`},
		{"a ring without a name", `[{soak: 1h}]`, "rings[0].name: is required"},
		{"a ring listed twice", `[{name: a}, {name: a}]`, "ring a appears twice"},
		{"a negative soak", `[{name: a, soak: -1h}]`, "is negative"},
		{"two production rings", `[{name: a, production: true}, {name: b, production: true}]`, "both production"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, "services:\n  - name: api\n    rings: "+tt.rings+"\n")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `service "api"`) {
				t.Errorf("err = %v, want it to name the service and say %q", err, tt.want)
			}
		})
	}
}

// TestOpenBugsCriterion reads a service's zero-bug-bounce criterion into
// its ring configuration, with or without rings of its own, and refuses
// one that names no priority or a ring the service does not have.
func TestOpenBugsCriterion(t *testing.T) {
	c, err := load(t, "services:\n  - name: api\n    open_bugs: {priorities: [Highest, High], max: 1, rings: [ring2]}\n"+
		"  - name: web\n    rings: [{name: canary}, {name: prod, production: true}]\n    open_bugs: {priorities: [Blocker], issue_types: [Bug, Defect]}\n")
	if err != nil {
		t.Fatal(err)
	}
	api, web := c.Rings("api").OpenBugs, c.Rings("web").OpenBugs
	if api == nil || api.Max != 1 || len(api.Priorities) != 2 || api.Rings[0] != "ring2" || api.Types()[0] != "Bug" {
		t.Errorf("api: %+v", api)
	}
	if web == nil || web.Max != 0 || len(web.Types()) != 2 {
		t.Errorf("web: %+v", web)
	}
	if c.Rings("other").OpenBugs != nil {
		t.Error("a service without the criterion has one")
	}
	for yaml, want := range map[string]string{
		"services:\n  - name: api\n    open_bugs: {max: 0}\n":                            "open_bugs.priorities",
		"services:\n  - name: api\n    open_bugs: {priorities: [High], rings: [prod]}\n": `"prod" is not a ring of api`,
	} {
		if _, err := load(t, yaml); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", yaml, err, want)
		}
	}
}
