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
