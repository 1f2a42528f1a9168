package store_test

import (
	"errors"
	"net/http"
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
		translate := func(prefix string) func(store.RawDelivery) ([]delivery.Event, error) {
			return func(d store.RawDelivery) ([]delivery.Event, error) {
				id := string(d.Body)
				if id == "noise" {
					return nil, errors.New("event ignored: not a deployment")
				}
				return []delivery.Event{{Key: "hook:" + id, Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
					Service: prefix + "svc", ID: id, SHA: "a", Status: delivery.DeploymentSuccess, FinishedAt: t0}}}, nil
			}
		}
		old := translate("old-")
		for _, id := range []string{"1", "2", "noise"} {
			raw := store.RawDelivery{Source: "hook", DeliveryID: "d" + id, Headers: http.Header{}, Body: []byte(id)}
			events, err := old(raw)
			if err != nil {
				raw.Outcome = "ignored"
			}
			if _, err := db.IngestDelivery(ctx, raw, events); err != nil {
				t.Fatal(err)
			}
		}
		// Deployment 2 is also reported through the native API: it is
		// shared and cannot be rebuilt.
		ingest(t, db, delivery.Event{Key: "api:2", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
			Service: "old-svc", ID: "2", SHA: "a", Status: delivery.DeploymentSuccess, FinishedAt: t0, Ring: "ring2"}})

		res, err := db.Reprocess(ctx, "hook", translate("new-"))
		if err != nil {
			t.Fatal(err)
		}
		want := store.ReprocessResult{Deliveries: 3, Ignored: 1, Events: 2, Rebuilt: 1, Kept: 1}
		if res != want {
			t.Errorf("result %+v, want %+v", res, want)
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
