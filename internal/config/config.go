// Package config reads stride.yaml: the database, the listen address, the
// services with their teams and repositories, the mapping rules and the
// webhook sources with their secrets. Values may name environment variables
// (${GITHUB_WEBHOOK_SECRET}), so secrets stay out of the file. Each source's
// section is decoded by its connector, found in the registry of sources.
package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/ingest"
	"github.com/stride-oss/stride/internal/ingest/sources"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/sprint"
)

// Config is the content of stride.yaml.
type Config struct {
	DB                     string    `yaml:"db"`
	Addr                   string    `yaml:"addr"`
	ProductionEnvironments []string  `yaml:"production_environments"`
	IncidentLabels         []string  `yaml:"incident_labels"`
	HotfixLabels           []string  `yaml:"hotfix_labels"`
	Services               []Service `yaml:"services"`
	// Teams holds what is set per team (targets); a team need not be
	// listed to own services.
	Teams []Team `yaml:"teams"`
	// CI holds what the CI health report cannot learn from builds.
	CI CI `yaml:"ci"`
	// Sources holds the section of each enabled webhook source, by name,
	// as written with ${VAR} expanded. Load has checked that each decodes
	// into its connector's configuration and builds; SourceConfig and
	// NewSource decode it.
	Sources map[string]*yaml.Node `yaml:"-"`
	// Thresholds overrides the DORA tier boundaries of docs/metrics.md; a value
	// left out keeps its default.
	Thresholds Thresholds `yaml:"thresholds"`
	// Response is incident response: SLAs, routes, escalation (response.go).
	Response Response `yaml:"response"`
	// Collect lists the API collectors serve runs as jobs (collect.go).
	Collect Collect `yaml:"collect"`
	// SLOs holds how SLI data is pulled: the Prometheus server whose
	// query_range the pull job asks for the SLOs of type prometheus.
	SLOs struct {
		PrometheusURL string `yaml:"prometheus_url"`
	} `yaml:"slos"`
	// IncidentCauseWindow is the incident cause window of every service
	// that names none (default delivery.DefaultCauseWindow); see
	// IncidentCauseWindows.
	IncidentCauseWindow *time.Duration `yaml:"incident_cause_window"`
	// Metrics says who may read /metrics.
	Metrics Metrics `yaml:"metrics"`
	// Impact is the deployment impact window and thresholds of every
	// service that sets none (impact.go).
	Impact Impact `yaml:"impact"`
	// Sprint configures sprint and team health: types of work, blocked
	// statuses, categories of statuses (docs/metrics.md).
	Sprint sprint.Config `yaml:"sprint"`
}

// Metrics configures the /metrics endpoint.
type Metrics struct {
	// Public serves /metrics without a token, for a Prometheus that cannot
	// send one. By default it needs a read token: its labels name sources
	// and routes, and its counts tell how busy each is.
	Public bool `yaml:"public"`
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
	// OpenBugs is the zero-bug-bounce release criterion stride promote
	// judges (docs/release-criteria.md); none when absent.
	OpenBugs *rings.OpenBugs `yaml:"open_bugs"`
	// Targets are the service's own goals; a key set here overrides its
	// team's target for that key (TargetsOf).
	Targets dora.Targets `yaml:"targets"`
	// IncidentCauseWindow overrides the configuration's window for this
	// service.
	IncidentCauseWindow *time.Duration `yaml:"incident_cause_window"`
	// Impact overrides the deployment impact settings for this service
	// and holds its Prometheus queries.
	Impact Impact `yaml:"impact"`
	// ApdexT is the threshold T the service's Apdex counts are taken
	// against.
	ApdexT *time.Duration `yaml:"apdex_t"`
}

// Load reads path; a missing file is an empty configuration when optional.
// Every error is a delivery.EINVALID naming the file, the setting and, for
// a setting that does not exist, its line, so the command line exits as it
// does for other invalid input.
//
// ${NAME} inside a value is replaced by the environment variable NAME, so
// secrets stay out of the file; only values are expanded, never keys or
// comments, and a $ not followed by { is kept as it is. A variable that is
// not set is an error naming it, rather than an empty secret that rejects
// every delivery. The result of an expansion is a string.
func Load(path string, optional bool) (Config, error) {
	return loadFile(path, optional, os.LookupEnv)
}

