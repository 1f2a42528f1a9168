package jira

import (
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// Connector declares the Jira source for the registry of sources.
var Connector = ingest.Connector{
	Name:       Name,
	Credential: ingest.Credential{Field: "secret", Flag: "secret", Required: true},
	Headers:    []string{"X-Atlassian-Webhook-Identifier"},
	Config:     func() any { return &Config{} },
	New: func(cfg any, m delivery.Mapping) (ingest.Source, error) {
		c := *cfg.(*Config)
		c.Mapping = m
		return New(c), nil
	},
}
