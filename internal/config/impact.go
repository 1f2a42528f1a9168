package config

import (
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/impact"
)

// Impact is the deployment impact section, at the top of stride.yaml (the
// defaults of every service) or in a service (its own): the window each
// side of a deployment and the thresholds that flag it (docs/impact.md).
// A setting left out takes the top section's, then impact.Defaults.
type Impact struct {
	Before            *time.Duration `yaml:"before"`
	After             *time.Duration `yaml:"after"`
	MinCalls          *int64         `yaml:"min_calls"`
	ErrorRateIncrease *float64       `yaml:"error_rate_increase"`
	ErrorRateRatio    *float64       `yaml:"error_rate_ratio"`
	LatencyIncrease   *time.Duration `yaml:"latency_increase"`
	LatencyRatio      *float64       `yaml:"latency_ratio"`
	// Prometheus holds a service's own queries, pulled from
	// slos.prometheus_url; only a service's section takes them.
	Prometheus struct {
		Calls   string `yaml:"calls"`
		Errors  string `yaml:"errors"`
		Latency string `yaml:"latency"`
		// Apdex counts per minute from a latency histogram, against the
		// service's apdex_t.
		Apdex ApdexQueries `yaml:"apdex"`
	} `yaml:"prometheus"`
}

// ApdexQueries count a minute's calls answered within T (the histogram
// bucket le=T), within 4T (le=4T) and all of them.
type ApdexQueries struct {
	WithinT  string `yaml:"within_t"`
	Within4T string `yaml:"within_4t"`
	Total    string `yaml:"total"`
}

// ServiceImpact is what one service sets, as the impact job takes it.
type ServiceImpact struct {
	Options                impact.Options
	Calls, Errors, Latency string
	Apdex                  ApdexQueries
}

// ImpactSettings returns the impact options of services that set none,
// each service's own options and queries, and each service's Apdex T.
// Every error is an EINVALID naming the setting.
func (c Config) ImpactSettings() (impact.Options, map[string]ServiceImpact, map[string]time.Duration, error) {
	if tp := c.Impact.Prometheus; tp.Calls != "" || tp.Errors != "" || tp.Latency != "" || tp.Apdex != (ApdexQueries{}) {
		return impact.Options{}, nil, nil, delivery.Errorf(delivery.EINVALID, "config: impact: prometheus queries belong to a service (services: NAME: impact: prometheus)")
	}
	def, err := c.Impact.options("impact", impact.Defaults)
	if err != nil {
		return impact.Options{}, nil, nil, err
	}
	per := map[string]ServiceImpact{}
	apdex := map[string]time.Duration{}
	for _, s := range c.Services {
		at := "services: " + s.Name + ": impact"
		o, err := s.Impact.options(at, def)
		if err != nil {
			return impact.Options{}, nil, nil, err
		}
		p := s.Impact.Prometheus
		if (p.Calls == "") != (p.Errors == "") {
			return impact.Options{}, nil, nil, delivery.Errorf(delivery.EINVALID, "config: %s: prometheus: calls and errors go together: the error rate is errors/calls", at)
		}
		if a := p.Apdex; a != (ApdexQueries{}) {
			if a.WithinT == "" || a.Within4T == "" || a.Total == "" {
				return impact.Options{}, nil, nil, delivery.Errorf(delivery.EINVALID, "config: %s: prometheus: apdex needs within_t, within_4t and total", at)
			}
			if s.ApdexT == nil {
				return impact.Options{}, nil, nil, delivery.Errorf(delivery.EINVALID, "config: %s: prometheus: apdex needs the service's apdex_t, the T its within_t bucket is", at)
			}
		}
		if (p.Calls != "" || p.Latency != "" || p.Apdex.Total != "") && c.SLOs.PrometheusURL == "" {
			return impact.Options{}, nil, nil, delivery.Errorf(delivery.EINVALID, "config: %s: prometheus: queries need slos: prometheus_url, the server they are asked of", at)
		}
		per[s.Name] = ServiceImpact{Options: o, Calls: p.Calls, Errors: p.Errors, Latency: p.Latency, Apdex: p.Apdex}
		if s.ApdexT != nil {
			if *s.ApdexT <= 0 || *s.ApdexT%time.Millisecond != 0 {
				return impact.Options{}, nil, nil, delivery.Errorf(delivery.EINVALID, "config: services: %s: apdex_t must be a positive whole number of milliseconds such as 300ms, got %s", s.Name, *s.ApdexT)
			}
			apdex[s.Name] = *s.ApdexT
		}
	}
	return def, per, apdex, nil
}

// options lays i over base, refusing settings that cannot work.
func (i Impact) options(at string, base impact.Options) (impact.Options, error) {
	o := base
	bad := func(field, want string, got any) error {
		return delivery.Errorf(delivery.EINVALID, "config: %s: %s must be %s, got %v", at, field, want, got)
	}
	if d := i.Before; d != nil {
		if *d < time.Minute || *d%time.Minute != 0 {
			return o, bad("before", "whole minutes such as 30m", *d)
		}
		o.Before = *d
	}
	if d := i.After; d != nil {
		if *d < time.Minute || *d%time.Minute != 0 {
			return o, bad("after", "whole minutes such as 30m", *d)
		}
		o.After = *d
	}
	if n := i.MinCalls; n != nil {
		if *n < 1 {
			return o, bad("min_calls", "at least 1", *n)
		}
		o.MinCalls = *n
	}
	if f := i.ErrorRateIncrease; f != nil {
		if *f <= 0 || *f >= 1 {
			return o, bad("error_rate_increase", "a fraction between 0 and 1 such as 0.01 (one percentage point)", *f)
		}
		o.ErrorRateIncrease = *f
	}
	if f := i.ErrorRateRatio; f != nil {
		if *f <= 0 {
			return o, bad("error_rate_ratio", "more than 0 (1 means the rate doubled)", *f)
		}
		o.ErrorRateRatio = *f
	}
	if d := i.LatencyIncrease; d != nil {
		if *d <= 0 {
			return o, bad("latency_increase", "a positive duration such as 100ms", *d)
		}
		o.LatencyIncrease = *d
	}
	if f := i.LatencyRatio; f != nil {
		if *f <= 0 {
			return o, bad("latency_ratio", "more than 0 (0.5 means half as slow again)", *f)
		}
		o.LatencyRatio = *f
	}
	return o, nil
}
