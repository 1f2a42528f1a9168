package main

import (
	"context"
	"slices"
	"sort"

	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
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
		c.Services = append(c.Services, server.CatalogService{Name: s.Name, Team: s.Team, Targets: s.Targets})
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

// reportTargets returns the targets of a report's scope for the CLI: a
// service's own over its team's (the team as configured, else as stored),
// a team's, none for the organisation.
func reportTargets(ctx context.Context, cfg config.Config, db *store.DB, scope store.Scope) (dora.Targets, error) {
	switch {
	case scope.Service != "":
		team := ""
		for _, s := range cfg.Services {
			if s.Name == scope.Service {
				team = s.Team
			}
		}
		if team == "" {
			stored, err := db.ServiceTeams(ctx)
			if err != nil {
				return dora.Targets{}, err
			}
			for _, st := range stored {
				if st.Name == scope.Service {
					team = st.Team
				}
			}
		}
		return cfg.TargetsOf(scope.Service, team), nil
	case scope.Team != "":
		return cfg.TeamTargets(scope.Team), nil
	}
	return dora.Targets{}, nil
}
