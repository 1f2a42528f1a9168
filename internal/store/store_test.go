package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday
)

func change(repo, sha string, at time.Time, parents ...string) delivery.Event {
	return delivery.Event{Key: "c:" + repo + ":" + sha, Kind: delivery.KindChange,
		Change: &delivery.Change{Repository: repo, SHA: sha, Parents: parents, CommitTime: at}}
}

func deploy(service, id, sha string, status delivery.DeploymentStatus, at time.Time) delivery.Event {
	return delivery.Event{Key: "d:" + service + ":" + id + ":" + string(status), Kind: delivery.KindDeployment,
		Deployment: &delivery.Deployment{Service: service, ID: id, SHA: sha, Status: status, FinishedAt: at}}
}

// reads is the read path over db, bringing stale shipments up to date
// first, as the binary wires it: the store's facts are checked through the
// metric input they make.
func reads(db *store.DB) *report.Reader {
	return &report.Reader{Store: db, Fresh: storetest.Fresh(db)}
}

// shippedTimes lists each change in shipped, named or summarised, as its
// deployment and commit time, sorted: what lead time reads of it.
func shippedTimes(in dora.Input) []string {
	var out []string
	for _, s := range in.Shipments {
		out = append(out, s.Deployment.String()+"@"+s.CommitTime.Format(time.RFC3339Nano))
	}
	for _, s := range in.Summaries {
		for _, us := range s.CommitMicros {
			out = append(out, s.Deployment.String()+"@"+time.UnixMicro(us).UTC().Format(time.RFC3339Nano))
		}
	}
	slices.Sort(out)
	return out
}

// ingest stores events as the one write path, internal/intake, hands them
// to the store: validated, normalised and stamped with a source.
func ingest(t *testing.T, db *store.DB, events ...delivery.Event) store.IngestResult {
	t.Helper()
	events = slices.Clone(events)
	for i := range events {
		if err := events[i].Validate(); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if events[i].Source == "" {
			events[i].Source = "api"
		}
	}
	res, err := db.Ingest(ctx, events)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return res
}

func TestMigrationsRecordTheirVersionAndRefuseANewerSchema(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		v, err := db.SchemaVersion(ctx)
		if err != nil || v < 1 {
			t.Fatalf("version %d, %v", v, err)
		}
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("migrating twice must be a no-op: %v", err)
		}
		if err := db.ExecForTest(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future.sql', 0)"); err != nil {
			t.Fatal(err)
		}
		err = db.Migrate(ctx)
		if err == nil || !strings.Contains(err.Error(), "version 999") {
			t.Fatalf("an older binary on a newer schema must refuse clearly, got %v", err)
		}
	})
}

func TestResentEventsChangeNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		batch := []delivery.Event{change("app", "a", t0), change("app", "b", t0.Add(time.Hour), "a"), deploy("app", "1", "b", delivery.DeploymentSuccess, t0.Add(2*time.Hour))}
		if res := ingest(t, db, batch...); res.Added != 3 || res.Duplicates != 0 {
			t.Fatalf("first send: %+v", res)
		}
		if res := ingest(t, db, batch...); res.Added != 0 || res.Duplicates != 3 {
			t.Fatalf("resend: %+v", res)
		}
		dup := batch[0]
		if res := ingest(t, db, dup, dup); res.Added != 0 || res.Duplicates != 2 {
			t.Fatalf("duplicate inside a batch: %+v", res)
		}
		in, err := reads(db).DORAInput(ctx, store.Scope{Service: "app"}, delivery.Period{From: t0, To: t0.Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Deployments) != 1 || len(in.Shipments) != 1 {
			t.Fatalf("resending multiplied records: %d deployments, %d shipments", len(in.Deployments), len(in.Shipments))
		}
	})
}

// TestTheStoreRefusesEventsThatDidNotComeThroughIntake pins the store's one
// invariant: an event without a source, or without the entity of its kind,
// is refused and the batch stores nothing. (Field validation is intake's:
// see intake's TestABatchWithOneBadEventStoresNothing.)
func TestTheStoreRefusesEventsThatDidNotComeThroughIntake(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		good := change("app", "a", t0)
		good.Source = "api"
		for name, bad := range map[string]delivery.Event{
			"no source": change("app", "b", t0),
			"no entity": {Key: "x", Kind: delivery.KindDeployment, Source: "api"},
		} {
			if _, err := db.Ingest(ctx, []delivery.Event{good, bad}); err == nil || !strings.Contains(err.Error(), "event 1") {
				t.Errorf("%s: want the batch refused naming event 1, got %v", name, err)
			}
		}
		if res := ingest(t, db, good); res.Added != 1 {
			t.Fatalf("the good event of a refused batch was stored: %+v", res)
		}
	})
}

