package jira

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/golden"
	"github.com/stride-oss/stride/internal/ingest"
)

const testSecret = "It's a Secret to Everybody"

func testConfig() Config {
	return Config{
		Secret:                  testSecret,
		AcceptanceCriteriaField: "customfield_10042",
		Mapping:                 delivery.Mapping{Services: []delivery.ServiceMapping{{Name: "Checkout", Repositories: []string{"acme/checkout"}}}},
		ProjectTeams:            map[string]string{"PAY": "payments"},
	}
}

// payloads returns the test payloads under testdata/payloads by name: the
// shape of Atlassian's documented issue webhook, with made-up issues.
func payloads(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "payloads", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no payloads under testdata/payloads")
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = b
	}
	return out
}

func sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestVerify(t *testing.T) {
	s := New(testConfig())
	body := payloads(t)["issue_created"]
	other := append(bytes.Clone(body), ' ')
	tests := []struct {
		name string
		h    http.Header
		ok   bool
	}{
		{"a Jira Cloud signature of the body is accepted", header("X-Hub-Signature", sign(testSecret, body)), true},
		{"an upper-case hex signature is accepted", header("X-Hub-Signature", "sha256="+strings.ToUpper(strings.TrimPrefix(sign(testSecret, body), "sha256="))), true},
		{"the secret as a token (Jira Server) is accepted", header("X-Stride-Token", testSecret), true},
		{"a signature made with another secret is rejected", header("X-Hub-Signature", sign("other", body)), false},
		{"a signature of another body is rejected", header("X-Hub-Signature", sign(testSecret, other)), false},
		{"a signature without the sha256= prefix is rejected", header("X-Hub-Signature", strings.TrimPrefix(sign(testSecret, body), "sha256=")), false},
		{"a sha1 signature is rejected", header("X-Hub-Signature", "sha1=0123456789abcdef0123456789abcdef01234567"), false},
		{"a signature that is not hex is rejected", header("X-Hub-Signature", "sha256=zz"), false},
		{"a bad signature is not rescued by a good token", header("X-Hub-Signature", sign("other", body), "X-Stride-Token", testSecret), false},
		{"a wrong token is rejected", header("X-Stride-Token", "guess"), false},
		{"a delivery without signature or token is rejected", header(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Verify(tc.h, body)
			if tc.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !tc.ok && delivery.ErrorCode(err) != delivery.EUNAUTHORIZED {
				t.Fatalf("Verify = %v, want unauthorized", err)
			}
		})
	}
	t.Run("without a configured secret everything is rejected", func(t *testing.T) {
		s := New(Config{})
		for _, h := range []http.Header{header("X-Hub-Signature", sign("", body)), header("X-Stride-Token", ""), header()} {
			if err := s.Verify(h, body); delivery.ErrorCode(err) != delivery.EUNAUTHORIZED {
				t.Fatalf("Verify(%v) = %v, want unauthorized", h, err)
			}
		}
	})
}

