package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/impacteval"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestDeploymentImpactAPI: Apdex counts pushed and a deployment the job
// assessed come back from GET /api/v1/deployments/impact, fitting the
// OpenAPI schema, on both databases.
func TestDeploymentImpactAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ts := newTestServer(t, db)
		in := intake.New(db, nil)
		fin := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		worseAfter(t, in, fin)
		if code, b := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte("["+deployJSON("d:1", "d1", "abc", "success", "2026-03-10T12:00:00Z")+"]")); code != 200 {
			t.Fatalf("events: %d %v", code, b)
		}
		if err := (&impacteval.Job{DB: db, Now: func() time.Time { return fin.Add(time.Hour) }}).Run(ctx); err != nil {
			t.Fatal(err)
		}
		code, b := ts.do(t, "POST", "/api/v1/apdex", ts.ingest, []byte(`[{"service":"app","start":"2026-03-10T12:00:00Z","end":"2026-03-10T12:01:00Z","t":"300ms","satisfied":800,"tolerating":150,"total":1000}]`))
		if code != 200 || b["added"] != float64(1) {
			t.Fatalf("apdex push: %d %v", code, b)
		}
		code, b = ts.do(t, "POST", "/api/v1/apdex", ts.ingest, []byte(`[{"service":"app","start":"2026-03-10T12:00:00Z","end":"2026-03-10T12:01:00Z","t":"300ms","satisfied":1,"total":1},{"service":"app","start":"2026-03-10T12:01:00Z","end":"2026-03-10T12:02:00Z","t":"fast","total":1}]`))
		if code != 400 || b["field"] != "t" || b["index"] != float64(1) {
			t.Errorf("a push with t=fast: %d %v, want 400 naming t at index 1", code, b)
		}
		if code, b := ts.do(t, "GET", "/api/v1/deployments/impact", ts.ingest, nil); code != 403 {
			t.Errorf("an ingest token read the report: %d %v", code, b)
		}
		code, rep := ts.do(t, "GET", "/api/v1/deployments/impact?service=app&from=2026-03-01&to=2026-04-01&explain=true", ts.read, nil)
		if code != 200 {
			t.Fatalf("impact: %d %v", code, rep)
		}
		deps, _ := rep["deployments"].([]any)
		if len(deps) != 1 || rep["flagged"] != float64(1) {
			t.Fatalf("report %v, want d1 flagged", rep)
		}
		d1 := deps[0].(map[string]any)
		if d1["deployment"] != "d1" || d1["after"].(map[string]any)["failed"] != float64(900) || len(d1["minutes"].([]any)) != 60 {
			t.Errorf("d1 = %v", d1)
		}
		apdex := rep["apdex"].([]any)
		if len(apdex) != 1 || apdex[0].(map[string]any)["apdex"] != 0.875 || apdex[0].(map[string]any)["rating"] != "good" {
			t.Errorf("apdex %v, want (800 + 150/2) / 1000 = 0.875", apdex)
		}
		doc := loadOpenAPI(t)
		schema := doc.Paths["/api/v1/deployments/impact"]["get"].Responses["200"].Content["application/json"].Schema
		var v any
		raw, _ := json.Marshal(rep)
		json.Unmarshal(raw, &v)
		for _, e := range validate(doc.Components.Schemas, schema, v, "answer") {
			t.Errorf("GET /api/v1/deployments/impact: %s", e)
		}
		if code, rep := ts.do(t, "GET", "/api/v1/deployments/impact?service=app&from=2026-03-01&to=2026-04-01&deployment=d2", ts.read, nil); code != 200 || len(rep["deployments"].([]any)) != 0 {
			t.Errorf("deployment=d2: %d %v, want none", code, rep)
		}
	})
}

// worseAfter defines app's availability SLO and pushes its calls around a
// deployment finishing at fin: 30 minutes of 1,000 calls on each side, 1
// failed a minute before (0.1 %), 30 after (3 %).
func worseAfter(t *testing.T, in *intake.Intake, fin time.Time) {
	t.Helper()
	defs, err := slo.ParseOpenSLO(strings.NewReader(`apiVersion: openslo/v1
kind: SLO
metadata: {name: app-availability}
spec:
  service: app
  indicator: {spec: {ratioMetric: {good: {metricSource: {type: stride}}, total: {metricSource: {type: stride}}}}}
  timeWindow: [{duration: 30d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.999}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.SLOs(ctx, defs); err != nil {
		t.Fatal(err)
	}
	var ps []slo.Push
	for i := range 30 {
		b, a := fin.Add(time.Duration(i-30)*time.Minute), fin.Add(time.Duration(i)*time.Minute)
		ps = append(ps, slo.Push{Service: "app", Start: b, End: b.Add(time.Minute), Good: 999, Total: 1000},
			slo.Push{Service: "app", Start: a, End: a.Add(time.Minute), Good: 970, Total: 1000})
	}
	if _, err := in.SLI(ctx, ps); err != nil {
		t.Fatal(err)
	}
}
