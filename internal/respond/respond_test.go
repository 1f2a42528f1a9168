package respond_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/notify"
	"github.com/stride-oss/stride/internal/respond"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday
)

// clock is an injected clock the test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var routing = incident.Routing{
	Targets: map[string]incident.Target{
		"page": {Name: "page", Kind: incident.KindPagerDuty},
		"lead": {Name: "lead", Kind: incident.KindSlack},
		"boss": {Name: "boss", Kind: incident.KindWebhook},
	},
	Severity: [4][]string{{"page"}, {"page"}, {}, {}},
}

func policies() incident.Policies {
	ps := incident.DefaultPolicies()
	ps.Default.Escalation = []incident.Step{{After: 10 * time.Minute, Target: "lead"}, {After: 30 * time.Minute, Target: "boss"}}
	return ps
}

func ingest(t *testing.T, db *store.DB, source string, ins ...delivery.Incident) {
	t.Helper()
	w := intake.New(db, nil)
	for i := range ins {
		in := ins[i]
		if _, err := w.Events(ctx, source, []delivery.Event{{Key: source + in.ID + in.AcknowledgedAt.String(), Kind: delivery.KindIncident, Incident: &in}}); err != nil {
			t.Fatal(err)
		}
	}
}

// outbox lists the undelivered rows as "route reason incident".
func outbox(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.Notifications(ctx, true, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range slices.Backward(rows) {
		var m notify.Message
		if err := json.Unmarshal(r.Payload, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Route+" "+string(m.Reason)+" "+m.Incident)
	}
	return out
}

func TestSweepMarksBreachesAndEscalatesOnTheClock(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		c := &clock{t: t0}
		r := respond.New(db, respond.Settings{Policies: policies(), Routing: routing, Now: c.now})
		ingest(t, db, "api",
			delivery.Incident{Service: "api", ID: "late", Severity: 1, OpenedAt: t0},                                         // due 10:00, never answered
			delivery.Incident{Service: "api", ID: "ok", Severity: 1, OpenedAt: t0, AcknowledgedAt: t0.Add(40 * time.Minute)}, // answered in time
			delivery.Incident{Service: "api", ID: "minor", Severity: 2, OpenedAt: t0},                                        // due tomorrow 09:00
		)
		// 09:59: nothing is overdue yet; the answered one is settled. The
		// connector reported the openings: the unanswered ones are
		// announced to their routes (severity 2 has none here).
		c.t = t0.Add(59 * time.Minute)
		res, err := r.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Breaches != 0 || res.Settled != 1 || res.Looked != 3 || res.Announced != 2 {
			t.Fatalf("09:59: %+v", res)
		}
		if got := outbox(t, db); !slices.Equal(got, []string{"page opened late"}) {
			t.Fatalf("09:59: outbox %q", got)
		}
		// 10:00 exactly is within the SLA.
		c.t = t0.Add(time.Hour)
		if res, _ = r.Sweep(ctx); res.Breaches != 0 || res.Looked != 2 {
			t.Fatalf("10:00: %+v", res)
		}
		// 10:01: breached, without any event arriving; the page goes out.
		c.t = t0.Add(61 * time.Minute)
		if res, _ = r.Sweep(ctx); res.Breaches != 1 || res.Escalations != 0 {
			t.Fatalf("10:01: %+v", res)
		}
		st, err := db.SLAState(ctx, "api", "late")
		if err != nil || !st.BreachedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("state %+v %v; want breached at 10:00, the due time", st, err)
		}
		// 10:05: nothing new (the breach is marked once).
		c.t = t0.Add(65 * time.Minute)
		if res, _ = r.Sweep(ctx); res.Breaches != 0 || res.Notifications != 0 {
			t.Fatalf("10:05: %+v", res)
		}
		// The job did not run between 10:05 and 10:45: both steps are owed
		// (10:10 to lead, 10:30 to boss), and are sent in order.
		c.t = t0.Add(105 * time.Minute)
		if res, _ = r.Sweep(ctx); res.Escalations != 2 {
			t.Fatalf("10:45: %+v", res)
		}
		c.t = t0.Add(3 * time.Hour)
		if res, _ = r.Sweep(ctx); res.Notifications != 0 {
			t.Fatalf("12:00: %+v", res)
		}
		want := []string{"page opened late", "page breached late", "lead escalated late", "boss escalated late"}
		if got := outbox(t, db); !slices.Equal(got, want) {
			t.Errorf("outbox %q, want %q", got, want)
		}
		if st, _ := db.SLAState(ctx, "api", "late"); st.Sent != 2 {
			t.Errorf("sent %d steps, want 2", st.Sent)
		}
	})
}

