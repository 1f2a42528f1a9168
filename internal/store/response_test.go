package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	incidents "github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/notify"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// incidentEvent is an incident event stamped with its source, as intake
// stamps it.
func incidentEvent(key, source string, in delivery.Incident) delivery.Event {
	if in.Source == "" {
		in.Source = source
	}
	e := delivery.Event{Key: key, Kind: delivery.KindIncident, Source: source, Incident: &in}
	if err := e.Validate(); err != nil {
		panic(err)
	}
	return e
}

func outboxRow(t *testing.T, route string, in delivery.Incident, reason notify.Reason) notify.Row {
	t.Helper()
	r, err := notify.NewRow(route, notify.IncidentMessage(in, "", reason, t0), t0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestIncidentKeepsSourceOriginAndAcknowledger(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		api := delivery.Incident{Service: "api", ID: "7", Severity: 1, OpenedAt: t0, Origin: delivery.OriginCustomer, Source: "api", UpdatedAt: t0}
		pd := delivery.Incident{Service: "api", ID: "7", Severity: 1, OpenedAt: t0.Add(time.Minute), Source: delivery.SourcePagerDuty,
			AcknowledgedAt: t0.Add(20 * time.Minute), AcknowledgedBy: "alice", UpdatedAt: t0.Add(20 * time.Minute)}
		if _, err := db.Ingest(ctx, []delivery.Event{incidentEvent("a", "api", api)}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Ingest(ctx, []delivery.Event{incidentEvent("p", "pagerduty", pd)}); err != nil {
			t.Fatal(err)
		}
		got, err := db.Incident(ctx, "api", "7")
		if err != nil {
			t.Fatal(err)
		}
		// PagerDuty saw it, so it is never paged back; the origin is the
		// API report's, which saw it open first; alice acknowledged.
		if got.Source != delivery.SourcePagerDuty || got.Origin != delivery.OriginCustomer || got.AcknowledgedBy != "alice" {
			t.Errorf("source %q origin %q acknowledged by %q; want pagerduty, customer, alice", got.Source, got.Origin, got.AcknowledgedBy)
		}
		if _, err := db.Incident(ctx, "api", "8"); delivery.ErrorCode(err) != delivery.ENOTFOUND {
			t.Errorf("unknown incident: %v, want not found", err)
		}
	})
}

func TestChangeIncidentStoresTransitionAndOutboxTogether(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		db.Now = func() time.Time { return t0 }
		in := delivery.Incident{Service: "api", ID: "1", Title: "down", Severity: 0, OpenedAt: t0, Status: delivery.IncidentOpen, StatusAt: t0, SeverityAt: t0, UpdatedAt: t0}
		change := store.IncidentChange{
			Event:      incidentEvent("stride/api/1/open", "cli", in),
			Transition: incidents.Transition{Action: incidents.ActionOpen, At: t0, By: "carol", Severity: 0, Note: "from the CLI"},
			Notify:     []notify.Row{outboxRow(t, "page", in, notify.ReasonOpened)},
		}
		stored, ids, err := db.ChangeIncident(ctx, change)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != 1 || stored.Source != "cli" || stored.Severity != 0 {
			t.Fatalf("ids %v, stored %+v", ids, stored)
		}
		// The same request again (its key seen) records nothing more.
		if _, ids, err := db.ChangeIncident(ctx, change); err != nil || len(ids) != 0 {
			t.Fatalf("retried change: ids %v, %v; want none", ids, err)
		}
		trs, err := db.Transitions(ctx, "api", "1")
		if err != nil {
			t.Fatal(err)
		}
		want := []incidents.Transition{{Action: incidents.ActionOpen, At: t0, By: "carol", Severity: 0, Note: "from the CLI"}}
		if !slices.Equal(trs, want) {
			t.Errorf("transitions %+v, want %+v", trs, want)
		}
		if work, err := db.SLAWork(ctx, 2); err != nil || !work.Announced[incidents.Key{Service: "api", ID: "1"}] {
			t.Errorf("an incident opened with its notifications is not announced: %+v %v", work.Announced, err)
		}
		rows, err := db.Notifications(ctx, true, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || rows[0].Route != "page" || rows[0].ID != ids0(t, ids) || !rows[0].NextAttemptAt.Equal(t0) {
			t.Fatalf("outbox %+v", rows)
		}

		// A change that fails (an event whose incident lacks its kind's
		// entity) stores neither the transition nor the row.
		bad := change
		bad.Event = delivery.Event{Key: "bad", Kind: delivery.KindIncident, Incident: &in}
		if _, _, err := db.ChangeIncident(ctx, bad); err == nil {
			t.Fatal("an event without a source was stored")
		}
		if n, _ := db.CountForTest(ctx, "SELECT COUNT(*) FROM outbox"); n != 1 {
			t.Errorf("%d outbox rows after a failed change, want 1", n)
		}
		if n, _ := db.CountForTest(ctx, "SELECT COUNT(*) FROM incident_transitions"); n != 1 {
			t.Errorf("%d transitions after a failed change, want 1", n)
		}
	})
}

