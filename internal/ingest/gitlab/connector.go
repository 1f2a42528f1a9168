package gitlab

import (
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// Connector declares the GitLab source for the registry of sources.
var Connector = ingest.Connector{
	Name:       Name,
	Credential: ingest.Credential{Field: "token", Flag: "token", Required: true},
	Headers:    []string{"X-Gitlab-Event", "X-Gitlab-Event-UUID", "Idempotency-Key"},
	EventType:  "X-Gitlab-Event",
	Config:     func() any { return &Config{} },
	New: func(cfg any, m delivery.Mapping) (ingest.Source, error) {
		c := *cfg.(*Config)
		c.Mapping = m
		for _, p := range c.ReleaseBranches {
			if err := delivery.CheckTagPattern(p); err != nil {
				return nil, delivery.FieldError("release_branches", "%q is not a valid branch pattern: %v", p, err)
			}
		}
		return New(c), nil
	},
}
