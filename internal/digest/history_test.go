package digest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/digest"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// day returns 12:00 UTC of a day of 2026.
func day(month time.Month, d int) time.Time { return time.Date(2026, month, d, 12, 0, 0, 0, time.UTC) }

// history stores team payments' service pay, deployed from repository pay:
//
//	week of 16 Feb: d1 Tue 17 Feb, its change 10 h old
//	week of 23 Feb: d2 Mon 23 Feb and d3 Wed 25 Feb, each change 5 h old
//	week of  2 Mar: d4..d8 Mon to Fri at 12:00, changes 2 h, 4 h, 1 h,
//	                30 h (committed Wed 06:00, shipped Thu 12:00) and 3 h old
//	INC-1 SEV2 opened Thu 5 Mar 13:00, acknowledged 13:10, resolved 15:00
//	INC-2 SEV1 opened Sat 7 Mar 10:00, never acknowledged (due 11:00)
//
// Both incidents are inferred to be caused by the latest deployment before
// them (d7 Thu, d8 Fri). No deployment before 16 Feb.
func history(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	if err := db.SetService(ctx, delivery.Service{Name: "pay", Team: "payments", Repositories: []string{"pay"}}, nil); err != nil {
		t.Fatal(err)
	}
	var events []delivery.Event
	n := 0
	ship := func(at time.Time, lead time.Duration) {
		n++
		sha := strings.Repeat(fmt.Sprintf("%x", n), 40)[:40]
		events = append(events,
			delivery.Event{Key: "c:" + sha, Kind: delivery.KindChange, Change: &delivery.Change{Repository: "pay", SHA: sha, CommitTime: at.Add(-lead)}},
			delivery.Event{Key: fmt.Sprintf("d:%d", n), Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
				Service: "pay", ID: fmt.Sprintf("d%d", n), SHA: sha, Repository: "pay", Status: delivery.DeploymentSuccess, FinishedAt: at}})
	}
	ship(day(2, 17), 10*time.Hour)
	ship(day(2, 23), 5*time.Hour)
	ship(day(2, 25), 5*time.Hour)
	for i, lead := range []time.Duration{2, 4, 1, 30, 3} {
		ship(day(3, 2+i), lead*time.Hour)
	}
	events = append(events,
		delivery.Event{Key: "i:1", Kind: delivery.KindIncident, Incident: &delivery.Incident{Service: "pay", ID: "INC-1", Title: "Card payments time out",
			Severity: 2, OpenedAt: day(3, 5).Add(time.Hour), AcknowledgedAt: day(3, 5).Add(70 * time.Minute), ResolvedAt: day(3, 5).Add(3 * time.Hour)}},
		delivery.Event{Key: "i:2", Kind: delivery.KindIncident, Incident: &delivery.Incident{Service: "pay", ID: "INC-2", Title: "Refunds fail",
			Severity: 1, OpenedAt: day(3, 7).Add(-2 * time.Hour)}},
	)
	if _, err := intake.New(db, nil).Events(ctx, "api", events); err != nil {
		t.Fatalf("ingest: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// targets of team payments: deploy daily, lead time within a day.
var targets = dora.Targets{DeploymentDaysPerWeek: ptr(5.0), LeadTime: ptr(24 * time.Hour)}

func reader(db *store.DB) *digest.Reader {
	return &digest.Reader{
		Reports:  &report.Reader{Store: db, Fresh: storetest.Fresh(db)},
		Policies: incident.DefaultPolicies(),
		Targets: func(team string) dora.Targets {
			if team == "payments" {
				return targets
			}
			return dora.Targets{}
		},
		BaseURL: "https://stride.example.com/",
	}
}

// berlin is team payments' time zone.
func berlin(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// monday9 is the digest's scheduled time of Monday 9 March 2026, 09:00 in
// Berlin (CET, UTC+1).
var monday9 = time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)

// TestDigestOfAStoredHistory builds the digest of history through the read
// path on both databases and checks every figure against the answer worked
// out by hand, then the renderings against the golden files.
func TestDigestOfAStoredHistory(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		history(t, db)
		d, err := reader(db).Digest(context.Background(), "payments", "2026-W11", monday9)
		if err != nil {
			t.Fatal(err)
		}
		checkHandWorked(t, d)
		checkGoldens(t, d)
		checkTrendIsTheAPIs(t, db, d)
	})
}

