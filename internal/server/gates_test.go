package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

// clock is a settable clock shared with the server's handler goroutines.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// env is a real server on a real store, with an ingest and a read token.
type env struct {
	t      *testing.T
	db     *store.DB
	clock  *clock
	url    string
	ingest string
	read   string
}

func newEnv(t *testing.T, db *store.DB, ringsFor func(string) rings.Config) *env {
	t.Helper()
	c := &clock{now: t0}
	db.Now = c.Now
	srv := &server.Server{DB: db, Reports: reader(db), Now: c.Now, Rings: ringsFor}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &env{t: t, db: db, clock: c, url: hs.URL}
	var err error
	if _, e.ingest, err = db.CreateToken(ctx, "ci", delivery.ScopeIngest); err != nil {
		t.Fatal(err)
	}
	if _, e.read, err = db.CreateToken(ctx, "dashboard", delivery.ScopeRead); err != nil {
		t.Fatal(err)
	}
	return e
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (e *env) do(method, path, token string, body any, out any) int {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			r = strings.NewReader(s)
		} else {
			data, err := json.Marshal(body)
			if err != nil {
				e.t.Fatal(err)
			}
			r = bytes.NewReader(data)
		}
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	payload, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(payload, out); err != nil {
			e.t.Fatalf("%s %s: %d, decode %s: %v", method, path, resp.StatusCode, payload, err)
		}
	}
	return resp.StatusCode
}

func (e *env) gate(sha string, verdict gate.Status) gate.Response {
	e.t.Helper()
	var resp gate.Response
	res := gate.Result{Service: "api", SHA: sha, Verdict: verdict, Criteria: []gate.Criterion{{Name: "tests", Status: verdict}}}
	if code := e.do("POST", "/api/v1/gates", e.ingest, res, &resp); code != http.StatusCreated {
		e.t.Fatalf("POST gate: %d %+v", code, resp)
	}
	return resp
}

func (e *env) events(events ...delivery.Event) {
	e.t.Helper()
	if _, err := intake.New(e.db, nil).Events(ctx, "api", events); err != nil {
		e.t.Fatalf("ingest: %v", err)
	}
}

// promote posts a promotion request and expects 200.
func (e *env) promote(req rings.PromotionRequest) (rings.PromotionResponse, string) {
	e.t.Helper()
	var ans struct {
		rings.PromotionResponse
		ID string `json:"id"`
	}
	if code := e.do("POST", "/api/v1/promotions", e.ingest, req, &ans); code != http.StatusOK {
		e.t.Fatalf("POST promotion %+v: %d %+v", req, code, ans)
	}
	return ans.PromotionResponse, ans.ID
}

// stored counts the gate runs and promotions stored for api's commits.
func (e *env) stored(shas ...string) int {
	e.t.Helper()
	n := 0
	for _, sha := range shas {
		runs, err := latestGates(e.db, "api", sha)
		if err != nil {
			e.t.Fatal(err)
		}
		ps, err := e.db.Promotions(ctx, "api", sha, 0)
		if err != nil {
			e.t.Fatal(err)
		}
		n += len(runs) + len(ps)
	}
	return n
}

func deployment(id, sha, env, ring string, status delivery.DeploymentStatus, at time.Time) delivery.Event {
	return delivery.Event{Key: "d:" + id + ":" + string(status), Kind: delivery.KindDeployment,
		Deployment: &delivery.Deployment{Service: "api", Environment: env, ID: id, SHA: sha, Ring: ring, Status: status, FinishedAt: at}}
}

func incident(id string, severity int, resolved time.Time) delivery.Event {
	return delivery.Event{Key: "i:" + id, Kind: delivery.KindIncident,
		Incident: &delivery.Incident{Service: "api", ID: id, Severity: severity, OpenedAt: t0, ResolvedAt: resolved}}
}

func condition(d rings.Decision, name string) rings.Condition {
	for _, c := range d.Conditions {
		if c.Name == name {
			return c
		}
	}
	return rings.Condition{}
}

