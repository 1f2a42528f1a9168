package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestGateAndPromoteAgainstTheServer runs `stride gate` and `stride promote`
// against the real server on a real store, as a CI pipeline would: the
// gate's result decides the promotion, a commit moves ring by ring, and
// the exit codes and stored rows follow.
func TestGateAndPromoteAgainstTheServer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		now := t0
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		setClock := func(t time.Time) { mu.Lock(); defer mu.Unlock(); now = t }
		db.Now = clock
		srv := httptest.NewServer((&server.Server{DB: db, Reports: &report.Reader{Store: db, Fresh: storetest.Fresh(db)}, Now: clock}).Handler())
		defer srv.Close()
		_, ingestTok, err := db.CreateToken(ctx, "ci", delivery.ScopeIngest)
		if err != nil {
			t.Fatal(err)
		}
		_, readTok, err := db.CreateToken(ctx, "viewer", delivery.ScopeRead)
		if err != nil {
			t.Fatal(err)
		}
		promotions := func() []store.Promotion {
			t.Helper()
			ps, err := db.Promotions(ctx, "api", "abc123", 0)
			if err != nil {
				t.Fatal(err)
			}
			return ps
		}
		gateArgs := append(passingArgs(t), "--server", srv.URL, "--token", ingestTok)
		promote := func(to string, extra ...string) []string {
			return append([]string{"--service", "api", "--sha", "abc123", "--to", to, "--server", srv.URL, "--token", ingestTok}, extra...)
		}

		steps := []struct {
			name       string
			before     func()
			cmd        func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) int
			args       []string
			code       int
			stdout     string
			stderr     string
			promotions int
		}{
			{name: "a passing gate is recorded and exits 0", cmd: gateCmd, args: gateArgs, code: 0,
				stdout: "error-budget check skipped: no SLOs configured"},
			{name: "the first ring is allowed once the gate passed", cmd: promoteCmd, args: promote("ring0"), code: 0,
				stdout: "promotion of api @ abc123 to ring0: allowed", promotions: 1},
			{name: "the next ring is refused before the commit runs in ring0", cmd: promoteCmd, args: promote("ring1"), code: 1,
				stdout: "FAIL soak not running successfully in ring0", promotions: 2},
			{name: "a dry run after the soak is allowed and records nothing", cmd: promoteCmd, args: promote("ring1", "--dry-run"), code: 0,
				before: func() {
					if _, err := intake.New(db, nil).Events(ctx, "api", []delivery.Event{{Key: "d1", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
						Service: "api", Environment: "canary", Ring: "ring0", ID: "1", SHA: "abc123", Status: delivery.DeploymentSuccess, FinishedAt: t0}}}); err != nil {
						t.Fatal(err)
					}
					setClock(t0.Add(3 * time.Hour))
				},
				stdout: "promotion (dry run) of api @ abc123 from ring0 to ring1: allowed", promotions: 2},
			{name: "a failing re-run of the gate exits 1", cmd: gateCmd, args: with(gateArgs, "--junit", td("junit", "fail.xml")), code: 1,
				promotions: 2},
			{name: "and then refuses the promotion", cmd: promoteCmd, args: promote("ring1"), code: 1,
				stdout: "FAIL gates gate failed:", promotions: 3},
			{name: "a read token may not promote", cmd: promoteCmd, args: with(promote("ring1"), "--token", readTok), code: 2,
				stderr: "403 Forbidden", promotions: 3},
			{name: "an unknown ring is an error, not a refusal", cmd: promoteCmd, args: promote("ring7"), code: 2,
				stderr: `400 Bad Request: to: "ring7" is not a ring of api`, promotions: 3},
		}
		for _, st := range steps {
			if st.before != nil {
				st.before()
			}
			code, stdout, stderr := runCmd(t, st.cmd, st.args)
			if code != st.code || !strings.Contains(norm(stdout), norm(st.stdout)) || !strings.Contains(stderr, st.stderr) {
				t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", st.name, code, st.code, stdout, stderr)
			}
			if n := len(promotions()); n != st.promotions {
				t.Errorf("%s: %d promotions stored, want %d", st.name, n, st.promotions)
			}
		}
		results, err := db.GateResults(ctx, "api", "abc123")
		var runs []rings.GateRun
		for _, g := range results {
			runs = append(runs, rings.GateRun{Name: g.Name, Passed: g.Verdict == string(gate.Pass), At: g.RecordedAt})
		}
		runs = rings.LatestGates(runs)
		if err != nil || len(runs) != 1 || runs[0].Passed {
			t.Errorf("the failing re-run must replace the passing gate: %+v, %v", runs, err)
		}
		ps := promotions()
		if ps[0].Decision.Allowed || ps[0].RequestedBy != "ci" || !ps[2].Decision.Allowed || ps[2].Decision.To != "ring0" {
			t.Errorf("history %+v", ps)
		}
	})
}
