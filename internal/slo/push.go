package slo

import (
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Push is one object of POST /api/v1/sli: the good and total calls of an
// SLO (or of every stride-sourced SLO of a service) over [Start, End), a
// minute or a whole number of minutes. The store keeps it idempotently per
// (SLO, Start): a repeated push replaces, never adds.
type Push struct {
	SLO     string    `json:"slo,omitempty"`
	Service string    `json:"service,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Good    int64     `json:"good"`
	Total   int64     `json:"total"`
}

// MaxPushWidth is the widest span one push may cover; wider data belongs
// in several pushes so minute-level windows stay exact.
const MaxPushWidth = time.Hour

// Validate checks a push before it is stored.
func (p Push) Validate() error {
	switch {
	case p.SLO == "" && p.Service == "":
		return delivery.FieldError("slo", "slo or service is required")
	case p.SLO != "" && p.Service != "":
		return delivery.FieldError("service", "give slo or service, not both")
	case p.Start.IsZero():
		return delivery.FieldError("start", "is required")
	case !p.Start.Equal(p.Start.Truncate(time.Minute)):
		return delivery.FieldError("start", "%s is not on a whole minute", p.Start.Format(time.RFC3339Nano))
	case !p.End.After(p.Start):
		return delivery.FieldError("end", "is not after start")
	case p.End.Sub(p.Start)%time.Minute != 0:
		return delivery.FieldError("end", "start to end is not a whole number of minutes")
	case p.End.Sub(p.Start) > MaxPushWidth:
		return delivery.FieldError("end", "one push covers at most %s", MaxPushWidth)
	case p.Total < 0:
		return delivery.FieldError("total", "%d is negative", p.Total)
	case p.Good < 0 || p.Good > p.Total:
		return delivery.FieldError("good", "%d is not between 0 and total (%d)", p.Good, p.Total)
	}
	return nil
}

// Bucket returns the push as a bucket.
func (p Push) Bucket() Bucket {
	return Bucket{Start: p.Start.UTC(), Width: p.End.Sub(p.Start), Good: p.Good, Total: p.Total}
}