func ids0(t *testing.T, ids []int64) int64 {
	t.Helper()
	if len(ids) == 0 {
		t.Fatal("no ids")
	}
	return ids[0]
}

func TestOutboxClaimSaveAndCount(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		in := delivery.Incident{Service: "api", ID: "1", Severity: 0, OpenedAt: t0}
		ids, err := db.Enqueue(ctx, outboxRow(t, "page", in, notify.ReasonOpened), outboxRow(t, "mail", in, notify.ReasonBreached))
		if err != nil || len(ids) != 2 {
			t.Fatalf("enqueue: %v %v", ids, err)
		}
		claimed, err := db.ClaimNotifications(ctx, t0, time.Minute, 10)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim: %d rows, %v", len(claimed), err)
		}
		// Claimed rows are leased: not due again until the lease ends.
		if again, _ := db.ClaimNotifications(ctx, t0.Add(59*time.Second), time.Minute, 10); len(again) != 0 {
			t.Errorf("%d rows claimed twice within the lease", len(again))
		}
		// The process died during delivery: once the lease ends, the row
		// is due again.
		if again, _ := db.ClaimNotifications(ctx, t0.Add(time.Minute), time.Minute, 10); len(again) != 2 {
			t.Errorf("%d rows due after the lease, want 2", len(again))
		}
		delivered := claimed[0]
		delivered.Attempts, delivered.DeliveredAt = 1, t0
		delivered.History = []notify.Attempt{{At: t0}}
		gaveUp := claimed[1]
		gaveUp.Attempts, gaveUp.GaveUpAt, gaveUp.LastError = 3, t0, "post: 503"
		gaveUp.History = []notify.Attempt{{At: t0, Error: "a"}, {At: t0, Error: "b"}, {At: t0, Error: "post: 503"}}
		for _, r := range []notify.Row{delivered, gaveUp} {
			if err := db.SaveNotification(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		pending, given, err := db.UndeliveredCounts(ctx)
		if err != nil || pending != 0 || given != 1 {
			t.Errorf("undelivered: %d pending, %d given up, %v; want 0, 1", pending, given, err)
		}
		rows, err := db.Notifications(ctx, true, 10)
		if err != nil || len(rows) != 1 {
			t.Fatalf("undelivered: %+v, %v", rows, err)
		}
		if rows[0].LastError != "post: 503" || rows[0].Attempts != 3 || len(rows[0].History) != 3 || !rows[0].GaveUpAt.Equal(t0) {
			t.Errorf("given-up row %+v", rows[0])
		}
		if all, _ := db.Notifications(ctx, false, 10); len(all) != 2 {
			t.Errorf("all notifications: %d, want 2", len(all))
		}
		if err := db.SaveNotification(ctx, notify.Row{ID: 999}); delivery.ErrorCode(err) != delivery.ENOTFOUND {
			t.Errorf("saving an unknown row: %v", err)
		}
	})
}

