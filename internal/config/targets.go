package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
)

// Team is one entry of the teams: section: what a team sets for all its
// services: its DORA targets, and when and where its weekly digest goes.
type Team struct {
	Name    string       `yaml:"name"`
	Targets dora.Targets `yaml:"targets"`
	Digest  *TeamDigest  `yaml:"digest"`
	// WorkingHours is when and in which time zone the team works: its
	// deployments are placed in hours and weekdays of that zone (UTC,
	// with a warning, when unset), and those outside the hours (Monday
	// to Friday, 09:00 to 18:00, when unset) are counted.
	WorkingHours WorkingHours `yaml:"working_hours"`
}

// validateTeams checks the teams: section and every targets: block, so a
// target no team could meet (a change failure rate of 10, "8 days a week")
// is refused when the file is loaded rather than judged "no" forever.
func (c Config) validateTeams() error {
	seen := map[string]bool{}
	for i, t := range c.Teams {
		if strings.TrimSpace(t.Name) == "" {
			return fmt.Errorf("config: teams[%d]: name is required", i)
		}
		if seen[t.Name] {
			return fmt.Errorf("config: team %q is listed twice", t.Name)
		}
		seen[t.Name] = true
		if err := t.Targets.Validate(); err != nil {
			return fmt.Errorf("config: teams[%d] (%s).%s", i, t.Name, targetError(err))
		}
		if _, err := t.WorkWeek(); err != nil {
			return fmt.Errorf("config: teams[%d] (%s).%w", i, t.Name, err)
		}
	}
	for i, s := range c.Services {
		if err := s.Targets.Validate(); err != nil {
			return fmt.Errorf("config: services[%d] (%s).%s", i, s.Name, targetError(err))
		}
	}
	return nil
}

// targetError spells a dora.Targets.Validate error as "field: message".
func targetError(err error) string {
	var de *delivery.Error
	if errors.As(err, &de) && de.Field != "" {
		return de.Field + ": " + de.Message
	}
	return err.Error()
}

// TeamTargets returns the targets of the team named, empty when it sets
// none.
func (c Config) TeamTargets(team string) dora.Targets {
	for _, t := range c.Teams {
		if t.Name == team {
			return t.Targets
		}
	}
	return dora.Targets{}
}

// TargetsOf returns the targets that hold for a service of team: its
// team's, with each key the service sets itself taking the service's
// value. A service that is not configured gets its team's.
func (c Config) TargetsOf(service, team string) dora.Targets {
	own := dora.Targets{}
	for _, s := range c.Services {
		if s.Name == service {
			own = s.Targets
			if team == "" {
				team = s.Team
			}
		}
	}
	return OverrideTargets(c.TeamTargets(team), own)
}

// OverrideTargets returns base with every key over sets replaced by
// over's value.
func OverrideTargets(base, over dora.Targets) dora.Targets {
	if over.DeploymentDaysPerWeek != nil {
		base.DeploymentDaysPerWeek = over.DeploymentDaysPerWeek
	}
	if over.LeadTime != nil {
		base.LeadTime = over.LeadTime
	}
	if over.ChangeFailureRate != nil {
		base.ChangeFailureRate = over.ChangeFailureRate
	}
	if over.TimeToRestore != nil {
		base.TimeToRestore = over.TimeToRestore
	}
	if over.CommitToProduction != nil {
		base.CommitToProduction = over.CommitToProduction
	}
	return base
}
