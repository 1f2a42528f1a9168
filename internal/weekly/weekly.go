// Package weekly says when something sent once a week is due: a team's
// schedule in its own time zone and the week key that makes sending it
// once per week idempotent. It is its own package so that configuration
// can build schedules without importing what sends them.
package weekly

import (
	"fmt"
	"time"
)

// Schedule is when a team's weekly digest is sent and where: once a week, on
// Weekday at Hour:00 in Location (the team's time zone), to each of Routes
// (routes of stride.yaml's response: section, e-mail or chat).
type Schedule struct {
	Team     string
	Weekday  time.Weekday
	Hour     int
	Location *time.Location
	Routes   []string
}

func (s Schedule) location() *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// Last returns the latest scheduled time at or before now. A day on which
// the clocks change keeps the hour as the time zone defines it.
func (s Schedule) Last(now time.Time) time.Time {
	local := now.In(s.location())
	back := (int(local.Weekday()) - int(s.Weekday) + 7) % 7
	d := local.AddDate(0, 0, -back)
	at := time.Date(d.Year(), d.Month(), d.Day(), s.Hour, 0, 0, 0, s.location())
	if at.After(now) {
		d = d.AddDate(0, 0, -7)
		at = time.Date(d.Year(), d.Month(), d.Day(), s.Hour, 0, 0, 0, s.location())
	}
	return at
}

// Key is the digest's week key of a scheduled time: its ISO week in the
// team's time zone, one per local week whatever the clocks do.
func (s Schedule) Key(at time.Time) string { return ISOWeek(at.In(s.location())) }

// ISOWeek names the ISO week of t in its location: "2026-W49".
func ISOWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}
