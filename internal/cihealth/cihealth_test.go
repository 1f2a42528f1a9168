package cihealth

import (
	"slices"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func build(repo, id, name, branch string, status delivery.BuildStatus, attempt int, start, end string) delivery.Build {
	b := delivery.Build{Repository: repo, ID: id, Name: name, Branch: branch, Status: status, Attempt: attempt, FinishedAt: at(end)}
	if start != "" {
		b.StartedAt = at(start)
	}
	b.UpdatedAt = b.FinishedAt
	return b
}

func codes(ws []Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Code)
	}
	slices.Sort(out)
	return out
}

func ptr(v float64) *float64 { return &v }

func eqPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	d := *a - *b
	return d < 1e-9 && d > -1e-9
}

// history is a hand-built day of two repositories. acme/api says its
// default branch (main); acme/web does not and builds only master.
//
//	ci   main  08:00–08:10 success            600 s
//	ci   main  09:00–09:20 failure           1200 s  ci red from 09:20
//	lint main  09:30–09:31 failure             60 s  lint red from 09:31
//	ci   main  re-run (attempt 2) green 10:20         ci green at 10:20, not timed
//	lint main  11:00–11:01 success             60 s  lint green at 11:01
//	ci   feat  12:00–12:05 failure, attempt ?  300 s  not the default branch
//	ci   main  13:00–13:02 cancelled                  no verdict, ignored
//	ci   main  23:00–23:30 failure           1800 s  red to the period's end
//	ci   main  the day before, success                before the period
//
// The branch is red while any pipeline is: [09:20, 11:01) = 6060 s, and
// [23:30, 24:00) = 1800 s, still red at the end: 7860 s in 2 stretches.
// acme/web failed on 02-28 10:00 (the first build read) and went green on
// 03-02 06:00: red for the period's first 6 h (21600 s), and a warning that
// it may have turned red earlier.
func history() Input {
	const api, web = "acme/api", "acme/web"
	bs := []delivery.Build{
		build(api, "1", "ci", "main", delivery.BuildSuccess, 1, "2026-03-02T08:00:00Z", "2026-03-02T08:10:00Z"),
		build(api, "2", "ci", "main", delivery.BuildFailure, 1, "2026-03-02T09:00:00Z", "2026-03-02T09:20:00Z"),
		build(api, "3", "lint", "main", delivery.BuildFailure, 1, "2026-03-02T09:30:00Z", "2026-03-02T09:31:00Z"),
		build(api, "4", "ci", "main", delivery.BuildSuccess, 2, "2026-03-02T09:00:00Z", "2026-03-02T10:20:00Z"),
		build(api, "5", "lint", "main", delivery.BuildSuccess, 1, "2026-03-02T11:00:00Z", "2026-03-02T11:01:00Z"),
		build(api, "6", "ci", "feat", delivery.BuildFailure, 0, "2026-03-02T12:00:00Z", "2026-03-02T12:05:00Z"),
		build(api, "7", "ci", "main", delivery.BuildCancelled, 1, "2026-03-02T13:00:00Z", "2026-03-02T13:02:00Z"),
		build(api, "8", "ci", "main", delivery.BuildFailure, 1, "2026-03-02T23:00:00Z", "2026-03-02T23:30:00Z"),
		build(api, "0", "ci", "main", delivery.BuildSuccess, 1, "2026-03-01T22:50:00Z", "2026-03-01T23:00:00Z"),
		build(web, "w1", "build", "master", delivery.BuildFailure, 1, "", "2026-02-28T10:00:00Z"),
		build(web, "w2", "build", "master", delivery.BuildSuccess, 1, "2026-03-02T05:50:00Z", "2026-03-02T06:00:00Z"),
	}
	bs[0].DefaultBranch = "main"
	return Input{Period: delivery.Period{From: at("2026-03-02T00:00:00Z"), To: at("2026-03-03T00:00:00Z")}, Builds: bs,
		DefaultBranches: ResolveBranches(bs, nil)}
}

