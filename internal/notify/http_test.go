package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// receiver is a real HTTP receiver that records every request it gets and
// answers with the next status of its script (then 202).
type receiver struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
	script   []func(w http.ResponseWriter)
	srv      *httptest.Server
}

func newReceiver(t *testing.T, script ...func(w http.ResponseWriter)) *receiver {
	rc := &receiver{script: script}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.requests)
		rc.requests, rc.bodies = append(rc.requests, r), append(rc.bodies, b)
		rc.mu.Unlock()
		if n < len(rc.script) {
			rc.script[n](w)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) count() int { rc.mu.Lock(); defer rc.mu.Unlock(); return len(rc.requests) }

func status(code int, header ...string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
	}
}

func TestPagerDutyEvents(t *testing.T) {
	rc := newReceiver(t)
	pd := &PagerDuty{URL: rc.srv.URL + "/v2/enqueue", RoutingKey: "R0UT1NG", Client: rc.srv.Client()}
	in := delivery.Incident{Service: "api", ID: "42", Title: "checkout down", Severity: 0}
	at := ts("2026-03-02T10:00:00Z")
	for _, c := range []struct {
		reason   Reason
		severity int
		action   string
		pdSev    string // "" when the event carries no payload
	}{
		{ReasonOpened, 0, "trigger", "critical"},
		{ReasonBreached, 1, "trigger", "error"},
		{ReasonEscalated, 2, "trigger", "warning"},
		{ReasonOpened, 3, "trigger", "info"},
		{ReasonAcknowledged, 0, "acknowledge", ""},
		{ReasonResolved, 0, "resolve", ""},
	} {
		in.Severity = c.severity
		if err := pd.Send(context.Background(), IncidentMessage(in, "payments", c.reason, at)); err != nil {
			t.Fatalf("%s: %v", c.reason, err)
		}
		r, b := rc.requests[rc.count()-1], rc.bodies[rc.count()-1]
		if r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: %s %s %s", c.reason, r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		var ev struct {
			RoutingKey  string `json:"routing_key"`
			EventAction string `json:"event_action"`
			DedupKey    string `json:"dedup_key"`
			Payload     *struct {
				Summary, Source, Severity, Timestamp string
			} `json:"payload"`
		}
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.RoutingKey != "R0UT1NG" || ev.EventAction != c.action || ev.DedupKey != "stride/api/42" {
			t.Errorf("%s: %s", c.reason, b)
		}
		switch {
		case c.pdSev == "" && ev.Payload != nil:
			t.Errorf("%s carries a payload: %s", c.action, b)
		case c.pdSev != "" && (ev.Payload == nil || ev.Payload.Severity != c.pdSev || ev.Payload.Source != "api" ||
			ev.Payload.Timestamp != "2026-03-02T10:00:00Z" || !strings.Contains(ev.Payload.Summary, "checkout down")):
			t.Errorf("severity %d: %s, want %s", c.severity, b, c.pdSev)
		}
	}
}

func TestSlackBody(t *testing.T) {
	rc := newReceiver(t)
	s := &Slack{URL: rc.srv.URL + "/hooks/T000", Client: rc.srv.Client()}
	m := IncidentMessage(delivery.Incident{Service: "api", ID: "42", Title: "checkout down", Severity: 1}, "", ReasonEscalated, ts("2026-03-02T10:00:00Z"))
	m.Target, m.Link = "manager", "https://stride.example.com/incidents/api/42"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	if err := json.Unmarshal(rc.bodies[0], &body); err != nil {
		t.Fatal(err)
	}
	want := "[SEV1] api: checkout down (escalated) → manager\n<https://stride.example.com/incidents/api/42>"
	if len(body) != 1 || body["text"] != want {
		t.Errorf("body %q, want only text %q", rc.bodies[0], want)
	}
}

func TestWebhookIsSigned(t *testing.T) {
	rc := newReceiver(t)
	w := &Webhook{URL: rc.srv.URL, Secret: "s3cret", Client: rc.srv.Client(), Now: func() time.Time { return ts("2026-03-02T10:00:00Z") }}
	m := IncidentMessage(delivery.Incident{Service: "api", ID: "42", Severity: 2}, "payments", ReasonBreached, ts("2026-03-02T10:00:00Z"))
	if err := w.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r, body := rc.requests[0], rc.bodies[0]
	if got := r.Header.Get(HeaderTimestamp); got != "1772445600" {
		t.Errorf("timestamp %q, want 1772445600 (2026-03-02T10:00:00Z)", got)
	}
	// The receiver's own check, written out rather than through Verify.
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte("1772445600." + string(body)))
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := r.Header.Get(HeaderSignature); got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
	if !Verify("s3cret", "1772445600", body, want) || Verify("other", "1772445600", body, want) || Verify("s3cret", "1772445601", body, want) {
		t.Error("Verify accepts the wrong secret or timestamp, or refuses the right one")
	}
	var got Message
	if err := json.Unmarshal(body, &got); err != nil || got.DedupKey != "stride/api/42" || got.Reason != ReasonBreached || got.Team != "payments" {
		t.Errorf("body %s (%v)", body, err)
	}
	if err := (&Webhook{URL: rc.srv.URL}).Send(context.Background(), m); !IsPermanent(err) {
		t.Errorf("an unsigned webhook: %v, want a permanent error", err)
	}
}

func TestPagerDutyCutsALongSummaryOnACharacter(t *testing.T) {
	rc := newReceiver(t)
	pd := &PagerDuty{URL: rc.srv.URL + "/v2/enqueue", RoutingKey: "k", Client: rc.srv.Client()}
	m := Message{Action: ActionTrigger, Summary: strings.Repeat("ö", 600), Service: "api"} // 1200 bytes
	if err := pd.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	var ev struct{ Payload struct{ Summary string } }
	if err := json.Unmarshal(rc.bodies[0], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Payload.Summary != strings.Repeat("ö", 512) {
		t.Errorf("summary of %d bytes, want 512 whole characters (1024 bytes)", len(ev.Payload.Summary))
	}
}