// TestPromotionConditions starts from a commit that may move from ring0 to
// ring1 (its gate passed, it has run in ring0 for three hours of a two-hour
// soak, no incident is open) and changes one fact per case.
func TestPromotionConditions(t *testing.T) {
	tests := []struct {
		name    string
		noGate  bool
		change  func(e *env)
		to      string
		allowed bool
		cond    string
		status  rings.Status
	}{
		{name: "a commit whose gates passed may move on", allowed: true, cond: rings.CondGates, status: rings.Pass},
		{name: "a commit without a gate result is refused", noGate: true, cond: rings.CondGates, status: rings.Fail},
		{name: "a commit whose gate failed on a re-run is refused", change: func(e *env) { e.gate("abc", gate.Fail) },
			cond: rings.CondGates, status: rings.Fail},
		{name: "a commit not yet soaked in the previous ring is refused", change: func(e *env) { e.clock.Set(t0.Add(time.Hour)) },
			cond: rings.CondSoak, status: rings.Fail},
		{name: "a rollback in the previous ring restarts the soak", change: func(e *env) {
			e.events(deployment("2", "abc", "canary", "ring0", delivery.DeploymentRolledBack, t0.Add(time.Hour)),
				deployment("3", "abc", "canary", "ring0", delivery.DeploymentSuccess, t0.Add(2*time.Hour)))
		}, cond: rings.CondSoak, status: rings.Fail},
		{name: "an open severity-1 incident refuses", change: func(e *env) { e.events(incident("INC-1", 1, time.Time{})) },
			cond: rings.CondIncidents, status: rings.Fail},
		{name: "an open severity-2 incident does not", change: func(e *env) { e.events(incident("INC-2", 2, time.Time{})) },
			allowed: true, cond: rings.CondIncidents, status: rings.Pass},
		{name: "a resolved severity-0 incident does not", change: func(e *env) { e.events(incident("INC-0", 0, t0.Add(time.Hour))) },
			allowed: true, cond: rings.CondIncidents, status: rings.Pass},
		{name: "a target ring that skips one is refused", to: "ring2", cond: rings.CondTargetRing, status: rings.Fail},
		{name: "the first ring needs no soak", to: "ring0", allowed: true, cond: rings.CondSoak, status: rings.Skipped},
		{name: "the error budget is not checked until SLOs exist", allowed: true, cond: rings.CondBudget, status: rings.Skipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				e := newEnv(t, db, nil)
				if !tt.noGate {
					e.gate("abc", gate.Pass)
				}
				e.events(deployment("1", "abc", "canary", "ring0", delivery.DeploymentSuccess, t0))
				e.clock.Set(t0.Add(3 * time.Hour))
				if tt.change != nil {
					tt.change(e)
				}
				to := tt.to
				if to == "" {
					to = "ring1"
				}
				resp, id := e.promote(rings.PromotionRequest{Service: "api", SHA: "abc", To: to})
				got := condition(resp.Decision, tt.cond)
				if resp.Allowed != tt.allowed || got.Status != tt.status || resp.DryRun {
					t.Errorf("allowed %v, %s %s (%s); want allowed %v, %s %s\n%+v", resp.Allowed, tt.cond, got.Status, got.Reason,
						tt.allowed, tt.cond, tt.status, resp.Decision)
				}
				if len(resp.Conditions) != 5 {
					t.Errorf("every condition must be listed, got %+v", resp.Conditions)
				}
				ps, err := db.Promotions(ctx, "api", "abc", 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(ps) != 1 || ps[0].ID != id || ps[0].Decision.Allowed != tt.allowed || ps[0].RequestedBy != "ci" ||
					!ps[0].DecidedAt.Equal(e.clock.Now()) || ps[0].Decision.To != to {
					t.Errorf("recorded %+v, want the one decision %s", ps, id)
				}
			})
		})
	}
}

func TestADryRunRecordsNothing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		e.gate("abc", gate.Pass)
		for _, to := range []string{"ring0", "ring1"} { // allowed and refused
			resp, id := e.promote(rings.PromotionRequest{Service: "api", SHA: "abc", To: to, DryRun: true})
			if !resp.DryRun || id != "" || resp.Allowed != (to == "ring0") {
				t.Errorf("dry run to %s: %+v, id %q", to, resp, id)
			}
		}
		if n := e.stored("abc"); n != 1 {
			t.Errorf("a dry run recorded %d promotions", n-1)
		}
		var hist struct{ Promotions []json.RawMessage }
		if code := e.do("GET", "/api/v1/promotions?service=api", e.read, nil, &hist); code != http.StatusOK || len(hist.Promotions) != 0 {
			t.Errorf("history after dry runs: %d %+v", code, hist)
		}
	})
}

