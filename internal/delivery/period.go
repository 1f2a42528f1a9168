package delivery

import (
	"time"
)

// DefaultPeriodLength is the period a report covers when no start is given.
const DefaultPeriodLength = 30 * 24 * time.Hour

// ParsePeriod reads a report period from its two ends, each a date
// (2026-01-01, meaning 00:00 UTC) or an RFC 3339 time. An empty end means
// now; an empty start means DefaultPeriodLength before the end.
func ParsePeriod(from, to string, now time.Time) (Period, error) {
	var p Period
	var err error
	if to == "" {
		p.To = NormalizeTime(now)
	} else if p.To, err = parseInstant(to); err != nil {
		return p, FieldError("to", "%v", err)
	}
	if from == "" {
		p.From = p.To.Add(-DefaultPeriodLength)
	} else if p.From, err = parseInstant(from); err != nil {
		return p, FieldError("from", "%v", err)
	}
	if !p.From.Before(p.To) {
		return p, FieldError("from", "must be before to (%s is not before %s)", p.From.Format(time.RFC3339), p.To.Format(time.RFC3339))
	}
	return p, nil
}

func parseInstant(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, Errorf(EINVALID, "%q is neither a date (2026-01-01) nor an RFC 3339 time", s)
	}
	return NormalizeTime(t), nil
}
