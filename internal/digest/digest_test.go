package digest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/digest"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/slo"
)

func TestHeadline(t *testing.T) {
	for _, c := range []struct {
		days *float64
		met  dora.Met
		want string
	}{
		{ptr(5.0), dora.MetYes, "Are you now deploying daily? Yes: 5.0 deployment days a week (median of the last 4 weeks)."},
		{ptr(4.5), dora.MetNo, "Are you now deploying daily? No: 4.5 deployment days a week (median of the last 4 weeks); daily is 5."},
		{ptr(0.0), dora.MetNo, "Are you now deploying daily? No: 0.0 deployment days a week (median of the last 4 weeks); daily is 5."},
		{nil, dora.MetUnknown, "Are you now deploying daily? Unknown: no production deployment was ever reported for team t, so its deployment frequency is not known."},
	} {
		var r dora.Report
		r.DeploymentFrequency.MedianDeploymentDaysPerWeek = c.days
		d := digest.Build(digest.Input{Team: "t", At: monday9, Report: r})
		if d.Headline != c.want || d.DeployingDaily != c.met {
			t.Errorf("headline %q (%s), want %q (%s)", d.Headline, d.DeployingDaily, c.want, c.met)
		}
		if first, _, _ := strings.Cut(digest.Text(d), "\n"); first != c.want {
			t.Errorf("first line of the mail %q", first)
		}
	}
}

func TestBudgets(t *testing.T) {
	exhausts := time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC)
	in := digest.Input{Team: "t", At: monday9, SLOs: []slo.Report{
		{Name: "checkout-latency", Service: "pay", Objective: 0.99, BudgetRemaining: 0.625},
		{Name: "checkout-errors", Service: "pay", Objective: 0.999, BudgetRemaining: 0.2, Alerts: []slo.Alert{{}}, ExhaustsAt: &exhausts},
		{Name: "refunds", Service: "pay", Objective: 0.99, BudgetRemaining: -0.5},
		{Name: "search", Service: "find", Objective: 0.99, BudgetRemaining: -0.1, Frozen: true},
	}}
	d := digest.Build(in)
	want := []string{
		"frozen search (find): budget exhausted, deployments frozen.",
		"exhausted refunds (pay): budget exhausted.",
		"burning checkout-errors (pay): 20.0 % of the error budget left, burning fast (1 alert firing), exhausted by 12 Mar 06:00 UTC at this rate.",
		"ok checkout-latency (pay): 62.5 % of the error budget left.",
	}
	if len(d.Budgets) != len(want) {
		t.Fatalf("budgets %+v", d.Budgets)
	}
	for i, b := range d.Budgets {
		if got := b.State + " " + b.Sentence; got != want[i] {
			t.Errorf("budget %d: %q, want %q", i, got, want[i])
		}
	}
}
