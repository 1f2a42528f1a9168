package sonarqube

import (
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// Connector declares the SonarQube source for the registry of sources.
var Connector = ingest.Connector{
	Name:       Name,
	Credential: ingest.Credential{Field: "secret", Flag: "secret", Required: true},
	Headers:    []string{HeaderProject},
	Config:     func() any { return &Config{} },
	New: func(cfg any, m delivery.Mapping) (ingest.Source, error) {
		c := *cfg.(*Config)
		for key, service := range c.Projects {
			// An empty target would record gates of no service.
			if service == "" {
				return nil, delivery.FieldError("projects."+key, "names no service")
			}
		}
		return New(c), nil
	},
}
