package impact

import (
	"fmt"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// ApdexPush is the Apdex counts of one service over [Start, End): calls
// answered within T (Satisfied), within 4T but not T (Tolerating), and all
// calls (Total), as POST /api/v1/apdex takes them. Threshold is the T the
// counts were taken against.
type ApdexPush struct {
	Service    string        `json:"service"`
	Start      time.Time     `json:"start"`
	End        time.Time     `json:"end"`
	Threshold  time.Duration `json:"-"`
	Satisfied  int64         `json:"satisfied"`
	Tolerating int64         `json:"tolerating"`
	Total      int64         `json:"total"`
}

// MaxApdexWidth is the widest push: an hour of calls.
const MaxApdexWidth = time.Hour

// Validate checks a push: whole minutes, at most an hour, and counts that
// add up.
func (p ApdexPush) Validate() error {
	switch {
	case p.Service == "":
		return delivery.FieldError("service", "is required")
	case p.Start.IsZero() || p.End.IsZero():
		return delivery.FieldError("start", "start and end are required")
	case !p.Start.Equal(p.Start.Truncate(time.Minute)) || !p.End.Equal(p.End.Truncate(time.Minute)):
		return delivery.FieldError("start", "start and end must be whole minutes")
	case !p.End.After(p.Start) || p.End.Sub(p.Start) > MaxApdexWidth:
		return delivery.FieldError("end", "must be after start and at most %s after it", MaxApdexWidth)
	case p.Threshold <= 0:
		return delivery.FieldError("t", "is required: the threshold T the counts were taken against, such as \"300ms\"")
	case p.Satisfied < 0 || p.Tolerating < 0 || p.Total < 0:
		return delivery.FieldError("total", "counts must not be negative")
	case p.Satisfied+p.Tolerating > p.Total:
		return delivery.FieldError("total", "satisfied (%d) plus tolerating (%d) is more than total (%d)", p.Satisfied, p.Tolerating, p.Total)
	}
	return nil
}

// ApdexCounts are summed Apdex counts.
type ApdexCounts struct {
	Satisfied  int64 `json:"satisfied"`
	Tolerating int64 `json:"tolerating"`
	Total      int64 `json:"total"`
}

// Score is Apdex(T) = (satisfied + tolerating/2) / total, nil without
// calls.
func (c ApdexCounts) Score() *float64 {
	if c.Total <= 0 {
		return nil
	}
	return ptr((float64(c.Satisfied) + float64(c.Tolerating)/2) / float64(c.Total))
}

// ApdexRating is the Apdex Alliance's name for a score: excellent from
// 0.94, good from 0.85, fair from 0.70, poor from 0.50, else unacceptable.
func ApdexRating(score float64) string {
	switch {
	case score >= 0.94:
		return "excellent"
	case score >= 0.85:
		return "good"
	case score >= 0.70:
		return "fair"
	case score >= 0.50:
		return "poor"
	}
	return "unacceptable"
}

// Apdex is a service's Apdex over a period.
type Apdex struct {
	Service string `json:"service"`
	// Threshold is T; TSeconds gives it in the JSON.
	Threshold time.Duration `json:"-"`
	TSeconds  float64       `json:"t_seconds"`
	ApdexCounts
	Score  *float64 `json:"apdex"`
	Rating string   `json:"rating,omitempty"`
	// Note says why there is no score, or that the period's counts were
	// taken against more than one T.
	Note string `json:"note,omitempty"`
}

// NewApdex scores summed counts.
func NewApdex(service string, t time.Duration, c ApdexCounts) Apdex {
	a := Apdex{Service: service, Threshold: t, TSeconds: t.Seconds(), ApdexCounts: c, Score: c.Score()}
	if a.Score != nil {
		a.Rating = ApdexRating(*a.Score)
	} else {
		a.Note = fmt.Sprintf("no Apdex counts for %s in the period: push them to POST /api/v1/apdex", service)
	}
	return a
}