func TestDeploymentStateDoesNotDependOnArrivalOrder(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		started := delivery.Event{Key: "s", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
			Service: "app", ID: "7", Status: delivery.DeploymentInProgress, StartedAt: t0, SHA: "a"}}
		done := deploy("app", "7", "a", delivery.DeploymentSuccess, t0.Add(10*time.Minute))
		ingest(t, db, change("app", "a", t0.Add(-time.Hour)))
		ingest(t, db, done)
		ingest(t, db, started) // arrives late
		in, err := reads(db).DORAInput(ctx, store.Scope{Service: "app"}, delivery.Period{From: t0, To: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Deployments) != 1 {
			t.Fatalf("deployments: %+v", in.Deployments)
		}
		d := in.Deployments[0]
		if d.Status != delivery.DeploymentSuccess || !d.StartedAt.Equal(t0) || !d.FinishedAt.Equal(t0.Add(10*time.Minute)) {
			t.Errorf("a late 'started' report undid the finish: %+v", d)
		}
	})
}

func TestShipmentsFollowTheCommitGraphWhateverTheOrder(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		// a ← b ← c ← d; v1 deploys b, v2 deploys d. The deployments arrive
		// before the commits and v2 before v1.
		ingest(t, db, deploy("app", "v2", "d", delivery.DeploymentSuccess, t0.Add(10*time.Hour)))
		ingest(t, db, deploy("app", "v1", "b", delivery.DeploymentSuccess, t0.Add(5*time.Hour)))
		ingest(t, db, change("app", "d", t0.Add(4*time.Hour), "c"), change("app", "c", t0.Add(3*time.Hour), "b"))
		ingest(t, db, change("app", "b", t0.Add(time.Hour), "a"), change("app", "a", t0))
		in, err := reads(db).DORAInput(ctx, store.Scope{Service: "app"}, delivery.Period{From: t0, To: t0.Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string][]string{}
		for _, s := range in.Shipments {
			got[s.Deployment.ID] = append(got[s.Deployment.ID], s.SHA)
		}
		for _, v := range got {
			slices.Sort(v)
		}
		// v1 is the first deployment: only its own commit; v2 ships c and d.
		if !slices.Equal(got["v1"], []string{"b"}) || !slices.Equal(got["v2"], []string{"c", "d"}) {
			t.Fatalf("shipments %v", got)
		}
		// A new commit and deployment make the service stale again.
		ingest(t, db, change("app", "e", t0.Add(11*time.Hour), "d"), deploy("app", "v3", "e", delivery.DeploymentSuccess, t0.Add(12*time.Hour)))
		in, err = reads(db).DORAInput(ctx, store.Scope{Service: "app"}, delivery.Period{From: t0.Add(11 * time.Hour), To: t0.Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Shipments) != 1 || in.Shipments[0].SHA != "e" || !in.Shipments[0].CommitTime.Equal(t0.Add(11*time.Hour)) {
			t.Fatalf("after v3: %+v", in.Shipments)
		}
	})
}

func TestIncidentsLinkToTheirCause(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ingest(t, db, change("app", "a", t0), change("app", "b", t0, "a"),
			deploy("app", "v1", "a", delivery.DeploymentSuccess, t0.Add(time.Hour)),
			deploy("app", "v2", "b", delivery.DeploymentSuccess, t0.Add(3*time.Hour)))
		inc := func(id string, opened time.Time, cause string) delivery.Event {
			return delivery.Event{Key: "i:" + id, Kind: delivery.KindIncident, Incident: &delivery.Incident{
				Service: "app", ID: id, Severity: 1, OpenedAt: opened, CauseDeployment: cause}}
		}
		ingest(t, db, inc("before-any", t0.Add(30*time.Minute), ""), inc("inferred", t0.Add(2*time.Hour), ""), inc("explicit", t0.Add(4*time.Hour), "v1"))
		in, err := reads(db).DORAInput(ctx, store.Scope{Service: "app"}, delivery.Period{From: t0, To: t0.Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		links := map[string]string{}
		for _, l := range in.Incidents {
			switch {
			case l.Deployment == nil:
				links[l.Incident.ID] = "none"
			case l.Inferred:
				links[l.Incident.ID] = "inferred " + l.Deployment.ID
			default:
				links[l.Incident.ID] = "explicit " + l.Deployment.ID
			}
		}
		want := map[string]string{"before-any": "none", "inferred": "inferred v1", "explicit": "explicit v1"}
		if len(links) != 3 || links["before-any"] != want["before-any"] || links["inferred"] != want["inferred"] || links["explicit"] != want["explicit"] {
			t.Fatalf("links %v, want %v", links, want)
		}
	})
}

