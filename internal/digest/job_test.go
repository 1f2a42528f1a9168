package digest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"mime"
	"mime/multipart"
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

	"github.com/stride-oss/stride/internal/digest"
	"github.com/stride-oss/stride/internal/golden"
	"github.com/stride-oss/stride/internal/notify"
	"github.com/stride-oss/stride/internal/respond"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// mailbox is a real SMTP server (go-smtp, as the notify tests use) on
// 127.0.0.1 that keeps every message it receives.
type mailbox struct {
	mu   sync.Mutex
	msgs [][]byte
	rcpt [][]string
}

type session struct {
	box  *mailbox
	rcpt []string
}

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpt = append(s.rcpt, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	s.box.msgs = append(s.box.msgs, b)
	s.box.rcpt = append(s.box.rcpt, s.rcpt)
	return nil
}
func (s *session) Reset()        { s.rcpt = nil }
func (s *session) Logout() error { return nil }

func (b *mailbox) received() [][]byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]byte(nil), b.msgs...)
}

func startMailbox(t *testing.T) (*mailbox, string) {
	t.Helper()
	box := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{box: box}, nil }))
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
	return box, l.Addr().String()
}

var quiet = slog.New(slog.DiscardHandler)

// clock is an injected clock the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// rig is the digest job and the outbox job over one store, as serve wires
// them, with a mailbox behind route payments-mail.
type rig struct {
	db    *store.DB
	clock *clock
	box   *mailbox
	out   *respond.Responder
	sched []digest.Schedule
}

func newRig(t *testing.T, db *store.DB) *rig {
	box, addr := startMailbox(t)
	c := &clock{}
	ml := &notify.Mail{Addr: addr, From: "Stride <stride@example.com>", To: []string{"payments@example.com"}, Now: c.Now}
	out := respond.New(db, respond.Settings{Outbox: notify.Outbox{Routes: map[string]notify.Sender{"payments-mail": ml},
		Policy: notify.Policy{Timeout: 5 * time.Second}}, Now: c.Now})
	sched := []digest.Schedule{{Team: "payments", Weekday: time.Monday, Hour: 9, Location: berlin(t), Routes: []string{"payments-mail"}}}
	return &rig{db: db, clock: c, box: box, out: out, sched: sched}
}

// job is a fresh digest job, as after a restart: it keeps nothing in
// memory from one run to the next.
func (r *rig) job() *digest.Job {
	return &digest.Job{DB: r.db, Reader: reader(r.db), Schedules: r.sched, Now: r.clock.Now, Logger: quiet}
}

// runAt runs a fresh job at now, then the outbox job, and returns the
// weeks the job enqueued.
func (r *rig) runAt(t *testing.T, now time.Time) []string {
	t.Helper()
	r.clock.Set(now)
	sent, err := r.job().Run(context.Background())
	if err != nil {
		t.Fatalf("digest job at %s: %v", now, err)
	}
	if _, err := r.out.DeliverDue(context.Background()); err != nil {
		t.Fatalf("outbox at %s: %v", now, err)
	}
	var weeks []string
	for _, s := range sent {
		weeks = append(weeks, s.Week)
	}
	return weeks
}

// TestJobSendsOncePerTeamWeekAtItsTime drives the job on an injected clock
// around team payments' Monday 09:00 Berlin: nothing before it, one mail at
// it, nothing more that week (every run is a fresh job, as after a
// restart), the next one the Monday after, and after a server down for
// two Mondays (23 and 30 March) one mail, for the latest of them, at its
// summer-time hour.
func TestJobSendsOncePerTeamWeekAtItsTime(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		history(t, db)
		r := newRig(t, db)
		steps := []struct {
			at    time.Time
			weeks string
			mails int
		}{
			{monday9.AddDate(0, 0, -7), "2026-W10", 1},                    // the Monday before
			{monday9.Add(-time.Minute), "", 1},                            // 08:59 in Berlin
			{monday9, "2026-W11", 2},                                      // 09:00 in Berlin
			{monday9.Add(time.Minute), "", 2},                             // a minute later
			{monday9.Add(3 * time.Hour), "", 2},                           // later that day
			{monday9.AddDate(0, 0, 6), "", 2},                             // Sunday
			{monday9.AddDate(0, 0, 7), "2026-W12", 3},                     // the Monday after
			{time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC), "2026-W14", 4}, // back after two Mondays down
			{time.Date(2026, 4, 1, 10, 5, 0, 0, time.UTC), "", 4},         // and only once
			{time.Date(2026, 4, 6, 6, 59, 0, 0, time.UTC), "", 4},         // 08:59 summer time
			{time.Date(2026, 4, 6, 7, 0, 0, 0, time.UTC), "2026-W15", 5},  // 09:00 summer time
		}
		for _, s := range steps {
			weeks := strings.Join(r.runAt(t, s.at), ",")
			if weeks != s.weeks || len(r.box.received()) != s.mails {
				t.Fatalf("at %s: sent %q (%d mails in all), want %q (%d)", s.at, weeks, len(r.box.received()), s.weeks, s.mails)
			}
		}
		got, err := db.Digests(context.Background(), "payments", 10)
		if err != nil {
			t.Fatal(err)
		}
		var recorded []string
		for _, d := range got {
			recorded = append(recorded, d.Week+"@"+d.ScheduledAt.Format(time.RFC3339))
		}
		// The missed week is the one of Monday 30 March, 09:00 CEST.
		want := "2026-W15@2026-04-06T07:00:00Z 2026-W14@2026-03-30T07:00:00Z 2026-W12@2026-03-16T08:00:00Z 2026-W11@2026-03-09T08:00:00Z 2026-W10@2026-03-02T08:00:00Z"
		if strings.Join(recorded, " ") != want {
			t.Errorf("recorded %v, want %s", recorded, want)
		}
		checkMail(t, r.box.received()[1])
	})
}

