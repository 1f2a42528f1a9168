package github

import (
	"path"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// Connector declares the GitHub source for the registry of sources.
var Connector = ingest.Connector{
	Name:       Name,
	Credential: ingest.Credential{Field: "secret", Flag: "secret", Required: true},
	Headers:    []string{HeaderEvent, HeaderDelivery, "X-GitHub-Hook-ID"},
	EventType:  HeaderEvent,
	Config:     func() any { return &Config{} },
	New: func(cfg any, m delivery.Mapping) (ingest.Source, error) {
		c := *cfg.(*Config)
		c.Mapping = m
		for _, f := range []struct {
			field    string
			patterns []string
		}{{"deploy_tags", c.DeployTags}, {"exclude_tags", c.ExcludeTags}} {
			for _, p := range f.patterns {
				// A malformed pattern would silently match no tag.
				if _, err := path.Match(p, ""); err != nil {
					return nil, delivery.FieldError(f.field, "%q is not a valid glob pattern", p)
				}
			}
		}
		for _, p := range c.ReleaseBranches {
			if err := delivery.CheckTagPattern(p); err != nil {
				return nil, delivery.FieldError("release_branches", "%q is not a valid branch pattern: %v", p, err)
			}
		}
		return New(c), nil
	},
}
