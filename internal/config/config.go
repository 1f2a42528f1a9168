// Package config reads stride.yaml: the database, the listen address, the
// services with their teams and repositories, the mapping rules and the
// webhook sources with their secrets. Values may name environment variables
// (${GITHUB_WEBHOOK_SECRET}), so secrets stay out of the file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
)

// Config is the content of stride.yaml.
type Config struct {
	DB                     string    `yaml:"db"`
	Addr                   string    `yaml:"addr"`
	ProductionEnvironments []string  `yaml:"production_environments"`
	IncidentLabels         []string  `yaml:"incident_labels"`
	HotfixLabels           []string  `yaml:"hotfix_labels"`
	Services               []Service `yaml:"services"`
	Sources                Sources   `yaml:"sources"`
	// Thresholds overrides the DORA tier boundaries of docs/metrics.md; a value
	// left out keeps its default.
	Thresholds Thresholds `yaml:"thresholds"`
}

// Thresholds are the overridable tier boundaries. Durations are Go
// durations ("24h", "168h").
type Thresholds struct {
	DeploymentFrequency struct {
		EliteDaysPerWeek   *float64 `yaml:"elite_days_per_week"`
		HighDaysPerWeek    *float64 `yaml:"high_days_per_week"`
		MediumDaysPerMonth *float64 `yaml:"medium_days_per_month"`
	} `yaml:"deployment_frequency"`
	LeadTime          DurationThresholds `yaml:"lead_time"`
	ChangeFailureRate struct {
		Elite  *float64 `yaml:"elite"`
		High   *float64 `yaml:"high"`
		Medium *float64 `yaml:"medium"`
	} `yaml:"change_failure_rate"`
	TimeToRestore DurationThresholds `yaml:"time_to_restore"`
}

// DurationThresholds are the three upper bounds of a duration key.
type DurationThresholds struct {
	Elite  *time.Duration `yaml:"elite"`
	High   *time.Duration `yaml:"high"`
	Medium *time.Duration `yaml:"medium"`
}

// Service is one service's entry.
type Service struct {
	Name         string   `yaml:"name"`
	Team         string   `yaml:"team"`
	Repositories []string `yaml:"repositories"`
	// Paths are monorepo path prefixes.
	Paths []string `yaml:"paths"`
	// Base names commits whose history predates Stride: changes reachable
	// from them are not counted as shipped.
	Base []string `yaml:"base"`
	// Rings is the service's rollout, in order; rings.DefaultConfig when empty.
	Rings []Ring `yaml:"rings"`
}

// Sources holds each webhook source's settings; a nil entry is a source
// that is not enabled.
type Sources struct {
	GitHub *struct {
		Secret                string `yaml:"secret"`
		ReleasesAsDeployments bool   `yaml:"releases_as_deployments"`
		// DeployTags and ExcludeTags are glob patterns (path.Match) of
		// the tags whose releases and tag pushes count as deployments;
		// no deploy_tags means every tag.
		DeployTags      []string `yaml:"deploy_tags"`
		ExcludeTags     []string `yaml:"exclude_tags"`
		DefaultSeverity *int     `yaml:"default_severity"`
	} `yaml:"github"`
	GitLab *struct {
		Token string `yaml:"token"`
	} `yaml:"gitlab"`
	Jira *struct {
		Secret                  string            `yaml:"secret"`
		StoryPointsField        string            `yaml:"story_points_field"`
		SprintField             string            `yaml:"sprint_field"`
		AcceptanceCriteriaField string            `yaml:"acceptance_criteria_field"`
		IncidentIssueTypes      []string          `yaml:"incident_issue_types"`
		ProjectTeams            map[string]string `yaml:"project_teams"`
	} `yaml:"jira"`
	PagerDuty *struct {
		Secrets  []string          `yaml:"secrets"`
		Services map[string]string `yaml:"services"`
	} `yaml:"pagerduty"`
	Alertmanager *struct {
		Token         string         `yaml:"token"`
		SeverityLabel string         `yaml:"severity_label"`
		Severity      map[string]int `yaml:"severity"`
		ServiceLabel  string         `yaml:"service_label"`
	} `yaml:"alertmanager"`
	ArgoCD *struct {
		Token string `yaml:"token"`
	} `yaml:"argocd"`
	CDEvents *struct {
		Token string `yaml:"token"`
	} `yaml:"cdevents"`
}

