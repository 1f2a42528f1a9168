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
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

func approveCmd(ctx context.Context, args []string, out, errOut *bytes.Buffer) int {
	return runApprove(ctx, args, out, errOut)
}

// TestApproveAndPromoteAgainstTheServer runs `stride approve` and `stride
// promote` against the real server on both databases: ring1 requires a
// sign-off, so the commit waits for a yes, a no stops it again, and each
// vote is printed with who and when.
func TestApproveAndPromoteAgainstTheServer(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		now := t0.Add(3 * time.Hour)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		setClock := func(t time.Time) { mu.Lock(); defer mu.Unlock(); now = t }
		db.Now = clock
		ringsFor := func(service string) rings.Config {
			c := rings.DefaultConfig(service)
			c.Rings[1].Approval = true
			return c
		}
		srv := httptest.NewServer((&server.Server{DB: db, Reports: &report.Reader{Store: db, Fresh: storetest.Fresh(db)}, Now: clock, Rings: ringsFor}).Handler())
		defer srv.Close()
		_, tok, err := db.CreateToken(ctx, "qa-bot", delivery.ScopeIngest)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.RecordGate(ctx, store.GateRecord{Service: "api", SHA: "abc123", Name: "tests", Verdict: "pass"}); err != nil {
			t.Fatal(err)
		}
		if _, err := intake.New(db, nil).Events(ctx, "api", []delivery.Event{{Key: "d1", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
			Service: "api", Environment: "canary", Ring: "ring0", ID: "1", SHA: "abc123", Status: delivery.DeploymentSuccess, FinishedAt: t0}}}); err != nil {
			t.Fatal(err)
		}
		common := []string{"--service", "api", "--sha", "abc123", "--server", srv.URL, "--token", tok}
		approve := func(vote, note string) []string {
			return append(append([]string{}, common...), "--ring", "ring1", "--by", "Dana (QA)", "--vote", vote, "--note", note)
		}
		promote := append(append([]string{}, common...), "--to", "ring1")
		steps := []struct {
			name   string
			at     time.Duration
			cmd    func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) int
			args   []string
			code   int
			stdout string
			stderr string
		}{
			{name: "without a vote the ring is refused", cmd: promoteCmd, args: promote, code: 1,
				stdout: "FAIL approval ring1 needs a sign-off: stride approve --service api --sha abc123 --ring ring1 --by NAME --vote yes"},
			{name: "a no is recorded", at: 4 * time.Hour, cmd: approveCmd, args: approve("no", "login broken on Safari"), code: 0,
				stdout: "recorded: Dana (QA) voted no for api @ abc123 in ring1 at 2026-03-02T13:00:00Z (login broken on Safari)"},
			{name: "and refuses", cmd: promoteCmd, args: promote, code: 1,
				stdout: "FAIL approval Dana (QA) voted no for ring1 at 2026-03-02T13:00:00Z: login broken on Safari; a later yes lifts it"},
			{name: "a later yes is recorded", at: 5 * time.Hour, cmd: approveCmd, args: approve("yes", "fixed in 4.2.1"), code: 0,
				stdout: "voted yes"},
			{name: "and lets the commit in", cmd: promoteCmd, args: promote, code: 0,
				stdout: "PASS approval Dana (QA) voted yes for ring1 at 2026-03-02T14:00:00Z: fixed in 4.2.1"},
			{name: "a vote that is neither yes nor no is refused here", cmd: approveCmd, args: approve("ok", ""), code: 2,
				stderr: `--vote: "ok": want yes or no`},
			{name: "a vote for an unknown ring is refused by the server", cmd: approveCmd,
				args: append(append([]string{}, common...), "--ring", "ring9", "--by", "Dana", "--vote", "yes"), code: 2,
				stderr: `400 Bad Request: ring: "ring9" is not a ring of api`},
		}
		for _, st := range steps {
			if st.at != 0 {
				setClock(t0.Add(st.at))
			}
			code, stdout, stderr := runCmd(t, st.cmd, st.args)
			if code != st.code || !strings.Contains(norm(stdout), norm(st.stdout)) || !strings.Contains(stderr, st.stderr) {
				t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", st.name, code, st.code, stdout, stderr)
			}
		}
		votes, err := db.Approvals(ctx, "api", "abc123", "ring1")
		if err != nil || len(votes) != 2 || votes[0].Token != "qa-bot" || votes[1].Vote != "yes" {
			t.Errorf("stored votes %+v %v", votes, err)
		}
	})
}
