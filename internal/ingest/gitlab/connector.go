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
		return New(c), nil
	},
}
