package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/stride-oss/stride/internal/delivery"
	incidents "github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/notify"
	"github.com/stride-oss/stride/internal/respond"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// smtpBox is a real SMTP server (go-smtp, as the notify tests use) on
// 127.0.0.1 that answers the first refuse MAIL commands with a temporary
// failure (451) and keeps every message it accepts.
type smtpBox struct {
	mu       sync.Mutex
	refuse   int
	refused  int
	rcpt     []string
	messages [][]byte
}

type smtpSession struct {
	box  *smtpBox
	rcpt []string
}

func (s *smtpSession) Mail(string, *smtp.MailOptions) error {
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	if s.box.refused < s.box.refuse {
		s.box.refused++
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailbox busy, try again later"}
	}
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpt = append(s.rcpt, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	s.box.rcpt, s.box.messages = s.rcpt, append(s.box.messages, b)
	return nil
}

func (s *smtpSession) Reset()        { s.rcpt = nil }
func (s *smtpSession) Logout() error { return nil }

// startSMTP serves box on a free port and returns its address.
func startSMTP(t *testing.T, box *smtpBox) string {
	t.Helper()
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{box: box}, nil }))
	srv.Domain = "127.0.0.1"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return l.Addr().String()
}

// downAddr is an address on which nothing listens: a port taken and
// released again.
func downAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestSeverityTwoEmailThroughTheStore opens a severity 2 incident over the
// API (the write path stores the outbox row with the incident), runs the
// outbox job on an injected clock against a real SMTP server, and checks
// what the server received and what the store and GET /api/v1/notifications
// say: a server that accepts gets one e-mail at the first attempt; one that
// refuses twice (451) gets it at the third, the two refusals kept; one that
// is down is given up after three attempts, listed as undelivered with its
// last error. On both databases.
func TestSeverityTwoEmailThroughTheStore(t *testing.T) {
	opened := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		refuse    int
		down      bool
		attempts  int
		delivered bool
		errors    []string // the error of each attempt, "" for none
	}{
		{name: "a server that accepts", attempts: 1, delivered: true, errors: []string{""}},
		{name: "a server that refuses twice", refuse: 2, attempts: 3, delivered: true,
			errors: []string{`451 "4.3.0 mailbox busy`, `451 "4.3.0 mailbox busy`, ""}},
		{name: "a server that is down", down: true, attempts: 3,
			errors: []string{"connection refused", "connection refused", "connection refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.ForEach(t, func(t *testing.T, db *store.DB) {
				box := &smtpBox{refuse: tt.refuse}
				addr := downAddr(t)
				if !tt.down {
					addr = startSMTP(t, box)
				}
				clock := opened.Add(time.Minute)
				now := func() time.Time { return clock }
				db.Now = now
				mailer := &notify.Mail{Addr: addr, From: "Stride <stride@example.com>", To: []string{"Payments on call <oncall@example.com>"}, Now: now}
				// No jitter: the waits are 30 s, then 60 s.
				policy := notify.Policy{Attempts: 3, Backoff: time.Minute, MaxBackoff: 10 * time.Minute, Timeout: 5 * time.Second, Jitter: func() float64 { return 0 }}
				r := respond.New(db, respond.Settings{Policies: incidents.DefaultPolicies(), Routing: incidents.DefaultRouting(),
					Outbox: notify.Outbox{Routes: map[string]notify.Sender{incidents.TargetEmail: mailer}, Policy: policy}, Now: now})
				srv := &server.Server{DB: db, Now: now, Responder: r}
				hs := httptest.NewServer(srv.Handler())
				t.Cleanup(hs.Close)
				_, ingest, err := db.CreateToken(ctx, "ci", delivery.ScopeIngest)
				if err != nil {
					t.Fatal(err)
				}
				_, read, err := db.CreateToken(ctx, "dash", delivery.ScopeRead)
				if err != nil {
					t.Fatal(err)
				}
				ts := &testServer{Server: hs, db: db, ingest: ingest, read: read}

				code, body := ts.do(t, "POST", "/api/v1/incidents", ts.ingest,
					[]byte(`{"service": "payments", "id": "77", "severity": 2, "title": "Exports are slow", "origin": "customer", "at": "2026-03-02T09:00:00Z", "by": "carol"}`))
				if code != http.StatusCreated || len(body["notified"].([]any)) != 1 || body["notified"].([]any)[0] != "email" {
					t.Fatalf("open: %d %v", code, body)
				}
				// The outbox job runs every minute; more runs than attempts
				// must change nothing.
				for range 5 {
					if _, err := r.DeliverDue(ctx); err != nil {
						t.Fatal(err)
					}
					clock = clock.Add(time.Minute)
				}

				rows, err := db.Notifications(ctx, false, 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != 1 {
					t.Fatalf("%d outbox rows, want 1", len(rows))
				}
				row := rows[0]
				if row.Attempts != tt.attempts || len(row.History) != tt.attempts || row.DeliveredAt.IsZero() != !tt.delivered || row.GaveUpAt.IsZero() != tt.delivered {
					t.Errorf("row: %d attempts, delivered %s, gave up %s, history %+v; want %d attempts, delivered %v", row.Attempts,
						row.DeliveredAt, row.GaveUpAt, row.History, tt.attempts, tt.delivered)
				}
				for i, a := range row.History {
					if i >= len(tt.errors) {
						break
					}
					if want := tt.errors[i]; (want == "") != (a.Error == "") || !strings.Contains(a.Error, want) {
						t.Errorf("attempt %d at %s: error %q, want %q", i+1, a.At, a.Error, want)
					}
					// Due again 30 s, then 60 s after a failure: each run of
					// the minute job makes the next attempt, at 09:01, 09:02, 09:03.
					if want := opened.Add(time.Duration(i+1) * time.Minute); !a.At.Equal(want) {
						t.Errorf("attempt %d at %s, want %s", i+1, a.At, want)
					}
				}

				box.mu.Lock()
				messages, rcpt := box.messages, box.rcpt
				box.mu.Unlock()
				if !tt.delivered {
					if len(messages) != 0 {
						t.Errorf("%d messages received from a server that is down", len(messages))
					}
					checkGivenUp(t, ts, row)
					return
				}
				if len(messages) != 1 || len(rcpt) != 1 || rcpt[0] != "oncall@example.com" {
					t.Fatalf("received %d messages for %v; want one for oncall@example.com", len(messages), rcpt)
				}
				msg, err := mail.ReadMessage(bytes.NewReader(messages[0]))
				if err != nil {
					t.Fatal(err)
				}
				if to, subject := msg.Header.Get("To"), msg.Header.Get("Subject"); to != `"Payments on call" <oncall@example.com>` ||
					subject != "[SEV2] payments: Exports are slow (opened)" {
					t.Errorf("To %q, Subject %q", to, subject)
				}
				text, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
				if err != nil {
					t.Fatal(err)
				}
				// Severity 2 is due 24 h after it opened (the default SLA).
				for _, want := range []string{"Service: payments\r\n", "Incident: 77\r\n", "Severity: 2\r\n", "Reason: opened\r\n",
					"acknowledge_due: 2026-03-03T09:00:00Z\r\n"} {
					if !strings.Contains(string(text), want) {
						t.Errorf("body lacks %q:\n%s", want, text)
					}
				}
				if code, body := ts.do(t, "GET", "/api/v1/notifications?state=undelivered", ts.read, nil); code != http.StatusOK || len(body["notifications"].([]any)) != 0 {
					t.Errorf("undelivered after delivery: %d %v", code, body)
				}
			})
		})
	}
}

// checkGivenUp checks that GET /api/v1/notifications lists the row given
// up, with its attempts and last error.
func checkGivenUp(t *testing.T, ts *testServer, row delivery.Notification) {
	t.Helper()
	code, body := ts.do(t, "GET", "/api/v1/notifications?state=undelivered", ts.read, nil)
	list, _ := body["notifications"].([]any)
	if code != http.StatusOK || len(list) != 1 {
		t.Fatalf("undelivered: %d %v", code, body)
	}
	got := list[0].(map[string]any)
	var m notify.Message
	payload, _ := json.Marshal(got["payload"])
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	if got["state"] != "gave_up" || got["route"] != "email" || got["attempts"] != 3.0 || got["gave_up_at"] != row.GaveUpAt.Format(time.RFC3339) ||
		!strings.Contains(got["last_error"].(string), "connection refused") || m.Incident != "77" {
		t.Errorf("listed %v; want email to incident 77 given up after 3 attempts, connection refused", got)
	}
}
