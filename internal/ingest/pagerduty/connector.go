package pagerduty

import (
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// Connector declares the PagerDuty source for the registry of sources. Its
// credential is a list: PagerDuty signs with every secret of a subscription
// while one is rotated.
var Connector = ingest.Connector{
	Name:       Name,
	Credential: ingest.Credential{Field: "secrets", Flag: "secret", List: true, Required: true},
	Config:     func() any { return &Config{} },
	New: func(cfg any, m delivery.Mapping) (ingest.Source, error) {
		c := *cfg.(*Config)
		c.Mapping = m
		return New(c)
	},
}
