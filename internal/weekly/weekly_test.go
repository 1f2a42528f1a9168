package weekly_test

import (
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/weekly"
)

func TestScheduleLast(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		name     string
		schedule weekly.Schedule
		now      string
		last     string
		key      string
	}{
		{"at the time itself", weekly.Schedule{Weekday: time.Monday, Hour: 9, Location: berlin}, "2026-03-09T08:00:00Z", "2026-03-09T08:00:00Z", "2026-W11"},
		{"a second before is the week before", weekly.Schedule{Weekday: time.Monday, Hour: 9, Location: berlin}, "2026-03-09T07:59:59Z", "2026-03-02T08:00:00Z", "2026-W10"},
		{"summer time moves it an hour in UTC", weekly.Schedule{Weekday: time.Monday, Hour: 9, Location: berlin}, "2026-04-01T00:00:00Z", "2026-03-30T07:00:00Z", "2026-W14"},
		// Friday 17:00 in New York is Friday 22:00 UTC; on Saturday 01:00
		// UTC it is still Friday in New York.
		{"the team's day, not UTC's", weekly.Schedule{Weekday: time.Friday, Hour: 17, Location: ny}, "2026-03-07T01:00:00Z", "2026-03-06T22:00:00Z", "2026-W10"},
		{"Sunday late, key of the local week", weekly.Schedule{Weekday: time.Sunday, Hour: 23, Location: ny}, "2026-03-09T12:00:00Z", "2026-03-09T03:00:00Z", "2026-W10"},
		{"no location is UTC", weekly.Schedule{Weekday: time.Wednesday, Hour: 0}, "2026-03-11T00:00:00Z", "2026-03-11T00:00:00Z", "2026-W11"},
	} {
		t.Run(c.name, func(t *testing.T) {
			last := c.schedule.Last(utc(c.now))
			if !last.Equal(utc(c.last)) || c.schedule.Key(last) != c.key {
				t.Errorf("last %s key %s, want %s %s", last.UTC().Format(time.RFC3339), c.schedule.Key(last), c.last, c.key)
			}
		})
	}
}