func TestScopeServices(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		if _, err := db.ScopeServices(ctx, store.Scope{Service: "nope"}); delivery.ErrorCode(err) != delivery.ENOTFOUND {
			t.Fatalf("unknown service: %v", err)
		}
		if err := db.SetService(ctx, delivery.Service{Name: "api", Team: "core"}, nil); err != nil {
			t.Fatal(err)
		}
		ingest(t, db, deploy("web", "1", "x", delivery.DeploymentFailure, t0))
		got, err := db.ScopeServices(ctx, store.Scope{Team: "core"})
		if err != nil || !slices.Equal(got, []string{"api"}) {
			t.Fatalf("team: %v %v", got, err)
		}
		got, err = db.ScopeServices(ctx, store.Scope{})
		if err != nil || !slices.Equal(got, []string{"api", "web"}) {
			t.Fatalf("org: %v %v", got, err)
		}
	})
}

func TestTokens(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		tok, secret, err := db.CreateToken(ctx, "ci", delivery.ScopeIngest)
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.Authenticate(ctx, secret)
		if err != nil || got.ID != tok.ID || !got.Scope.Allows(delivery.ScopeIngest) || got.Scope.Allows(delivery.ScopeRead) {
			t.Fatalf("authenticate: %+v %v", got, err)
		}
		if _, err := db.Authenticate(ctx, secret+"x"); delivery.ErrorCode(err) != delivery.EUNAUTHORIZED {
			t.Fatalf("wrong secret: %v", err)
		}
		if _, _, err := db.CreateToken(ctx, "x", "root"); delivery.ErrorCode(err) != delivery.EINVALID {
			t.Fatalf("bad scope: %v", err)
		}
		if n, err := db.CountForTest(ctx, "SELECT COUNT(*) FROM tokens WHERE hash LIKE '%"+secret[len(secret)-8:]+"%'"); err != nil || n != 0 {
			t.Fatalf("the secret must not be stored: %d %v", n, err)
		}
	})
}

func TestAReopenedIncidentLosesItsResolutionUntilResolvedAgain(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		report := func(key string, minutes int, status delivery.IncidentStatus, resolved bool) delivery.Event {
			at := t0.Add(time.Duration(minutes) * time.Minute)
			in := &delivery.Incident{Service: "app", ID: "INC-7", Severity: 1, OpenedAt: t0, Status: status, UpdatedAt: at}
			if resolved {
				in.ResolvedAt = at
			}
			return delivery.Event{Key: key, Kind: delivery.KindIncident, Incident: in}
		}
		read := func() delivery.Incident {
			t.Helper()
			in, err := reads(db).DORAInput(ctx, store.Scope{Service: "app"}, delivery.Period{From: t0, To: t0.Add(24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Incidents) != 1 {
				t.Fatalf("incidents: %+v", in.Incidents)
			}
			return in.Incidents[0].Incident
		}
		steps := []struct {
			name     string
			event    delivery.Event
			status   delivery.IncidentStatus
			resolved time.Time
		}{
			{"resolved", report("resolved", 60, delivery.IncidentResolved, true), delivery.IncidentResolved, t0.Add(time.Hour)},
			{"reopened later", report("reopened", 90, delivery.IncidentOpen, false), delivery.IncidentOpen, time.Time{}},
			{"the opening arrives late", report("opened", 0, delivery.IncidentOpen, false), delivery.IncidentOpen, time.Time{}},
			{"a status-less update", report("renamed", 100, "", false), delivery.IncidentOpen, time.Time{}},
			{"resolved again", report("resolved-again", 120, delivery.IncidentResolved, true), delivery.IncidentResolved, t0.Add(2 * time.Hour)},
		}
		for _, s := range steps {
			ingest(t, db, s.event)
			if got := read(); got.Status != s.status || !got.ResolvedAt.Equal(s.resolved) {
				t.Fatalf("after %s: status %q resolved %v, want %q %v", s.name, got.Status, got.ResolvedAt, s.status, s.resolved)
			}
		}
	})
}

