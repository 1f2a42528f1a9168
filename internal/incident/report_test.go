package incident

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

// march is the hand-worked data set of the report tests: March 2026, seen
// at 2026-04-01 00:10 UTC. Teams: api → payments, web → growth, batch none.
//
//	id sev source/origin        opened        acked (TTA)         resolved (TTR)       due            breached
//	E  1   alertmanager→monit.  02-27 23:00   02-28 00:30         03-01 01:00 (93600)   02-28 00:00    yes, listed but not counted (opened before)
//	A  0   pagerduty→monit.     03-02 10:00   10:20 (1200)        12:00 (7200)          10:30          no
//	B  1   api, monitoring      03-05 09:00   10:30 (5400)        13:00 (14400)         10:00          yes
//	C  2   github, customer     03-10 08:00   20:00 (43200)       03-12 08:00 (172800)  03-11 08:00    no
//	G  1   api, customer        03-15 12:00   12:10 (600)         03-16 12:00 (86400)   13:00          no
//	D  3   jira (sev 3→cust.)   03-20 00:00   —                   —                     03-22 00:00    yes
//	H  2   api, unknown         03-25 10:00   09:00 (negative!)   —                     03-26 10:00    no (answered)
//	F  0   api, monitoring      03-31 23:50   —                   —                     04-01 00:20    not yet: not judged
//	X  1   api                  01-05 … resolved 01-06: outside the period, left out
func march() Input {
	inc := func(svc, id string, sev int, src string, origin delivery.IncidentOrigin, opened, acked, resolved string) delivery.Incident {
		in := delivery.Incident{Service: svc, ID: id, Severity: sev, Source: src, Origin: origin, OpenedAt: ts(opened)}
		if acked != "" {
			in.AcknowledgedAt = ts(acked)
		}
		in.Status = delivery.IncidentOpen
		if resolved != "" {
			in.ResolvedAt, in.Status = ts(resolved), delivery.IncidentResolved
		}
		return in
	}
	return Input{
		Period: delivery.Period{From: ts("2026-03-01T00:00:00Z"), To: ts("2026-04-01T00:00:00Z")},
		Now:    ts("2026-04-01T00:10:00Z"),
		Services: []delivery.Service{
			{Name: "api", Team: "payments"}, {Name: "web", Team: "growth"}, {Name: "batch"},
		},
		Incidents: []delivery.Incident{
			inc("api", "X", 1, "api", "", "2026-01-05T00:00:00Z", "", "2026-01-06T00:00:00Z"),
			inc("batch", "F", 0, "api", delivery.OriginMonitoring, "2026-03-31T23:50:00Z", "", ""),
			inc("api", "A", 0, "pagerduty", "", "2026-03-02T10:00:00Z", "2026-03-02T10:20:00Z", "2026-03-02T12:00:00Z"),
			inc("api", "B", 1, "api", delivery.OriginMonitoring, "2026-03-05T09:00:00Z", "2026-03-05T10:30:00Z", "2026-03-05T13:00:00Z"),
			inc("web", "C", 2, "github", delivery.OriginCustomer, "2026-03-10T08:00:00Z", "2026-03-10T20:00:00Z", "2026-03-12T08:00:00Z"),
			inc("web", "D", 3, "jira", "", "2026-03-20T00:00:00Z", "", ""),
			inc("api", "E", 1, "alertmanager", "", "2026-02-27T23:00:00Z", "2026-02-28T00:30:00Z", "2026-03-01T01:00:00Z"),
			inc("web", "G", 1, "api", delivery.OriginCustomer, "2026-03-15T12:00:00Z", "2026-03-15T12:10:00Z", "2026-03-16T12:00:00Z"),
			inc("api", "H", 2, "api", "", "2026-03-25T10:00:00Z", "2026-03-25T09:00:00Z", ""),
		},
		FollowUps: []FollowUp{
			{ID: "1", Service: "api", Incident: "A", Title: "alert on queue depth", CreatedAt: ts("2026-03-03T00:00:00Z"), Due: ts("2026-03-10T00:00:00Z"), DoneAt: ts("2026-03-09T00:00:00Z")},
			{ID: "2", Service: "api", Incident: "B", Title: "rate-limit retries", Tracker: "jira", IssueKey: "PAY-7", CreatedAt: ts("2026-03-06T00:00:00Z"), Due: ts("2026-03-20T00:00:00Z")},
			{ID: "3", Service: "web", Incident: "G", Title: "cache warm-up", CreatedAt: ts("2026-03-17T00:00:00Z"), Due: ts("2026-04-15T00:00:00Z")},
		},
		Reviews: []Review{
			{Service: "api", Incident: "A", HeldAt: ts("2026-03-04T00:00:00Z"), Document: "https://wiki/a", ContributingFactors: []string{"no alert on queue depth"}},
			{Service: "web", Incident: "G", HeldAt: ts("2026-03-20T00:00:00Z")},
		},
		Policies: DefaultPolicies(),
		Rules:    DefaultRules(),
	}
}

