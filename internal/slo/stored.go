package slo

import (
	"encoding/json"
	"fmt"
	"time"
)

// Marshal returns the SLO as the store keeps it: its JSON, and the IANA
// name of its calendar's time zone, which JSON reduces to an offset (and a
// month that crosses a daylight-saving change needs the zone).
func (s SLO) Marshal() (definition []byte, zone string, err error) {
	data, err := json.Marshal(s)
	if err != nil {
		return nil, "", fmt.Errorf("encode SLO %s: %w", s.Name, err)
	}
	return data, s.Location().String(), nil
}

// Unmarshal is the inverse of Marshal.
func Unmarshal(definition []byte, zone string) (SLO, error) {
	var s SLO
	if err := json.Unmarshal(definition, &s); err != nil {
		return s, fmt.Errorf("decode SLO: %w", err)
	}
	if zone != "" && s.Window.Calendar != "" {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return s, fmt.Errorf("decode SLO %s: time zone: %w", s.Name, err)
		}
		s.Window.Start = s.Window.Start.In(loc)
	}
	return s, nil
}

// SourceType is where the SLO's counts come from: SourceStride (pushed)
// or SourcePrometheus (pulled).
func (s SLO) SourceType() string { return s.Indicator.Total.Type }