func TestVerifyEveryPayloadWithItsSignature(t *testing.T) {
	s := New(testConfig())
	for name, body := range payloads(t) {
		if err := s.Verify(header("X-Hub-Signature", sign(testSecret, body)), body); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDeliveryID(t *testing.T) {
	s := New(testConfig())
	body := []byte(`{}`)
	if got := s.DeliveryID(header("X-Atlassian-Webhook-Identifier", "3f7b-1"), body); got != "3f7b-1" {
		t.Errorf("DeliveryID = %q, want Jira's identifier", got)
	}
	if got := s.DeliveryID(header(), body); !strings.HasPrefix(got, "sha256:") || len(got) != 7+64 {
		t.Errorf("DeliveryID = %q, want a body digest", got)
	}
}

type pinned struct {
	Events  []delivery.Event `json:",omitempty"`
	Ignored string           `json:",omitempty"`
	Error   string           `json:",omitempty"`
}

func TestTranslateGolden(t *testing.T) {
	s := New(testConfig())
	for name, body := range payloads(t) {
		t.Run(name, func(t *testing.T) {
			events, err := s.Translate(header(), body)
			var g pinned
			switch {
			case errors.Is(err, ingest.ErrIgnored):
				g.Ignored = err.Error()
			case err != nil:
				g.Error = err.Error()
			default:
				g.Events = events
				checkEvents(t, events)
			}
			golden.CheckJSON(t, filepath.Join("testdata", "golden", name+".json"), g)
		})
	}
}

func checkEvents(t *testing.T, events []delivery.Event) {
	t.Helper()
	seen := map[string]bool{}
	for i, e := range events {
		if e.Source != Name {
			t.Errorf("event %d: Source = %q", i, e.Source)
		}
		if seen[e.Key] {
			t.Errorf("event %d: key %q repeats", i, e.Key)
		}
		seen[e.Key] = true
		if err := e.Validate(); err != nil {
			t.Errorf("event %d does not validate: %v", i, err)
		}
	}
}

// payload returns a test payload decoded for editing.
func payload(t *testing.T, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payloads(t)[name], &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func fieldsOf(m map[string]any) map[string]any {
	return m["issue"].(map[string]any)["fields"].(map[string]any)
}

func translate(t *testing.T, s *Source, m map[string]any) ([]delivery.Event, error) {
	t.Helper()
	body, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	events, err := s.Translate(header(), body)
	if err == nil {
		checkEvents(t, events)
	}
	return events, err
}

func workItem(t *testing.T, s *Source, m map[string]any) *delivery.WorkItem {
	t.Helper()
	events, err := translate(t, s, m)
	if err != nil {
		t.Fatal(err)
	}
	return events[0].WorkItem
}

func TestWorkItemFields(t *testing.T) {
	s := New(testConfig())
	t.Run("a created story carries its fields, team, points and sprint", func(t *testing.T) {
		w := workItem(t, s, payload(t, "issue_created"))
		if w.Tracker != "jira" || w.Key != "PAY-123" || w.Project != "PAY" || w.Team != "payments" ||
			w.Type != "Story" || w.Status != "To Do" || w.Category != delivery.CategoryToDo {
			t.Errorf("work item = %+v", w)
		}
		if w.StoryPoints == nil || *w.StoryPoints != 5 {
			t.Errorf("story points = %v, want 5", w.StoryPoints)
		}
		if w.Sprint != "PAY Sprint 12" || w.SprintEnd.Format("2006-01-02 15:04") != "2024-03-08 17:00" {
			t.Errorf("sprint = %q ending %v", w.Sprint, w.SprintEnd)
		}
	})
	t.Run("an update to done is done, resolved, in the active sprint", func(t *testing.T) {
		w := workItem(t, s, payload(t, "issue_updated_done"))
		if w.Category != delivery.CategoryDone || w.ResolvedAt.Format("2006-01-02 15:04") != "2024-03-07 14:30" {
			t.Errorf("work item = %+v", w)
		}
		if w.Sprint != "PAY Sprint 12" {
			t.Errorf("sprint = %q, want the active one", w.Sprint)
		}
	})
	t.Run("absent and null story points are nil, zero is zero", func(t *testing.T) {
		if w := workItem(t, s, payload(t, "issue_created_without_points")); w.StoryPoints != nil {
			t.Errorf("absent field: points = %v", *w.StoryPoints)
		}
		m := payload(t, "issue_created")
		fieldsOf(m)["customfield_10016"] = nil
		if w := workItem(t, s, m); w.StoryPoints != nil {
			t.Errorf("null field: points = %v", *w.StoryPoints)
		}
		if w := workItem(t, s, payload(t, "issue_updated_server")); w.StoryPoints == nil || *w.StoryPoints != 0 {
			t.Errorf("zero: points = %v, want 0", w.StoryPoints)
		}
	})
	t.Run("a configured story points field is read instead of the default", func(t *testing.T) {
		cfg := testConfig()
		cfg.StoryPointsField = "customfield_10028"
		m := payload(t, "issue_created")
		fieldsOf(m)["customfield_10028"] = 13
		w := workItem(t, New(cfg), m)
		if w.StoryPoints == nil || *w.StoryPoints != 13 {
			t.Errorf("points = %v, want 13", w.StoryPoints)
		}
	})
	t.Run("a sprint that is not active is still named when it is the last", func(t *testing.T) {
		m := payload(t, "issue_created")
		fieldsOf(m)["customfield_10020"] = []any{
			map[string]any{"name": "S1", "state": "closed", "endDate": "2024-01-12T17:00:00.000Z"},
			map[string]any{"name": "S2", "state": "closed", "endDate": "2024-01-26T17:00:00.000Z"},
		}
		if w := workItem(t, s, m); w.Sprint != "S2" || w.SprintEnd.Day() != 26 {
			t.Errorf("sprint = %q ending %v", w.Sprint, w.SprintEnd)
		}
	})
	t.Run("Jira Server sprint strings are read", func(t *testing.T) {
		w := workItem(t, s, payload(t, "issue_updated_server"))
		if w.Sprint != "Sprint 5" || !w.SprintEnd.IsZero() {
			t.Errorf("sprint = %q ending %v, want the last (future) sprint without an end", w.Sprint, w.SprintEnd)
		}
	})
	t.Run("a deletion is a deleted item updated at the deletion", func(t *testing.T) {
		w := workItem(t, s, payload(t, "issue_deleted"))
		if !w.Deleted || w.UpdatedAt.UnixMilli() != 1709654400000 {
			t.Errorf("work item = %+v", w)
		}
	})
	t.Run("without fields.updated the webhook timestamp is the update time", func(t *testing.T) {
		m := payload(t, "issue_created")
		delete(fieldsOf(m), "updated")
		if w := workItem(t, s, m); w.UpdatedAt.UnixMilli() != 1709543564120 {
			t.Errorf("updated at %v", w.UpdatedAt)
		}
	})
}

func TestAcceptanceCriteria(t *testing.T) {
	adf := func(blocks ...any) map[string]any {
		return map[string]any{"type": "doc", "version": 1, "content": blocks}
	}
	heading := func(text string) map[string]any {
		return map[string]any{"type": "heading", "attrs": map[string]any{"level": 2}, "content": []any{map[string]any{"type": "text", "text": text}}}
	}
	para := func(text string) map[string]any {
		return map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": text}}}
	}
	tests := []struct {
		name        string
		description any
		field       any
		want        bool
	}{
		{"a wiki h2 heading with items", "Intro\nh2. Acceptance Criteria\n* works", nil, true},
		{"a Markdown heading with items", "## acceptance criteria\n- works", nil, true},
		{"a plain-text line with a colon", "Acceptance criteria:\n1. works", nil, true},
		{"a bold plain-text line", "*Acceptance Criteria*\n- works", nil, true},
		{"an ADF heading followed by a paragraph", adf(para("Story"), heading("Acceptance Criteria"), para("It works")), nil, true},
		{"an ADF heading inside a panel", adf(map[string]any{"type": "panel", "content": []any{heading("Acceptance criteria"), para("It works")}}), nil, true},
		{"an empty heading from a template", "h2. Acceptance Criteria\n\nh2. Notes\nsomething", nil, false},
		{"an empty ADF heading", adf(heading("Acceptance criteria"), heading("Notes"), para("x")), nil, false},
		{"criteria mentioned inside a sentence", "The acceptance criteria are still open.", nil, false},
		{"no description", nil, nil, false},
		{"a filled acceptance criteria field", "no section", "Given a card, when paid, then done", true},
		{"a filled ADF acceptance criteria field", nil, adf(para("It works")), true},
		{"a blank acceptance criteria field", nil, "  ", false},
		{"an empty ADF acceptance criteria field", nil, adf(), false},
	}
	s := New(testConfig())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := payload(t, "issue_created")
			fieldsOf(m)["description"] = tc.description
			fieldsOf(m)["customfield_10042"] = tc.field
			if w := workItem(t, s, m); w.AcceptanceCriteria != tc.want {
				t.Errorf("acceptance criteria = %v, want %v", w.AcceptanceCriteria, tc.want)
			}
		})
	}
}

