package respond_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/ingest/alertmanager"
	"github.com/stride-oss/stride/internal/ingest/cdevents"
	"github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/ingest/gitlab"
	"github.com/stride-oss/stride/internal/ingest/jira"
	"github.com/stride-oss/stride/internal/ingest/pagerduty"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/notify"
	"github.com/stride-oss/stride/internal/respond"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// translator turns one delivery (headers and body) into events, as the
// connector's webhook does.
type translator interface {
	Translate(http.Header, []byte) ([]delivery.Event, error)
}

// readDelivery reads a payload: a JSON body, or a .http file of headers, a
// blank line and the body (the CDEvents testdata).
func readDelivery(t *testing.T, path string) (http.Header, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if !strings.HasSuffix(path, ".http") {
		return h, b
	}
	head, body, ok := bytes.Cut(b, []byte("\n\n"))
	if !ok {
		t.Fatalf("%s: no blank line after the headers", path)
	}
	for _, line := range strings.Split(string(head), "\n") {
		k, v, _ := strings.Cut(line, ":")
		h.Add(k, strings.TrimSpace(v))
	}
	return h, body
}

// wantIncident is the stored incident and the breach job's state of it
// after every delivery arrived, whatever the order.
type wantIncident struct {
	service, id, title      string
	severity                int
	opened, acked, resolved time.Time
	due, breached           time.Time
}

func ts(s string) time.Time {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return v
}

