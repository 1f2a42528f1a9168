package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestIncidentCauseWindows(t *testing.T) {
	tests := []struct {
		name, yaml string
		def        time.Duration
		per        map[string]time.Duration
		err        string
	}{
		{"left out, the window is a day", "services:\n  - name: api\n", 24 * time.Hour, map[string]time.Duration{}, ""},
		{"a service overrides the default", "incident_cause_window: 6h\nservices:\n  - name: api\n    incident_cause_window: 72h\n  - name: web\n",
			6 * time.Hour, map[string]time.Duration{"api": 72 * time.Hour}, ""},
		{"a zero window is refused, naming the key", "services:\n  - name: api\n    incident_cause_window: 0s\n", 0, nil, "services: api: incident_cause_window must be a positive duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "stride.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path, false)
			if err != nil {
				t.Fatal(err)
			}
			def, per, err := c.IncidentCauseWindows()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || def != tt.def || len(per) != len(tt.per) {
				t.Fatalf("windows %v %v %v; want %v %v", def, per, err, tt.def, tt.per)
			}
			for k, v := range tt.per {
				if per[k] != v {
					t.Errorf("window of %s = %v, want %v", k, per[k], v)
				}
			}
		})
	}
}