// checkTrendIsTheAPIs compares every trend week, computed from one read of
// the twelve weeks, with the DORA report of that week alone.
func checkTrendIsTheAPIs(t *testing.T, db *store.DB, d digest.Digest) {
	t.Helper()
	r := &report.Reader{Store: db}
	same := func(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	for _, w := range d.Trend {
		rep, err := r.DORA(context.Background(), store.Scope{Team: "payments"}, delivery.Period{From: w.Start, To: w.Start.AddDate(0, 0, 7)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if w.Deployments != rep.DeploymentFrequency.Count || w.DeploymentDays != rep.DeploymentFrequency.DeploymentDays ||
			!same(w.LeadTimeMedianSeconds, rep.LeadTime.MedianSeconds) || !same(w.ChangeFailureRate, rep.ChangeFailureRate.Ratio) ||
			!same(w.TimeToRestoreMedianSecs, rep.TimeToRestore.MedianSeconds) {
			t.Errorf("trend week %s %+v differs from its own report %+v", w.Week, w, rep)
		}
	}
}

func checkHandWorked(t *testing.T, d digest.Digest) {
	t.Helper()
	// Covered week: Mon 2 Mar to Sun 8 Mar; figures: 9 Feb to 8 Mar.
	if !d.WeekFrom.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) || !d.From.Equal(time.Date(2026, 2, 9, 0, 0, 0, 0, time.UTC)) ||
		!d.To.Equal(time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("periods: week from %s, figures %s to %s", d.WeekFrom, d.From, d.To)
	}
	// Deployment days of the four weeks 0, 1, 2, 5: median 1.5.
	want := "Are you now deploying daily? No: 1.5 deployment days a week (median of the last 4 weeks); daily is 5."
	if d.Headline != want || d.DeployingDaily != dora.MetNo {
		t.Errorf("headline %q (%s), want %q", d.Headline, d.DeployingDaily, want)
	}
	f := d.Figures
	// Lead times 10, 5, 5, 2, 4, 1, 30, 3 h: median (4 + 5) / 2 = 4.5 h.
	// Failures: d7 (INC-1) and d8 (INC-2) of 8. Restore: INC-1, 2 h.
	if f.Deployments != 8 || f.ChangesShipped != 8 || f.LeadTimeMedianSeconds == nil || *f.LeadTimeMedianSeconds != 4.5*3600 ||
		f.FailedDeployments != 2 || f.ChangeFailureRate == nil || *f.ChangeFailureRate != 0.25 ||
		f.IncidentsResolved != 1 || f.TimeToRestoreMedianSecs == nil || *f.TimeToRestoreMedianSecs != 2*3600 {
		t.Errorf("figures %+v", f)
	}
	if len(d.Targets) != 2 || d.Targets[0].Met != dora.MetNo || d.Targets[1].Met != dora.MetYes {
		t.Errorf("targets %+v, want deploying daily no, lead time within 24h yes", d.Targets)
	}
	// Twelve weeks, 15 Dec 2025 to 2 Mar 2026.
	if len(d.Trend) != 12 || !d.Trend[0].Start.Equal(time.Date(2025, 12, 15, 0, 0, 0, 0, time.UTC)) || d.Trend[11].Week != "2026-W10" {
		t.Fatalf("trend %+v", d.Trend)
	}
	days := make([]int, 12)
	for i, w := range d.Trend {
		days[i] = w.DeploymentDays
	}
	if fmt.Sprint(days) != "[0 0 0 0 0 0 0 0 0 1 2 5]" {
		t.Errorf("trend deployment days %v", days)
	}
	// Against the 11 weeks before: deployment days 0 → 5 and change
	// failure rate 0 % (the two weeks with deployments) → 40 % have no
	// relative size and come first, in key order; median lead time 7.5 h
	// (of 10 h and 5 h) → 3 h is −60 %. Time to restore has no week before.
	var keys []string
	for _, c := range d.Changes {
		keys = append(keys, c.Key)
	}
	if fmt.Sprint(keys) != "[deployment_days change_failure_rate lead_time]" {
		t.Fatalf("changes %v", keys)
	}
	if c := d.Changes[0]; c.Before != 0 || c.Now != 5 || !c.Better || c.Rise != nil {
		t.Errorf("deployment days %+v", c)
	}
	if c := d.Changes[1]; c.Before != 0 || c.Now != 0.4 || c.Better {
		t.Errorf("change failure rate %+v", c)
	}
	if c := d.Changes[2]; c.Before != 7.5*3600 || c.Now != 3*3600 || c.Rise == nil || *c.Rise != -0.6 || !c.Better {
		t.Errorf("lead time %+v", c)
	}
	// The week's lead times sum to 40 h: 30 h is 75 %, 4 h 10 %, 3 h 7.5 %.
	if len(d.LeadTimeContributors) != 5 {
		t.Fatalf("contributors %+v", d.LeadTimeContributors)
	}
	top := d.LeadTimeContributors[0]
	if top.Deployment != "d7" || top.LeadTimeSeconds != 30*3600 || top.Share != 0.75 || d.LeadTimeContributors[1].Share != 0.1 ||
		d.LeadTimeContributors[2].Share != 0.075 || d.LeadTimeContributors[4].Deployment != "d6" {
		t.Errorf("contributors %+v", d.LeadTimeContributors)
	}
	if len(d.OpenBreaches) != 1 || d.OpenBreaches[0].ID != "INC-2" || d.OpenBreaches[0].Acknowledged ||
		!d.OpenBreaches[0].SLADueAt.Equal(day(3, 7).Add(-time.Hour)) {
		t.Errorf("open breaches %+v, want INC-2 alone, due Sat 11:00", d.OpenBreaches)
	}
	if d.Link != "https://stride.example.com/teams/payments/digest" {
		t.Errorf("link %q", d.Link)
	}
}
