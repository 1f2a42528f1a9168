package config

import (
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// IncidentCauseWindows returns the incident cause window of services that
// name none and each service's own, as the read path takes them
// (report.Reader's CauseWindow and CauseWindows): how long before an
// incident opened a deployment may have finished to be inferred as its
// cause. Left out, the window is delivery.DefaultCauseWindow. A window must
// be positive: a service that wants no inference has its incident sources
// name the cause (or "none").
func (c Config) IncidentCauseWindows() (time.Duration, map[string]time.Duration, error) {
	def := delivery.DefaultCauseWindow
	if w := c.IncidentCauseWindow; w != nil {
		if *w <= 0 {
			return 0, nil, delivery.Errorf(delivery.EINVALID, "config: incident_cause_window must be a positive duration such as 24h, got %s", *w)
		}
		def = *w
	}
	per := map[string]time.Duration{}
	for _, s := range c.Services {
		if w := s.IncidentCauseWindow; w != nil {
			if *w <= 0 {
				return 0, nil, delivery.Errorf(delivery.EINVALID, "config: services: %s: incident_cause_window must be a positive duration such as 24h, got %s", s.Name, *w)
			}
			per[s.Name] = *w
		}
	}
	return def, per, nil
}
