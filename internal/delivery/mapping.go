package delivery

import (
	"slices"
	"strings"
)

// Mapping is the configuration that turns a source's vocabulary into the
// domain's: which repository (and, in a monorepo, which path) belongs to which
// service and team, which environment names mean production, which labels
// mark an incident or a hotfix. It is configuration, not code, so a team can
// change it without a release; zero values mean the defaults.
type Mapping struct {
	Services []ServiceMapping
	// ProductionEnvironments are the names that count as production
	// (default: production, prod, live). Matching ignores case.
	ProductionEnvironments []string
	// IncidentLabels mark an issue as an incident (default: incident).
	IncidentLabels []string
	// HotfixLabels mark a pull request or deployment as a hotfix
	// (default: hotfix).
	HotfixLabels []string
}

// ServiceMapping names the repositories of one service. Paths, when given,
// are path prefixes inside a monorepo: a change belongs to the service when
// it touches one of them.
type ServiceMapping struct {
	Name         string
	Team         string
	Repositories []string
	Paths        []string
}

var (
	defaultProduction     = []string{"production", "prod", "live"}
	defaultIncidentLabels = []string{"incident"}
	defaultHotfixLabels   = []string{"hotfix"}
)

// ServicesOf returns the services that own repository. When paths are given,
// a service with path prefixes is included only when a path falls under one
// of its prefixes. A repository no service claims maps to a service of the
// repository's own last path element (so "acme/api" → "api"), which keeps
// events flowing before anyone writes a mapping.
func (m Mapping) ServicesOf(repository string, paths []string) []ServiceMapping {
	var out []ServiceMapping
	for _, s := range m.Services {
		if !slices.ContainsFunc(s.Repositories, func(r string) bool { return strings.EqualFold(r, repository) }) {
			continue
		}
		if len(s.Paths) > 0 && len(paths) > 0 && !anyUnder(paths, s.Paths) {
			continue
		}
		out = append(out, s)
	}
	if len(out) == 0 && repository != "" {
		name := repository
		if i := strings.LastIndex(name, "/"); i >= 0 {
			name = name[i+1:]
		}
		out = append(out, ServiceMapping{Name: name, Repositories: []string{repository}})
	}
	return out
}

// Service returns the first service of repository (see ServicesOf).
func (m Mapping) Service(repository string) ServiceMapping {
	s := m.ServicesOf(repository, nil)
	if len(s) == 0 {
		return ServiceMapping{}
	}
	return s[0]
}

func anyUnder(paths, prefixes []string) bool {
	for _, p := range paths {
		for _, pre := range prefixes {
			if strings.HasPrefix(p, strings.TrimSuffix(pre, "/")+"/") || p == strings.TrimSuffix(pre, "/") {
				return true
			}
		}
	}
	return false
}

// Environment returns the canonical name of an environment: "production"
// for any production alias, the name itself otherwise.
func (m Mapping) Environment(name string) string {
	aliases := m.ProductionEnvironments
	if len(aliases) == 0 {
		aliases = defaultProduction
	}
	if slices.ContainsFunc(aliases, func(a string) bool { return strings.EqualFold(a, name) }) {
		return EnvironmentProduction
	}
	return name
}

// IsIncident reports whether one of labels marks an incident.
func (m Mapping) IsIncident(labels []string) bool {
	return hasLabel(labels, m.IncidentLabels, defaultIncidentLabels)
}

// IsHotfix reports whether one of labels marks a hotfix.
func (m Mapping) IsHotfix(labels []string) bool {
	return hasLabel(labels, m.HotfixLabels, defaultHotfixLabels)
}

func hasLabel(labels, want, fallback []string) bool {
	if len(want) == 0 {
		want = fallback
	}
	for _, l := range labels {
		if slices.ContainsFunc(want, func(w string) bool { return strings.EqualFold(w, l) }) {
			return true
		}
	}
	return false
}
