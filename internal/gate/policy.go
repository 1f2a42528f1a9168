package gate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stride-oss/stride/internal/delivery"
)

// Policy is a release-criteria file: defaults for every service and
// overrides per service. Fields left out of a service's block fall back to
// the file's defaults, and those to the built-in Defaults, so a team only
// writes down where it differs.
//
//	defaults:
//	  min_coverage: 95        # percent
//	  max_high: 2
//	  allow:
//	    - {id: CVE-2024-1234, expires: 2026-12-31, reason: no upstream fix}
//	services:
//	  api:
//	    min_coverage: 90
//	    max_p95_ms: 300
type Policy struct {
	Defaults Rules            `yaml:"defaults"`
	Services map[string]Rules `yaml:"services"`
}

// Rules is one layer of a policy. Pointer fields tell "not set" from zero:
// max_high: 0 is a rule, a missing max_high inherits.
type Rules struct {
	MinCoverage    *float64       `yaml:"min_coverage"`
	MaxFailedTests *int           `yaml:"max_failed_tests"`
	MinTests       *int           `yaml:"min_tests"`
	MaxSARIFErrors *int           `yaml:"max_sarif_errors"`
	MaxCritical    *int           `yaml:"max_critical"`
	MaxHigh        *int           `yaml:"max_high"`
	MaxP95MS       *float64       `yaml:"max_p95_ms"`
	MaxP99MS       *float64       `yaml:"max_p99_ms"`
	MaxErrorRate   *float64       `yaml:"max_error_rate"` // percent
	MaxBuildTime   *time.Duration `yaml:"max_build_time"`
	// Allow lists vulnerability IDs that do not count against max_critical
	// and max_high until they expire. A service's list adds to the defaults'.
	Allow []Allowance `yaml:"allow"`
	// FixBranches are patterns (as git matches them: * crosses /) of the
	// branches whose changes are fixes, which a service frozen by a spent
	// error budget still accepts. A service's list adds to the defaults'.
	FixBranches []string `yaml:"fix_branches"`
	// FixLabels are patterns (matched as fix_branches are) of the labels
	// that mark a change as a fix: given with --label, or carried by a
	// stored pull request of the commit. A service's list adds to the
	// defaults'.
	FixLabels []string `yaml:"fix_labels"`
	// RequireGates names gates whose latest result on the commit must
	// have passed, such as sonarqube (recorded by SonarQube's webhook);
	// judged with --server. A service's list adds to the defaults'.
	RequireGates []string `yaml:"require_gates"`
}

// Allowance accepts one vulnerability until the end of its expiry date
// (UTC), so that an accepted risk is revisited rather than forgotten.
type Allowance struct {
	ID      string `yaml:"id" json:"id"`
	Expires string `yaml:"expires" json:"expires"` // YYYY-MM-DD
	Reason  string `yaml:"reason" json:"reason,omitempty"`
}

// Until returns the first instant the allowance no longer applies.
func (a Allowance) Until() (time.Time, error) {
	d, err := time.Parse(time.DateOnly, a.Expires)
	if err != nil {
		return time.Time{}, fmt.Errorf("allow %s: expires %q: want YYYY-MM-DD", a.ID, a.Expires)
	}
	return d.AddDate(0, 0, 1), nil
}

// Criteria are the resolved thresholds for one service.
type Criteria struct {
	Service        string
	MinCoverage    float64
	MaxFailedTests int
	MinTests       int
	MaxSARIFErrors int
	MaxCritical    int
	MaxHigh        int
	MaxP95MS       float64
	MaxP99MS       *float64 // judged only when set
	MaxErrorRate   float64  // percent
	MaxBuildTime   time.Duration
	Allow          []Allowance
	FixBranches    []string
	FixLabels      []string
	RequireGates   []string
}

// IsFix reports whether a change on branch is a fix by the criteria's
// fix_branches.
func (c Criteria) IsFix(branch string) bool {
	if branch == "" {
		return false
	}
	for _, p := range c.FixBranches {
		if delivery.MatchTag(p, branch) {
			return true
		}
	}
	return false
}

// Defaults are the release criteria when a policy says nothing: the bar the
// issue sets (95 % coverage, no failing test, no SARIF error, no critical
// and no high vulnerability) and moderate service limits.
func Defaults(service string) Criteria {
	return Criteria{
		Service:        service,
		MinCoverage:    95,
		MaxFailedTests: 0,
		MinTests:       1,
		MaxSARIFErrors: 0,
		MaxCritical:    0,
		MaxHigh:        0,
		MaxP95MS:       500,
		MaxErrorRate:   1,
		MaxBuildTime:   15 * time.Minute,
	}
}