func TestAnUnknownSeverityIsTheDefaultOnlyWhileNoReportGaveOne(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		report := func(key string, minutes, severity int) delivery.Event {
			return delivery.Event{Key: key, Kind: delivery.KindIncident, Incident: &delivery.Incident{
				Service: "app", ID: "INC-9", Severity: severity, OpenedAt: t0, UpdatedAt: t0.Add(time.Duration(minutes) * time.Minute)}}
		}
		steps := []struct {
			name  string
			event delivery.Event
			want  int
		}{
			{"no report gave a severity: the default", report("u1", 30, delivery.SeverityUnknown), delivery.SeverityDefault},
			{"an earlier report gives one: it replaces the default", report("k1", 10, delivery.SeverityCritical), delivery.SeverityCritical},
			{"a later report without one keeps it", report("u2", 50, delivery.SeverityUnknown), delivery.SeverityCritical},
			{"a later report with one replaces it", report("k2", 40, delivery.SeverityLow), delivery.SeverityLow},
		}
		for _, s := range steps {
			ingest(t, db, s.event)
			in, err := reads(db).DORAInput(ctx, store.Scope{Service: "app"}, delivery.Period{From: t0, To: t0.Add(24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if len(in.Incidents) != 1 || in.Incidents[0].Incident.Severity != s.want {
				t.Fatalf("after %s: %+v, want severity %d", s.name, in.Incidents, s.want)
			}
		}
	})
}

func TestMonorepoServicesShipOnlyTheirOwnPaths(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		const repo = "acme/mono"
		for _, s := range []delivery.Service{
			{Name: "api", Repositories: []string{repo}, Paths: []string{"api/"}},
			{Name: "web", Repositories: []string{repo}, Paths: []string{"web"}},
		} {
			if err := db.SetService(ctx, s, []string{"root"}); err != nil {
				t.Fatal(err)
			}
		}
		commit := func(sha, parent string, hours int, paths ...string) delivery.Event {
			e := change(repo, sha, t0.Add(time.Duration(hours)*time.Hour), parent)
			e.Change.Paths = paths
			return e
		}
		ingest(t, db,
			change(repo, "root", t0),
			commit("a1", "root", 1, "api/main.go"),
			commit("w1", "a1", 2, "web/index.html", "README.md"),
			commit("b1", "w1", 3, "api/db.go", "web/api.ts"), // touches both
			commit("d1", "b1", 4, "docs/intro.md"),           // touches neither
			commit("m1", "d1", 5),                            // a merge: nothing of its own
			change(repo, "u1", t0.Add(6*time.Hour), "m1"),    // paths unknown: kept by both
			commit("w2", "u1", 7, "web/app.ts"),
		)
		m1 := commit("m1", "d1", 5)
		m1.Key += ":merge"
		m1.Change.Paths = []string{}
		ingest(t, db, m1)
		deployOf := func(service, id, sha string, hours int) delivery.Event {
			e := deploy(service, id, sha, delivery.DeploymentSuccess, t0.Add(time.Duration(hours)*time.Hour))
			e.Deployment.Repository = repo
			return e
		}
		ingest(t, db, deployOf("api", "api-1", "w2", 10), deployOf("web", "web-1", "b1", 10), deployOf("web", "web-2", "w2", 11))
		want := map[string][]string{"api-1": {"a1", "b1", "u1"}, "web-1": {"b1", "w1"}, "web-2": {"u1", "w2"}}
		got := map[string][]string{}
		for _, service := range []string{"api", "web"} {
			in, err := reads(db).DORAInput(ctx, store.Scope{Service: service}, delivery.Period{From: t0, To: t0.Add(24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range in.Shipments {
				got[s.Deployment.ID] = append(got[s.Deployment.ID], s.SHA)
			}
			// The summaries the reports read agree with the detail.
			sum, err := reads(db).DORASummaryInput(ctx, store.Scope{Service: service}, delivery.Period{From: t0, To: t0.Add(24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := shippedTimes(sum), shippedTimes(in); !slices.Equal(got, want) {
				t.Errorf("%s: the summaries ship %v, the detail %v", service, got, want)
			}
		}
		for id, shas := range got {
			slices.Sort(shas)
			if !slices.Equal(shas, want[id]) {
				t.Errorf("%s shipped %v, want %v", id, shas, want[id])
			}
		}
		if len(got) != len(want) {
			t.Errorf("shipments %v, want %v", got, want)
		}
	})
}

// TestRefreshMovesChangesBetweenDeployments refreshes after each arrival,
// so a late deployment moves changes that were already assigned.
func TestRefreshMovesChangesBetweenDeployments(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		period := delivery.Period{From: t0, To: t0.Add(24 * time.Hour)}
		shipped := func() map[string]string {
			t.Helper()
			in, err := reads(db).DORAInput(ctx, store.Scope{Service: "app"}, period)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := reads(db).DORASummaryInput(ctx, store.Scope{Service: "app"}, period)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := shippedTimes(sum), shippedTimes(in); !slices.Equal(got, want) {
				t.Fatalf("the summaries ship %v, the shipments %v", got, want)
			}
			out := map[string]string{}
			for _, s := range in.Shipments {
				out[s.SHA] = s.Deployment.ID
			}
			return out
		}
		// a ← b ← c ← d
		ingest(t, db, change("app", "a", t0), change("app", "b", t0.Add(time.Hour), "a"),
			change("app", "c", t0.Add(2*time.Hour), "b"), change("app", "d", t0.Add(3*time.Hour), "c"))
		ingest(t, db, deploy("app", "v2", "d", delivery.DeploymentSuccess, t0.Add(10*time.Hour)))
		if got := shipped(); len(got) != 1 || got["d"] != "v2" {
			t.Fatalf("v2 alone, the first deployment, ships only d: %v", got)
		}
		// v1 finished earlier: it becomes the first, and v2 ships c and d.
		ingest(t, db, deploy("app", "v1", "b", delivery.DeploymentSuccess, t0.Add(5*time.Hour)))
		if got := shipped(); len(got) != 3 || got["b"] != "v1" || got["c"] != "v2" || got["d"] != "v2" {
			t.Fatalf("after v1: %v", got)
		}
		// v0 finished earlier still and deployed d: it is the first and
		// ships only d; v1 and v2 then ship nothing new.
		ingest(t, db, deploy("app", "v0", "d", delivery.DeploymentSuccess, t0.Add(4*time.Hour)))
		if got := shipped(); len(got) != 1 || got["d"] != "v0" {
			t.Fatalf("after v0: %v", got)
		}
	})
}

func TestSetServiceMarksStaleOnlyWhatChanged(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		api := delivery.Service{Name: "api", Team: "core", Repositories: []string{"acme/api"}, Paths: []string{"svc/api/"}}
		base := []string{"b0"}
		set := func(s delivery.Service, base []string) {
			t.Helper()
			if err := db.SetService(ctx, s, base); err != nil {
				t.Fatal(err)
			}
		}
		staleAfter := func(what string, s delivery.Service, base []string, want bool) {
			t.Helper()
			if _, err := db.RefreshShipments(ctx); err != nil {
				t.Fatal(err)
			}
			set(s, base)
			got, err := db.StaleServices(ctx, "api")
			if err != nil {
				t.Fatal(err)
			}
			if (len(got) == 1) != want {
				t.Errorf("%s: stale %v, want stale %v", what, got, want)
			}
		}
		set(api, base)
		if got, err := db.StaleServices(ctx); err != nil || !slices.Equal(got, []string{"api"}) {
			t.Fatalf("a new service: stale %v, %v; want [api]", got, err)
		}
		staleAfter("the same configuration again", api, base, false)
		other := api
		other.Team = "payments"
		staleAfter("another team", other, base, true)
		other.Repositories = []string{"acme/api", "acme/lib"}
		staleAfter("another repository", other, base, true)
		other.Paths = []string{"svc/api/", "lib/"}
		staleAfter("another path", other, base, true)
		staleAfter("another base", other, []string{"b1"}, true)
		staleAfter("unchanged after the changes", other, []string{"b1"}, false)
		services, err := db.ScopeServices(ctx, store.Scope{Team: "payments"})
		if err != nil || !slices.Equal(services, []string{"api"}) {
			t.Errorf("the last change is stored: team payments has %v, %v", services, err)
		}
	})
}

func TestFirstShipmentsReadsInChunks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		// c0 ← c1 ← … ← c1199 in one repository shipped by two services,
		// each first deploying c0 at 1h (a first deployment ships only its
		// own commit): web's w1 ships c1..c10 at 12h, before app's d1
		// (c1..c599 at 24h); app's d2 ships the rest at 48h.
		var events []delivery.Event
		var commits []store.CommitRef
		for i := range 1200 {
			var parents []string
			if i > 0 {
				parents = []string{fmt.Sprintf("c%d", i-1)}
			}
			events = append(events, change("mono", fmt.Sprintf("c%d", i), t0.Add(time.Duration(i)*time.Second), parents...))
			commits = append(commits, store.CommitRef{Repository: "mono", SHA: fmt.Sprintf("c%d", i)})
		}
		ingest(t, db, events[:600]...)
		ingest(t, db, events[600:]...)
		dep := func(service, id, sha string, h int) delivery.Event {
			e := deploy(service, id, sha, delivery.DeploymentSuccess, t0.Add(time.Duration(h)*time.Hour))
			e.Deployment.Repository = "mono"
			return e
		}
		ingest(t, db, dep("app", "d0", "c0", 1), dep("web", "w0", "c0", 1),
			dep("app", "d1", "c599", 24), dep("app", "d2", "c1199", 48), dep("web", "w1", "c10", 12))
		if _, err := db.RefreshShipments(ctx); err != nil {
			t.Fatal(err)
		}
		commits = append(commits, store.CommitRef{Repository: "mono", SHA: "never"}, commits[5], store.CommitRef{Repository: "other", SHA: "c5"})
		first, err := db.FirstShipments(ctx, commits)
		if err != nil {
			t.Fatal(err)
		}
		if len(first) != 1200 {
			t.Errorf("%d commits shipped, want 1200", len(first))
		}
		for _, tt := range []struct {
			sha, want string
			h         int
		}{{"c0", "app/production/d0", 1}, {"c5", "web/production/w1", 12}, {"c10", "web/production/w1", 12}, {"c11", "app/production/d1", 24}, {"c599", "app/production/d1", 24}, {"c600", "app/production/d2", 48}, {"c1199", "app/production/d2", 48}} {
			f, ok := first[store.CommitRef{Repository: "mono", SHA: tt.sha}]
			if !ok || f.Deployment.String() != tt.want || !f.FinishedAt.Equal(t0.Add(time.Duration(tt.h)*time.Hour)) {
				t.Errorf("%s: first shipped by %v at %v (%v), want %s at %dh", tt.sha, f.Deployment, f.FinishedAt, ok, tt.want, tt.h)
			}
		}
		if _, ok := first[store.CommitRef{Repository: "mono", SHA: "never"}]; ok {
			t.Error("a commit never shipped is listed")
		}

		// Deployments that name no repository are found too: one of a
		// service's own (the default repository is the service's name), and
		// one of a service configured with another repository.
		if err := db.SetService(ctx, delivery.Service{Name: "cfg", Repositories: []string{"lib"}}, nil); err != nil {
			t.Fatal(err)
		}
		ingest(t, db, change("solo", "s1", t0), change("lib", "l1", t0),
			deploy("solo", "x1", "s1", delivery.DeploymentSuccess, t0.Add(time.Hour)), deploy("cfg", "y1", "l1", delivery.DeploymentSuccess, t0.Add(2*time.Hour)))
		if _, err := db.RefreshShipments(ctx); err != nil {
			t.Fatal(err)
		}
		first, err = db.FirstShipments(ctx, []store.CommitRef{{Repository: "solo", SHA: "s1"}, {Repository: "lib", SHA: "l1"}})
		if err != nil {
			t.Fatal(err)
		}
		if f := first[store.CommitRef{Repository: "solo", SHA: "s1"}]; f.Deployment.String() != "solo/production/x1" {
			t.Errorf("solo's commit first shipped by %v, want solo/production/x1", f.Deployment)
		}
		if f := first[store.CommitRef{Repository: "lib", SHA: "l1"}]; f.Deployment.String() != "cfg/production/y1" {
			t.Errorf("lib's commit first shipped by %v, want cfg/production/y1", f.Deployment)
		}
	})
}

