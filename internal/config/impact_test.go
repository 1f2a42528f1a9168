package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/impact"
)

func TestImpactSettings(t *testing.T) {
	const prom = "slos: {prometheus_url: http://prom:9090}\n"
	tests := []struct {
		name, yaml string
		def        impact.Options
		api        ServiceImpact
		apdex      time.Duration
		err        string
	}{
		{"left out, the defaults", "services:\n  - name: api\n", impact.Defaults, ServiceImpact{Options: impact.Defaults}, 0, ""},
		{"the top section for all, a service over it",
			prom + "impact: {before: 15m, min_calls: 500}\nservices:\n  - name: api\n    apdex_t: 300ms\n    impact:\n      after: 1h\n      error_rate_increase: 0.02\n      prometheus: {calls: c, errors: e, latency: l}\n",
			withOpts(func(o *impact.Options) { o.Before, o.MinCalls = 15*time.Minute, 500 }),
			ServiceImpact{Options: withOpts(func(o *impact.Options) {
				o.Before, o.After, o.MinCalls, o.ErrorRateIncrease = 15*time.Minute, time.Hour, 500, 0.02
			}),
				Calls: "c", Errors: "e", Latency: "l"}, 300 * time.Millisecond, ""},
		{"a part of a minute", "impact: {before: 90s}\n", impact.Options{}, ServiceImpact{}, 0, "impact: before must be whole minutes"},
		{"calls without errors", prom + "services:\n  - name: api\n    impact: {prometheus: {calls: c}}\n", impact.Options{}, ServiceImpact{}, 0, "calls and errors go together"},
		{"queries without a server", "services:\n  - name: api\n    impact: {prometheus: {latency: l}}\n", impact.Options{}, ServiceImpact{}, 0, "need slos: prometheus_url"},
		{"queries at the top", prom + "impact: {prometheus: {latency: l}}\n", impact.Options{}, ServiceImpact{}, 0, "belong to a service"},
		{"an increase of 100 %", "impact: {error_rate_increase: 1}\n", impact.Options{}, ServiceImpact{}, 0, "error_rate_increase must be a fraction"},
		{"apdex queries without apdex_t", prom + "services:\n  - name: api\n    impact: {prometheus: {apdex: {within_t: a, within_4t: b, total: c}}}\n", impact.Options{}, ServiceImpact{}, 0, "apdex needs the service's apdex_t"},
		{"apdex queries, two of three", prom + "services:\n  - name: api\n    apdex_t: 1s\n    impact: {prometheus: {apdex: {within_t: a, total: c}}}\n", impact.Options{}, ServiceImpact{}, 0, "apdex needs within_t, within_4t and total"},
		{"apdex queries", prom + "services:\n  - name: api\n    apdex_t: 1s\n    impact: {prometheus: {apdex: {within_t: a, within_4t: b, total: c}}}\n", impact.Defaults,
			ServiceImpact{Options: impact.Defaults, Apdex: ApdexQueries{WithinT: "a", Within4T: "b", Total: "c"}}, time.Second, ""},
		{"no T", "services:\n  - name: api\n    apdex_t: 0s\n", impact.Options{}, ServiceImpact{}, 0, "apdex_t must be a positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "stride.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path, false)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			def, per, apdex, err := c.ImpactSettings()
			if err != nil || def != tt.def || per["api"] != tt.api || apdex["api"] != tt.apdex {
				t.Errorf("got %+v %+v %v %v, want %+v %+v %v", def, per["api"], apdex, err, tt.def, tt.api, tt.apdex)
			}
		})
	}
}

func withOpts(f func(*impact.Options)) impact.Options {
	o := impact.Defaults
	f(&o)
	return o
}
