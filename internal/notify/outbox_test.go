package notify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

var noJitter = func() float64 { return 0 }

func webhookOutbox(url string, client *http.Client, p Policy) *Outbox {
	return &Outbox{Routes: map[string]Sender{"hook": &Webhook{URL: url, Secret: "k", Client: client}}, Policy: p}
}

func newRow(t *testing.T, now time.Time) Row {
	t.Helper()
	row, err := NewRow("hook", IncidentMessage(delivery.Incident{Service: "api", ID: "42", Severity: 0}, "", ReasonOpened, now), now)
	if err != nil {
		t.Fatal(err)
	}
	return row
}

// drive delivers row as the outbox job would: each time it is due, on a
// clock that jumps to the next attempt, until it is no longer pending.
func drive(ctx context.Context, o *Outbox, row Row) Row {
	for i := 0; row.Pending() && i < 20; i++ {
		row = o.Deliver(ctx, row, row.NextAttemptAt)
	}
	return row
}

func TestOutboxRetriesAReceiverThatFailsTwice(t *testing.T) {
	rc := newReceiver(t, status(http.StatusServiceUnavailable), status(http.StatusInternalServerError))
	o := webhookOutbox(rc.srv.URL, rc.srv.Client(), Policy{Attempts: 3, Backoff: 30 * time.Second, Jitter: noJitter})
	start := ts("2026-03-02T10:00:00Z")
	row := drive(context.Background(), o, newRow(t, start))
	if rc.count() != 3 {
		t.Fatalf("receiver saw %d attempts, want 3", rc.count())
	}
	// Waits with no jitter: 30 s/2 after the first failure, 60 s/2 after the second.
	if row.Attempts != 3 || !row.DeliveredAt.Equal(start.Add(45*time.Second)) || !row.GaveUpAt.IsZero() || row.LastError != "" {
		t.Fatalf("row %+v, want delivered at 10:00:45 on the third attempt", row)
	}
	if len(row.History) != 3 || !strings.Contains(row.History[0].Error, "503") || !strings.Contains(row.History[1].Error, "500") || row.History[2].Error != "" ||
		!row.History[1].At.Equal(start.Add(15*time.Second)) {
		t.Errorf("history %+v", row.History)
	}
}

func TestOutboxGivesUpOnAReceiverThatIsDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more: connection refused
	o := webhookOutbox("http://"+addr+"/hook", nil, Policy{Attempts: 3, Jitter: noJitter})
	row := drive(context.Background(), o, newRow(t, ts("2026-03-02T10:00:00Z")))
	if row.Attempts != 3 || row.GaveUpAt.IsZero() || !row.DeliveredAt.IsZero() {
		t.Fatalf("row %+v, want given up after 3 attempts", row)
	}
	if !strings.Contains(row.LastError, "connection refused") || len(row.History) != 3 {
		t.Errorf("last error %q, history %d, want connection refused kept for each attempt", row.LastError, len(row.History))
	}
}

func TestOutboxTimesOutASlowReceiver(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	o := webhookOutbox(srv.URL, srv.Client(), Policy{Attempts: 3, Timeout: 50 * time.Millisecond, Jitter: noJitter})
	now := ts("2026-03-02T10:00:00Z")
	row := o.Deliver(context.Background(), newRow(t, now), now)
	if row.Attempts != 1 || !row.Pending() || !strings.Contains(row.LastError, "timed out after 50ms") {
		t.Fatalf("row %+v, want one timed-out attempt, still pending", row)
	}
	if !row.NextAttemptAt.Equal(now.Add(15 * time.Second)) {
		t.Errorf("next attempt %s, want after the first backoff", row.NextAttemptAt)
	}
}

func TestOutboxHonoursRetryAfter(t *testing.T) {
	now := ts("2026-03-02T10:00:00Z")
	for _, c := range []struct {
		name string
		resp func(http.ResponseWriter)
		want time.Duration
	}{
		{"429 with seconds", status(http.StatusTooManyRequests, "Retry-After", "120"), 120 * time.Second},
		{"503 with an HTTP date", status(http.StatusServiceUnavailable, "Retry-After", "Mon, 02 Mar 2026 10:05:00 GMT"), 5 * time.Minute},
		{"429 with a date in the past", status(http.StatusTooManyRequests, "Retry-After", "Mon, 02 Mar 2026 09:00:00 GMT"), 0},
		{"429 without the header backs off", status(http.StatusTooManyRequests), 15 * time.Second},
		{"500 ignores a Retry-After", status(http.StatusInternalServerError, "Retry-After", "120"), 15 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			rc := newReceiver(t, c.resp)
			o := webhookOutbox(rc.srv.URL, rc.srv.Client(), Policy{Jitter: noJitter})
			row := o.Deliver(context.Background(), newRow(t, now), now)
			if !row.Pending() || !row.NextAttemptAt.Equal(now.Add(c.want)) {
				t.Fatalf("row %+v, want due again at +%s", row, c.want)
			}
			if row = o.Deliver(context.Background(), row, row.NextAttemptAt); !row.DeliveredAt.Equal(now.Add(c.want)) || rc.count() != 2 {
				t.Errorf("second attempt: %+v", row)
			}
		})
	}
}

