package intake_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
	"github.com/stride-oss/stride/internal/intake"
)

func TestProductionAliasesAreAppliedOnceAtIntake(t *testing.T) {
	forEachDB(t, func(t *testing.T, db conn) {
		in := intake.New(db.DB, nil)
		in.Mapping = delivery.Mapping{ProductionEnvironments: []string{"prod", "live-eu"}}
		env := func(id, name string) delivery.Event {
			e := deploy("app", id, "a")
			e.Deployment.Environment = name
			return e
		}
		// production, PRODUCTION (the canonical name in any case), prod and
		// LIVE-EU (aliases, any case) and no environment are production;
		// staging is not.
		if _, err := in.Events(ctx, "api", []delivery.Event{env("1", "production"), env("2", "PRODUCTION"), env("3", "Prod"),
			env("4", "LIVE-EU"), env("5", ""), env("6", "staging")}); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM deployments WHERE environment = 'production'`); n != 5 {
			t.Errorf("%d deployments stored as production, want 5", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM deployments WHERE environment = 'staging'`); n != 1 {
			t.Errorf("%d deployments stored as staging, want 1", n)
		}
	})
}

func TestALaterReportOfAKnownEntityCarriesOnlyWhatChanged(t *testing.T) {
	forEachDB(t, func(t *testing.T, db conn) {
		in := intake.New(db.DB, nil)
		opened := delivery.Event{Key: "i:1", Kind: delivery.KindIncident, Incident: &delivery.Incident{
			Service: "app", ID: "INC-1", Severity: 1, OpenedAt: t0}}
		resolve := func(key, id string) delivery.Event {
			return delivery.Event{Key: key, Kind: delivery.KindIncident, Incident: &delivery.Incident{
				Service: "app", ID: id, Severity: delivery.SeverityUnknown, Status: delivery.IncidentResolved, ResolvedAt: t0.Add(2 * time.Hour)}}
		}
		field := func(err error) string {
			var e *delivery.Error
			if errors.As(err, &e) {
				return e.Field
			}
			return ""
		}

		// A new incident still needs its opening time.
		if _, err := in.Events(ctx, "api", []delivery.Event{resolve("i:x", "INC-9")}); field(err) != "incident.opened_at" {
			t.Fatalf("resolving an unknown incident: %v; want incident.opened_at refused", err)
		}
		// A stored one may be resolved alone; it keeps its opening time
		// and severity: open 2 h.
		if _, err := in.Events(ctx, "api", []delivery.Event{opened}); err != nil {
			t.Fatal(err)
		}
		if _, err := in.Events(ctx, "api", []delivery.Event{resolve("i:2", "INC-1")}); err != nil {
			t.Fatalf("resolving a stored incident without opened_at: %v", err)
		}
		wantOpened, wantResolved := t0.UnixMicro(), t0.Add(2*time.Hour).UnixMicro()
		if n := count(t, db, `SELECT COUNT(*) FROM incidents WHERE id = 'INC-1' AND status = 'resolved' AND severity = 1 AND opened_at = `+itoa(wantOpened)+` AND resolved_at = `+itoa(wantResolved)); n != 1 {
			t.Errorf("INC-1 not stored as opened at t0, resolved 2 h later, severity 1")
		}
		// In one batch, the resolution may come before the report that
		// opens the incident: the batch knows it.
		o2 := opened
		o2.Key, o2.Incident = "i:3", &delivery.Incident{Service: "app", ID: "INC-2", Severity: 2, OpenedAt: t0}
		if _, err := in.Events(ctx, "api", []delivery.Event{resolve("i:4", "INC-2"), o2}); err != nil {
			t.Fatalf("a batch opening and resolving INC-2: %v", err)
		}

		// Deployments: a pending one has no finish time, so a success
		// without one is still refused; once it finished, a later report
		// may change only its status, dated by updated_at.
		pending := delivery.Event{Key: "d:p", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
			Service: "app", ID: "7", SHA: "abc", Repository: "acme/app", Status: delivery.DeploymentPending, StartedAt: t0}}
		if _, err := in.Events(ctx, "api", []delivery.Event{pending}); err != nil {
			t.Fatal(err)
		}
		succeeded := delivery.Event{Key: "d:s", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
			Service: "app", ID: "7", Status: delivery.DeploymentSuccess}}
		if _, err := in.Events(ctx, "api", []delivery.Event{succeeded}); field(err) != "deployment.finished_at" {
			t.Fatalf("a success of a deployment stored without a finish time: %v; want deployment.finished_at refused", err)
		}
		succeeded.Deployment.FinishedAt = t0.Add(10 * time.Minute)
		if _, err := in.Events(ctx, "api", []delivery.Event{succeeded}); err != nil {
			t.Fatalf("a success that leaves out the stored sha: %v", err)
		}
		rolled := delivery.Event{Key: "d:r", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
			Service: "app", ID: "7", Status: delivery.DeploymentRolledBack}}
		if _, err := in.Events(ctx, "api", []delivery.Event{rolled}); field(err) != "deployment.updated_at" {
			t.Fatalf("an undated partial report: %v; want deployment.updated_at refused", err)
		}
		rolled.Deployment.UpdatedAt = t0.Add(time.Hour)
		if _, err := in.Events(ctx, "api", []delivery.Event{rolled}); err != nil {
			t.Fatalf("a rollback that leaves out finish time and sha: %v", err)
		}
		// It keeps its sha, repository and finish time, and is rolled back.
		if n := count(t, db, `SELECT COUNT(*) FROM deployments WHERE id = '7' AND status = 'rolled_back' AND sha = 'abc' AND repository = 'acme/app' AND finished_at = `+
			itoa(t0.Add(10*time.Minute).UnixMicro())); n != 1 {
			t.Errorf("deployment 7 lost what the partial reports left out")
		}
		// A new deployment still needs its sha to succeed.
		if _, err := in.Events(ctx, "api", []delivery.Event{deploy("app", "8", "")}); field(err) != "deployment.sha" {
			t.Fatalf("a new success without sha: %v; want deployment.sha refused", err)
		}
	})
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// partialHook reports a resolution without the opening time, which intake
// must look up in the store.
type partialHook struct{ hook }

func (h *partialHook) Translate(hd http.Header, body []byte) ([]delivery.Event, error) {
	return []delivery.Event{{Key: "p:" + string(body), Kind: delivery.KindIncident, Incident: &delivery.Incident{
		Service: "svc", ID: string(body), Severity: delivery.SeverityUnknown, Status: delivery.IncidentResolved, ResolvedAt: t0}}}, nil
}

func TestAStoreThatCannotBeReadIsNotAMalformedDelivery(t *testing.T) {
	forEachDB(t, func(t *testing.T, db conn) {
		in := intake.New(db.DB, map[string]ingest.Source{"hook": &partialHook{}})
		// Unknown incident: the delivery is malformed (opened_at missing).
		v, err := in.Delivery(ctx, "hook", okToken, []byte("INC-1"))
		if err != nil || v.Outcome != intake.Malformed {
			t.Fatalf("an unknown incident resolved alone: %+v, %v; want malformed", v, err)
		}
		// With the store closed, the lookup fails: an error, not a verdict.
		db.Close()
		v, err = in.Delivery(ctx, "hook", okToken, []byte("INC-1"))
		if err == nil || v.Outcome == intake.Malformed {
			t.Errorf("a failing store: %+v, %v; want an error and no verdict", v, err)
		}
	})
}
