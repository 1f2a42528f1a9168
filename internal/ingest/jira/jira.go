// Package jira translates Jira webhook deliveries (issue created, updated
// and deleted) into Stride's work items, which the planning metrics read,
// and into incidents for the issue types a team uses for them. It does no
// I/O: the HTTP layer hands it headers and a body.
package jira

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// Name is the source's name: the endpoint is /webhooks/jira, and work items
// carry it as their Tracker.
const Name = "jira"

// Defaults of the Jira Cloud custom fields that company-managed projects
// use for story points and sprints. Each Jira site numbers its custom fields
// itself, so these are only the most common ids; see docs/jira.md for how to
// look up a site's own.
const (
	DefaultStoryPointsField = "customfield_10016"
	DefaultSprintField      = "customfield_10020"
)

// Config is what a Jira connector needs.
type Config struct {
	// Secret is the webhook's secret. Jira Cloud signs each delivery with
	// it (X-Hub-Signature); Jira Server and Data Center cannot sign, so
	// they send it as a token instead (?token=, copied by the HTTP layer
	// into X-Stride-Token).
	Secret string `yaml:"secret"`
	// StoryPointsField is the custom field holding the estimate
	// (default customfield_10016).
	StoryPointsField string `yaml:"story_points_field"`
	// SprintField is the custom field holding the sprints
	// (default customfield_10020).
	SprintField string `yaml:"sprint_field"`
	// AcceptanceCriteriaField is an optional custom field for acceptance
	// criteria; when empty, only the description is read.
	AcceptanceCriteriaField string `yaml:"acceptance_criteria_field"`
	// IncidentIssueTypes are the issue types that are also incidents
	// (default: Incident). Matching ignores case.
	IncidentIssueTypes []string `yaml:"incident_issue_types"`
	// Mapping names the services an incident's component or label may
	// refer to.
	Mapping delivery.Mapping `yaml:"-"`
	// ProjectTeams maps a Jira project key to the team that owns it.
	ProjectTeams map[string]string `yaml:"project_teams"`
	// ComponentServices maps a component's name to the service it is;
	// a component not in it is the service of its own name.
	ComponentServices map[string]string `yaml:"component_services"`
}

// Source is the Jira webhook connector. It holds only configuration, so
// Translate gives the same events for the same delivery, as reprocessing
// of stored deliveries requires.
type Source struct {
	cfg Config
}

// New returns a connector for cfg with the defaults filled in. An empty
// Secret makes Verify reject every delivery, so a forgotten setting never
// opens the endpoint.
func New(cfg Config) *Source {
	if cfg.StoryPointsField == "" {
		cfg.StoryPointsField = DefaultStoryPointsField
	}
	if cfg.SprintField == "" {
		cfg.SprintField = DefaultSprintField
	}
	if len(cfg.IncidentIssueTypes) == 0 {
		cfg.IncidentIssueTypes = []string{"Incident"}
	}
	return &Source{cfg: cfg}
}

var _ ingest.Source = (*Source)(nil)

// Name returns "jira", the last element of the webhook endpoint.
func (s *Source) Name() string { return Name }

// Verify accepts a delivery signed by Jira Cloud (X-Hub-Signature:
// sha256=<hex HMAC-SHA256 of the body keyed with the secret>) or, for Jira
// Server which cannot sign, one whose X-Stride-Token equals the secret. A
// delivery that carries a signature must be correctly signed: a bad
// signature is not rescued by a token. Comparisons take constant time.
func (s *Source) Verify(h http.Header, body []byte) error {
	if s.cfg.Secret == "" {
		return ingest.Unauthorized("jira: no webhook secret is configured")
	}
	if sig := h.Get("X-Hub-Signature"); sig != "" {
		hexSum, ok := strings.CutPrefix(sig, "sha256=")
		if !ok {
			return ingest.Unauthorized("jira: X-Hub-Signature is not sha256=<hex>")
		}
		got, err := hex.DecodeString(hexSum)
		if err != nil {
			return ingest.Unauthorized("jira: X-Hub-Signature is not hexadecimal")
		}
		mac := hmac.New(sha256.New, []byte(s.cfg.Secret))
		mac.Write(body)
		if !hmac.Equal(got, mac.Sum(nil)) {
			return ingest.Unauthorized("jira: X-Hub-Signature does not match the body")
		}
		return nil
	}
	if err := ingest.VerifyToken(h, s.cfg.Secret, "X-Stride-Token"); err != nil {
		return ingest.Unauthorized("jira: without X-Hub-Signature, %v", err)
	}
	return nil
}

// DeliveryID returns Jira's id of the delivery, X-Atlassian-Webhook-Identifier
// (kept across retries), or a digest of the body when it is absent, as it is
// from Jira Server.
func (s *Source) DeliveryID(h http.Header, body []byte) string {
	if v := strings.TrimSpace(h.Get("X-Atlassian-Webhook-Identifier")); v != "" {
		return v
	}
	return ingest.BodyDigest(body)
}
