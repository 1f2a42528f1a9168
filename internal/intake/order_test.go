package intake_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest/pagerduty"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestPagerDutyLifecycleInAnyOrder sends PagerDuty's triggered,
// acknowledged and resolved deliveries of one incident (PGR0VU2) in every
// order, each then sent again: the stored incident is the same every time,
// opened, acknowledged and resolved at the times the deliveries carry, so
// the acknowledgement SLA reads the same answer however the webhooks
// arrived.
func TestPagerDutyLifecycleInAnyOrder(t *testing.T) {
	src, err := pagerduty.New(pagerduty.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var deliveries [][]delivery.Event
	for _, name := range []string{"triggered", "acknowledged", "resolved"} {
		body, err := os.ReadFile(filepath.Join("..", "ingest", "pagerduty", "testdata", "incident."+name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		events, err := src.Translate(nil, body)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		deliveries = append(deliveries, events)
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	orders := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	for _, order := range orders {
		storetest.ForEach(t, func(t *testing.T, db *store.DB) {
			in := intake.New(db, nil)
			for _, i := range append(order, order...) {
				events := append([]delivery.Event(nil), deliveries[i]...)
				for j := range events {
					inc := *events[j].Incident
					events[j].Incident = &inc
				}
				if _, err := in.Events(context.Background(), pagerduty.Name, events); err != nil {
					t.Fatalf("order %v, delivery %d: %v", order, i, err)
				}
			}
			first := deliveries[0][0].Incident
			got, err := db.Incident(context.Background(), first.Service, first.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.OpenedAt.Equal(at("2026-03-02T10:00:00Z")) || !got.AcknowledgedAt.Equal(at("2026-03-02T10:07:31.25Z")) ||
				!got.ResolvedAt.Equal(at("2026-03-02T10:52:09.801Z")) || got.Status != delivery.IncidentResolved || got.Source != pagerduty.Name {
				t.Errorf("order %v: incident opened %s, acknowledged %s, resolved %s, status %q, source %q; want 10:00:00 (the incident's created_at), 10:07:31.25, 10:52:09.801, resolved, from pagerduty",
					order, got.OpenedAt, got.AcknowledgedAt, got.ResolvedAt, got.Status, got.Source)
			}
		})
	}
}
