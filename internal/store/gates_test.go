package store_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

func gateResult(service, sha string, verdict gate.Status, judged ...string) gate.Result {
	r := gate.Result{Service: service, SHA: sha, Verdict: verdict}
	for _, name := range judged {
		r.Criteria = append(r.Criteria, gate.Criterion{Name: name, Status: verdict})
	}
	r.Criteria = append(r.Criteria, gate.Criterion{Name: "build time", Status: gate.Skipped})
	return r
}

// record stores a gate result as the server does: named by gate, its
// criteria encoded as JSON.
func record(t *testing.T, r gate.Result) store.GateRecord {
	t.Helper()
	data, err := json.Marshal(r.Criteria)
	if err != nil {
		t.Fatal(err)
	}
	return store.GateRecord{Service: r.Service, SHA: r.SHA, Name: gate.Name(r), Verdict: string(r.Verdict), Fix: r.Fix, Criteria: data}
}

// latestGates is what a promotion judges of a commit's stored results.
func latestGates(db *store.DB, service, sha string) ([]rings.GateRun, error) {
	results, err := db.GateResults(ctx, service, sha)
	var runs []rings.GateRun
	for _, g := range results {
		runs = append(runs, rings.GateRun{Name: g.Name, Passed: g.Verdict == string(gate.Pass), At: g.RecordedAt})
	}
	return rings.LatestGates(runs), err
}

func TestGateMigrationCreatesItsTables(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		v, err := db.SchemaVersion(ctx)
		if err != nil || v < 2 {
			t.Fatalf("schema version %d, %v; want at least 2", v, err)
		}
		for _, table := range []string{"gate_results", "promotions"} {
			if n, err := db.CountForTest(ctx, "SELECT COUNT(*) FROM "+table); err != nil || n != 0 {
				t.Errorf("%s: %d rows, %v", table, n, err)
			}
		}
	})
}

func TestGateRunsKeepTheLatestResultOfEachGate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		db.Now = func() time.Time { return t0 } // one clock tick for every result: arrival order decides
		posts := []gate.Result{
			gateResult("api", "abc", gate.Fail, "coverage", "tests"),
			gateResult("api", "abc", gate.Pass, "p95 latency"),
			gateResult("api", "abc", gate.Pass, "coverage", "tests"), // the re-run after a fix
			gateResult("api", "other", gate.Fail, "coverage"),
			gateResult("web", "abc", gate.Fail, "coverage"),
		}
		var ids []string
		for _, r := range posts {
			id, err := db.RecordGate(ctx, record(t, r))
			if err != nil {
				t.Fatalf("record %+v: %v", r, err)
			}
			ids = append(ids, id)
		}
		if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
			t.Errorf("ids are not unique: %v", ids)
		}
		all, err := db.GateResults(ctx, "api", "abc")
		if err != nil || len(all) != 3 || all[0].Verdict != "fail" || all[2].Name != "coverage+tests" || all[2].Verdict != "pass" {
			t.Fatalf("results of api @ abc = %+v, %v; want the three, in the order received", all, err)
		}
		runs, err := latestGates(db, "api", "abc")
		if err != nil {
			t.Fatal(err)
		}
		want := []rings.GateRun{{Name: "coverage+tests", Passed: true, At: t0}, {Name: "p95 latency", Passed: true, At: t0}}
		if !slices.Equal(runs, want) {
			t.Errorf("runs = %+v\nwant %+v", runs, want)
		}
		if runs, err := latestGates(db, "api", "nothing"); err != nil || len(runs) != 0 {
			t.Errorf("a commit without gates: %+v, %v", runs, err)
		}
	})
}

func TestRecordGateRejectsInvalidResults(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		for _, tt := range []struct {
			name  string
			r     gate.Result
			field string
		}{
			{"no service", gate.Result{SHA: "a", Verdict: gate.Pass}, "service"},
			{"no verdict", gate.Result{Service: "api", SHA: "a"}, "verdict"},
			{"a skipped verdict", gate.Result{Service: "api", SHA: "a", Verdict: gate.Skipped}, "verdict"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				// Posted results are checked by package gate, then stored.
				err := tt.r.CheckRecordable()
				if err == nil {
					_, err = db.RecordGate(ctx, record(t, tt.r))
				}
				var e *delivery.Error
				if delivery.ErrorCode(err) != delivery.EINVALID || !errors.As(err, &e) || e.Field != tt.field {
					t.Errorf("err = %v, want invalid %s", err, tt.field)
				}
			})
		}
		// What the store itself refuses, whoever calls it.
		for _, tt := range []struct {
			name  string
			g     store.GateRecord
			field string
		}{
			{"no service", store.GateRecord{SHA: "a", Name: "tests", Verdict: "pass"}, "service"},
			{"no verdict", store.GateRecord{Service: "api", SHA: "a", Name: "tests"}, "verdict"},
			{"no name", store.GateRecord{Service: "api", SHA: "a", Verdict: "pass"}, "name"},
		} {
			t.Run("store: "+tt.name, func(t *testing.T) {
				_, err := db.RecordGate(ctx, tt.g)
				var e *delivery.Error
				if delivery.ErrorCode(err) != delivery.EINVALID || !errors.As(err, &e) || e.Field != tt.field {
					t.Errorf("err = %v, want invalid %s", err, tt.field)
				}
			})
		}
	})
}

