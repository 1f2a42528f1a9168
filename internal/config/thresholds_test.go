package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/dora"
)

func TestThresholdOverridesKeepTheOtherDefaults(t *testing.T) {
	c, err := load(t, `
thresholds:
  lead_time: {elite: 12h}
  change_failure_rate: {medium: 0.2}
  deployment_frequency: {elite_days_per_week: 4}
`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.DORAThresholds()
	if err != nil {
		t.Fatal(err)
	}
	want := dora.DefaultThresholds()
	want.LeadTime.Elite = 12 * time.Hour
	want.ChangeFailureRate.Medium = 0.2
	want.DeploymentFrequency.EliteDaysPerWeek = 4
	if got != want {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestNoThresholdsMeansTheDefaults(t *testing.T) {
	c, err := load(t, "services: [{name: api}]\n")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.DORAThresholds(); got != dora.DefaultThresholds() {
		t.Errorf("got %+v", got)
	}
}

func TestThresholdsOutOfOrderAreRefusedOnLoad(t *testing.T) {
	for _, y := range []string{
		"thresholds: {lead_time: {elite: 200h}}",          // elite above the default high (168h)
		"thresholds: {change_failure_rate: {high: 0.01}}", // high below elite
		"thresholds: {time_to_restore: {medium: 1m}}",
		"thresholds: {deployment_frequency: {high_days_per_week: 6}}",
	} {
		if _, err := load(t, y); err == nil || !strings.Contains(err.Error(), "thresholds") {
			t.Errorf("%s: want a thresholds error, got %v", y, err)
		}
	}
	if _, err := load(t, "thresholds: {lead_time: {elite: soon}}"); err == nil {
		t.Error("a bad duration must be refused")
	}
}
