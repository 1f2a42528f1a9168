package argocd

import (
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// Connector declares the Argo CD source for the registry of sources.
var Connector = ingest.Connector{
	Name:       Name,
	Credential: ingest.Credential{Field: "token", Flag: "token", Required: true},
	Config:     func() any { return &Config{} },
	New: func(cfg any, m delivery.Mapping) (ingest.Source, error) {
		c := *cfg.(*Config)
		c.Mapping = m
		for app, service := range c.Services {
			// An empty target would be skipped silently at every delivery.
			if service == "" {
				return nil, delivery.FieldError("services."+app, "names no service")
			}
		}
		return New(c), nil
	},
}