func TestPostGateAnswersThatNoSLOsExist(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		resp := e.gate("abc", gate.Fail)
		if resp.ID == "" || resp.Frozen || resp.SLOsConfigured || !strings.Contains(resp.Message, "no SLOs are configured") {
			t.Errorf("answer %+v", resp)
		}
		runs, err := latestGates(db, "api", "abc")
		if err != nil || len(runs) != 1 || runs[0].Passed || runs[0].Name != "tests" || !runs[0].At.Equal(t0) {
			t.Errorf("stored %+v, %v", runs, err)
		}
	})
}

func TestInvalidRequestsAre400(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		tests := []struct {
			name   string
			method string
			path   string
			token  string
			body   any
			field  string
			text   string
		}{
			{"a gate without a verdict", "POST", "/api/v1/gates", e.ingest, gate.Result{Service: "api", SHA: "a"}, "verdict", "must be pass or fail"},
			{"a gate without a service", "POST", "/api/v1/gates", e.ingest, gate.Result{SHA: "a", Verdict: gate.Pass}, "service", "is required"},
			{"a gate that is not JSON", "POST", "/api/v1/gates", e.ingest, "verdict=pass", "", "invalid JSON"},
			{"an unknown ring", "POST", "/api/v1/promotions", e.ingest, rings.PromotionRequest{Service: "api", SHA: "a", To: "ring9"}, "to", `"ring9" is not a ring of api (rings: ring0, ring1, ring2)`},
			{"a promotion without a sha", "POST", "/api/v1/promotions", e.ingest, rings.PromotionRequest{Service: "api", To: "ring0"}, "sha", "is required"},
			{"a misspelt dry run", "POST", "/api/v1/promotions", e.ingest, `{"service":"api","sha":"a","to":"ring0","dryrun":true}`, "", "unknown field"},
			{"rings without a sha", "GET", "/api/v1/rings?service=api", e.read, nil, "sha", "is required"},
			{"history without a service", "GET", "/api/v1/promotions", e.read, nil, "service", "is required"},
			{"history with a bad limit", "GET", "/api/v1/promotions?service=api&limit=0", e.read, nil, "limit", "from 1 to 1000"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var body struct{ Error, Field string }
				code := e.do(tt.method, tt.path, tt.token, tt.body, &body)
				if code != http.StatusBadRequest || body.Field != tt.field || !strings.Contains(body.Error, tt.text) {
					t.Errorf("%d %+v, want 400 on %q saying %q", code, body, tt.field, tt.text)
				}
			})
		}
		if n := e.stored("a", ""); n != 0 {
			t.Errorf("invalid requests stored %d rows", n)
		}
	})
}

func TestGateAndPromotionAuth(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		res := gate.Result{Service: "api", SHA: "abc", Verdict: gate.Pass}
		req := rings.PromotionRequest{Service: "api", SHA: "abc", To: "ring0"}
		tests := []struct {
			name   string
			method string
			path   string
			token  string
			body   any
			want   int
		}{
			{"posting a gate without a token", "POST", "/api/v1/gates", "", res, http.StatusUnauthorized},
			{"posting a gate with an unknown token", "POST", "/api/v1/gates", "stride_nope", res, http.StatusUnauthorized},
			{"posting a gate with a read token", "POST", "/api/v1/gates", e.read, res, http.StatusForbidden},
			{"promoting without a token", "POST", "/api/v1/promotions", "", req, http.StatusUnauthorized},
			{"promoting with a read token", "POST", "/api/v1/promotions", e.read, req, http.StatusForbidden},
			{"reading rings without a token", "GET", "/api/v1/rings?service=api&sha=abc", "", nil, http.StatusUnauthorized},
			{"reading rings with an ingest token", "GET", "/api/v1/rings?service=api&sha=abc", e.ingest, nil, http.StatusForbidden},
			{"reading history with an ingest token", "GET", "/api/v1/promotions?service=api", e.ingest, nil, http.StatusForbidden},
			{"reading rings with a read token", "GET", "/api/v1/rings?service=api&sha=abc", e.read, nil, http.StatusOK},
			{"reading history with a read token", "GET", "/api/v1/promotions?service=api", e.read, nil, http.StatusOK},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if code := e.do(tt.method, tt.path, tt.token, tt.body, nil); code != tt.want {
					t.Errorf("status %d, want %d", code, tt.want)
				}
			})
		}
		if n := e.stored("abc"); n != 0 {
			t.Errorf("refused requests stored %d rows", n)
		}
	})
}

