package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestReprocessRebuildsWhatOnlyTheSourceReported stores two deliveries of a
// made-up source whose body names the service of a deployment, then
// reprocesses them under a "new mapping" that renames the service.
func TestReprocessRebuildsWhatOnlyTheSourceReported(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		// ignored counts the deliveries the replay found ignored, as
		// intake does for its result.
		ignored := 0
		translate := func(prefix string) func(store.RawDelivery) store.Replay {
			return func(d store.RawDelivery) store.Replay {
				id := string(d.Body)
				if id == "noise" {
					ignored++
					return store.Replay{Outcome: "ignored: not a deployment"}
				}
				e := delivery.Event{Key: "hook:" + id, Kind: delivery.KindDeployment, Source: "hook", Deployment: &delivery.Deployment{
					Service: prefix + "svc", ID: id, SHA: "a", Status: delivery.DeploymentSuccess, FinishedAt: t0}}
				if err := e.Validate(); err != nil {
					t.Fatal(err)
				}
				return store.Replay{Outcome: "accepted", Events: []delivery.Event{e}}
			}
		}
		old := translate("old-")
		for _, id := range []string{"1", "2", "noise"} {
			raw := store.RawDelivery{Source: "hook", DeliveryID: "d" + id, Headers: map[string][]string{}, Body: []byte(id)}
			r := old(raw)
			raw.Outcome = r.Outcome
			if _, err := db.IngestDelivery(ctx, raw, r.Events); err != nil {
				t.Fatal(err)
			}
		}
		// Deployment 2 is also reported through the native API: it is
		// shared and cannot be rebuilt.
		ingest(t, db, delivery.Event{Key: "api:2", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
			Service: "old-svc", ID: "2", SHA: "a", Status: delivery.DeploymentSuccess, FinishedAt: t0, Ring: "ring2"}})

		ignored = 0
		res, err := db.Reprocess(ctx, "hook", translate("new-"))
		if err != nil {
			t.Fatal(err)
		}
		want := store.ReprocessResult{Deliveries: 3, Events: 2, Rebuilt: 1, Kept: 1}
		if res != want || ignored != 1 {
			t.Errorf("result %+v with %d ignored, want %+v with 1 ignored", res, ignored, want)
		}
		period := delivery.Period{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)}
		ids := func(service string) []string {
			in, err := reads(db).DORAInput(ctx, store.Scope{Service: service}, period)
			if err != nil {
				t.Fatalf("%s: %v", service, err)
			}
			var out []string
			for _, d := range in.Deployments {
				out = append(out, d.ID)
			}
			return out
		}
		// Deployment 1 moved; deployment 2 stays under the old name (the API
		// reported it there) and is derived anew under the new one.
		if got := strings.Join(ids("old-svc"), ","); got != "2" {
			t.Errorf("old-svc has deployments %q, want only the shared 2", got)
		}
		if got := ids("new-svc"); len(got) != 2 {
			t.Errorf("new-svc has deployments %v, want 1 and 2", got)
		}
		// A second run changes nothing more.
		again, err := db.Reprocess(ctx, "hook", translate("new-"))
		if err != nil {
			t.Fatal(err)
		}
		if again.Events != 2 || len(ids("new-svc")) != 2 || len(ids("old-svc")) != 1 {
			t.Errorf("second run: %+v", again)
		}
	})
}
