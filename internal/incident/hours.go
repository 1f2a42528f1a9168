package incident

import (
	"fmt"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// BusinessHours is a team's working calendar: the hours [Start, End) of each
// working day in Location, minus holidays. An SLA counted in business hours
// only runs inside them, so a severity 2 incident opened on Friday evening is
// due on Monday.
type BusinessHours struct {
	// Location is the time zone the hours are read in; nil means UTC.
	Location *time.Location
	// Weekdays are the working days; empty means Monday to Friday.
	Weekdays []time.Weekday
	// Start and End are offsets from midnight (9h, 17h30m), End > Start.
	Start, End time.Duration
	// Holidays are the dates (YYYY-MM-DD, in Location) with no work.
	Holidays []string
}

// Validate checks the calendar read from configuration.
func (b *BusinessHours) Validate() error {
	if b.Start < 0 || b.End > 24*time.Hour || b.End <= b.Start {
		return delivery.FieldError("business_hours", "need 0 ≤ start < end ≤ 24h, got %s–%s", b.Start, b.End)
	}
	for i, h := range b.Holidays {
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			return delivery.FieldError(fmt.Sprintf("business_hours.holidays[%d]", i), "want YYYY-MM-DD, got %q", h)
		}
	}
	for i, d := range b.Weekdays {
		if d < time.Sunday || d > time.Saturday {
			return delivery.FieldError(fmt.Sprintf("business_hours.weekdays[%d]", i), "unknown weekday %d", d)
		}
	}
	return nil
}

func (b *BusinessHours) loc() *time.Location {
	if b.Location == nil {
		return time.UTC
	}
	return b.Location
}

func (b *BusinessHours) working(day time.Time) bool {
	wd := day.Weekday()
	if len(b.Weekdays) == 0 {
		if wd == time.Saturday || wd == time.Sunday {
			return false
		}
	} else {
		found := false
		for _, w := range b.Weekdays {
			found = found || w == wd
		}
		if !found {
			return false
		}
	}
	y, m, d := day.Date()
	key := y*10000 + int(m)*100 + d
	for _, h := range b.Holidays {
		if dateKey(h) == key {
			return false
		}
	}
	return true
}

// dateKey reads YYYY-MM-DD as the number YYYYMMDD without allocating, since
// the SLA sweep asks it for every day of every open incident; 0 when s is
// not a date (Validate refuses those).
func dateKey(s string) int {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0
	}
	n := 0
	for i := range len(s) {
		if i == 4 || i == 7 {
			continue
		}
		c := s[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// at is the instant offset d past midnight of the given date in loc, read
// as a wall-clock time so that a daylight-saving change does not move 9:00.
func at(y int, m time.Month, day int, d time.Duration, loc *time.Location) time.Time {
	return time.Date(y, m, day, int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second), 0, loc)
}

// maxCalendarDays bounds the walk of Add: a calendar with no working day in
// ten years (every day a holiday) cannot hold an SLA, and Add answers the
// far end rather than looping for ever.
const maxCalendarDays = 3660

// Add returns the instant that lies d of business time after t. Time before
// the day's start, after its end, on non-working days and on holidays does
// not count. An SLA that ends exactly at a day's end is due then, not at the
// next day's start.
func (b *BusinessHours) Add(t time.Time, d time.Duration) time.Time {
	loc := b.loc()
	cur := t.In(loc)
	for range maxCalendarDays {
		y, m, day := cur.Date()
		if b.working(cur) {
			start, end := at(y, m, day, b.Start, loc), at(y, m, day, b.End, loc)
			if cur.Before(start) {
				cur = start
			}
			if cur.Before(end) {
				if left := end.Sub(cur); d <= left {
					return cur.Add(d)
				} else {
					d -= left
				}
			}
		}
		cur = time.Date(y, m, day+1, 0, 0, 0, 0, loc)
	}
	return cur
}