func TestPipelines(t *testing.T) {
	rep := Compute(history())
	want := []Pipeline{
		// ci: 1, 2, 4, 6, 8 in the period; 4 is a re-run, not timed;
		// 300, 600, 1200, 1800 → median 900, p90 the 4th of 4.
		{Repository: "acme/api", Name: "ci", Builds: 5, Failures: 3, Timed: 4, MedianSeconds: ptr(900), P90Seconds: ptr(1800)},
		{Repository: "acme/api", Name: "lint", Builds: 2, Failures: 1, Timed: 2, MedianSeconds: ptr(60), P90Seconds: ptr(60)},
		{Repository: "acme/web", Name: "build", Builds: 1, Failures: 0, Timed: 1, MedianSeconds: ptr(600), P90Seconds: ptr(600)},
	}
	if len(rep.Pipelines) != len(want) {
		t.Fatalf("pipelines %+v, want %d", rep.Pipelines, len(want))
	}
	for i, w := range want {
		g := rep.Pipelines[i]
		if g.Repository != w.Repository || g.Name != w.Name || g.Builds != w.Builds || g.Failures != w.Failures || g.Timed != w.Timed ||
			!eqPtr(g.MedianSeconds, w.MedianSeconds) || !eqPtr(g.P90Seconds, w.P90Seconds) {
			t.Errorf("pipeline %d = %+v (median %v, p90 %v), want %+v", i, g, deref(g.MedianSeconds), deref(g.P90Seconds), w)
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestRedTime(t *testing.T) {
	rep := Compute(history())
	want := []RedBranch{
		{Repository: "acme/api", Branch: Branch{"main", BranchReported}, Builds: 6, RedSeconds: 7860, RedShare: 7860.0 / 86400,
			Stretches: 2, LongestSeconds: 6060, RedAtEnd: true},
		{Repository: "acme/web", Branch: Branch{"master", BranchAssumed}, Builds: 1, RedSeconds: 21600, RedShare: 0.25,
			Stretches: 1, LongestSeconds: 21600},
	}
	if !slices.Equal(rep.Branches, want) {
		t.Errorf("default branches\n got %+v\nwant %+v", rep.Branches, want)
	}
	if got := codes(rep.Warnings); !slices.Equal(got, []string{"attempt_unknown", "default_branch_assumed", "red_before_lookback"}) {
		t.Errorf("warnings %v", rep.Warnings)
	}
}

func TestRedTimeTable(t *testing.T) {
	p := delivery.Period{From: at("2026-03-02T00:00:00Z"), To: at("2026-03-02T10:00:00Z")}
	const r = "o/r"
	b := func(id string, s delivery.BuildStatus, end string) delivery.Build {
		return build(r, id, "ci", "main", s, 1, "", end)
	}
	tests := []struct {
		name      string
		builds    []delivery.Build
		red       float64
		stretches int
		atEnd     bool
	}{
		{"no failure, no red", []delivery.Build{b("1", delivery.BuildSuccess, "2026-03-02T01:00:00Z")}, 0, 0, false},
		{"two failures in a row are one stretch, from the first", []delivery.Build{
			b("1", delivery.BuildFailure, "2026-03-02T01:00:00Z"), b("2", delivery.BuildFailure, "2026-03-02T02:00:00Z"),
			b("3", delivery.BuildSuccess, "2026-03-02T04:00:00Z")}, 3 * 3600, 1, false},
		{"a stretch that began before the period counts from its start", []delivery.Build{
			b("0", delivery.BuildSuccess, "2026-03-01T20:00:00Z"), b("1", delivery.BuildFailure, "2026-03-01T23:00:00Z"),
			b("2", delivery.BuildSuccess, "2026-03-02T01:30:00Z")}, 1.5 * 3600, 1, false},
		{"a stretch that ended before the period is not in it", []delivery.Build{
			b("0", delivery.BuildSuccess, "2026-03-01T20:00:00Z"), b("1", delivery.BuildFailure, "2026-03-01T21:00:00Z"),
			b("2", delivery.BuildSuccess, "2026-03-01T22:00:00Z")}, 0, 0, false},
		{"a green build after the period does not end it early", []delivery.Build{
			b("0", delivery.BuildSuccess, "2026-03-02T00:30:00Z"), b("1", delivery.BuildFailure, "2026-03-02T09:00:00Z"),
			b("2", delivery.BuildSuccess, "2026-03-02T11:00:00Z")}, 3600, 1, true},
		{"a cancelled build neither breaks nor fixes", []delivery.Build{
			b("0", delivery.BuildSuccess, "2026-03-02T00:30:00Z"), b("1", delivery.BuildFailure, "2026-03-02T02:00:00Z"),
			b("2", delivery.BuildCancelled, "2026-03-02T03:00:00Z"), b("3", delivery.BuildSuccess, "2026-03-02T05:00:00Z")}, 3 * 3600, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Period: p, Builds: tt.builds, DefaultBranches: map[string]Branch{r: {"main", BranchConfigured}}}
			got := Compute(in).Branches
			if len(got) != 1 || got[0].RedSeconds != tt.red || got[0].Stretches != tt.stretches || got[0].RedAtEnd != tt.atEnd {
				t.Errorf("got %+v, want red %v s in %d stretches, red at end %v", got, tt.red, tt.stretches, tt.atEnd)
			}
		})
	}
}

func TestReruns(t *testing.T) {
	rep := Compute(history())
	// In the period: api 1, 2, 3, 4, 5, 6, 8 and web w2 = 8 builds; 6 does
	// not say its attempt; 4 is the one re-run of the 7 known.
	want := Reruns{Builds: 8, Known: 7, Reruns: 1, Rate: ptr(1.0 / 7)}
	g := rep.Reruns
	if g.Builds != want.Builds || g.Known != want.Known || g.Reruns != want.Reruns || !eqPtr(g.Rate, want.Rate) {
		t.Errorf("reruns %+v (rate %v), want %+v", g, deref(g.Rate), want)
	}
}

func TestResolveBranches(t *testing.T) {
	bs := []delivery.Build{
		{Repository: "a", Branch: "master"}, {Repository: "a", Branch: "main"},
		{Repository: "b", Branch: "master"},
		{Repository: "c", Branch: "dev"},
		{Repository: "d", Branch: "main", DefaultBranch: "trunk", UpdatedAt: at("2026-01-01T00:00:00Z")},
		{Repository: "d", Branch: "main", DefaultBranch: "develop", UpdatedAt: at("2026-02-01T00:00:00Z")},
		{Repository: "e", Branch: "main", DefaultBranch: "main"},
	}
	got := ResolveBranches(bs, map[string]string{"e": "release"})
	want := map[string]Branch{
		"a": {"main", BranchAssumed}, "b": {"master", BranchAssumed}, "c": {"main", BranchAssumed},
		"d": {"develop", BranchReported}, "e": {"release", BranchConfigured},
	}
	for repo, w := range want {
		if got[repo] != w {
			t.Errorf("%s: %+v, want %+v", repo, got[repo], w)
		}
	}
}

func TestCommitToProduction(t *testing.T) {
	dep := func(svc, id string, s delivery.DeploymentStatus, end string) delivery.Deployment {
		return delivery.Deployment{Service: svc, Environment: "production", ID: id, Status: s, FinishedAt: at(end)}
	}
	ship := func(d delivery.Deployment, sha, commit string) delivery.Shipment {
		return delivery.Shipment{Deployment: d.Key(), Repository: "r", SHA: sha, CommitTime: at(commit)}
	}
	d1 := dep("api", "d1", delivery.DeploymentSuccess, "2026-03-02T10:00:00Z")
	d2 := dep("api", "d2", delivery.DeploymentFailure, "2026-03-02T11:00:00Z")
	p1 := dep("pay", "p1", delivery.DeploymentSuccess, "2026-03-02T12:00:00Z")
	p0 := dep("pay", "p0", delivery.DeploymentSuccess, "2026-03-01T12:00:00Z")
	in := Input{
		Period:      delivery.Period{From: at("2026-03-02T00:00:00Z"), To: at("2026-03-03T00:00:00Z")},
		Deployments: []delivery.Deployment{d1, d2, p1, p0},
		Shipments: []delivery.Shipment{
			ship(d1, "c1", "2026-03-02T09:50:00Z"), // 600 s, within 15 min
			ship(d1, "c2", "2026-03-02T09:30:00Z"), // 1800 s, over
			ship(d2, "c3", "2026-03-02T10:55:00Z"), // failed: never reached production
			ship(p1, "c4", "2026-03-02T11:30:00Z"), // 1800 s, within pay's hour
			ship(p0, "c5", "2026-03-01T11:59:00Z"), // before the period
		},
		Targets:   map[string]time.Duration{"pay": time.Hour},
		TargetSet: map[string]bool{"pay": true},
	}
	rep := Compute(in)
	c := rep.CommitToProduction
	// 600, 1800, 1800: median 1800; 2 of 3 within their target.
	if c.Changes != 3 || c.WithinTarget != 2 || !eqPtr(c.Share, ptr(2.0/3)) || !eqPtr(c.MedianSeconds, ptr(1800)) {
		t.Errorf("overall %+v (share %v, median %v)", c, deref(c.Share), deref(c.MedianSeconds))
	}
	want := []ServiceCommitToProduction{
		{Service: "api", TargetSeconds: 900, Changes: 2, WithinTarget: 1, Share: ptr(0.5), MedianSeconds: ptr(1200)},
		{Service: "pay", TargetSeconds: 3600, Changes: 1, WithinTarget: 1, Share: ptr(1), MedianSeconds: ptr(1800)},
	}
	if len(c.Services) != 2 {
		t.Fatalf("services %+v", c.Services)
	}
	for i, w := range want {
		g := c.Services[i]
		if g.Service != w.Service || g.TargetSeconds != w.TargetSeconds || g.Changes != w.Changes || g.WithinTarget != w.WithinTarget ||
			!eqPtr(g.Share, w.Share) || !eqPtr(g.MedianSeconds, w.MedianSeconds) {
			t.Errorf("service %d = %+v, want %+v", i, g, w)
		}
	}
	if got := codes(rep.Warnings); !slices.Equal(got, []string{"target_default"}) {
		t.Errorf("warnings %v", rep.Warnings)
	}
	e, err := Explain(in, "commit_to_production")
	if err != nil || len(e.Changes) != 3 || e.Changes[0].SHA != "c1" && e.Changes[0].SHA != "c2" || e.Changes[2].SHA != "c4" || !e.Changes[2].Within {
		t.Errorf("explain %+v, %v", e.Changes, err)
	}
}

// TestDeployHours places deployments across Europe's spring-forward night
// (2026-03-29 02:00 CET became 03:00 CEST): on Monday 30 March 07:30 UTC is
// 09:30 in Berlin (within hours), though an hour of UTC+1 would call it
// 08:30; 16:30 UTC is 18:30 (outside), not 17:30.
func TestDeployHours(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	week := DefaultWorkWeek("payments")
	week.Location, week.ZoneAssumed = berlin, false
	dep := func(svc, id, end string, s delivery.DeploymentStatus) delivery.Deployment {
		return delivery.Deployment{Service: svc, Environment: "production", ID: id, Status: s, FinishedAt: at(end)}
	}
	in := Input{
		Period: delivery.Period{From: at("2026-03-27T00:00:00Z"), To: at("2026-04-01T00:00:00Z")},
		Deployments: []delivery.Deployment{
			dep("api", "1", "2026-03-27T16:30:00Z", delivery.DeploymentSuccess),    // Fri 17:30 CET: within
			dep("api", "2", "2026-03-27T17:30:00Z", delivery.DeploymentSuccess),    // Fri 18:30 CET: outside
			dep("api", "3", "2026-03-29T00:30:00Z", delivery.DeploymentSuccess),    // Sun 01:30 CET: weekend
			dep("api", "4", "2026-03-30T07:30:00Z", delivery.DeploymentSuccess),    // Mon 09:30 CEST: within
			dep("api", "5", "2026-03-30T16:30:00Z", delivery.DeploymentSuccess),    // Mon 18:30 CEST: outside
			dep("api", "6", "2026-03-31T08:00:00Z", delivery.DeploymentFailure),    // Tue 10:00 CEST, failed: within
			dep("api", "7", "2026-03-31T09:00:00Z", delivery.DeploymentInProgress), // not finished: not counted
			dep("ops", "8", "2026-03-28T12:00:00Z", delivery.DeploymentSuccess),    // Sat 12:00 UTC (no team zone): weekend
		},
		Weeks: map[string]WorkWeek{"api": week},
	}
	rep := Hours(in)
	h := rep.DeployHours
	if got := codes(rep.Warnings); !slices.Equal(got, []string{"time_zone_assumed"}) {
		t.Errorf("warnings %v; want ops's assumed zone", rep.Warnings)
	}
	if h.Deployments != 7 || h.OutsideWorkingHours != 4 || !eqPtr(h.Share, ptr(4.0/7)) {
		t.Errorf("deployments %d, outside %d, share %v; want 7, 4, 4/7", h.Deployments, h.OutsideWorkingHours, deref(h.Share))
	}
	var want [7][24]int
	want[4][17], want[4][18], want[6][1], want[0][9], want[0][18], want[1][10], want[5][12] = 1, 1, 1, 1, 1, 1, 1
	if h.ByWeekdayHour != want {
		t.Errorf("by weekday and hour\n got %v\nwant %v", h.ByWeekdayHour, want)
	}
	e, err := Explain(in, "deploy_hours")
	if err != nil || len(e.Deployments) != 7 || e.Deployments[4].Deployment != "api/production/4" || e.Deployments[4].Local != "Mon 2026-03-30 09:30" || e.Deployments[4].Outside {
		t.Errorf("explain %+v, %v; want 7, the fifth api/4 at Mon 09:30 Berlin, within", e.Deployments, err)
	}
	wantTeams := []TeamClock{
		{Team: "", TimeZone: "UTC", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Hours: "09:00–18:00", Deployments: 1, Outside: 1},
		{Team: "payments", TimeZone: "Europe/Berlin", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Hours: "09:00–18:00", Deployments: 6, Outside: 3},
	}
	if len(h.Teams) != 2 {
		t.Fatalf("teams %+v", h.Teams)
	}
	for i, w := range wantTeams {
		g := h.Teams[i]
		if g.Team != w.Team || g.TimeZone != w.TimeZone || !slices.Equal(g.Days, w.Days) || g.Hours != w.Hours || g.Deployments != w.Deployments || g.Outside != w.Outside {
			t.Errorf("team %d = %+v, want %+v", i, g, w)
		}
	}
}

// TestWithinFallBack: New York's 2026-11-01 01:30 happens twice (EDT, then
// EST); with hours 01:00–02:00 on Sundays both are within, and 02:30 EST
// (07:30 UTC) is not.
func TestWithinFallBack(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	w := WorkWeek{Location: ny, Start: time.Hour, End: 2 * time.Hour}
	w.Days[time.Sunday] = true
	for _, tt := range []struct {
		utc    string
		within bool
	}{{"2026-11-01T05:30:00Z", true}, {"2026-11-01T06:30:00Z", true}, {"2026-11-01T07:30:00Z", false}, {"2026-11-01T04:59:00Z", false}} {
		if got := w.Within(at(tt.utc)); got != tt.within {
			t.Errorf("%s: within = %v, want %v", tt.utc, got, tt.within)
		}
	}
}

func TestExplain(t *testing.T) {
	in := history()
	tests := []struct {
		figure string
		builds int
	}{
		// Every build with a verdict that finished in the period.
		{"build_duration", 8},
		// api's main builds with a verdict from the lookback on (0, 1, 2,
		// 3, 4, 5, 8) and web's master builds (w1, w2).
		{"red_time", 9},
		{"rerun_rate", 8},
	}
	for _, tt := range tests {
		e, err := Explain(in, tt.figure)
		if err != nil || len(e.Builds) != tt.builds {
			t.Errorf("%s: %d builds (%v), want %d", tt.figure, len(e.Builds), err, tt.builds)
		}
	}
	e, _ := Explain(in, "build_duration")
	for _, b := range e.Builds {
		if (b.ID == "4") != (b.Seconds == nil) {
			t.Errorf("build %s: seconds %v, rule %q; only the re-run 4 is untimed", b.ID, deref(b.Seconds), b.Rule)
		}
	}
	if _, err := Explain(in, "lead_time"); err == nil {
		t.Error("an unknown figure was explained")
	}
}