func secs(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}

func TestComputeHandWorked(t *testing.T) {
	r := Compute(march())
	if got := r.BySeverity; got["0"] != 2 || got["1"] != 2 || got["2"] != 2 || got["3"] != 1 {
		t.Errorf("by severity %v, want 0:2 (A F) 1:2 (B G) 2:2 (C H) 3:1 (D)", got)
	}
	if got := r.BySource; got != (Sources{Customer: 3, Monitoring: 3, Unknown: 1}) {
		t.Errorf("by source %+v, want customer 3 (C D G), monitoring 3 (A B F), unknown 1 (H)", got)
	}
	for _, c := range []struct {
		name        string
		s           Summary
		median, p90 float64
		count       int
	}{
		// 600 1200 5400 43200: median (1200+5400)/2, p90 the 4th.
		{"time to acknowledge", r.TimeToAcknowledge.Summary, 3300, 43200, 4},
		{"time to acknowledge, severity 0", r.TimeToAcknowledge.BySeverity["0"], 1200, 1200, 1},
		{"time to acknowledge, severity 1", r.TimeToAcknowledge.BySeverity["1"], 3000, 5400, 2},
		{"time to acknowledge, severity 2", r.TimeToAcknowledge.BySeverity["2"], 43200, 43200, 1},
		{"time to acknowledge, severity 3", r.TimeToAcknowledge.BySeverity["3"], -1, -1, 0},
		// 7200 14400 86400 93600 172800: the 3rd, and the ⌈4.5⌉ = 5th.
		{"time to restore", r.TimeToRestore.Summary, 86400, 172800, 5},
		{"time to restore, severity 1", r.TimeToRestore.BySeverity["1"], 86400, 93600, 3},
		{"time to restore, severity 0", r.TimeToRestore.BySeverity["0"], 7200, 7200, 1},
	} {
		if secs(c.s.Median) != c.median || secs(c.s.P90) != c.p90 || c.s.Count != c.count {
			t.Errorf("%s: median %v p90 %v count %d, want %v %v %d", c.name, secs(c.s.Median), secs(c.s.P90), c.s.Count, c.median, c.p90, c.count)
		}
	}
	if r.Breaches != 2 {
		t.Errorf("breaches %d, want 2 (B D)", r.Breaches)
	}
	for _, c := range []struct {
		name     string
		got      Ratio
		breached int
		judged   int
	}{
		{"overall", r.BreachRate.Ratio, 2, 6},
		{"severity 0 (F not yet due)", r.BreachRate.BySeverity["0"], 0, 1},
		{"severity 1", r.BreachRate.BySeverity["1"], 1, 2},
		{"severity 2", r.BreachRate.BySeverity["2"], 0, 2},
		{"severity 3", r.BreachRate.BySeverity["3"], 1, 1},
		{"payments", r.BreachRate.ByTeam["payments"], 1, 3},
		{"growth", r.BreachRate.ByTeam["growth"], 1, 3},
	} {
		if c.got.Breached != c.breached || c.got.Judged != c.judged || secs(c.got.Ratio) != float64(c.breached)/float64(c.judged) {
			t.Errorf("breach rate %s: %d/%d (%v), want %d/%d", c.name, c.got.Breached, c.got.Judged, secs(c.got.Ratio), c.breached, c.judged)
		}
	}
	if len(r.BreachRate.ByTeam) != 2 {
		t.Errorf("teams %v: batch has nothing judged yet", r.BreachRate.ByTeam)
	}
	if len(r.OpenFollowUps) != 2 || r.OpenFollowUps[0].ID != "2" || r.OpenFollowUps[0].AgeSeconds != 26*86400+600 || !r.OpenFollowUps[0].Overdue ||
		r.OpenFollowUps[1].ID != "3" || r.OpenFollowUps[1].AgeSeconds != 15*86400+600 || r.OpenFollowUps[1].Overdue {
		t.Errorf("open follow-ups %+v, want 2 (26 d 10 min, overdue) and 3 (15 d 10 min)", r.OpenFollowUps)
	}
	if len(r.FollowUpsMissing) != 1 || r.FollowUpsMissing[0].ID != "E" {
		t.Errorf("follow-ups missing %+v, want E", r.FollowUpsMissing)
	}
	if len(r.ReviewsMissing) != 2 || r.ReviewsMissing[0].ID != "E" || r.ReviewsMissing[1].ID != "B" {
		t.Errorf("reviews missing %+v, want E and B", r.ReviewsMissing)
	}
	var ids string
	for _, in := range r.Incidents {
		ids += in.ID
	}
	if ids != "EABCGDHF" {
		t.Errorf("incidents %s, want EABCGDHF (by opening)", ids)
	}
	if e := r.Incidents[0]; !e.Breached || !e.SLADueAt.Equal(ts("2026-02-28T00:00:00Z")) {
		t.Errorf("E: %+v, want listed as breached (due 00:00, acknowledged 00:30)", e)
	}
	f := r.Incidents[7]
	if f.Breached || !f.SLADueAt.Equal(ts("2026-04-01T00:20:00Z")) || f.AcknowledgedAt != nil {
		t.Errorf("F: %+v, want due 00:20, not breached, no acknowledgement", f)
	}
	if len(r.Warnings) != 1 {
		t.Errorf("warnings %v, want one for H acknowledged before it opened", r.Warnings)
	}

	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", append(js, '\n'))
	var buf bytes.Buffer
	if err := WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", buf.Bytes())
}