func TestSLAWorkAndRecordSweep(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		open := delivery.Incident{Service: "api", ID: "open", Severity: 1, OpenedAt: t0}
		acked := delivery.Incident{Service: "api", ID: "acked", Severity: 1, OpenedAt: t0, AcknowledgedAt: t0.Add(10 * time.Minute)}
		other := delivery.Incident{Service: "web", ID: "x", Severity: 2, OpenedAt: t0}
		if _, err := db.Ingest(ctx, []delivery.Event{incidentEvent("1", "api", open), incidentEvent("2", "api", acked), incidentEvent("3", "api", other)}); err != nil {
			t.Fatal(err)
		}
		work, err := db.SLAWork(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(work.Open); !slices.Equal(got, []string{"api/acked", "api/open", "web/x"}) || len(work.State) != 0 || len(work.Announced) != 0 {
			t.Fatalf("work %v, state %v", got, work.State)
		}
		kOpen, kAcked := incidents.Key{Service: "api", ID: "open"}, incidents.Key{Service: "api", ID: "acked"}
		due := t0.Add(time.Hour)
		rec := store.SweepRecord{
			Breaches:  []incidents.Breach{{Service: "api", Incident: "open", At: due}},
			Sent:      map[incidents.Key]int{kOpen: 1},
			Settled:   []incidents.Key{kAcked},
			Announced: []incidents.Key{kOpen},
			Due:       map[incidents.Key]time.Time{kOpen: due, kAcked: due},
			Notify:    []notify.Row{outboxRow(t, "page", open, notify.ReasonBreached)},
		}
		rowIDs, err := db.RecordSweep(ctx, rec)
		if err != nil || len(rowIDs) != 1 {
			t.Fatalf("record sweep: %v %v", rowIDs, err)
		}
		st, err := db.SLAState(ctx, "api", "open")
		if err != nil || !st.BreachedAt.Equal(due) || st.Sent != 1 || !st.Due.Equal(due) {
			t.Errorf("state of open: %+v %v", st, err)
		}
		// A second breach record keeps the first breach time.
		if _, err := db.RecordSweep(ctx, store.SweepRecord{Breaches: []incidents.Breach{{Service: "api", Incident: "open", At: due.Add(time.Hour)}}}); err != nil {
			t.Fatal(err)
		}
		if st, _ := db.SLAState(ctx, "api", "open"); !st.BreachedAt.Equal(due) || st.Sent != 1 {
			t.Errorf("after a second breach: %+v", st)
		}
		// The settled incident leaves the work; the breached one stays
		// while unanswered (it may be owed escalations), with its state.
		work, err = db.SLAWork(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(work.Open); !slices.Equal(got, []string{"api/open", "web/x"}) {
			t.Errorf("work after the sweep %v", got)
		}
		if work.State[kOpen] != (incidents.State{Breached: true, Sent: 1}) || !work.Announced[kOpen] || len(work.Announced) != 1 {
			t.Errorf("state %+v, announced %v", work.State, work.Announced)
		}
		// When no policy has more steps than were sent, it is owed nothing.
		if work, err := db.SLAWork(ctx, 1); err != nil || !slices.Equal(ids(work.Open), []string{"web/x"}) {
			t.Errorf("work with one escalation step at most, one sent: %v %v", ids(work.Open), err)
		}
		// Once answered, a breached incident is read once more, to be
		// judged again on the acknowledgement (one change, its breach as
		// marked), and then done with.
		ack := open
		ack.AcknowledgedAt = t0.Add(2 * time.Hour)
		if _, err := db.Ingest(ctx, []delivery.Event{incidentEvent("4", "api", ack)}); err != nil {
			t.Fatal(err)
		}
		work, err = db.SLAWork(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(work.Open), []string{"api/open", "web/x"}) || work.Changed[kOpen] != (store.SLAChange{Changes: 1, BreachedAt: due}) || len(work.Changed) != 1 {
			t.Errorf("work after the acknowledgement %v, changed %+v", ids(work.Open), work.Changed)
		}
		if _, err := db.RecordSweep(ctx, store.SweepRecord{Rejudged: map[incidents.Key]store.Rejudged{kOpen: {BreachedAt: due, Changes: 1}}}); err != nil {
			t.Fatal(err)
		}
		if work, _ := db.SLAWork(ctx, 2); !slices.Equal(ids(work.Open), []string{"web/x"}) || len(work.Changed) != 0 {
			t.Errorf("work after judging the acknowledgement %v, changed %+v", ids(work.Open), work.Changed)
		}
		if st, _ := db.SLAState(ctx, "api", "open"); !st.BreachedAt.Equal(due) || st.Sent != 1 {
			t.Errorf("after judging the acknowledgement: %+v", st)
		}
	})
}

func ids(in []delivery.Incident) []string {
	var out []string
	for _, i := range in {
		out = append(out, i.Service+"/"+i.ID)
	}
	return out
}

