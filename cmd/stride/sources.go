package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/ingest"
	"github.com/stride-oss/stride/internal/ingest/sources"
)

// buildSources turns the sources section of the configuration into the
// connectors the server routes /webhooks/<name> to: each enabled source of
// the registry, built from its section and the mapping rules.
func buildSources(cfg config.Config) (map[string]ingest.Source, error) {
	out := map[string]ingest.Source{}
	for _, conn := range sources.All {
		src, ok, err := cfg.NewSource(conn.Name)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if ok {
			out[conn.Name] = src
		}
	}
	return out, nil
}

func newJSONEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // messages quote <token> and the like
	return enc
}