// TestATeamsServicesAreReadTogether reads a team of three services whose
// deployments share ids, as one report reads them (the summaries and the
// next success after the period for every service at once), and checks it
// against each service's detail.
func TestATeamsServicesAreReadTogether(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		services := []string{"api", "web", "worker"}
		for i, s := range services {
			if err := db.SetService(ctx, delivery.Service{Name: s, Team: "core", Repositories: []string{s}}, nil); err != nil {
				t.Fatal(err)
			}
			base := t0.Add(time.Duration(i) * time.Minute)
			ingest(t, db, change(s, "a", base), change(s, "b", base.Add(time.Hour), "a"), change(s, "c", base.Add(2*time.Hour), "b"),
				change(s, "d", base.Add(3*time.Hour), "c"), change(s, "e", base.Add(30*time.Hour), "d"))
			ingest(t, db, deploy(s, "v1", "a", delivery.DeploymentSuccess, base.Add(90*time.Minute)),
				deploy(s, "v2", "c", delivery.DeploymentSuccess, base.Add(time.Duration(4+i)*time.Hour)),
				deploy(s, "v3", "d", delivery.DeploymentFailure, base.Add(5*time.Hour)))
			if i < 2 { // worker has no deployment after the period
				ingest(t, db, deploy(s, "v4", "e", delivery.DeploymentSuccess, base.Add(31*time.Hour)))
			}
		}
		period := delivery.Period{From: t0, To: t0.Add(24 * time.Hour)}
		team, err := reads(db).DORASummaryInput(ctx, store.Scope{Team: "core"}, period)
		if err != nil {
			t.Fatal(err)
		}
		var detail []string
		var deployments []string
		for _, s := range services {
			in, err := reads(db).DORAInput(ctx, store.Scope{Service: s}, period)
			if err != nil {
				t.Fatal(err)
			}
			detail = append(detail, shippedTimes(in)...)
			for _, d := range in.Deployments {
				deployments = append(deployments, fmt.Sprintf("%s %s %s", d.Key(), d.Status, d.FinishedAt.Format(time.RFC3339)))
			}
		}
		slices.Sort(detail)
		if got := shippedTimes(team); !slices.Equal(got, detail) {
			t.Errorf("the team's summaries ship\n%v\nits services'\n%v", got, detail)
		}
		var got []string
		for _, d := range team.Deployments {
			got = append(got, fmt.Sprintf("%s %s %s", d.Key(), d.Status, d.FinishedAt.Format(time.RFC3339)))
		}
		slices.Sort(got)
		slices.Sort(deployments)
		if !slices.Equal(got, deployments) {
			t.Errorf("the team's deployments\n%v\nits services'\n%v", got, deployments)
		}
		// v4 of api and web: the fix after the period, one per service.
		if n := strings.Count(strings.Join(got, "\n"), "/v4 "); n != 2 {
			t.Errorf("%d deployments after the period, want api's and web's v4: %v", n, got)
		}

		// x's failed v2 is read just before y's v2, which shipped: the
		// summary of y's is y's.
		for _, s := range []string{"x", "y"} {
			if err := db.SetService(ctx, delivery.Service{Name: s, Team: "pair", Repositories: []string{s}}, nil); err != nil {
				t.Fatal(err)
			}
		}
		ingest(t, db, change("x", "a", t0), change("x", "b", t0.Add(time.Hour), "a"), change("y", "a", t0), change("y", "b", t0.Add(time.Hour), "a"))
		ingest(t, db, deploy("x", "v1", "b", delivery.DeploymentSuccess, t0.Add(2*time.Hour)), deploy("x", "v2", "b", delivery.DeploymentFailure, t0.Add(3*time.Hour)))
		ingest(t, db, deploy("y", "v1", "a", delivery.DeploymentFailure, t0.Add(90*time.Minute)), deploy("y", "v2", "b", delivery.DeploymentSuccess, t0.Add(4*time.Hour)))
		pair, err := reads(db).DORASummaryInput(ctx, store.Scope{Team: "pair"}, period)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"x/production/v1@" + t0.Add(time.Hour).Format(time.RFC3339Nano), "y/production/v2@" + t0.Add(time.Hour).Format(time.RFC3339Nano)}
		if got := shippedTimes(pair); !slices.Equal(got, want) {
			t.Errorf("the pair's summaries ship %v, want %v", got, want)
		}
	})
}
