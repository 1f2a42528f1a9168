package store_test

import (
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

func TestImpactMinutesReplaceAndCursor(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		if _, ok, err := db.LastImpactMinute(ctx, "api", store.ImpactCalls); ok || err != nil {
			t.Fatalf("cursor of nothing: %v %v", ok, err)
		}
		m := func(metric string, minute int, v float64) store.ImpactMinute {
			return store.ImpactMinute{Service: "api", Metric: metric, Start: sloT0.Add(time.Duration(minute) * time.Minute), Value: v}
		}
		if err := db.PutImpactMinutes(ctx, []store.ImpactMinute{m(store.ImpactCalls, 1, 100), m(store.ImpactCalls, 0, 90), m(store.ImpactLatency, 0, 0.25)}); err != nil {
			t.Fatal(err)
		}
		// Minute 1 pulled again with a corrected value replaces it.
		if err := db.PutImpactMinutes(ctx, []store.ImpactMinute{m(store.ImpactCalls, 1, 120)}); err != nil {
			t.Fatal(err)
		}
		got, err := db.ImpactMinutes(ctx, "api", store.ImpactCalls, sloT0, sloT0.Add(time.Hour))
		if err != nil || len(got) != 2 || got[0].Value != 90 || got[1].Value != 120 || !got[1].Start.Equal(sloT0.Add(time.Minute)) {
			t.Fatalf("calls minutes %+v, %v; want 90 then 120", got, err)
		}
		end, ok, err := db.LastImpactMinute(ctx, "api", store.ImpactCalls)
		if err != nil || !ok || !end.Equal(sloT0.Add(2*time.Minute)) {
			t.Errorf("cursor %s %v %v, want the end of minute 1", end, ok, err)
		}
		if lat, _ := db.ImpactMinutes(ctx, "api", store.ImpactLatency, sloT0, sloT0.Add(time.Hour)); len(lat) != 1 || lat[0].Value != 0.25 {
			t.Errorf("latency minutes %+v", lat)
		}
	})
}

func TestServiceSLIMinutesSumsTheServiceSLOs(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		if _, err := db.PutSLOs(ctx, []store.SLODefinition{
			{Name: "api-a", Service: "api", Source: "stride", Definition: []byte(`{}`)},
			{Name: "api-b", Service: "api", Source: "stride", Definition: []byte(`{}`)},
			{Name: "web-a", Service: "web", Source: "stride", Definition: []byte(`{}`)},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PutSLI(ctx, []store.SLIPoint{
			point("api-a", 0, time.Minute, 99, 100), point("api-b", 0, time.Minute, 48, 50),
			point("api-a", 1, time.Minute, 100, 100), point("web-a", 1, time.Minute, 0, 1000),
		}); err != nil {
			t.Fatal(err)
		}
		got, err := db.ServiceSLIMinutes(ctx, "api", sloT0, sloT0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		// Minute 0: 99+48 of 100+50; minute 1: api-a alone; web is not api.
		want := []store.ServiceSLIMinute{{Start: sloT0, Width: time.Minute, Good: 147, Total: 150}, {Start: sloT0.Add(time.Minute), Width: time.Minute, Good: 100, Total: 100}}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("minutes %+v, want %+v", got, want)
		}
	})
}

func TestApdexPushesAndTotals(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		b := func(service string, minute int, ms int64, s, tol, total int64) store.ApdexBucket {
			return store.ApdexBucket{Service: service, Start: sloT0.Add(time.Duration(minute) * time.Minute), Width: time.Minute,
				Threshold: time.Duration(ms) * time.Millisecond, Satisfied: s, Tolerating: tol, Total: total}
		}
		res, err := db.PutApdex(ctx, []store.ApdexBucket{b("api", 0, 300, 80, 10, 100), b("api", 1, 300, 1, 1, 2), b("web", 0, 500, 5, 5, 10)})
		if err != nil || res.Added != 3 {
			t.Fatalf("%+v %v", res, err)
		}
		// Minute 1 again: replaced, not added to.
		res, err = db.PutApdex(ctx, []store.ApdexBucket{b("api", 1, 300, 90, 5, 100)})
		if err != nil || res.Replaced != 1 || res.Added != 0 {
			t.Fatalf("%+v %v", res, err)
		}
		got, err := db.ApdexTotals(ctx, "", sloT0, sloT0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []store.ApdexTotal{{Service: "api", Threshold: 300 * time.Millisecond, Satisfied: 170, Tolerating: 15, Total: 200},
			{Service: "web", Threshold: 500 * time.Millisecond, Satisfied: 5, Tolerating: 5, Total: 10}}
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("totals %+v, want %+v", got, want)
		}
		if only, _ := db.ApdexTotals(ctx, "api", sloT0.Add(time.Minute), sloT0.Add(time.Hour)); len(only) != 1 || only[0].Total != 100 {
			t.Errorf("api from minute 1: %+v", only)
		}
		if end, ok, err := db.LastApdexEnd(ctx, "api"); err != nil || !ok || !end.Equal(sloT0.Add(2*time.Minute)) {
			t.Errorf("Apdex cursor %s %v %v, want the end of minute 1", end, ok, err)
		}
		if _, ok, err := db.LastApdexEnd(ctx, "none"); ok || err != nil {
			t.Errorf("Apdex cursor of nothing: %v %v", ok, err)
		}
	})
}