func TestSweepRecordsLateAnswersWithoutCallingAnybody(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		c := &clock{t: t0.Add(5 * time.Hour)}
		r := respond.New(db, respond.Settings{Policies: policies(), Routing: routing, Now: c.now})
		// Acknowledged at 10:30, 30 min late, reported after the fact; and
		// one from PagerDuty, unanswered: breached, but not paged back.
		ingest(t, db, "jira", delivery.Incident{Service: "api", ID: "old", Severity: 1, OpenedAt: t0, AcknowledgedAt: t0.Add(90 * time.Minute)})
		ingest(t, db, "pagerduty", delivery.Incident{Service: "api", ID: "pd", Severity: 0, OpenedAt: t0})
		res, err := r.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Breaches != 2 {
			t.Fatalf("%+v", res)
		}
		// The PagerDuty one escalates on chat and webhook, never to
		// PagerDuty itself.
		want := []string{"lead escalated pd", "boss escalated pd"}
		if got := outbox(t, db); !slices.Equal(got, want) {
			t.Errorf("outbox %q, want %q", got, want)
		}
		if st, _ := db.SLAState(ctx, "api", "old"); !st.BreachedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("late answer: %+v", st)
		}
	})
}

func TestSweepClosesFollowUpsWhoseIssueClosed(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		c := &clock{t: t0.Add(72 * time.Hour)}
		r := respond.New(db, respond.Settings{Policies: policies(), Routing: routing, Now: c.now})
		ingest(t, db, "api", delivery.Incident{Service: "api", ID: "1", Severity: 0, OpenedAt: t0, ResolvedAt: t0.Add(time.Hour)})
		w := intake.New(db, nil)
		f, err := w.AddFollowUp(ctx, incident.FollowUp{Service: "api", Incident: "1", Title: "fix retries", Tracker: "jira", IssueKey: "OPS-7", CreatedAt: t0.Add(2 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		item := delivery.WorkItem{Tracker: "jira", Key: "OPS-7", Title: "fix retries", Status: "Done", Category: delivery.CategoryDone,
			CreatedAt: t0.Add(2 * time.Hour), ResolvedAt: t0.Add(30 * time.Hour), UpdatedAt: t0.Add(30 * time.Hour)}
		if _, err := w.Events(ctx, "jira", []delivery.Event{{Key: "j1", Kind: delivery.KindWorkItem, WorkItem: &item}}); err != nil {
			t.Fatal(err)
		}
		res, err := r.Sweep(ctx)
		if err != nil || res.FollowUpsClosed != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		fs, _ := db.FollowUps(ctx, "api")
		if len(fs) != 1 || fs[0].ID != f.ID || !fs[0].DoneAt.Equal(t0.Add(30*time.Hour)) {
			t.Errorf("follow-ups %+v", fs)
		}
	})
}

// receiver is a real local HTTP receiver: it answers the first fail
// requests with 503 (a Retry-After of retryAfter when set), then 202.
type receiver struct {
	mu         sync.Mutex
	fail       int
	retryAfter string
	hang       bool
	got        []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.got = append(rc.got, string(body))
	n := len(rc.got)
	rc.mu.Unlock()
	if rc.hang {
		<-r.Context().Done()
		return
	}
	if n <= rc.fail {
		if rc.retryAfter != "" {
			w.Header().Set("Retry-After", rc.retryAfter)
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (rc *receiver) count() int { rc.mu.Lock(); defer rc.mu.Unlock(); return len(rc.got) }

func TestOutboxRetriesGivesUpAndTimesOut(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		flaky := &receiver{fail: 2}
		down := &receiver{fail: 1 << 30, retryAfter: "7"}
		slow := &receiver{hang: true}
		var servers []*httptest.Server
		for _, h := range []http.Handler{flaky, down, slow} {
			s := httptest.NewServer(h)
			servers = append(servers, s)
			t.Cleanup(s.Close)
		}
		c := &clock{t: t0}
		half := func() float64 { return 0 } // the wait is exactly half the backoff
		r := respond.New(db, respond.Settings{Now: c.now, Outbox: notify.Outbox{
			Routes: map[string]notify.Sender{
				"flaky": &notify.PagerDuty{URL: servers[0].URL, RoutingKey: "K"},
				"down":  &notify.Slack{URL: servers[1].URL},
				"slow":  &notify.Webhook{URL: servers[2].URL, Secret: "s"},
			},
			Policy: notify.Policy{Attempts: 3, Backoff: 10 * time.Second, MaxBackoff: time.Minute, Timeout: 200 * time.Millisecond, Jitter: half},
		}})
		in := delivery.Incident{Service: "api", ID: "1", Severity: 0, OpenedAt: t0}
		var rows []notify.Row
		for _, route := range []string{"flaky", "down", "slow"} {
			row, _ := notify.NewRow(route, notify.IncidentMessage(in, "", notify.ReasonOpened, t0), t0)
			rows = append(rows, row)
		}
		if _, err := db.Enqueue(ctx, rows...); err != nil {
			t.Fatal(err)
		}
		run := func(at time.Duration) respond.DeliverResult {
			t.Helper()
			c.t = t0.Add(at)
			res, err := r.DeliverDue(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		// 09:00:00: all three fail once. flaky waits 5 s (half of 10 s),
		// down 7 s (its Retry-After), slow 5 s.
		if res := run(0); res.Attempted != 3 || res.Retrying != 3 {
			t.Fatalf("first run %+v", res)
		}
		if res := run(4 * time.Second); res.Attempted != 0 {
			t.Fatalf("nothing is due at 4 s: %+v", res)
		}
		if res := run(5 * time.Second); res.Attempted != 2 || res.Retrying != 2 {
			t.Fatalf("at 5 s %+v", res)
		}
		if res := run(7 * time.Second); res.Attempted != 1 || res.Retrying != 1 {
			t.Fatalf("at 7 s %+v", res)
		}
		// The third attempts: flaky succeeds, down and slow are given up.
		res := run(time.Minute)
		if res.Attempted != 3 || res.Delivered != 1 || res.GaveUp != 2 {
			t.Fatalf("at 60 s %+v", res)
		}
		if flaky.count() != 3 || down.count() != 3 || slow.count() != 3 {
			t.Errorf("requests seen: flaky %d, down %d, slow %d; want 3 each", flaky.count(), down.count(), slow.count())
		}
		undelivered, err := db.Notifications(ctx, true, 10)
		if err != nil || len(undelivered) != 2 {
			t.Fatalf("undelivered %+v %v", undelivered, err)
		}
		errs := map[string]string{}
		for _, u := range undelivered {
			errs[u.Route] = u.LastError
			if u.Attempts != 3 || len(u.History) != 3 || u.GaveUpAt.IsZero() {
				t.Errorf("%s: %+v", u.Route, u)
			}
		}
		if !strings.Contains(errs["down"], "503") || !strings.Contains(errs["slow"], "timed out") {
			t.Errorf("last errors %q", errs)
		}
		if pending, gaveUp, _ := db.UndeliveredCounts(ctx); pending != 0 || gaveUp != 2 {
			t.Errorf("counts %d pending %d given up", pending, gaveUp)
		}
		// A later run attempts nothing more.
		if res := run(time.Hour); res.Attempted != 0 {
			t.Errorf("after giving up: %+v", res)
		}
	})
}

func TestSweepDoesNotAnnounceWhatTheAPIAnnounced(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		c := &clock{t: t0.Add(time.Minute)}
		db.Now = c.now
		r := respond.New(db, respond.Settings{Policies: policies(), Routing: routing, Now: c.now})
		w := intake.New(db, nil)
		if _, err := w.ChangeIncident(ctx, "api", routing, intake.IncidentRequest{Service: "api", ID: "9",
			Transition: incident.Transition{Action: incident.ActionOpen, At: t0, Severity: 0}}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if res, err := r.Sweep(ctx); err != nil || res.Announced != 0 || res.Notifications != 0 {
				t.Fatalf("%+v %v", res, err)
			}
		}
		if got := outbox(t, db); !slices.Equal(got, []string{"page opened 9"}) {
			t.Errorf("outbox %q, want the one page of the opening", got)
		}
	})
}

// TestSweepJudgesTheSameInAnyOrder feeds the reports of one incident (the
// trigger, a late acknowledgement, a duplicate of it, the resolution) from
// two sources in every order, sweeping between each: the breach is marked
// at the due time, once, and nobody is paged after the answer.
func TestSweepJudgesTheSameInAnyOrder(t *testing.T) {
	opened := delivery.Incident{Service: "api", ID: "P7", Severity: 1, OpenedAt: t0, Status: delivery.IncidentOpen, StatusAt: t0}
	acked := opened
	acked.AcknowledgedAt, acked.AcknowledgedBy = t0.Add(75*time.Minute), "alice"
	resolved := acked
	resolved.ResolvedAt, resolved.Status, resolved.StatusAt = t0.Add(2*time.Hour), delivery.IncidentResolved, t0.Add(2*time.Hour)
	reports := []struct {
		key, source string
		in          delivery.Incident
	}{{"trigger", "pagerduty", opened}, {"ack", "pagerduty", acked}, {"ack-again", "jira", acked}, {"resolve", "pagerduty", resolved}}
	orders := [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		for n, order := range orders {
			c := &clock{t: t0.Add(3 * time.Hour)}
			r := respond.New(db, respond.Settings{Policies: policies(), Routing: routing, Now: c.now})
			w := intake.New(db, nil)
			id := fmt.Sprintf("P7-%d", n)
			for _, i := range order {
				rep := reports[i]
				in := rep.in
				in.ID = id
				if _, err := w.Events(ctx, rep.source, []delivery.Event{{Key: id + rep.key, Kind: delivery.KindIncident, Incident: &in}}); err != nil {
					t.Fatal(err)
				}
				if _, err := r.Sweep(ctx); err != nil {
					t.Fatal(err)
				}
			}
			st, err := db.SLAState(ctx, "api", id)
			if err != nil || !st.BreachedAt.Equal(t0.Add(time.Hour)) {
				t.Errorf("order %v: state %+v %v; want breached at 10:00", order, st, err)
			}
			got, _ := db.Incident(ctx, "api", id)
			if got.AcknowledgedBy != "alice" || got.Source != delivery.SourcePagerDuty || !got.ResolvedAt.Equal(t0.Add(2*time.Hour)) {
				t.Errorf("order %v: incident %+v", order, got)
			}
		}
		// Every sweep ran at 12:00, after the due time: whichever report
		// came first, the incident was overdue when first seen, so its
		// opening was not announced; an unanswered one got its escalations
		// on chat and webhook (never PagerDuty, it came from there), an
		// answered one nothing.
		for _, line := range outbox(t, db) {
			if !strings.HasPrefix(line, "lead escalated") && !strings.HasPrefix(line, "boss escalated") {
				t.Errorf("unexpected notification %q", line)
			}
		}
	})
}

func TestAlertUsesTheIncidentRoutes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		c := &clock{t: t0}
		r := respond.New(db, respond.Settings{Routing: routing, Now: c.now})
		m := notify.Message{Action: notify.ActionTrigger, Reason: notify.ReasonSLOBurn, DedupKey: "stride/slo/api/availability",
			Summary: "api availability burning 14x", Severity: 1, Service: "api", Incident: "slo"}
		routes, err := r.Alert(ctx, 1, "payments", m)
		if err != nil || !slices.Equal(routes, []string{"page"}) {
			t.Fatalf("paging alert: %v %v", routes, err)
		}
		// A ticket (severity 2) goes nowhere with these routes.
		if routes, err := r.Alert(ctx, 2, "payments", m); err != nil || len(routes) != 0 {
			t.Errorf("ticket: %v %v", routes, err)
		}
		if got := outbox(t, db); !slices.Equal(got, []string{"page slo_burn slo"}) {
			t.Errorf("outbox %q", got)
		}
	})
}

