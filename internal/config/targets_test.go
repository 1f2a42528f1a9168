package config

import (
	"strings"
	"testing"
	"time"
)

func TestTargetsOfAServiceOverrideItsTeamsKeyByKey(t *testing.T) {
	c, err := load(t, `
teams:
  - name: payments
    targets: {deployment_days_per_week: 5, lead_time: 24h, change_failure_rate: 0.10}
services:
  - name: shop
    team: payments
    targets: {lead_time: 4h, time_to_restore: 1h}
  - name: ledger
    team: payments
`)
	if err != nil {
		t.Fatal(err)
	}
	shop := c.TargetsOf("shop", "")
	if shop.DeploymentDaysPerWeek == nil || *shop.DeploymentDaysPerWeek != 5 {
		t.Errorf("shop deployment days: want the team's 5, got %v", shop.DeploymentDaysPerWeek)
	}
	if shop.LeadTime == nil || *shop.LeadTime != 4*time.Hour {
		t.Errorf("shop lead time: want its own 4h, got %v", shop.LeadTime)
	}
	if shop.ChangeFailureRate == nil || *shop.ChangeFailureRate != 0.10 {
		t.Errorf("shop change failure rate: want the team's 0.10, got %v", shop.ChangeFailureRate)
	}
	if shop.TimeToRestore == nil || *shop.TimeToRestore != time.Hour {
		t.Errorf("shop time to restore: want its own 1h, got %v", shop.TimeToRestore)
	}
	ledger := c.TargetsOf("ledger", "")
	if ledger.LeadTime == nil || *ledger.LeadTime != 24*time.Hour || ledger.TimeToRestore != nil {
		t.Errorf("ledger: want the team's targets only, got lead time %v, time to restore %v", ledger.LeadTime, ledger.TimeToRestore)
	}
	// A service the store knows but stride.yaml does not gets its team's.
	if got := c.TargetsOf("unlisted", "payments"); got.LeadTime == nil || *got.LeadTime != 24*time.Hour {
		t.Errorf("unlisted service of payments: got %+v", got)
	}
	if got := c.TargetsOf("unlisted", "other"); !got.Empty() {
		t.Errorf("a team with no targets: got %+v", got)
	}
}

func TestTargetsAreValidatedOnLoad(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"ratio over 1", "teams: [{name: payments, targets: {change_failure_rate: 10}}]", "teams[0] (payments).targets.change_failure_rate"},
		{"eight days", "services: [{name: shop, targets: {deployment_days_per_week: 8}}]", "services[0] (shop).targets.deployment_days_per_week"},
		{"negative duration", "services: [{name: shop, targets: {time_to_restore: -1h}}]", "services[0] (shop).targets.time_to_restore"},
		{"unknown key", "teams: [{name: payments, targets: {deploys_per_day: 1}}]", "teams[0].targets.deploys_per_day: unknown setting"},
		{"team twice", "teams: [{name: a}, {name: a}]", `team "a" is listed twice`},
		{"team without a name", "teams: [{targets: {lead_time: 1h}}]", "teams[0]: name is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.yaml)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}
