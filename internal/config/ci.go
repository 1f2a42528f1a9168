package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/cihealth"
)

// CI is the ci: section: what the CI health report cannot learn from
// builds.
type CI struct {
	// DefaultBranches names the default branch of repositories whose
	// builds' sources do not say it (GitLab's and GitHub's do), or say it
	// wrong: repository → branch.
	DefaultBranches map[string]string `yaml:"default_branches"`
}

// WorkingHours is a team's working week, spelt as response's
// business_hours are: an IANA time zone, weekdays (mon … sun) and local
// hours from start to end (HH:MM, end excluded).
type WorkingHours struct {
	Timezone string   `yaml:"timezone"`
	Weekdays []string `yaml:"weekdays"`
	Start    string   `yaml:"start"`
	End      string   `yaml:"end"`
}

// WorkWeek is the team's working week as stride.yaml sets it, each unset
// part taking cihealth.DefaultWorkWeek's. Errors name the field.
func (t Team) WorkWeek() (cihealth.WorkWeek, error) {
	w := cihealth.DefaultWorkWeek(t.Name)
	h := t.WorkingHours
	if h.Timezone != "" {
		loc, err := time.LoadLocation(h.Timezone)
		if err != nil {
			return w, fmt.Errorf("working_hours.timezone: %q is not an IANA time zone such as Europe/Berlin", h.Timezone)
		}
		w.Location, w.ZoneAssumed = loc, false
	}
	if len(h.Weekdays) > 0 {
		w.Days = [7]bool{}
		for i, d := range h.Weekdays {
			wd, ok := weekdays[strings.ToLower(strings.TrimSpace(d))]
			if !ok {
				return w, fmt.Errorf("working_hours.weekdays[%d]: want mon … sun, got %q", i, d)
			}
			w.Days[wd] = true
		}
	}
	var err error
	if h.Start != "" {
		if w.Start, err = clock(h.Start); err != nil {
			return w, fmt.Errorf("working_hours.start: %v", err)
		}
	}
	if h.End != "" {
		if w.End, err = clock(h.End); err != nil {
			return w, fmt.Errorf("working_hours.end: %v", err)
		}
	}
	if w.End <= w.Start {
		return w, fmt.Errorf("working_hours: the end (%s after midnight) is not after the start (%s)", w.End, w.Start)
	}
	return w, nil
}

// CIHealth is what the CI health report takes from stride.yaml.
type CIHealth struct {
	DefaultBranches map[string]string
	TeamTargets     map[string]time.Duration
	ServiceTargets  map[string]time.Duration
	Weeks           map[string]cihealth.WorkWeek
}

// CIHealth gathers the default branches, the commit-to-production targets
// of teams and services, and the working week of each team listed.
func (c Config) CIHealth() (CIHealth, error) {
	out := CIHealth{DefaultBranches: c.CI.DefaultBranches, TeamTargets: map[string]time.Duration{},
		ServiceTargets: map[string]time.Duration{}, Weeks: map[string]cihealth.WorkWeek{}}
	for _, t := range c.Teams {
		w, err := t.WorkWeek()
		if err != nil {
			return out, fmt.Errorf("config: team %s: %w", t.Name, err)
		}
		out.Weeks[t.Name] = w
		if t.Targets.CommitToProduction != nil {
			out.TeamTargets[t.Name] = *t.Targets.CommitToProduction
		}
	}
	for _, s := range c.Services {
		if s.Targets.CommitToProduction != nil {
			out.ServiceTargets[s.Name] = *s.Targets.CommitToProduction
		}
	}
	return out, nil
}
