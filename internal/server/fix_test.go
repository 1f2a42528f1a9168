package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

func pullRequest(number int, mergeSHA string, commits []string, labels ...string) delivery.Event {
	return delivery.Event{Key: "pr:" + mergeSHA + ":" + strings.Join(labels, ","), Kind: delivery.KindPullRequest,
		PullRequest: &delivery.PullRequest{Repository: "acme/api", Number: number, State: delivery.PullRequestMerged,
			CreatedAt: t0.Add(-time.Hour), MergedAt: t0, MergeSHA: mergeSHA, Commits: commits, Labels: labels}}
}

// TestFixLabelsFlipGateAndPromoteOnTheFreeze freezes api (its budget
// spent, as TestBudgetFreezeFlipsGateAndPromote does) and lets the stored
// pull requests of commit abc and the policy's fix_labels decide whether
// the gate passes the freeze and the commit may enter ring1.
func TestFixLabelsFlipGateAndPromoteOnTheFreeze(t *testing.T) {
	tests := []struct {
		name     string
		prs      []delivery.Event
		patterns []string
		fix      bool
		reason   string
	}{
		{name: "a pull request merged as abc with a fix label is a fix",
			prs: []delivery.Event{pullRequest(7, "abc", nil, "area/db", "hotfix")}, patterns: []string{"hotfix*"},
			fix: true, reason: "label hotfix of pull request acme/api#7 matches fix_labels"},
		{name: "a pull request holding abc among its commits counts too",
			prs: []delivery.Event{pullRequest(8, "m3rge", []string{"abc", "def"}, "fix/urgent")}, patterns: []string{"fix/*"},
			fix: true, reason: "label fix/urgent of pull request acme/api#8 matches fix_labels"},
		{name: "a label that matches no pattern is a feature",
			prs: []delivery.Event{pullRequest(9, "abc", nil, "feature")}, patterns: []string{"hotfix"}},
		{name: "a fix label without fix_labels configured is a feature",
			prs: []delivery.Event{pullRequest(10, "abc", nil, "hotfix")}},
		{name: "a fix label on another commit's pull request does not count",
			prs: []delivery.Event{pullRequest(11, "abcd", []string{"xabc"}, "hotfix")}, patterns: []string{"hotfix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				e, _ := sloEnv(t, db)
				e.gate("abc", gate.Pass)
				// api deploys from acme/api, where the pull requests are.
				dep := deployment("1", "abc", "canary", "ring0", delivery.DeploymentSuccess, t0)
				dep.Deployment.Repository = "acme/api"
				e.events(dep)
				e.events(tt.prs...)
				now := t0.Add(3 * time.Hour)
				e.clock.Set(now)
				e.pushMinutes(now.Add(-time.Hour), 60, 980)
				e.evaluate()

				res := gate.Result{Service: "api", SHA: "abc", Verdict: gate.Pass, FixLabels: tt.patterns,
					Criteria: []gate.Criterion{{Name: "tests", Status: gate.Pass}}}
				var resp gate.Response
				if code := e.do("POST", "/api/v1/gates", e.ingest, res, &resp); code != http.StatusCreated || !resp.Frozen {
					t.Fatalf("POST gate: %d %+v, want frozen", code, resp)
				}
				if resp.FixReason != tt.reason {
					t.Errorf("fix reason %q, want %q", resp.FixReason, tt.reason)
				}
				res.AddErrorBudget(resp)
				want := gate.Fail
				if tt.fix {
					want = gate.Pass
				}
				budget := res.Criteria[len(res.Criteria)-1]
				if res.Verdict != want || res.Fix != tt.fix || (tt.fix && !strings.HasSuffix(budget.Detail, "("+tt.reason+")")) {
					t.Errorf("gate %s fix %v (%s), want %s fix %v", res.Verdict, res.Fix, budget.Detail, want, tt.fix)
				}

				p, id := e.promote(rings.PromotionRequest{Service: "api", SHA: "abc", To: "ring1", FixLabels: tt.patterns})
				c := condition(p.Decision, rings.CondBudget)
				if p.Allowed != tt.fix || (c.Status == rings.Pass) != tt.fix || (tt.fix && !strings.Contains(c.Reason, tt.reason)) {
					t.Errorf("promotion allowed %v, budget %s (%s); want allowed %v", p.Allowed, c.Status, c.Reason, tt.fix)
				}
				ps, err := db.Promotions(ctx, "api", "abc", 0)
				if err != nil || len(ps) != 1 || ps[0].ID != id || ps[0].Fix != tt.fix {
					t.Errorf("recorded %+v %v, want one with fix %v", ps, err, tt.fix)
				}
				// A feature may still enter the first ring of a frozen service.
				if p, _ := e.promote(rings.PromotionRequest{Service: "api", SHA: "abc", To: "ring0", DryRun: true, FixLabels: tt.patterns}); !p.Allowed {
					t.Errorf("ring0 refused: %+v", p.Decision)
				}
			})
		})
	}
}