// lifecycles are one incident's life (or an Alertmanager group's) as each
// connector delivers it, in real payload shapes: the connectors' own
// testdata, and for GitLab and Jira the same payloads moved along the
// incident's life (testdata/gitlab.*, testdata/jira.*: acknowledged, taken
// into progress, closed). The expected answers are worked by hand from the
// payloads and the default SLAs (30 min, 1 h, 24 h, 48 h) and routes
// (severities 0 and 1 page, 2 e-mails).
var lifecycles = []struct {
	name   string
	source string
	conn   func(t *testing.T) translator
	header http.Header
	files  []string
	// now is the clock of every sweep: just after the last delivery.
	now  time.Time
	want []wantIncident
	// sweptFirst is the outbox ("route reason incident") when the job runs
	// after every delivery, by the first delivery: only what the job knew
	// then can be notified. An incident first seen answered is called about
	// by nobody; one first seen unanswered and not overdue is announced; one
	// first seen unanswered and overdue is reported breached. Absent: none.
	sweptFirst map[int][]string
}{
	{
		// Triggered as severity 1 (P2), raised to 0 by the later reports,
		// acknowledged at 10:07:31.25 within the 30 min of severity 0. It
		// came from PagerDuty, so it is never paged back there: no route.
		name: "pagerduty", source: pagerduty.Name,
		conn: func(t *testing.T) translator {
			s, err := pagerduty.New(pagerduty.Config{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		files: []string{"../ingest/pagerduty/testdata/incident.triggered.json", "../ingest/pagerduty/testdata/incident.acknowledged.json",
			"../ingest/pagerduty/testdata/incident.resolved.json"},
		now: ts("2026-03-02T10:55:00Z"),
		want: []wantIncident{{service: "API Service", id: "pagerduty-PGR0VU2", severity: 0,
			opened: ts("2026-03-02T10:00:00Z"), acked: ts("2026-03-02T10:07:31.25Z"), resolved: ts("2026-03-02T10:52:09.801Z"),
			due: ts("2026-03-02T10:30:00Z")}},
	},
	{
		// One group fires two alerts and resolves both; Alertmanager
		// repeats a notification unchanged (each delivery is sent twice).
		// The latency alert (severity 0, opened 10:00:00.123456) is
		// resolved at 10:41:15.5 with no acknowledgement: past its 30 min,
		// breached at 10:30:00.123456. The budget alert (severity 2) is
		// resolved 17.5 min after it fired, well within 24 h.
		name: "alertmanager", source: alertmanager.Name,
		conn: func(t *testing.T) translator {
			s, err := alertmanager.New(alertmanager.Config{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		files: []string{"../ingest/alertmanager/testdata/firing.json", "../ingest/alertmanager/testdata/resolved.json"},
		now:   ts("2026-03-02T10:45:00Z"),
		want: []wantIncident{
			{service: "checkout", id: "alertmanager-1a30ba71cca2921f-1772445600", title: "Checkout p99 latency above 500ms", severity: 0,
				opened: ts("2026-03-02T10:00:00.123456Z"), resolved: ts("2026-03-02T10:41:15.5Z"),
				due: ts("2026-03-02T10:30:00.123456Z"), breached: ts("2026-03-02T10:30:00.123456Z")},
			{service: "checkout", id: "alertmanager-c6eadffa33fcdf37-1772442150", title: "CheckoutErrorBudgetBurn", severity: 2,
				opened: ts("2026-03-02T09:02:30Z"), resolved: ts("2026-03-02T09:20:00Z"), due: ts("2026-03-03T09:02:30Z")},
		},
		sweptFirst: map[int][]string{0: {
			"email opened alertmanager-c6eadffa33fcdf37-1772442150",
			"page breached alertmanager-1a30ba71cca2921f-1772445600",
		}},
	},
	{
		// Issue 57, labelled incident and "S2" (not a severity label the
		// connector reads, so severity stays unknown and counts as 2: 24 h).
		name: "github", source: github.Name,
		conn: func(*testing.T) translator {
			return github.New(github.Config{Mapping: delivery.Mapping{IncidentLabels: []string{"incident"}}})
		},
		header: http.Header{github.HeaderEvent: {"issues"}},
		files:  []string{"../ingest/github/testdata/payloads/issues/opened.json", "../ingest/github/testdata/payloads/issues/closed.json"},
		now:    ts("2026-02-10T12:35:00Z"),
		want: []wantIncident{{service: "ledger", id: "github-issue-57", title: "Balances export times out for large ledgers", severity: delivery.SeverityUnknown,
			opened: ts("2026-02-10T11:04:00Z"), resolved: ts("2026-02-10T12:31:15Z"), due: ts("2026-02-11T11:04:00Z")}},
		sweptFirst: map[int][]string{0: {"email opened github-issue-57"}},
	},
	{
		// Incident 64 (severity "high": 1, 1 h) opened 10:31, its
		// escalation acknowledged at 10:41:05, closed at 11:02:17.
		name: "gitlab", source: gitlab.Name,
		conn:  func(*testing.T) translator { return gitlab.New(gitlab.Config{}) },
		files: []string{"testdata/gitlab.issue.opened.json", "testdata/gitlab.issue.acknowledged.json", "testdata/gitlab.issue.closed.json"},
		now:   ts("2026-03-04T11:05:00Z"),
		want: []wantIncident{{service: "berth-api", id: "tidewater/berth-api#64", title: "Bookings API returns 502 for every request", severity: 1,
			opened: ts("2026-03-04T10:31:00Z"), acked: ts("2026-03-04T10:41:05Z"), resolved: ts("2026-03-04T11:02:17Z"),
			due: ts("2026-03-04T11:31:00Z")}},
		sweptFirst: map[int][]string{0: {"page opened tidewater/berth-api#64"}},
	},
	{
		// OPS-7 (priority Highest: 0, 30 min) created 02:14, taken into
		// progress at 02:29:30 (acknowledged: someone is on it, within the
		// SLA), resolved 03:01. The job running at 03:05 on the creation
		// alone finds it overdue and unanswered and reports a breach; the
		// later reports show it was answered in time, so the breach goes.
		name: "jira", source: jira.Name,
		conn: func(*testing.T) translator {
			return jira.New(jira.Config{Mapping: delivery.Mapping{Services: []delivery.ServiceMapping{{Name: "Checkout"}}}})
		},
		files: []string{"testdata/jira.incident.created.json", "testdata/jira.incident.in_progress.json", "testdata/jira.incident.resolved.json"},
		now:   ts("2024-03-06T03:05:00Z"),
		want: []wantIncident{{service: "Checkout", id: "OPS-7", title: "Checkout returns 502", severity: 0,
			opened: ts("2024-03-06T02:14:00Z"), acked: ts("2024-03-06T02:29:30Z"), resolved: ts("2024-03-06T03:01:00Z"),
			due: ts("2024-03-06T02:44:00Z")}},
		sweptFirst: map[int][]string{0: {"page breached OPS-7"}},
	},
	{
		// incident-123: detected at 11:04:20.079 without a severity (read
		// as 2), reported at 11:06:02 as severity 1, resolved at 11:12:30.
		// Opened at the detection, due an hour later by severity 1.
		name: "cdevents", source: cdevents.Name,
		conn: func(*testing.T) translator { return cdevents.New(cdevents.Config{}) },
		files: []string{"../ingest/cdevents/testdata/incident.detected.http", "../ingest/cdevents/testdata/incident.reported.http",
			"../ingest/cdevents/testdata/incident.resolved.http"},
		now: ts("2026-03-02T11:15:00Z"),
		want: []wantIncident{{service: "checkout", id: "cdevents-incident-123", title: "Checkout response time above threshold of 500ms", severity: 1,
			opened: ts("2026-03-02T11:04:20.079Z"), resolved: ts("2026-03-02T11:12:30Z"), due: ts("2026-03-02T12:04:20.079Z")}},
		sweptFirst: map[int][]string{0: {"email opened cdevents-incident-123"}, 1: {"page opened cdevents-incident-123"}},
	},
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := slices.Insert(slices.Clone(p), i, n-1)
			out = append(out, q)
		}
	}
	return out
}

// TestConnectorLifecycleInAnyOrder sends each connector's deliveries of an
// incident in every order, each delivery twice, on both databases, with the
// breach job running either after every delivery or once after them all
// (twice, as a job that runs again). Whatever the order, the stored
// incident (opened, acknowledged, resolved, severity, status), the job's
// SLA state (due time, breach) and the absence of transitions (connectors
// report, they do not transition) are the same; the outbox holds what the
// job could know when it ran, and never a notification twice.
func TestConnectorLifecycleInAnyOrder(t *testing.T) {
	for _, lc := range lifecycles {
		t.Run(lc.name, func(t *testing.T) {
			conn := lc.conn(t)
			var deliveries [][]delivery.Event
			for _, f := range lc.files {
				h, body := readDelivery(t, f)
				for k, v := range lc.header {
					h.Set(k, v[0])
				}
				events, err := conn.Translate(h, body)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				deliveries = append(deliveries, events)
			}
			// One database of each kind for every order and mode, each run
			// its own incidents: the services and event keys get the run's
			// suffix, so no run sees another's reports.
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				now := func() time.Time { return lc.now }
				db.Now = now
				in := intake.New(db, nil)
				r := respond.New(db, respond.Settings{Policies: incident.DefaultPolicies(), Routing: incident.DefaultRouting(), Now: now})
				for _, order := range permutations(len(deliveries)) {
					for _, sweepEach := range []bool{true, false} {
						mode, short := "swept once after all", "once"
						if sweepEach {
							mode, short = "swept after each", "each"
						}
						suffix := "-" + strings.ReplaceAll(fmtInts(order), " ", "") + "-" + short
						t.Run(strings.ReplaceAll(fmtInts(order), " ", ",")+"/"+mode, func(t *testing.T) {
							sweep := func() {
								t.Helper()
								if _, err := r.Sweep(ctx); err != nil {
									t.Fatal(err)
								}
							}
							for _, i := range append(slices.Clone(order), order...) {
								if _, err := in.Events(ctx, lc.source, copyEvents(deliveries[i], suffix)); err != nil {
									t.Fatalf("delivery %d: %v", i, err)
								}
								if sweepEach {
									sweep()
								}
							}
							sweep()
							sweep()
							checkIncidents(t, db, lc.want, suffix)
							got := outboxOfRun(t, db, suffix)
							// After the whole burst every incident is answered, so
							// the job calls nobody about it.
							var want []string
							if sweepEach {
								want = lc.sweptFirst[order[0]]
							}
							slices.Sort(got)
							if !slices.Equal(got, want) {
								t.Errorf("outbox %q, want %q", got, want)
							}
							if len(slices.Compact(slices.Clone(got))) != len(got) {
								t.Errorf("outbox %q notifies something twice", got)
							}
						})
					}
				}
			})
		})
	}
}

func fmtInts(v []int) string {
	var b strings.Builder
	for i, n := range v {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte(byte('0' + n))
	}
	return b.String()
}

// copyEvents copies a delivery's events for one run, its keys and
// incidents' services given the run's suffix.
func copyEvents(events []delivery.Event, suffix string) []delivery.Event {
	out := slices.Clone(events)
	for j := range out {
		out[j].Key += suffix
		if out[j].Incident != nil {
			inc := *out[j].Incident
			inc.Service += suffix
			out[j].Incident = &inc
		}
		if out[j].WorkItem != nil {
			w := *out[j].WorkItem
			out[j].WorkItem = &w
		}
	}
	return out
}

// outboxOfRun lists the outbox rows of one run's incidents (their service
// ends in suffix) as "route reason incident".
func outboxOfRun(t *testing.T, db *store.DB, suffix string) []string {
	t.Helper()
	rows, err := db.Notifications(ctx, true, 10000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		var m notify.Message
		if err := json.Unmarshal(r.Payload, &m); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(m.Service, suffix) {
			out = append(out, r.Route+" "+string(m.Reason)+" "+m.Incident)
		}
	}
	return out
}

func checkIncidents(t *testing.T, db *store.DB, want []wantIncident, suffix string) {
	t.Helper()
	for _, w := range want {
		w.service += suffix
		got, err := db.Incident(ctx, w.service, w.id)
		if err != nil {
			t.Fatal(err)
		}
		status := delivery.IncidentOpen
		if !w.resolved.IsZero() {
			status = delivery.IncidentResolved
		}
		if !got.OpenedAt.Equal(w.opened) || !got.AcknowledgedAt.Equal(w.acked) || !got.ResolvedAt.Equal(w.resolved) ||
			got.Severity != w.severity || got.Status != status || (w.title != "" && got.Title != w.title) {
			t.Errorf("%s: opened %s, acknowledged %s, resolved %s, severity %d, status %q, title %q;\nwant %s, %s, %s, %d, %q, %q",
				w.id, got.OpenedAt, got.AcknowledgedAt, got.ResolvedAt, got.Severity, got.Status, got.Title,
				w.opened, w.acked, w.resolved, w.severity, status, w.title)
		}
		st, err := db.SLAState(ctx, w.service, w.id)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Due.Equal(w.due) || !st.BreachedAt.Equal(w.breached) || st.Sent != 0 {
			t.Errorf("%s: SLA due %s, breached %s, escalations %d; want due %s, breached %s, none", w.id, st.Due, st.BreachedAt, st.Sent, w.due, w.breached)
		}
		trs, err := db.Transitions(ctx, w.service, w.id)
		if err != nil {
			t.Fatal(err)
		}
		if len(trs) != 0 {
			t.Errorf("%s: transitions %v recorded for connector reports", w.id, trs)
		}
	}
}