func TestPromotionsAreRecordedNewestFirst(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		encode := func(cs ...rings.Condition) []byte {
			data, err := json.Marshal(cs)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
		conds := encode(rings.Condition{Name: rings.CondGates, Status: rings.Pass, Reason: "1 gate(s) passed"})
		recs := []store.Promotion{
			{Decision: store.PromotionDecision{Service: "api", SHA: "abc", To: "ring0", Allowed: true, Conditions: conds}, RequestedBy: "ci", DecidedAt: t0},
			{Decision: store.PromotionDecision{Service: "api", SHA: "abc", From: "ring0", To: "ring1", Conditions: encode(rings.Condition{Name: rings.CondSoak, Status: rings.Fail, Reason: "soaking"})}, DecidedAt: t0.Add(time.Hour)},
			{Decision: store.PromotionDecision{Service: "api", SHA: "def", To: "ring0", Allowed: true, Conditions: conds}, Fix: true, DecidedAt: t0.Add(2 * time.Hour)},
			{Decision: store.PromotionDecision{Service: "web", SHA: "abc", To: "ring0", Allowed: true, Conditions: conds}, DecidedAt: t0},
		}
		for i := range recs {
			id, err := db.RecordPromotion(ctx, recs[i])
			if err != nil {
				t.Fatal(err)
			}
			recs[i].ID = id
		}
		for _, tt := range []struct {
			name  string
			sha   string
			limit int
			want  []store.Promotion
		}{
			{"one commit", "abc", 0, []store.Promotion{recs[1], recs[0]}},
			{"every commit", "", 0, []store.Promotion{recs[2], recs[1], recs[0]}},
			{"limited", "", 2, []store.Promotion{recs[2], recs[1]}},
			{"a commit never promoted", "zzz", 0, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := db.Promotions(ctx, "api", tt.sha, tt.limit)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(tt.want) {
					t.Fatalf("got %d promotions, want %d: %+v", len(got), len(tt.want), got)
				}
				for i := range got {
					g, w := got[i], tt.want[i]
					if g.ID != w.ID || g.Fix != w.Fix || g.RequestedBy != w.RequestedBy || !g.DecidedAt.Equal(w.DecidedAt) ||
						g.Decision.Service != w.Decision.Service || g.Decision.SHA != w.Decision.SHA || g.Decision.From != w.Decision.From ||
						g.Decision.To != w.Decision.To || g.Decision.Allowed != w.Decision.Allowed || !bytes.Equal(g.Decision.Conditions, w.Decision.Conditions) {
						t.Errorf("promotion %d:\n got %+v\nwant %+v", i, g, w)
					}
				}
			})
		}
	})
}

func TestCommitDeploymentsAndOpenIncidents(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ring0 := deploy("api", "1", "abc", delivery.DeploymentSuccess, t0)
		ring0.Deployment.Environment, ring0.Deployment.Ring = "canary", "ring0"
		ingest(t, db,
			ring0,
			deploy("api", "2", "abc", delivery.DeploymentFailure, t0.Add(time.Hour)),
			deploy("api", "3", "def", delivery.DeploymentSuccess, t0.Add(2*time.Hour)),
			deploy("web", "4", "abc", delivery.DeploymentSuccess, t0),
			incident("api", "open-sev2", 2, t0, time.Time{}),
			incident("api", "resolved", 1, t0, t0.Add(time.Hour)),
			incident("api", "open-sev1", 1, t0.Add(time.Minute), time.Time{}),
			incident("web", "other", 0, t0, time.Time{}),
		)
		deps, err := db.CommitDeployments(ctx, "api", "abc")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range deps {
			got = append(got, d.Environment+"/"+d.ID+"/"+d.Ring+"/"+string(d.Status))
		}
		if want := []string{"canary/1/ring0/success", "production/2//failure"}; !slices.Equal(got, want) {
			t.Errorf("deployments = %v, want %v", got, want)
		}
		open, err := db.OpenIncidents(ctx, "api")
		if err != nil {
			t.Fatal(err)
		}
		got = nil
		for _, in := range open {
			got = append(got, in.ID)
		}
		if want := []string{"open-sev2", "open-sev1"}; !slices.Equal(got, want) {
			t.Errorf("open incidents = %v, want %v", got, want)
		}
	})
}

func incident(service, id string, severity int, opened, resolved time.Time) delivery.Event {
	return delivery.Event{Key: "i:" + service + ":" + id, Kind: delivery.KindIncident,
		Incident: &delivery.Incident{Service: service, ID: id, Severity: severity, OpenedAt: opened, ResolvedAt: resolved}}
}