func TestComputeOfNothingIsEmptyNotZero(t *testing.T) {
	in := march()
	in.Incidents, in.FollowUps, in.Reviews = nil, nil, nil
	r := Compute(in)
	if r.TimeToAcknowledge.Median != nil || r.TimeToRestore.Count != 0 || r.BreachRate.Ratio.Ratio != nil || r.BySeverity["0"] != 0 {
		t.Errorf("empty report %+v", r)
	}
	js, _ := json.Marshal(r)
	for _, want := range []string{`"median_seconds":null`, `"incidents":[]`, `"warnings":[]`, `"by_severity":{"0":0,"1":0,"2":0,"3":0}`} {
		if !bytes.Contains(js, []byte(want)) {
			t.Errorf("JSON lacks %s: %s", want, js)
		}
	}
}

func TestExplainListsTheIncidentsBehindAFigure(t *testing.T) {
	in := march()
	for _, c := range []struct {
		figure string
		want   string
		secs   []float64
	}{
		{"time_to_acknowledge", "ABCG", []float64{1200, 5400, 43200, 600}},
		{"time_to_restore", "EABCG", []float64{93600, 7200, 14400, 172800, 86400}},
		{"breaches", "BD", nil},
		{"breach_rate", "ABCGDH", nil},
		{"by_severity", "ABCGDHF", nil},
		{"open_followups", "BG", nil},
		{"followups_missing", "E", nil},
		{"reviews_missing", "EB", nil},
	} {
		t.Run(c.figure, func(t *testing.T) {
			rows, err := Explain(in, c.figure)
			if err != nil {
				t.Fatal(err)
			}
			var ids string
			for i, r := range rows {
				ids += r.ID
				if c.secs != nil && (r.Seconds == nil || *r.Seconds != c.secs[i]) {
					t.Errorf("%s: seconds %v, want %v", r.ID, secs(r.Seconds), c.secs[i])
				}
				if r.Reason == "" {
					t.Errorf("%s has no reason", r.ID)
				}
			}
			if ids != c.want {
				t.Errorf("incidents %s, want %s", ids, c.want)
			}
		})
	}
	if _, err := Explain(in, "mttr"); delivery.ErrorCode(err) != delivery.EINVALID {
		t.Errorf("unknown figure: %v, want invalid", err)
	}
}
