// Package sources is the registry of webhook sources: the one list that the
// configuration, the server's endpoints, "stride source add" and the raw
// delivery store derive theirs from. A new source is its own package under
// internal/ingest with a Connector, and one line in All.
package sources

import (
	"slices"
	"strings"

	"github.com/stride-oss/stride/internal/ingest"
	"github.com/stride-oss/stride/internal/ingest/alertmanager"
	"github.com/stride-oss/stride/internal/ingest/argocd"
	"github.com/stride-oss/stride/internal/ingest/cdevents"
	"github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/ingest/gitlab"
	"github.com/stride-oss/stride/internal/ingest/jira"
	"github.com/stride-oss/stride/internal/ingest/pagerduty"
	"github.com/stride-oss/stride/internal/ingest/sonarqube"
)

// All lists every source Stride has a connector for, sorted by name.
var All = []ingest.Connector{
	alertmanager.Connector,
	argocd.Connector,
	cdevents.Connector,
	github.Connector,
	gitlab.Connector,
	jira.Connector,
	pagerduty.Connector,
	sonarqube.Connector,
}

// Lookup returns the connector named name.
func Lookup(name string) (ingest.Connector, bool) {
	i := slices.IndexFunc(All, func(c ingest.Connector) bool { return c.Name == name })
	if i < 0 {
		return ingest.Connector{}, false
	}
	return All[i], true
}

// Names returns the names of all sources, comma-separated, for messages
// that list the known ones.
func Names() string {
	names := make([]string, len(All))
	for i, c := range All {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// Headers returns every header some source keeps, CommonHeaders first, each
// once: for code that keeps the headers of a delivery whose source it does
// not know.
func Headers() []string {
	out := slices.Clone(ingest.CommonHeaders)
	for _, c := range All {
		for _, h := range c.Headers {
			if !slices.Contains(out, h) {
				out = append(out, h)
			}
		}
	}
	return out
}
