package main

import (
	"slices"
	"sort"

	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/server"
)

// incidentReporters are the sources whose deliveries are incidents
// whatever their settings; github, gitlab and jira report incidents only
// through the incident_labels of stride.yaml.
var incidentReporters = []string{"pagerduty", "alertmanager", "cdevents"}

// catalogOf is what the server's dashboard and DORA targets need of the
// configuration.
func catalogOf(cfg config.Config) server.Catalog {
	c := server.Catalog{ThresholdsConfigured: cfg.Thresholds != (config.Thresholds{})}
	for _, t := range cfg.Teams {
		c.Teams = append(c.Teams, server.CatalogTeam{Name: t.Name, Targets: t.Targets})
	}
	for _, s := range cfg.Services {
		c.Services = append(c.Services, server.CatalogService{Name: s.Name, Team: s.Team, Targets: cfg.TargetsOf(s.Name, s.Team)})
	}
	for name := range cfg.Sources {
		c.Sources = append(c.Sources, name)
		if slices.Contains(incidentReporters, name) || len(cfg.IncidentLabels) > 0 && slices.Contains([]string{"github", "gitlab", "jira"}, name) {
			c.IncidentSources = append(c.IncidentSources, name)
		}
	}
	sort.Strings(c.Sources)
	sort.Strings(c.IncidentSources)
	return c
}