// ReadPolicy reads and validates a policy file.
func ReadPolicy(path string) (Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Policy{}, fmt.Errorf("policy: %w", err)
	}
	p, err := ParsePolicy(bytes.NewReader(data))
	if err != nil {
		return Policy{}, fmt.Errorf("policy %s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy parses a policy and validates every layer. Unknown keys are
// errors: a misspelt "min_coverge" must not silently leave the default.
func ParsePolicy(r io.Reader) (Policy, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var p Policy
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return Policy{}, fmt.Errorf("parse yaml: %w", err)
	}
	if err := p.Defaults.validate(); err != nil {
		return Policy{}, fmt.Errorf("defaults: %w", err)
	}
	for name, r := range p.Services {
		if err := r.validate(); err != nil {
			return Policy{}, fmt.Errorf("service %s: %w", name, err)
		}
	}
	return p, nil
}

func (r Rules) validate() error {
	var errs []error
	percent := func(name string, v *float64) {
		if v != nil && (*v < 0 || *v > 100) {
			errs = append(errs, fmt.Errorf("%s %v: want a percentage in [0, 100]", name, *v))
		}
	}
	count := func(name string, v *int) {
		if v != nil && *v < 0 {
			errs = append(errs, fmt.Errorf("%s %d: want ≥ 0", name, *v))
		}
	}
	positive := func(name string, v *float64) {
		if v != nil && *v <= 0 {
			errs = append(errs, fmt.Errorf("%s %v: want > 0", name, *v))
		}
	}
	percent("min_coverage", r.MinCoverage)
	percent("max_error_rate", r.MaxErrorRate)
	count("max_failed_tests", r.MaxFailedTests)
	count("min_tests", r.MinTests)
	count("max_sarif_errors", r.MaxSARIFErrors)
	count("max_critical", r.MaxCritical)
	count("max_high", r.MaxHigh)
	positive("max_p95_ms", r.MaxP95MS)
	positive("max_p99_ms", r.MaxP99MS)
	if r.MaxBuildTime != nil && *r.MaxBuildTime <= 0 {
		errs = append(errs, fmt.Errorf("max_build_time %v: want > 0", *r.MaxBuildTime))
	}
	for i, p := range r.FixBranches {
		if err := delivery.CheckTagPattern(p); err != nil {
			errs = append(errs, fmt.Errorf("fix_branches[%d] %q: %v", i, p, delivery.ErrorMessage(err)))
		}
	}
	for i, g := range r.RequireGates {
		if strings.TrimSpace(g) == "" {
			errs = append(errs, fmt.Errorf("require_gates[%d]: names no gate", i))
		}
	}
	for i, p := range r.FixLabels {
		if err := delivery.CheckTagPattern(p); err != nil {
			errs = append(errs, fmt.Errorf("fix_labels[%d] %q: %v", i, p, delivery.ErrorMessage(err)))
		}
	}
	for i, a := range r.Allow {
		if a.ID == "" {
			errs = append(errs, fmt.Errorf("allow[%d]: id is required", i))
		}
		if _, err := a.Until(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// For resolves the criteria of a service: built-in defaults, then the
// policy's defaults, then the service's own rules.
func (p Policy) For(service string) Criteria {
	c := Defaults(service)
	c.apply(p.Defaults)
	if r, ok := p.Services[service]; ok {
		c.apply(r)
	}
	return c
}

func (c *Criteria) apply(r Rules) {
	set := func(dst *float64, v *float64) {
		if v != nil {
			*dst = *v
		}
	}
	setInt := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.MinCoverage, r.MinCoverage)
	setInt(&c.MaxFailedTests, r.MaxFailedTests)
	setInt(&c.MinTests, r.MinTests)
	setInt(&c.MaxSARIFErrors, r.MaxSARIFErrors)
	setInt(&c.MaxCritical, r.MaxCritical)
	setInt(&c.MaxHigh, r.MaxHigh)
	set(&c.MaxP95MS, r.MaxP95MS)
	if r.MaxP99MS != nil {
		v := *r.MaxP99MS
		c.MaxP99MS = &v
	}
	set(&c.MaxErrorRate, r.MaxErrorRate)
	if r.MaxBuildTime != nil {
		c.MaxBuildTime = *r.MaxBuildTime
	}
	c.Allow = append(c.Allow, r.Allow...)
	c.FixBranches = append(c.FixBranches, r.FixBranches...)
	c.FixLabels = append(c.FixLabels, r.FixLabels...)
	for _, g := range r.RequireGates {
		if !slices.Contains(c.RequireGates, g) {
			c.RequireGates = append(c.RequireGates, g)
		}
	}
}
