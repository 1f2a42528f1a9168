package intake

import (
	"context"
	"errors"
	"fmt"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/store"
)

// MaxSLIBatch bounds one POST /api/v1/sli: a day of minutes of a few SLOs.
const MaxSLIBatch = 5000

// SLOs stores validated SLO definitions (slo.ParseOpenSLO validated them),
// replacing those of the same name, and reports how many were new.
func (in *Intake) SLOs(ctx context.Context, defs []slo.SLO) (created int, err error) {
	rows := make([]store.SLODefinition, 0, len(defs))
	for _, s := range defs {
		data, zone, err := s.Marshal()
		if err != nil {
			return 0, err
		}
		rows = append(rows, store.SLODefinition{Name: s.Name, Service: s.Service, Source: s.SourceType(), Definition: data, Zone: zone})
	}
	return in.db.PutSLOs(ctx, rows)
}

// SLI validates pushed counts and stores them, all or nothing. A push
// names an SLO, or a service, meaning every SLO of the service whose
// metrics come from Stride. Only such SLOs take pushes: a Prometheus SLO's
// counts are pulled, and a push would be overwritten or double them.
func (in *Intake) SLI(ctx context.Context, pushes []slo.Push) (store.SLIResult, error) {
	if len(pushes) > MaxSLIBatch {
		return store.SLIResult{}, delivery.Errorf(delivery.EINVALID, "a batch holds at most %d pushes, got %d", MaxSLIBatch, len(pushes))
	}
	defs, err := in.db.SLOs(ctx, "")
	if err != nil {
		return store.SLIResult{}, err
	}
	byName := map[string]store.SLODefinition{}
	byService := map[string][]string{}
	for _, d := range defs {
		byName[d.Name] = d
		if d.Source == slo.SourceStride {
			byService[d.Service] = append(byService[d.Service], d.Name)
		}
	}
	var points []store.SLIPoint
	for i, p := range pushes {
		if err := p.Validate(); err != nil {
			return store.SLIResult{}, atIndex(i, err)
		}
		names := []string{p.SLO}
		if p.SLO != "" {
			d, ok := byName[p.SLO]
			switch {
			case !ok:
				return store.SLIResult{}, atIndex(i, delivery.FieldError("slo", "no SLO named %s (define it with PUT /api/v1/slos/%s)", p.SLO, p.SLO))
			case d.Source != slo.SourceStride:
				return store.SLIResult{}, atIndex(i, delivery.FieldError("slo", "%s takes its counts from %s, not from pushes (metricSource type: stride takes pushes)", p.SLO, d.Source))
			}
		} else {
			names = byService[p.Service]
			if len(names) == 0 {
				return store.SLIResult{}, atIndex(i, delivery.FieldError("service", "%s has no SLO whose metricSource is type: stride", p.Service))
			}
		}
		b := p.Bucket()
		for _, name := range names {
			points = append(points, store.SLIPoint{SLO: name, SLIBucket: store.SLIBucket{Start: b.Start, Width: b.Width, Good: b.Good, Total: b.Total}})
		}
	}
	return in.db.PutSLI(ctx, points)
}

// PulledSLI stores the minute buckets a puller read for one SLO, such as
// the Prometheus job's, through the same checks as a push.
func (in *Intake) PulledSLI(ctx context.Context, name string, buckets []slo.Bucket) (store.SLIResult, error) {
	points := make([]store.SLIPoint, 0, len(buckets))
	for i, b := range buckets {
		p := slo.Push{SLO: name, Start: b.Start, End: b.End(), Good: b.Good, Total: b.Total}
		if err := p.Validate(); err != nil {
			return store.SLIResult{}, fmt.Errorf("pulled SLI of %s: %w", name, atIndex(i, err))
		}
		points = append(points, store.SLIPoint{SLO: name, SLIBucket: store.SLIBucket{Start: b.Start.UTC(), Width: b.Width, Good: b.Good, Total: b.Total}})
	}
	return in.db.PutSLI(ctx, points)
}

// Maintenance validates and records a maintenance window. When it was
// announced is the store's clock, whatever the caller says, so an
// announcement cannot be backdated into counting as scheduled.
func (in *Intake) Maintenance(ctx context.Context, m slo.Maintenance) (slo.Maintenance, error) {
	m.AnnouncedAt = in.db.Now()
	if err := m.Validate(); err != nil {
		return m, err
	}
	if len(m.Reason) > 1000 {
		return m, delivery.FieldError("reason", "is longer than 1000 bytes")
	}
	w, err := in.db.AddMaintenance(ctx, store.MaintenanceWindow{Service: m.Service, From: m.From, To: m.To, Reason: m.Reason})
	if err != nil {
		return m, err
	}
	return slo.Maintenance{Service: w.Service, From: w.From, To: w.To, Reason: w.Reason, AnnouncedAt: w.AnnouncedAt}, nil
}

func atIndex(i int, err error) error {
	var e *delivery.Error
	if errors.As(err, &e) {
		e.Index = i
	}
	return err
}