// checkMail reads the digest mail of 9 March as a client would: the subject,
// the team's address, and a multipart/alternative of the golden text and
// the golden HTML.
func checkMail(t *testing.T, raw []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if s := msg.Header.Get("Subject"); s != "Stride weekly digest: payments, week of 2 Mar 2026" {
		t.Errorf("subject %q", s)
	}
	if k := msg.Header.Get("X-Stride-Dedup-Key"); k != "stride/digest/payments/2026-W11" {
		t.Errorf("dedup key %q", k)
	}
	kind, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || kind != "multipart/alternative" {
		t.Fatalf("content type %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for _, want := range []struct{ kind, golden string }{{"text/plain", "testdata/mail.txt"}, {"text/html", "testdata/mail.html"}} {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %s: %v", want.kind, err)
		}
		if ct := p.Header.Get("Content-Type"); ct != want.kind+"; charset=UTF-8" {
			t.Errorf("part content type %q, want %s", ct, want.kind)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		// SMTP carries CRLF line ends; the golden files have LF.
		golden.Check(t, want.golden, bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")))
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("a third part: %v", err)
	}
}

// TestRecordDigestOnceAcrossReplicas records one team-week twice, as two
// replicas that both found it due would: the second writes nothing, and
// the outbox holds the first's rows alone.
func TestRecordDigestOnceAcrossReplicas(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := monday9
		row := func(route string) notify.Row {
			r, err := notify.NewRow(route, notify.Message{Summary: "digest"}, at)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		d := store.SentDigest{Team: "payments", Week: "2026-W11", ScheduledAt: at, Digest: json.RawMessage(`{"team":"payments"}`)}
		first, err := db.RecordDigest(ctx, d, []notify.Row{row("mail"), row("chat")})
		if err != nil || !first {
			t.Fatalf("first record: %v %v", first, err)
		}
		second, err := db.RecordDigest(ctx, d, []notify.Row{row("mail"), row("chat")})
		if err != nil || second {
			t.Fatalf("second record: %v %v, want refused without error", second, err)
		}
		other := d
		other.Team = "search"
		if ok, err := db.RecordDigest(ctx, other, []notify.Row{row("mail")}); err != nil || !ok {
			t.Fatalf("another team's week: %v %v", ok, err)
		}
		rows, err := db.Notifications(ctx, false, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 {
			t.Errorf("%d outbox rows, want 3 (two of payments' one record, one of search's)", len(rows))
		}
		// Four replicas at once on another week: one records it.
		racing := d
		racing.Week = "2026-W12"
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := db.RecordDigest(ctx, racing, []notify.Row{row("mail")})
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					won++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("%d racing replicas recorded 2026-W12, want 1", won)
		}
		if rows, err := db.Notifications(ctx, false, 100); err != nil || len(rows) != 4 {
			t.Errorf("%d outbox rows after the race (%v), want 4", len(rows), err)
		}
		if sent, err := db.DigestSent(ctx, "payments", "2026-W11"); err != nil || !sent {
			t.Errorf("payments 2026-W11 sent %v (%v)", sent, err)
		}
		if sent, err := db.DigestSent(ctx, "payments", "2026-W13"); err != nil || sent {
			t.Errorf("payments 2026-W13 sent %v (%v)", sent, err)
		}
	})
}

// TestJobSendsToChat delivers the digest to a Slack-compatible webhook:
// the body posted is the golden chat text.
func TestJobSendsToChat(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		history(t, db)
		var mu sync.Mutex
		var posted []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct{ Text string }
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			mu.Lock()
			posted = append(posted, body.Text)
			mu.Unlock()
		}))
		defer srv.Close()
		c := &clock{now: monday9}
		out := respond.New(db, respond.Settings{Outbox: notify.Outbox{Routes: map[string]notify.Sender{
			"payments-chat": &notify.Slack{URL: srv.URL, Client: srv.Client()}}}, Now: c.Now})
		job := &digest.Job{DB: db, Reader: reader(db), Now: c.Now, Logger: quiet,
			Schedules: []digest.Schedule{{Team: "payments", Weekday: time.Monday, Hour: 9, Location: berlin(t), Routes: []string{"payments-chat"}}}}
		if _, err := job.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		res, err := out.DeliverDue(context.Background())
		if err != nil || res.Delivered != 1 {
			t.Fatalf("outbox: %+v %v", res, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(posted) != 1 {
			t.Fatalf("%d posts", len(posted))
		}
		golden.Check(t, "testdata/slack.txt", []byte(posted[0]))
	})
}
