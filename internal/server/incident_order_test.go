package server_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	incidents "github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/notify"
	"github.com/stride-oss/stride/internal/respond"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestIncidentAPILifecycleInAnyOrder opens, acknowledges and resolves
// incident api/7 over HTTP in every order of the three requests, each sent
// twice (a client retrying a request whose answer it lost), on both
// databases, with the breach job running after every request or only at
// the end. A request for an incident not opened yet is refused (404) and
// retried after the others, as a retrying client does. Whatever the order,
// the incident, its three transitions (who and when), its SLA state and
// the outbox (one opening, one acknowledgement and one resolution page;
// nothing twice) are the same.
func TestIncidentAPILifecycleInAnyOrder(t *testing.T) {
	type request struct{ path, body string }
	orders := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	at := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, time.UTC) }
	// One database for every order, each order its own incident (7-<order>
	// and its mode), so the suite does not migrate a database per order.
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ts := newIncidentServer(t, db)
		// The requests arrive at 09:55, before the 10:00 due time: the job
		// finds nothing overdue, whatever it saw first.
		db.Now = func() time.Time { return at(9, 55) }
		job := respond.New(db, respond.Settings{Policies: incidents.DefaultPolicies(), Routing: pageRouting, Now: db.Now})
		for _, order := range orders {
			for _, sweepEach := range []bool{true, false} {
				name, mode := "swept once after all", "once"
				if sweepEach {
					name, mode = "swept after each", "each"
				}
				id := "7-" + strings.ReplaceAll(fmtOrder(order), ",", "") + "-" + mode
				requests := []request{
					{"/api/v1/incidents", `{"service": "api", "id": "` + id + `", "severity": 1, "title": "checkout fails", "origin": "customer", "at": "2026-03-02T09:00:00Z", "by": "carol"}`},
					{"/api/v1/incidents/api/" + id + "/ack", `{"at": "2026-03-02T09:20:00Z", "by": "dave"}`},
					{"/api/v1/incidents/api/" + id + "/resolve", `{"at": "2026-03-02T09:50:00Z", "by": "dave", "note": "pool resized"}`},
				}
				t.Run(fmtOrder(order)+"/"+name, func(t *testing.T) {
					sweep := func() {
						t.Helper()
						if _, err := job.Sweep(ctx); err != nil {
							t.Fatal(err)
						}
					}
					var retry []int
					seen := map[int]bool{}
					send := func(i int) {
						t.Helper()
						code, body := ts.do(t, "POST", requests[i].path, ts.ingest, []byte(requests[i].body))
						switch {
						case code == http.StatusNotFound && i != 0:
							retry = append(retry, i)
						case seen[i] && (code != http.StatusOK || body["duplicate"] != true):
							t.Errorf("request %d again: %d %v, want 200 and a duplicate", i, code, body)
						case !seen[i] && code != http.StatusOK && code != http.StatusCreated:
							t.Errorf("request %d: %d %v", i, code, body)
						}
						if code == http.StatusOK || code == http.StatusCreated {
							seen[i] = true
						}
						if sweepEach {
							sweep()
						}
					}
					for _, i := range append(slices.Clone(order), order...) {
						send(i)
					}
					for _, i := range retry {
						send(i)
					}
					sweep()

					in, err := db.Incident(ctx, "api", id)
					if err != nil {
						t.Fatal(err)
					}
					if !in.OpenedAt.Equal(at(9, 0)) || !in.AcknowledgedAt.Equal(at(9, 20)) || in.AcknowledgedBy != "dave" || !in.ResolvedAt.Equal(at(9, 50)) ||
						in.Status != delivery.IncidentResolved || in.Severity != 1 || in.Origin != delivery.OriginCustomer || in.Source != "api" {
						t.Errorf("incident %+v; want opened 09:00, acknowledged 09:20 by dave, resolved 09:50, severity 1, customer-reported, from the API", in)
					}
					trs, err := db.Transitions(ctx, "api", id)
					if err != nil {
						t.Fatal(err)
					}
					var got []string
					for _, tr := range trs {
						got = append(got, string(tr.Action)+" "+tr.At.Format("15:04")+" "+tr.By)
					}
					if want := []string{"open 09:00 carol", "acknowledge 09:20 dave", "resolve 09:50 dave"}; !slices.Equal(got, want) {
						t.Errorf("transitions %q, want %q", got, want)
					}
					// Acknowledged 20 min into its hour: due 10:00, answered in time.
					st, err := db.SLAState(ctx, "api", id)
					if err != nil {
						t.Fatal(err)
					}
					if !st.Due.Equal(at(10, 0)) || !st.BreachedAt.IsZero() || st.Sent != 0 {
						t.Errorf("SLA state %+v, want due 10:00, not breached", st)
					}
					outbox := outboxOf(t, db, id)
					slices.Sort(outbox)
					if want := []string{"page acknowledged", "page opened", "page resolved"}; !slices.Equal(outbox, want) {
						t.Errorf("outbox %q, want %q", outbox, want)
					}
				})
			}
		}
	})
}