// Load reads path; a missing file is an empty configuration when optional.
func Load(path string, optional bool) (Config, error) {
	var c Config
	body, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && optional {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read config: %w", err)
	}
	expanded := os.Expand(string(body), func(name string) string { return os.Getenv(name) })
	dec := yaml.NewDecoder(bytes.NewReader([]byte(expanded)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, errEOF(err)) {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	if _, err := c.DORAThresholds(); err != nil {
		return c, err
	}
	return c, nil
}

// errEOF lets an empty file through: yaml.v3 reports it as io.EOF.
func errEOF(err error) error {
	if err != nil && err.Error() == "EOF" {
		return err
	}
	return errors.New("not eof")
}

// Validate checks what a mistake in the file would otherwise make silent.
func (c Config) Validate() error {
	seen := map[string]bool{}
	for i, s := range c.Services {
		if strings.TrimSpace(s.Name) == "" {
			return fmt.Errorf("config: services[%d]: name is required", i)
		}
		if seen[s.Name] {
			return fmt.Errorf("config: service %q is listed twice", s.Name)
		}
		seen[s.Name] = true
		if _, err := s.ringConfig(); err != nil {
			return fmt.Errorf("config: service %q: %w", s.Name, err)
		}
	}
	if g := c.Sources.GitHub; g != nil {
		for _, f := range []struct {
			field    string
			patterns []string
		}{{"deploy_tags", g.DeployTags}, {"exclude_tags", g.ExcludeTags}} {
			for _, p := range f.patterns {
				// A malformed pattern would silently match no tag.
				if _, err := path.Match(p, ""); err != nil {
					return fmt.Errorf("config: sources.github.%s: %q is not a valid glob pattern", f.field, p)
				}
			}
		}
	}
	return nil
}

// DORAThresholds returns the tier boundaries: the defaults with the
// configured overrides applied. Boundaries out of order (a "high" stricter
// than "elite") are an error, since every team would land in one tier.
func (c Config) DORAThresholds() (dora.Thresholds, error) {
	th := dora.DefaultThresholds()
	t := c.Thresholds
	setF := func(dst *float64, src *float64) {
		if src != nil {
			*dst = *src
		}
	}
	setD := func(dst *time.Duration, src *time.Duration) {
		if src != nil {
			*dst = *src
		}
	}
	setF(&th.DeploymentFrequency.EliteDaysPerWeek, t.DeploymentFrequency.EliteDaysPerWeek)
	setF(&th.DeploymentFrequency.HighDaysPerWeek, t.DeploymentFrequency.HighDaysPerWeek)
	setF(&th.DeploymentFrequency.MediumDaysPerMonth, t.DeploymentFrequency.MediumDaysPerMonth)
	setF(&th.ChangeFailureRate.Elite, t.ChangeFailureRate.Elite)
	setF(&th.ChangeFailureRate.High, t.ChangeFailureRate.High)
	setF(&th.ChangeFailureRate.Medium, t.ChangeFailureRate.Medium)
	setD(&th.LeadTime.Elite, t.LeadTime.Elite)
	setD(&th.LeadTime.High, t.LeadTime.High)
	setD(&th.LeadTime.Medium, t.LeadTime.Medium)
	setD(&th.TimeToRestore.Elite, t.TimeToRestore.Elite)
	setD(&th.TimeToRestore.High, t.TimeToRestore.High)
	setD(&th.TimeToRestore.Medium, t.TimeToRestore.Medium)
	df, lt, cfr, ttr := th.DeploymentFrequency, th.LeadTime, th.ChangeFailureRate, th.TimeToRestore
	switch {
	case df.EliteDaysPerWeek < df.HighDaysPerWeek:
		return th, errors.New("config: thresholds.deployment_frequency: elite_days_per_week is below high_days_per_week")
	case lt.Elite > lt.High || lt.High > lt.Medium:
		return th, errors.New("config: thresholds.lead_time: want elite ≤ high ≤ medium")
	case cfr.Elite > cfr.High || cfr.High > cfr.Medium:
		return th, errors.New("config: thresholds.change_failure_rate: want elite ≤ high ≤ medium")
	case ttr.Elite > ttr.High || ttr.High > ttr.Medium:
		return th, errors.New("config: thresholds.time_to_restore: want elite ≤ high ≤ medium")
	}
	return th, nil
}

// Mapping returns the mapping rules the connectors apply.
func (c Config) Mapping() delivery.Mapping {
	m := delivery.Mapping{
		ProductionEnvironments: c.ProductionEnvironments,
		IncidentLabels:         c.IncidentLabels,
		HotfixLabels:           c.HotfixLabels,
	}
	for _, s := range c.Services {
		m.Services = append(m.Services, delivery.ServiceMapping{Name: s.Name, Team: s.Team, Repositories: s.Repositories, Paths: s.Paths})
	}
	return m
}