func TestDeploymentImpactsAndCandidates(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		dep := func(service, id string, status delivery.DeploymentStatus, env string, finished time.Time) delivery.Event {
			return delivery.Event{Key: "d:" + service + ":" + env + ":" + id, Source: "api", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
				Service: service, Environment: env, ID: id, Status: status, StartedAt: finished.Add(-time.Minute), FinishedAt: finished, SHA: "abc"}}
		}
		if _, err := db.Ingest(ctx, []delivery.Event{
			dep("api", "1", delivery.DeploymentSuccess, "production", sloT0),
			dep("api", "2", delivery.DeploymentSuccess, "production", sloT0.Add(time.Hour)),
			dep("api", "3", delivery.DeploymentFailure, "production", sloT0.Add(2*time.Hour)),
			dep("api", "4", delivery.DeploymentSuccess, "staging", sloT0.Add(2*time.Hour)),
			dep("web", "1", delivery.DeploymentSuccess, "production", sloT0.Add(30*time.Minute)),
		}); err != nil {
			t.Fatal(err)
		}
		at := sloT0.Add(3 * time.Hour)
		if err := db.SaveImpacts(ctx, []store.DeploymentImpact{
			{Deployment: delivery.DeploymentKey{Service: "api", Environment: "production", ID: "1"}, FinishedAt: sloT0, Flagged: true, Result: []byte(`{"a":1}`), ComputedAt: at},
			{Deployment: delivery.DeploymentKey{Service: "web", Environment: "production", ID: "1"}, FinishedAt: sloT0.Add(30 * time.Minute), Result: []byte(`{}`), ComputedAt: at},
		}); err != nil {
			t.Fatal(err)
		}
		cs, err := db.ImpactCandidates(ctx, sloT0, sloT0.Add(3*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		// Successful production deployments only: api 1 and 2, web 1.
		if len(cs) != 3 || cs[0].Deployment.ID != "1" || !cs[0].ComputedAt.Equal(at) || cs[1].Deployment.ID != "2" || !cs[1].ComputedAt.IsZero() ||
			cs[2].Deployment.Service != "web" || !cs[0].Deployment.FinishedAt.Equal(sloT0) {
			t.Fatalf("candidates %+v", cs)
		}
		// Reassessed: replaced.
		if err := db.SaveImpacts(ctx, []store.DeploymentImpact{
			{Deployment: delivery.DeploymentKey{Service: "api", Environment: "production", ID: "1"}, FinishedAt: sloT0, Flagged: false, Result: []byte(`{"a":2}`), ComputedAt: at.Add(time.Minute)},
		}); err != nil {
			t.Fatal(err)
		}
		all, err := db.DeploymentImpacts(ctx, "", sloT0, at, false)
		if err != nil || len(all) != 2 || string(all[0].Result) != `{"a":2}` || all[0].Flagged || all[1].Deployment.Service != "web" {
			t.Fatalf("impacts %+v %v", all, err)
		}
		if f, _ := db.DeploymentImpacts(ctx, "", sloT0, at, true); len(f) != 0 {
			t.Errorf("flagged only: %+v, want none", f)
		}
		if w, _ := db.DeploymentImpacts(ctx, "web", sloT0, at, false); len(w) != 1 {
			t.Errorf("web: %+v", w)
		}
	})
}