func TestOutboxDoesNotRetryAPermanentRefusal(t *testing.T) {
	now := ts("2026-03-02T10:00:00Z")
	for _, c := range []struct {
		code     int
		attempts int
	}{
		{http.StatusBadRequest, 1},
		{http.StatusUnauthorized, 1},
		{http.StatusNotFound, 1},
		{http.StatusRequestTimeout, 3},
		{http.StatusBadGateway, 3},
	} {
		rc := newReceiver(t, status(c.code), status(c.code), status(c.code))
		row := drive(context.Background(), webhookOutbox(rc.srv.URL, rc.srv.Client(), Policy{Attempts: 3, Jitter: noJitter}), newRow(t, now))
		if row.Attempts != c.attempts || rc.count() != c.attempts || row.GaveUpAt.IsZero() {
			t.Errorf("HTTP %d: %d attempts (receiver saw %d), gave up %v; want %d", c.code, row.Attempts, rc.count(), row.GaveUpAt, c.attempts)
		}
	}
	row := newRow(t, now)
	row.Route = "nowhere"
	if row = (&Outbox{}).Deliver(context.Background(), row, now); row.GaveUpAt.IsZero() || !strings.Contains(row.LastError, `"nowhere"`) {
		t.Errorf("unknown route: %+v", row)
	}
}

func TestOutboxLeavesARowAloneOnShutdown(t *testing.T) {
	rc := newReceiver(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	now := ts("2026-03-02T10:00:00Z")
	row := newRow(t, now)
	got := webhookOutbox(rc.srv.URL, rc.srv.Client(), Policy{}).Deliver(ctx, row, now)
	if got.Attempts != 0 || !got.Due(now) || len(got.History) != 0 {
		t.Errorf("row %+v: an attempt cut short by shutdown must not count", got)
	}
	delivered := row
	delivered.DeliveredAt = now
	if got := webhookOutbox(rc.srv.URL, rc.srv.Client(), Policy{}).Deliver(context.Background(), delivered, now); rc.count() != 0 || got.Attempts != 0 {
		t.Errorf("a delivered row was sent again")
	}
}

func TestDelayBacksOffExponentiallyWithJitter(t *testing.T) {
	now := ts("2026-03-02T10:00:00Z")
	p := Policy{Backoff: 10 * time.Second, MaxBackoff: 60 * time.Second, Jitter: noJitter}
	full := p
	full.Jitter = func() float64 { return 0.5 }
	for _, c := range []struct {
		failed  int
		none    time.Duration
		halfway time.Duration
	}{
		{1, 5 * time.Second, 7500 * time.Millisecond},
		{2, 10 * time.Second, 15 * time.Second},
		{3, 20 * time.Second, 30 * time.Second},
		{4, 30 * time.Second, 45 * time.Second}, // 80 s capped at 60 s
		{9, 30 * time.Second, 45 * time.Second},
	} {
		if got := p.Delay(c.failed, errors.New("x"), now); got != c.none {
			t.Errorf("after %d failures without jitter: %s, want %s", c.failed, got, c.none)
		}
		if got := full.Delay(c.failed, errors.New("x"), now); got != c.halfway {
			t.Errorf("after %d failures, jitter 0.5: %s, want %s", c.failed, got, c.halfway)
		}
	}
	if (Policy{Attempts: 1}).attempts() != 3 {
		t.Error("fewer than three attempts in all")
	}
}

func TestIsPermanent(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"HTTP 400", &StatusError{Code: 400}, true},
		{"HTTP 408", &StatusError{Code: 408}, false},
		{"HTTP 429", &StatusError{Code: 429}, false},
		{"HTTP 503", &StatusError{Code: 503}, false},
		{"SMTP 535 bad credentials", &textproto.Error{Code: 535}, true},
		{"SMTP 451 try later", &textproto.Error{Code: 451}, false},
		{"a network error", &net.OpError{Op: "dial", Err: errors.New("refused")}, false},
		{"marked permanent", Permanent(errors.New("no key")), true},
	} {
		if got := IsPermanent(c.err); got != c.want {
			t.Errorf("%s: permanent %v, want %v", c.name, got, c.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := ts("2026-03-02T10:00:00Z")
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"120", 120 * time.Second, true},
		{" 0 ", 0, true},
		{"Mon, 02 Mar 2026 10:01:30 GMT", 90 * time.Second, true},
		{"Monday, 02-Mar-26 10:01:30 GMT", 90 * time.Second, true}, // RFC 850, which HTTP dates allow
		{"99999999999999", 7 * 24 * time.Hour, true},               // bounded, not overflowed
		{"Fri, 01 Jan 2100 00:00:00 GMT", 7 * 24 * time.Hour, true},
		{"-5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		got, ok := parseRetryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("%q: %s %v, want %s %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Mon, 02 Mar 2026 10:01:30 GMT", "-1", "1e9"} {
		f.Add(s)
	}
	now := ts("2026-03-02T10:00:00Z")
	f.Fuzz(func(t *testing.T, s string) {
		if d, _ := parseRetryAfter(s, now); d < 0 || d > 7*24*time.Hour {
			t.Fatalf("%q: %s", s, d)
		}
	})
}
