package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/ingest"
	"github.com/stride-oss/stride/internal/ingest/alertmanager"
	"github.com/stride-oss/stride/internal/ingest/argocd"
	"github.com/stride-oss/stride/internal/ingest/cdevents"
	"github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/ingest/gitlab"
	"github.com/stride-oss/stride/internal/ingest/jira"
	"github.com/stride-oss/stride/internal/ingest/pagerduty"
)

// buildSources turns the sources section of the configuration into the
// connectors the server routes /webhooks/<name> to.
func buildSources(cfg config.Config) (map[string]ingest.Source, error) {
	m := cfg.Mapping()
	out := map[string]ingest.Source{}
	s := cfg.Sources
	if g := s.GitHub; g != nil {
		out["github"] = github.New(github.Config{Secret: g.Secret, Mapping: m, ReleasesAsDeployments: g.ReleasesAsDeployments,
			DeployTags: g.DeployTags, ExcludeTags: g.ExcludeTags, DefaultSeverity: g.DefaultSeverity})
	}
	if g := s.GitLab; g != nil {
		out["gitlab"] = gitlab.New(gitlab.Config{Token: g.Token, Mapping: m})
	}
	if j := s.Jira; j != nil {
		out["jira"] = jira.New(jira.Config{Secret: j.Secret, StoryPointsField: j.StoryPointsField, SprintField: j.SprintField,
			AcceptanceCriteriaField: j.AcceptanceCriteriaField, IncidentIssueTypes: j.IncidentIssueTypes, Mapping: m, ProjectTeams: j.ProjectTeams})
	}
	if p := s.PagerDuty; p != nil {
		src, err := pagerduty.New(pagerduty.Config{Secrets: p.Secrets, Mapping: m, Services: p.Services})
		if err != nil {
			return nil, fmt.Errorf("config: sources.pagerduty: %w", err)
		}
		out["pagerduty"] = src
	}
	if a := s.Alertmanager; a != nil {
		src, err := alertmanager.New(alertmanager.Config{Token: a.Token, SeverityLabel: a.SeverityLabel, Severity: a.Severity, ServiceLabel: a.ServiceLabel, Mapping: m})
		if err != nil {
			return nil, fmt.Errorf("config: sources.alertmanager: %w", err)
		}
		out["alertmanager"] = src
	}
	if a := s.ArgoCD; a != nil {
		out["argocd"] = argocd.New(argocd.Config{Token: a.Token, Mapping: m})
	}
	if c := s.CDEvents; c != nil {
		out["cdevents"] = cdevents.New(cdevents.Config{Token: c.Token, Mapping: m})
	}
	return out, nil
}

func newJSONEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // messages quote <token> and the like
	return enc
}