// Check reads path as Load does, but takes every variable a value names as
// set, to an empty value: for "stride source add", which edits the file on
// a machine where the server's variables need not be set.
func Check(path string) error {
	_, err := loadFile(path, false, func(string) (string, bool) { return "", true })
	return err
}

func loadFile(path string, optional bool, env func(string) (string, bool)) (Config, error) {
	var c Config
	body, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && optional {
		return c, nil
	}
	if err != nil {
		return c, delivery.Errorf(delivery.EINVALID, "read config: %v", err)
	}
	if err := c.load(body, env); err != nil {
		return Config{}, delivery.Errorf(delivery.EINVALID, "config %s: %s", path, strings.TrimPrefix(err.Error(), "config: "))
	}
	return c, nil
}

func (c *Config) load(body []byte, env func(string) (string, bool)) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(body, &doc); err != nil {
		return err
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || doc.Content[0].Tag == "!!null" { // an empty file
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: the top level is not a mapping of settings", root.Line)
	}
	if err := expandEnv(root, "", env); err != nil {
		return err
	}
	// The sources section is decoded by each source's connector; the rest
	// into Config.
	rest := &yaml.Node{Kind: yaml.MappingNode, Tag: root.Tag, Line: root.Line, Column: root.Column}
	var sourcesNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "sources" {
			sourcesNode = root.Content[i+1]
			continue
		}
		rest.Content = append(rest.Content, root.Content[i], root.Content[i+1])
	}
	if err := decodeStrict(rest, c, ""); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if _, err := c.DORAThresholds(); err != nil {
		return err
	}
	if _, err := c.ResponseSettings(); err != nil {
		return err
	}
	if _, err := c.DigestSchedules(); err != nil {
		return err
	}
	if err := c.Collect.check(); err != nil {
		return err
	}
	if _, _, _, err := c.ImpactSettings(); err != nil {
		return err
	}
	return c.loadSources(sourcesNode)
}

// loadSources keeps each enabled source's section and checks it: a known
// source name, known settings of the right types, and settings its
// connector accepts. A source listed with nothing under it ("argocd:") is
// not enabled.
func (c *Config) loadSources(n *yaml.Node) error {
	if n == nil || n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: sources: want a mapping of source names to their settings", n.Line)
	}
	c.Sources = map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, v := n.Content[i].Value, n.Content[i+1]
		if _, ok := sources.Lookup(name); !ok {
			return fmt.Errorf("line %d: sources.%s: unknown source (known: %s)", n.Content[i].Line, name, sources.Names())
		}
		if v.Tag == "!!null" {
			continue
		}
		c.Sources[name] = v
		if _, _, err := c.NewSource(name); err != nil {
			return err
		}
	}
	return nil
}

// SourceConfig decodes the section of the enabled source name into its
// connector's configuration (a pointer, as ingest.Connector.Config returns).
// ok is false when the source is not enabled.
func (c Config) SourceConfig(name string) (cfg any, ok bool, err error) {
	n, enabled := c.Sources[name]
	conn, known := sources.Lookup(name)
	if !enabled || !known {
		return nil, false, nil
	}
	cfg = conn.Config()
	if err := decodeStrict(n, cfg, "sources."+name); err != nil {
		return nil, true, err
	}
	return cfg, true, nil
}

// NewSource builds the enabled source name from its section and the
// mapping rules. ok is false when the source is not enabled.
func (c Config) NewSource(name string) (src ingest.Source, ok bool, err error) {
	cfg, ok, err := c.SourceConfig(name)
	if !ok || err != nil {
		return nil, ok, err
	}
	conn, _ := sources.Lookup(name)
	src, err = conn.New(cfg, c.Mapping())
	var de *delivery.Error
	switch {
	case errors.As(err, &de) && err == error(de) && de.Field != "":
		return nil, true, fmt.Errorf("sources.%s.%s: %s", name, de.Field, de.Message)
	case err != nil:
		return nil, true, fmt.Errorf("sources.%s: %w", name, err)
	}
	return src, true, nil
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
	if err := c.Sprint.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return c.validateTeams()
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