// outboxOf lists the outbox rows about one incident as "route reason",
// oldest first.
func outboxOf(t *testing.T, db *store.DB, id string) []string {
	t.Helper()
	rows, err := db.Notifications(ctx, false, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range slices.Backward(rows) {
		var m notify.Message
		if err := json.Unmarshal(r.Payload, &m); err != nil {
			t.Fatal(err)
		}
		if m.Incident == id {
			out = append(out, r.Route+" "+string(m.Reason))
		}
	}
	return out
}

// pageRouting is newIncidentServer's: severities 0 and 1 page.
var pageRouting = incidents.Routing{Targets: map[string]incidents.Target{"page": {Name: "page", Kind: incidents.KindPagerDuty}},
	Severity: [4][]string{{"page"}, {"page"}, {}, {}}}

func fmtOrder(order []int) string {
	b := make([]byte, 0, 2*len(order))
	for i, n := range order {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, byte('0'+n))
	}
	return string(b)
}

// TestEventsAPIIncidentInAnyOrder posts incident 9's opening, its
// acknowledgement and its resolution as events to POST /api/v1/events in
// every order, each twice, on both databases, with the breach job running
// after every event or once at the end, its clock at 09:55 (before the
// 10:00 due time). The incident and its SLA state are the same for every
// order; the job announces the opening only when the opening came first
// (an incident first seen answered calls nobody), and never twice.
func TestEventsAPIIncidentInAnyOrder(t *testing.T) {
	orders := [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
	at := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, time.UTC) }
	// One database for every order, each order its own incident (9-<order>
	// and its mode, its event keys suffixed alike).
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ts := newIncidentServer(t, db)
		db.Now = func() time.Time { return at(9, 55) }
		job := respond.New(db, respond.Settings{Policies: incidents.DefaultPolicies(), Routing: pageRouting, Now: db.Now})
		for _, order := range orders {
			for _, sweepEach := range []bool{true, false} {
				name, mode := "swept once after all", "once"
				if sweepEach {
					name, mode = "swept after each", "each"
				}
				id := "9-" + strings.ReplaceAll(fmtOrder(order), ",", "") + "-" + mode
				events := []string{
					`{"key": "` + id + `-open", "kind": "incident", "incident": {"service": "api", "id": "` + id + `", "title": "logins fail", "severity": 1, "status": "open",
						"opened_at": "2026-03-02T09:00:00Z", "updated_at": "2026-03-02T09:00:00Z", "origin": "monitoring"}}`,
					`{"key": "` + id + `-ack", "kind": "incident", "incident": {"service": "api", "id": "` + id + `", "opened_at": "2026-03-02T09:00:00Z",
						"acknowledged_at": "2026-03-02T09:12:00Z", "acknowledged_by": "erin", "updated_at": "2026-03-02T09:12:00Z"}}`,
					`{"key": "` + id + `-resolve", "kind": "incident", "incident": {"service": "api", "id": "` + id + `", "opened_at": "2026-03-02T09:00:00Z", "status": "resolved",
						"resolved_at": "2026-03-02T09:40:00Z", "updated_at": "2026-03-02T09:40:00Z"}}`,
				}
				t.Run(fmtOrder(order)+"/"+name, func(t *testing.T) {
					for _, i := range append(slices.Clone(order), order...) {
						if code, body := ts.do(t, "POST", "/api/v1/events", ts.ingest, []byte(events[i])); code != http.StatusOK {
							t.Fatalf("event %d: %d %v", i, code, body)
						}
						if sweepEach {
							if _, err := job.Sweep(ctx); err != nil {
								t.Fatal(err)
							}
						}
					}
					if _, err := job.Sweep(ctx); err != nil {
						t.Fatal(err)
					}
					in, err := db.Incident(ctx, "api", id)
					if err != nil {
						t.Fatal(err)
					}
					if !in.OpenedAt.Equal(at(9, 0)) || !in.AcknowledgedAt.Equal(at(9, 12)) || in.AcknowledgedBy != "erin" || !in.ResolvedAt.Equal(at(9, 40)) ||
						in.Status != delivery.IncidentResolved || in.Severity != 1 || in.Title != "logins fail" || in.Origin != delivery.OriginMonitoring {
						t.Errorf("incident %+v; want opened 09:00, acknowledged 09:12 by erin, resolved 09:40, severity 1, raised by monitoring", in)
					}
					st, err := db.SLAState(ctx, "api", id)
					if err != nil {
						t.Fatal(err)
					}
					if !st.Due.Equal(at(10, 0)) || !st.BreachedAt.IsZero() || st.Sent != 0 {
						t.Errorf("SLA state %+v, want due 10:00, not breached", st)
					}
					var want []string
					if sweepEach && order[0] == 0 {
						want = []string{"page opened"}
					}
					if got := outboxOf(t, db, id); !slices.Equal(got, want) {
						t.Errorf("outbox %q, want %q", got, want)
					}
				})
			}
		}
	})
}
