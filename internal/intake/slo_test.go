package intake_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

const twoSLOs = `apiVersion: openslo/v1
kind: SLO
metadata: {name: api-availability}
spec:
  service: api
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: stride}}
        total: {metricSource: {type: stride}}
  timeWindow: [{duration: 1M, isRolling: false, calendar: {startTime: "2026-01-01 00:00:00", timeZone: Europe/Berlin}}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: api-prom}
spec:
  service: api
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: prometheus, spec: {query: 'sum(rate(ok[1m]))'}}}
        total: {metricSource: {type: prometheus, spec: {query: 'sum(rate(all[1m]))'}}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
`

func applyTwo(t *testing.T, db *store.DB) *intake.Intake {
	t.Helper()
	defs, err := slo.ParseOpenSLO(strings.NewReader(twoSLOs))
	if err != nil {
		t.Fatal(err)
	}
	in := intake.New(db, nil)
	if n, err := in.SLOs(ctx, defs); err != nil || n != 2 {
		t.Fatalf("SLOs: %d, %v", n, err)
	}
	return in
}

func TestSLOsKeepTheCalendarZone(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		applyTwo(t, db)
		d, err := db.SLO(ctx, "api-availability")
		if err != nil {
			t.Fatal(err)
		}
		s, err := slo.Unmarshal(d.Definition, d.Zone)
		if err != nil {
			t.Fatal(err)
		}
		if d.Source != "stride" || s.Window.Start.Location().String() != "Europe/Berlin" || s.Objective != (slo.Fraction{Num: 999, Den: 1000}) {
			t.Errorf("stored %+v, read back %+v", d, s)
		}
		// A calendar month in Berlin: March 2026 starts at 23:00 UTC on Feb 28.
		from, _ := s.Window.Bounds(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC))
		if want := time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC); !from.Equal(want) {
			t.Errorf("month starts %s, want %s", from.UTC(), want)
		}
	})
}

func TestSLIPushes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		in := applyTwo(t, db)
		tests := []struct {
			name   string
			pushes []slo.Push
			code   string
			field  string
			index  int
		}{
			{"by slo", []slo.Push{{SLO: "api-availability", Start: t0, End: t0.Add(time.Minute), Good: 99, Total: 100}}, "", "", 0},
			{"by service goes to its stride SLO only", []slo.Push{{Service: "api", Start: t0.Add(time.Minute), End: t0.Add(2 * time.Minute), Good: 100, Total: 100}}, "", "", 0},
			{"a prometheus SLO takes no pushes", []slo.Push{{SLO: "api-prom", Start: t0, End: t0.Add(time.Minute), Good: 1, Total: 1}}, delivery.EINVALID, "slo", 0},
			{"unknown SLO", []slo.Push{{SLO: "nope", Start: t0, End: t0.Add(time.Minute)}}, delivery.EINVALID, "slo", 0},
			{"service without stride SLOs", []slo.Push{{Service: "web", Start: t0, End: t0.Add(time.Minute)}}, delivery.EINVALID, "service", 0},
			{"invalid second push", []slo.Push{{SLO: "api-availability", Start: t0.Add(5 * time.Minute), End: t0.Add(6 * time.Minute)},
				{SLO: "api-availability", Start: t0, End: t0.Add(time.Minute), Good: 2, Total: 1}}, delivery.EINVALID, "good", 1},
		}
		for _, tt := range tests {
			_, err := in.SLI(ctx, tt.pushes)
			if tt.code == "" {
				if err != nil {
					t.Errorf("%s: %v", tt.name, err)
				}
				continue
			}
			var e *delivery.Error
			if delivery.ErrorCode(err) != tt.code || !errors.As(err, &e) || e.Field != tt.field || e.Index != tt.index {
				t.Errorf("%s: %v, want %s on %s at %d", tt.name, err, tt.code, tt.field, tt.index)
			}
		}
		bs, _ := db.SLIBuckets(ctx, "api-availability", t0, t0.Add(time.Hour))
		if len(bs) != 2 || bs[0].Good != 99 || bs[1].Good != 100 {
			t.Errorf("stride SLO buckets %+v, want the two accepted pushes", bs)
		}
		if bs, _ := db.SLIBuckets(ctx, "api-prom", t0, t0.Add(time.Hour)); len(bs) != 0 {
			t.Errorf("prometheus SLO got pushes: %+v", bs)
		}
	})
}

func TestMaintenanceAnnouncedByTheServerClock(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		db.Now = func() time.Time { return t0 }
		in := intake.New(db, nil)
		m, err := in.Maintenance(ctx, slo.Maintenance{Service: "api", From: t0.Add(8 * 24 * time.Hour), To: t0.Add(8*24*time.Hour + time.Hour),
			Reason: "upgrade", AnnouncedAt: t0.Add(-30 * 24 * time.Hour)})
		if err != nil || !m.AnnouncedAt.Equal(t0) || !m.Scheduled() {
			t.Fatalf("Maintenance = %+v, %v; want announced now, 8 days ahead: scheduled", m, err)
		}
		late, err := in.Maintenance(ctx, slo.Maintenance{Service: "api", From: t0.Add(24 * time.Hour), To: t0.Add(25 * time.Hour)})
		if err != nil || late.Scheduled() {
			t.Errorf("a day ahead: %+v, %v; want recorded, not scheduled", late, err)
		}
		if _, err := in.Maintenance(ctx, slo.Maintenance{From: t0, To: t0.Add(time.Hour)}); delivery.ErrorCode(err) != delivery.EINVALID {
			t.Errorf("no service: %v", err)
		}
	})
}