func TestIncident(t *testing.T) {
	s := New(testConfig())
	t.Run("an incident issue is also an incident of its component's service", func(t *testing.T) {
		events, err := translate(t, s, payload(t, "incident_resolved"))
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 || events[1].Incident == nil {
			t.Fatalf("events = %+v, want a work item and an incident", events)
		}
		in := events[1].Incident
		if in.Service != "Checkout" || in.ID != "OPS-7" || in.Severity != delivery.SeverityCritical ||
			in.ResolvedAt.Format("15:04") != "03:01" || in.OpenedAt.Format("15:04") != "02:14" {
			t.Errorf("incident = %+v", in)
		}
	})
	for priority, want := range map[string]int{"Highest": 0, "High": 1, "Medium": 2, "Low": 3, "Lowest": 3, "Blocker": 0, "Whatever": 2} {
		t.Run("priority "+priority+" is a severity", func(t *testing.T) {
			m := payload(t, "incident_resolved")
			fieldsOf(m)["priority"] = map[string]any{"name": priority}
			events, err := translate(t, s, m)
			if err != nil {
				t.Fatal(err)
			}
			if got := events[1].Incident.Severity; got != want {
				t.Errorf("severity = %d, want %d", got, want)
			}
		})
	}
	t.Run("a service label names the service when no component does", func(t *testing.T) {
		m := payload(t, "incident_resolved")
		fieldsOf(m)["components"] = []any{}
		fieldsOf(m)["labels"] = []any{"sev1", "service:ledger"}
		events, err := translate(t, s, m)
		if err != nil {
			t.Fatal(err)
		}
		if got := events[1].Incident.Service; got != "ledger" {
			t.Errorf("service = %q", got)
		}
	})
	t.Run("an incident without component or service label is only a work item", func(t *testing.T) {
		m := payload(t, "incident_resolved")
		fieldsOf(m)["components"] = []any{}
		events, err := translate(t, s, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].WorkItem == nil {
			t.Errorf("events = %+v", events)
		}
	})
	t.Run("configured incident types replace the default", func(t *testing.T) {
		cfg := testConfig()
		cfg.IncidentIssueTypes = []string{"Outage"}
		events, err := translate(t, New(cfg), payload(t, "incident_resolved"))
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 {
			t.Errorf("an Incident issue is an incident although only Outage is configured")
		}
	})
	// OPS-7 taken into progress before it was resolved: the move into the
	// In Progress category is its acknowledgement.
	acked := []struct {
		name, changed, updated, want string
	}{
		{"an incident in progress is acknowledged when it entered the category", "2024-03-06T02:29:30.000+0000", "2024-03-06T02:40:00.000+0000", "2024-03-06T02:29:30Z"},
		{"an incident in progress without the category date is acknowledged at its update", "", "2024-03-06T02:40:00.000+0000", "2024-03-06T02:40:00Z"},
		{"a category date before creation is not believed", "2024-03-04T09:12:44.123+0000", "2024-03-06T02:40:00.000+0000", "2024-03-06T02:40:00Z"},
	}
	for _, tt := range acked {
		t.Run(tt.name, func(t *testing.T) {
			m := payload(t, "incident_resolved")
			f := fieldsOf(m)
			f["resolutiondate"], f["updated"] = nil, tt.updated
			f["status"] = map[string]any{"name": "In Progress", "statusCategory": map[string]any{"key": "indeterminate"}}
			if tt.changed == "" {
				delete(f, "statuscategorychangedate")
			} else {
				f["statuscategorychangedate"] = tt.changed
			}
			events, err := translate(t, s, m)
			if err != nil {
				t.Fatal(err)
			}
			in := events[1].Incident
			if got := in.AcknowledgedAt.Format(time.RFC3339); got != tt.want || in.Status != delivery.IncidentOpen {
				t.Errorf("acknowledged %s, status %q; want %s, open", got, in.Status, tt.want)
			}
		})
	}
	t.Run("a resolved incident and one still to do are not acknowledged by their status", func(t *testing.T) {
		m := payload(t, "incident_resolved")
		events, err := translate(t, s, m)
		if err != nil {
			t.Fatal(err)
		}
		f := fieldsOf(m)
		f["resolutiondate"] = nil
		f["status"] = map[string]any{"name": "Open", "statusCategory": map[string]any{"key": "new"}}
		open, err := translate(t, s, m)
		if err != nil {
			t.Fatal(err)
		}
		if !events[1].Incident.AcknowledgedAt.IsZero() || !open[1].Incident.AcknowledgedAt.IsZero() {
			t.Errorf("acknowledged %s (resolved), %s (to do); want neither", events[1].Incident.AcknowledgedAt, open[1].Incident.AcknowledgedAt)
		}
	})
	t.Run("a deleted incident issue is only a deleted work item", func(t *testing.T) {
		m := payload(t, "incident_resolved")
		m["webhookEvent"] = "jira:issue_deleted"
		events, err := translate(t, s, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || !events[0].WorkItem.Deleted {
			t.Errorf("events = %+v", events)
		}
	})
}

func TestTranslateErrors(t *testing.T) {
	s := New(testConfig())
	tests := []struct {
		name    string
		body    string
		ignored bool
	}{
		{"a comment is ignored", `{"webhookEvent":"comment_created","timestamp":1}`, true},
		{"a sprint event is ignored", `{"webhookEvent":"sprint_closed","timestamp":1}`, true},
		{"a body that is not JSON is malformed", `{"webhookEvent"`, false},
		{"a body without webhookEvent is malformed", `{"issue":{"key":"A-1"}}`, false},
		{"an issue event without issue key is malformed", `{"webhookEvent":"jira:issue_created","issue":{"fields":{}}}`, false},
		{"story points that are not a number are malformed", `{"webhookEvent":"jira:issue_created","issue":{"key":"A-1","fields":{"customfield_10016":{"x":1}}}}`, false},
		{"negative story points are malformed", `{"webhookEvent":"jira:issue_created","issue":{"key":"A-1","fields":{"customfield_10016":-2}}}`, false},
		{"a sprint field that is not a list is malformed", `{"webhookEvent":"jira:issue_created","issue":{"key":"A-1","fields":{"customfield_10020":"x"}}}`, false},
		{"a time Jira does not write is malformed", `{"webhookEvent":"jira:issue_created","issue":{"key":"A-1","fields":{"updated":"yesterday"}}}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Translate(header(), []byte(tc.body))
			if tc.ignored && !errors.Is(err, ingest.ErrIgnored) {
				t.Fatalf("err = %v, want ErrIgnored", err)
			}
			if !tc.ignored && delivery.ErrorCode(err) != delivery.EINVALID {
				t.Fatalf("err = %v, want invalid", err)
			}
		})
	}
}

func FuzzTranslate(f *testing.F) {
	for _, body := range payloads(f) {
		f.Add(body)
	}
	s := New(testConfig())
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := s.Translate(header(), body)
		if err != nil {
			if !errors.Is(err, ingest.ErrIgnored) && delivery.ErrorCode(err) != delivery.EINVALID {
				t.Fatalf("error is neither ignored nor invalid: %v", err)
			}
			return
		}
		if len(events) == 0 {
			t.Fatal("no events and no error")
		}
		checkEvents(t, events)
	})
}