func TestSLOAlertsPageOnTheIncidentRoutes(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		c := &clock{t: t0}
		r := respond.New(db, respond.Settings{Routing: routing, Now: c.now})
		hand := r.SLOAlerts(ctx)
		hand([]slo.Transition{
			{SLO: "availability", Service: "api", Alert: "page-1h", Severity: slo.Page, Kind: slo.Fired, At: t0, Reason: "2 % of the budget in an hour"},
			{SLO: "availability", Service: "api", Alert: "ticket-1d", Severity: slo.Ticket, Kind: slo.Fired, At: t0, Reason: "slow burn"},
			{SLO: "availability", Service: "api", Alert: "page-1h", Severity: slo.Page, Kind: slo.Resolved, At: t0.Add(time.Hour)},
		})
		// The page alert fires and resolves on the paging route of severity
		// 1; the ticket takes severity 2's routes, which here are none.
		rows, err := db.Notifications(ctx, true, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, row := range slices.Backward(rows) {
			var m notify.Message
			if err := json.Unmarshal(row.Payload, &m); err != nil {
				t.Fatal(err)
			}
			got = append(got, row.Route+" "+string(m.Action)+" "+m.DedupKey)
		}
		want := []string{"page trigger stride/slo/availability/page-1h", "page resolve stride/slo/availability/page-1h"}
		if !slices.Equal(got, want) {
			t.Errorf("outbox %q, want %q", got, want)
		}
	})
}