// TestRingsShowsTheRollout follows a commit through configured rings: a
// deployment that names no ring but went to production counts in the
// production ring.
func TestRingsShowsTheRollout(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		cfg := rings.Config{Service: "api", Rings: []rings.Ring{
			{Name: "canary", Soak: time.Hour}, {Name: "eu", Soak: 4 * time.Hour}, {Name: "world", Production: true}}}
		e := newEnv(t, db, func(service string) rings.Config {
			if service == "api" {
				return cfg
			}
			return rings.DefaultConfig(service)
		})
		e.gate("abc", gate.Pass)
		e.events(deployment("1", "abc", "k8s-canary", "canary", delivery.DeploymentSuccess, t0),
			deployment("2", "abc", "k8s-eu", "eu", delivery.DeploymentSuccess, t0.Add(2*time.Hour)),
			deployment("3", "abc", delivery.EnvironmentProduction, "", delivery.DeploymentFailure, t0.Add(3*time.Hour)),
			deployment("9", "other", "k8s-eu", "eu", delivery.DeploymentSuccess, t0))
		e.clock.Set(t0.Add(3 * time.Hour))

		if resp, _ := e.promote(rings.PromotionRequest{Service: "api", SHA: "abc", To: "world"}); resp.Allowed || resp.From != "eu" ||
			condition(resp.Decision, rings.CondSoak).Status != rings.Fail {
			t.Errorf("world before eu soaked: %+v", resp)
		}
		e.clock.Set(t0.Add(6 * time.Hour))
		if resp, _ := e.promote(rings.PromotionRequest{Service: "api", SHA: "abc", To: "world"}); !resp.Allowed {
			t.Errorf("world after eu soaked: %+v", resp)
		}

		var got struct {
			rings.Position
			Gates      []rings.GateRun
			Promotions []struct {
				ID, SHA, From, To string
				Allowed           bool
				Conditions        []rings.Condition
				DecidedAt         time.Time `json:"decided_at"`
			}
		}
		if code := e.do("GET", "/api/v1/rings?service=api&sha=abc", e.read, nil, &got); code != http.StatusOK {
			t.Fatalf("GET rings: %d", code)
		}
		var states []string
		for _, r := range got.Rings {
			states = append(states, r.Ring+":"+r.State)
		}
		if want := "canary:soaked eu:soaked world:failed"; strings.Join(states, " ") != want {
			t.Errorf("rings %s, want %s", strings.Join(states, " "), want)
		}
		if eu := got.Rings[1]; eu.DeployedAt == nil || !eu.DeployedAt.Equal(t0.Add(2*time.Hour)) || !eu.SoakUntil.Equal(t0.Add(6*time.Hour)) {
			t.Errorf("eu %+v", eu)
		}
		if len(got.Gates) != 1 || !got.Gates[0].Passed {
			t.Errorf("gates %+v", got.Gates)
		}
		if len(got.Promotions) != 2 || !got.Promotions[0].Allowed || got.Promotions[1].Allowed ||
			!got.Promotions[0].DecidedAt.Equal(t0.Add(6*time.Hour)) || got.Promotions[0].From != "eu" || len(got.Promotions[1].Conditions) != 5 {
			t.Errorf("history (newest first) %+v", got.Promotions)
		}

		e.events(deployment("4", "abc", delivery.EnvironmentProduction, "", delivery.DeploymentSuccess, t0.Add(7*time.Hour)))
		if code := e.do("GET", "/api/v1/rings?service=api&sha=abc", e.read, nil, &got); code != http.StatusOK || got.Rings[2].State != rings.StateSoaking {
			t.Errorf("a production deployment without a ring must count in the production ring: %d %+v", code, got.Rings)
		}

		var hist struct {
			Service    string
			Promotions []struct{ SHA, To string }
		}
		if code := e.do("GET", "/api/v1/promotions?service=api&limit=1", e.read, nil, &hist); code != http.StatusOK ||
			hist.Service != "api" || len(hist.Promotions) != 1 || hist.Promotions[0].To != "world" {
			t.Errorf("history: %d %+v", code, hist)
		}
	})
}