func TestFollowUpsReviewsAndTrackerClosing(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		in := delivery.Incident{Service: "api", ID: "1", Severity: 0, OpenedAt: t0, ResolvedAt: t0.Add(time.Hour)}
		if _, err := db.Ingest(ctx, []delivery.Event{incidentEvent("1", "api", in)}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddFollowUp(ctx, incidents.FollowUp{Service: "api", Incident: "nope", Title: "x", CreatedAt: t0}); delivery.ErrorCode(err) != delivery.ENOTFOUND {
			t.Errorf("follow-up of an unknown incident: %v", err)
		}
		if _, err := db.AddFollowUp(ctx, incidents.FollowUp{Service: "api", Incident: "1", Title: "x", Tracker: "jira", IssueKey: "nope", CreatedAt: t0}); delivery.ErrorCode(err) != delivery.EINVALID {
			t.Errorf("a bad issue key: %v", err)
		}
		tracked, err := db.AddFollowUp(ctx, incidents.FollowUp{Service: "api", Incident: "1", Title: "add a circuit breaker",
			Tracker: "jira", IssueKey: "PAY-12", CreatedAt: t0.Add(2 * time.Hour), Due: t0.Add(14 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		manual, err := db.AddFollowUp(ctx, incidents.FollowUp{Service: "api", Incident: "1", Title: "runbook", CreatedAt: t0.Add(3 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if tracked.ID == manual.ID || tracked.ID == "" {
			t.Fatalf("ids %q %q", tracked.ID, manual.ID)
		}
		done, err := db.FinishFollowUp(ctx, "api", "1", manual.ID, t0.Add(5*time.Hour))
		if err != nil || !done.DoneAt.Equal(t0.Add(5*time.Hour)) {
			t.Fatalf("finish: %+v %v", done, err)
		}
		// Done twice keeps the first time.
		if again, _ := db.FinishFollowUp(ctx, "api", "1", manual.ID, t0.Add(9*time.Hour)); !again.DoneAt.Equal(t0.Add(5 * time.Hour)) {
			t.Errorf("finished twice: %v", again.DoneAt)
		}
		if _, err := db.FinishFollowUp(ctx, "web", "1", manual.ID, t0); delivery.ErrorCode(err) != delivery.ENOTFOUND {
			t.Errorf("follow-up of another incident: %v", err)
		}

		// The Jira issue is reported open, then closed, through its webhook.
		item := delivery.WorkItem{Tracker: "jira", Key: "PAY-12", Title: "circuit breaker", Status: "In Progress", Category: delivery.CategoryInProgress,
			CreatedAt: t0.Add(2 * time.Hour), UpdatedAt: t0.Add(2 * time.Hour)}
		if _, err := db.Ingest(ctx, []delivery.Event{{Key: "w1", Kind: delivery.KindWorkItem, Source: "jira", WorkItem: &item}}); err != nil {
			t.Fatal(err)
		}
		if n, err := db.CloseTrackedFollowUps(ctx); err != nil || n != 0 {
			t.Errorf("closed %d while the issue is open, %v", n, err)
		}
		closed := item
		closed.Status, closed.Category, closed.ResolvedAt, closed.UpdatedAt = "Done", delivery.CategoryDone, t0.Add(48*time.Hour), t0.Add(48*time.Hour)
		if _, err := db.Ingest(ctx, []delivery.Event{{Key: "w2", Kind: delivery.KindWorkItem, Source: "jira", WorkItem: &closed}}); err != nil {
			t.Fatal(err)
		}
		if n, err := db.CloseTrackedFollowUps(ctx); err != nil || n != 1 {
			t.Errorf("closed %d once the issue is done, %v; want 1", n, err)
		}
		fs, err := db.FollowUps(ctx, "api")
		if err != nil || len(fs) != 2 {
			t.Fatalf("follow-ups %+v %v", fs, err)
		}
		if fs[0].ID != tracked.ID || !fs[0].DoneAt.Equal(t0.Add(48*time.Hour)) || fs[0].IssueKey != "PAY-12" || !fs[0].Due.Equal(t0.Add(14*24*time.Hour)) {
			t.Errorf("tracked follow-up %+v", fs[0])
		}

		r := incidents.Review{Service: "api", Incident: "1", HeldAt: t0.Add(72 * time.Hour), Document: "https://wiki/pm-1",
			Summary: "pool exhausted", ContributingFactors: []string{"no load test", "alert too late"}}
		if err := db.PutReview(ctx, r); err != nil {
			t.Fatal(err)
		}
		r.Summary = "connection pool exhausted"
		if err := db.PutReview(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := db.PutReview(ctx, incidents.Review{Service: "api", Incident: "2", HeldAt: t0}); delivery.ErrorCode(err) != delivery.ENOTFOUND {
			t.Errorf("review of an unknown incident: %v", err)
		}
		rs, err := db.Reviews(ctx)
		if err != nil || len(rs) != 1 || rs[0].Summary != "connection pool exhausted" || !slices.Equal(rs[0].ContributingFactors, r.ContributingFactors) || !rs[0].HeldAt.Equal(r.HeldAt) {
			t.Errorf("reviews %+v %v", rs, err)
		}

		input, err := db.IncidentReportInput(ctx, store.Scope{Service: "api"}, delivery.Period{From: t0.Add(-time.Hour), To: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if len(input.Incidents) != 1 || len(input.FollowUps) != 2 || len(input.Reviews) != 1 || len(input.Services) != 1 {
			t.Errorf("report input: %d incidents, %d follow-ups, %d reviews, %d services", len(input.Incidents), len(input.FollowUps), len(input.Reviews), len(input.Services))
		}
		if _, err := db.IncidentReportInput(ctx, store.Scope{Service: "nope"}, delivery.Period{From: t0, To: t0.Add(time.Hour)}); delivery.ErrorCode(err) != delivery.ENOTFOUND {
			t.Errorf("unknown service: %v", err)
		}
	})
}
