package intake

import (
	"context"
	"fmt"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/impact"
	"github.com/stride-oss/stride/internal/store"
)

// Apdex validates pushed Apdex counts and stores them, all or nothing. A
// push that gives no T takes its service's configured one; one that gives
// a T other than the configured one is refused, since its satisfied and
// tolerating counts mean something else.
func (in *Intake) Apdex(ctx context.Context, pushes []impact.ApdexPush) (store.SLIResult, error) {
	if len(pushes) > MaxSLIBatch {
		return store.SLIResult{}, delivery.Errorf(delivery.EINVALID, "a batch holds at most %d pushes, got %d", MaxSLIBatch, len(pushes))
	}
	bs := make([]store.ApdexBucket, 0, len(pushes))
	for i, p := range pushes {
		if t, ok := in.ApdexT[p.Service]; ok {
			switch {
			case p.Threshold == 0:
				p.Threshold = t
			case p.Threshold != t:
				return store.SLIResult{}, atIndex(i, delivery.FieldError("t", "%s counts Apdex against T = %s (stride.yaml apdex_t), not %s", p.Service, t, p.Threshold))
			}
		}
		if err := p.Validate(); err != nil {
			return store.SLIResult{}, atIndex(i, err)
		}
		bs = append(bs, store.ApdexBucket{Service: p.Service, Start: p.Start.UTC(), Width: p.End.Sub(p.Start), Threshold: p.Threshold,
			Satisfied: p.Satisfied, Tolerating: p.Tolerating, Total: p.Total})
	}
	return in.db.PutApdex(ctx, bs)
}

// PulledImpactMinutes stores the minute series a puller read for one
// service, such as the impact job's Prometheus pull: whole minutes,
// finite values, counts not negative.
func (in *Intake) PulledImpactMinutes(ctx context.Context, ms []store.ImpactMinute) error {
	for i, m := range ms {
		switch {
		case m.Service == "":
			return fmt.Errorf("pulled minutes: %w", atIndex(i, delivery.FieldError("service", "is required")))
		case m.Metric != store.ImpactCalls && m.Metric != store.ImpactErrors && m.Metric != store.ImpactLatency:
			return fmt.Errorf("pulled minutes: %w", atIndex(i, delivery.FieldError("metric", "unknown metric %q", m.Metric)))
		case !m.Start.Equal(m.Start.Truncate(time.Minute)):
			return fmt.Errorf("pulled minutes: %w", atIndex(i, delivery.FieldError("start", "is not a whole minute")))
		case m.Value < 0 || m.Value != m.Value:
			return fmt.Errorf("pulled minutes: %w", atIndex(i, delivery.FieldError("value", "%v is not a count or duration", m.Value)))
		}
		ms[i].Start = m.Start.UTC()
	}
	return in.db.PutImpactMinutes(ctx, ms)
}
