package intake_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/notify"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// pageAndChat routes severity 0 to a PagerDuty target and a chat target,
// severity 2 to e-mail.
var pageAndChat = incident.Routing{
	Targets: map[string]incident.Target{
		"page": {Name: "page", Kind: incident.KindPagerDuty},
		"chat": {Name: "chat", Kind: incident.KindSlack},
		"mail": {Name: "mail", Kind: incident.KindEmail},
	},
	Severity: [4][]string{{"page", "chat"}, {"page"}, {"mail"}, {}},
}

func change(action incident.Action, at time.Time, by string, severity int) incident.Transition {
	return incident.Transition{Action: action, At: at, By: by, Severity: severity}
}

func messages(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.Notifications(ctx, false, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range slices.Backward(rows) {
		var m notify.Message
		if err := json.Unmarshal(r.Payload, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Route+" "+string(m.Action)+" "+m.DedupKey)
	}
	return out
}

func TestIncidentLifecycleThroughIntake(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		db.Now = func() time.Time { return t0.Add(time.Hour) }
		w := intake.New(db, nil)
		res, err := w.ChangeIncident(ctx, "cli", pageAndChat, intake.IncidentRequest{Service: "api", ID: "42", Title: "checkout down",
			Origin: delivery.OriginCustomer, Transition: change(incident.ActionOpen, t0, "carol", 0)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Notified, []string{"page", "chat"}) || res.Incident.Source != "cli" || res.Incident.Origin != delivery.OriginCustomer {
			t.Fatalf("open: %+v", res)
		}
		// Opening it again at the same instant is the request retried: a
		// duplicate; at another instant a conflict. Neither notifies.
		if res, err := w.ChangeIncident(ctx, "cli", pageAndChat, intake.IncidentRequest{Service: "api", ID: "42",
			Transition: change(incident.ActionOpen, t0, "carol", 0)}); err != nil || !res.Duplicate || len(res.Notified) != 0 {
			t.Errorf("retried open: %+v %v", res, err)
		}
		if _, err := w.ChangeIncident(ctx, "cli", pageAndChat, intake.IncidentRequest{Service: "api", ID: "42",
			Transition: change(incident.ActionOpen, t0.Add(time.Minute), "carol", 0)}); delivery.ErrorCode(err) != delivery.ECONFLICT {
			t.Errorf("second open: %v", err)
		}
		ack := intake.IncidentRequest{Service: "api", ID: "42", Transition: change(incident.ActionAcknowledge, t0.Add(20*time.Minute), "dave", 0)}
		if res, err = w.ChangeIncident(ctx, "api", pageAndChat, ack); err != nil || res.Incident.AcknowledgedBy != "dave" || !res.Incident.AcknowledgedAt.Equal(t0.Add(20*time.Minute)) {
			t.Fatalf("ack: %+v %v", res, err)
		}
		// The same request retried is a duplicate: nothing more is sent.
		if res, err = w.ChangeIncident(ctx, "api", pageAndChat, ack); err != nil || len(res.Notified) != 0 {
			t.Errorf("retried ack: %+v %v", res, err)
		}
		// A later acknowledgement keeps the first and sends nothing.
		if res, err = w.ChangeIncident(ctx, "api", pageAndChat, intake.IncidentRequest{Service: "api", ID: "42",
			Transition: change(incident.ActionAcknowledge, t0.Add(30*time.Minute), "erin", 0)}); err != nil || res.Incident.AcknowledgedBy != "dave" || len(res.Notified) != 0 {
			t.Errorf("second ack: %+v %v", res, err)
		}
		if _, err = w.ChangeIncident(ctx, "api", pageAndChat, intake.IncidentRequest{Service: "api", ID: "42",
			Transition: change(incident.ActionResolve, t0.Add(50*time.Minute), "dave", 0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ChangeIncident(ctx, "api", pageAndChat, intake.IncidentRequest{Service: "api", ID: "42",
			Transition: change(incident.ActionResolve, t0.Add(55*time.Minute), "dave", 0)}); delivery.ErrorCode(err) != delivery.ECONFLICT {
			t.Errorf("second resolve: %v", err)
		}
		if _, err := w.ChangeIncident(ctx, "api", pageAndChat, intake.IncidentRequest{Service: "api", ID: "nope",
			Transition: change(incident.ActionAcknowledge, t0, "dave", 0)}); delivery.ErrorCode(err) != delivery.ENOTFOUND {
			t.Errorf("ack of an unknown incident: %v", err)
		}
		want := []string{
			"page trigger stride/api/42", "chat trigger stride/api/42",
			"page acknowledge stride/api/42", "chat acknowledge stride/api/42",
			"page resolve stride/api/42", "chat resolve stride/api/42",
		}
		if got := messages(t, db); !slices.Equal(got, want) {
			t.Errorf("outbox\n got %q\nwant %q", got, want)
		}
		trs, err := db.Transitions(ctx, "api", "42")
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, tr := range trs {
			actions = append(actions, string(tr.Action)+" by "+tr.By)
		}
		if !slices.Equal(actions, []string{"open by carol", "acknowledge by dave", "acknowledge by erin", "resolve by dave"}) {
			t.Errorf("transitions %q", actions)
		}
	})
}

func TestIncidentFromPagerDutyIsNotPagedBack(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		w := intake.New(db, nil)
		// PagerDuty reported it, through its webhook; a person acknowledges
		// it in Stride.
		pd := delivery.Incident{Service: "api", ID: "P1", Severity: 0, OpenedAt: t0}
		if _, err := w.Events(ctx, "pagerduty", []delivery.Event{{Key: "pd-1", Kind: delivery.KindIncident, Incident: &pd}}); err != nil {
			t.Fatal(err)
		}
		res, err := w.ChangeIncident(ctx, "api", pageAndChat, intake.IncidentRequest{Service: "api", ID: "P1",
			Transition: change(incident.ActionAcknowledge, t0.Add(5*time.Minute), "dave", 0)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Notified, []string{"chat"}) || res.Incident.Source != delivery.SourcePagerDuty {
			t.Errorf("notified %v, source %q; want chat only, pagerduty", res.Notified, res.Incident.Source)
		}
		// Raising the severity of a severity 2 incident to 1 pages; lowering
		// it sends nothing.
		if _, err := w.ChangeIncident(ctx, "api", pageAndChat, intake.IncidentRequest{Service: "web", ID: "9",
			Transition: change(incident.ActionOpen, t0, "", 2)}); err != nil {
			t.Fatal(err)
		}
		up, err := w.ChangeIncident(ctx, "api", pageAndChat, intake.IncidentRequest{Service: "web", ID: "9", Transition: change(incident.ActionSeverity, t0.Add(time.Minute), "", 1)})
		if err != nil || !slices.Equal(up.Notified, []string{"page"}) {
			t.Errorf("raise: %+v %v", up, err)
		}
		down, err := w.ChangeIncident(ctx, "api", pageAndChat, intake.IncidentRequest{Service: "web", ID: "9", Transition: change(incident.ActionSeverity, t0.Add(2*time.Minute), "", 3)})
		if err != nil || len(down.Notified) != 0 || down.Incident.Severity != 3 {
			t.Errorf("lower: %+v %v", down, err)
		}
	})
}
