package cdevents

import (
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// Connector declares the CDEvents source for the registry of sources. The
// CloudEvents binary-mode headers are kept: they carry the event's id and
// type when the body is only the data.
var Connector = ingest.Connector{
	Name:       Name,
	Credential: ingest.Credential{Field: "token", Flag: "token", Required: true},
	Headers:    []string{"Ce-Id", "Ce-Type", "Ce-Source", "Ce-Specversion", "Ce-Time", "Ce-Subject"},
	EventType:  "Ce-Type",
	Config:     func() any { return &Config{} },
	New: func(cfg any, m delivery.Mapping) (ingest.Source, error) {
		c := *cfg.(*Config)
		c.Mapping = m
		return New(c), nil
	},
}
