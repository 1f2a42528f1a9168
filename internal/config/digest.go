package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/weekly"
)

// TeamDigest is a team's digest: setting of stride.yaml: when its weekly
// digest is sent (weekday mon … sun, hour 0–23, 9 when left out, in the
// IANA time zone, UTC when left out) and to which routes of
// response.routes (e-mail, chat or webhook; not PagerDuty, which pages).
type TeamDigest struct {
	Weekday  string   `yaml:"weekday"`
	Hour     *int     `yaml:"hour"`
	Timezone string   `yaml:"timezone"`
	Routes   []string `yaml:"routes"`
}

// DigestSchedules returns the digest schedule of every team that sets one,
// in the order of the teams: section, checked against the routes.
func (c Config) DigestSchedules() ([]weekly.Schedule, error) {
	var out []weekly.Schedule
	for i, t := range c.Teams {
		d := t.Digest
		if d == nil {
			continue
		}
		at := fmt.Sprintf("teams[%d] (%s).digest", i, t.Name)
		day, ok := weekdays[strings.ToLower(strings.TrimSpace(d.Weekday))]
		if !ok {
			return nil, fmt.Errorf("config: %s.weekday: %q is not one of mon, tue, wed, thu, fri, sat, sun", at, d.Weekday)
		}
		hour := 9
		if d.Hour != nil {
			hour = *d.Hour
		}
		if hour < 0 || hour > 23 {
			return nil, fmt.Errorf("config: %s.hour: %d is not an hour from 0 to 23", at, hour)
		}
		loc := time.UTC
		if d.Timezone != "" {
			var err error
			if loc, err = time.LoadLocation(d.Timezone); err != nil {
				return nil, fmt.Errorf("config: %s.timezone: %w", at, err)
			}
		}
		if len(d.Routes) == 0 {
			return nil, fmt.Errorf("config: %s.routes: name at least one route of response.routes to send the digest to", at)
		}
		for _, name := range d.Routes {
			r, ok := c.Response.Routes[name]
			switch {
			case !ok:
				return nil, fmt.Errorf("config: %s.routes: %q is not a route of response.routes", at, name)
			case r.PagerDuty != nil:
				return nil, fmt.Errorf("config: %s.routes: %q is a PagerDuty route, which would page someone with a report; use an e-mail or chat route", at, name)
			}
		}
		out = append(out, weekly.Schedule{Team: t.Name, Weekday: day, Hour: hour, Location: loc, Routes: d.Routes})
	}
	return out, nil
}
