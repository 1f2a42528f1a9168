package config

import (
	"fmt"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/rings"
)

// Ring is one ring of a service's rollout as stride.yaml writes it. Soak is
// a Go duration ("2h", "90m"; "" or "0" for none), so the file reads as a
// person would write it rather than in nanoseconds.
type Ring struct {
	Name       string `yaml:"name"`
	Soak       string `yaml:"soak"`
	Production bool   `yaml:"production"`
	// Approval requires a sign-off (stride approve) to enter the ring.
	Approval bool `yaml:"approval"`
	// RequireGates names gates (such as sonarqube) that must have passed
	// on a commit before it enters the ring.
	RequireGates []string `yaml:"require_gates"`
}

// Rings returns a service's ring configuration: the rings stride.yaml lists
// for it, or rings.DefaultConfig when it lists none or the service is not
// configured at all, so every service can be promoted. Load has validated
// the rings, so an invalid entry cannot reach here from a loaded file.
func (c Config) Rings(service string) rings.Config {
	for _, s := range c.Services {
		if s.Name == service {
			if rc, err := s.ringConfig(); err == nil {
				return rc
			}
		}
	}
	return rings.DefaultConfig(service)
}

// ringConfig converts and validates the service's rings. At most one ring
// may be production: deployments that name no ring are counted in it, which
// would be ambiguous with two.
func (s Service) ringConfig() (rings.Config, error) {
	if len(s.Rings) == 0 {
		rc := rings.DefaultConfig(s.Name)
		rc.OpenBugs = s.OpenBugs
		return rc, rc.Validate()
	}
	rc := rings.Config{Service: s.Name, OpenBugs: s.OpenBugs}
	production := ""
	for i, r := range s.Rings {
		var soak time.Duration
		if r.Soak != "" {
			var err error
			if soak, err = time.ParseDuration(r.Soak); err != nil {
				return rc, fmt.Errorf("rings[%d].soak: %q is not a duration like 2h or 90m: %w", i, r.Soak, err)
			}
		}
		if r.Production {
			if production != "" {
				return rc, delivery.FieldError(fmt.Sprintf("rings[%d].production", i), "rings %s and %s are both production; at most one may be", production, r.Name)
			}
			production = r.Name
		}
		rc.Rings = append(rc.Rings, rings.Ring{Name: r.Name, Soak: soak, Production: r.Production, Approval: r.Approval,
			RequireGates: r.RequireGates})
	}
	if err := rc.Validate(); err != nil {
		return rc, err
	}
	return rc, nil
}
