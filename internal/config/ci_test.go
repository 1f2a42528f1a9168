package config

import (
	"strings"
	"testing"
	"time"
)

func TestCIHealth(t *testing.T) {
	c, err := load(t, `
ci:
  default_branches: {acme/legacy: trunk}
teams:
  - name: payments
    targets: {commit_to_production: 30m}
    working_hours: {timezone: Europe/Berlin, weekdays: [mon, tue, wed, thu], start: "08:00", end: "16:30"}
  - name: core
services:
  - name: shop
    team: payments
    targets: {commit_to_production: 10m}
`)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := c.CIHealth()
	if err != nil {
		t.Fatal(err)
	}
	if ci.DefaultBranches["acme/legacy"] != "trunk" || ci.TeamTargets["payments"] != 30*time.Minute || ci.ServiceTargets["shop"] != 10*time.Minute {
		t.Errorf("got %+v", ci)
	}
	if _, ok := ci.TeamTargets["core"]; ok {
		t.Error("core set no target, but has one")
	}
	p := ci.Weeks["payments"]
	if p.Location.String() != "Europe/Berlin" || p.ZoneAssumed || p.Start != 8*time.Hour || p.End != 16*time.Hour+30*time.Minute ||
		!p.Days[time.Monday] || !p.Days[time.Thursday] || p.Days[time.Friday] || p.Days[time.Sunday] {
		t.Errorf("payments week %+v", p)
	}
	core := ci.Weeks["core"]
	if !core.ZoneAssumed || core.Start != 9*time.Hour || core.End != 18*time.Hour || !core.Days[time.Friday] || core.Days[time.Saturday] {
		t.Errorf("core week %+v; want the default Mon–Fri 09–18 UTC", core)
	}
}

func TestWorkingHoursRefused(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{`{timezone: Mars/Olympus}`, "working_hours.timezone"},
		{`{weekdays: [monday]}`, "working_hours.weekdays[0]"},
		{`{start: "9am"}`, "working_hours.start"},
		{`{start: "18:00", end: "09:00"}`, "is not after the start"},
	} {
		_, err := load(t, "teams:\n  - name: t\n    working_hours: "+tt.yaml+"\n")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one naming %q", tt.yaml, err, tt.want)
		}
	}
	if _, err := load(t, "teams:\n  - name: t\n    targets: {commit_to_production: -1m}\n"); err == nil || !strings.Contains(err.Error(), "commit_to_production") {
		t.Errorf("a negative target: %v", err)
	}
}
