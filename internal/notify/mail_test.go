package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/stride-oss/stride/internal/delivery"
)

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "stride test smtp"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// mailbox is a real SMTP server (go-smtp) on 127.0.0.1 that offers
// STARTTLS, takes AUTH PLAIN only over TLS, and keeps what it receives.
type mailbox struct {
	mu       sync.Mutex
	user     string
	tls      bool
	from     string
	rcpt     []string
	data     []byte
	received int
}

type mailSession struct {
	box  *mailbox
	conn *smtp.Conn
	auth bool
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != "stride" || password != "pa55" {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "invalid credentials"}
		}
		s.auth = true
		s.box.mu.Lock()
		s.box.user = username
		s.box.mu.Unlock()
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if !s.auth {
		return smtp.ErrAuthRequired
	}
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	s.box.from, s.box.rcpt = from, nil
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	s.box.rcpt = append(s.box.rcpt, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	s.box.data, s.box.tls = b, isTLS
	s.box.received++
	return nil
}

func (s *mailSession) Reset()        {}
func (s *mailSession) Logout() error { return nil }

func startMailbox(t *testing.T, withTLS bool) (*mailbox, string, *x509.CertPool) {
	t.Helper()
	box := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &mailSession{box: box, conn: c}, nil
	}))
	srv.Domain = "127.0.0.1"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	var pool *x509.CertPool
	if withTLS {
		var cert tls.Certificate
		cert, pool = selfSigned(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return box, l.Addr().String(), pool
}

func TestMailOverSTARTTLSWithPlainAuth(t *testing.T) {
	box, addr, pool := startMailbox(t, true)
	now := ts("2026-03-02T10:00:00Z")
	ml := &Mail{Addr: addr, From: "Stride <stride@example.com>", To: []string{"oncall@example.com", "Ops <ops@example.com>"},
		Username: "stride", Password: "pa55", TLS: &tls.Config{RootCAs: pool}, RequireTLS: true, Now: func() time.Time { return now }}
	m := IncidentMessage(delivery.Incident{Service: "api", ID: "42", Title: "Zahlungen in Köln schlagen fehl", Severity: 2}, "payments", ReasonOpened, now)
	m.Link = "https://stride.example.com/incidents/api/42"
	o := &Outbox{Routes: map[string]Sender{"email": ml}, Policy: Policy{Timeout: 5 * time.Second}}
	row, err := NewRow("email", m, now)
	if err != nil {
		t.Fatal(err)
	}
	if row = o.Deliver(context.Background(), row, now); row.DeliveredAt.IsZero() {
		t.Fatalf("not delivered: %s", row.LastError)
	}

	box.mu.Lock()
	defer box.mu.Unlock()
	if !box.tls || box.user != "stride" || box.received != 1 {
		t.Errorf("tls %v, user %q, received %d: want one mail over TLS authenticated as stride", box.tls, box.user, box.received)
	}
	if box.from != "stride@example.com" || strings.Join(box.rcpt, ",") != "oncall@example.com,ops@example.com" {
		t.Errorf("envelope from %q to %v", box.from, box.rcpt)
	}
	if !bytes.Contains(box.data, []byte("\r\n\r\n")) || bytes.Contains(bytes.ReplaceAll(box.data, []byte("\r\n"), nil), []byte("\n")) {
		t.Errorf("lines do not all end in CRLF:\n%q", box.data)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(box.data))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	if d, err := h.Date(); err != nil || !d.Equal(now) {
		t.Errorf("Date %q (%v), want the injected clock", h.Get("Date"), err)
	}
	if !regexp.MustCompile(`^<[0-9a-f]{24}@example\.com>$`).MatchString(h.Get("Message-ID")) {
		t.Errorf("Message-ID %q", h.Get("Message-ID"))
	}
	if h.Get("From") != `"Stride" <stride@example.com>` || h.Get("To") != `<oncall@example.com>, "Ops" <ops@example.com>` {
		t.Errorf("From %q To %q", h.Get("From"), h.Get("To"))
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != "[SEV2] api: Zahlungen in Köln schlagen fehl (opened)" || !strings.HasPrefix(h.Get("Subject"), "=?utf-8?q?") {
		t.Errorf("Subject %q → %q (%v)", h.Get("Subject"), subject, err)
	}
	if h.Get("MIME-Version") != "1.0" || h.Get("Content-Type") != "text/plain; charset=UTF-8" || h.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Errorf("MIME headers %v", h)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[SEV2] api: Zahlungen in Köln schlagen fehl (opened)", "Service: api\r\n", "Team: payments\r\n",
		"Severity: 2\r\n", "At: 2026-03-02T10:00:00Z\r\n", "Link: https://stride.example.com/incidents/api/42\r\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}

func TestMailRefusals(t *testing.T) {
	now := ts("2026-03-02T10:00:00Z")
	m := IncidentMessage(delivery.Incident{Service: "api", ID: "42", Severity: 2}, "", ReasonOpened, now)
	t.Run("a wrong password is given up at once", func(t *testing.T) {
		box, addr, pool := startMailbox(t, true)
		ml := &Mail{Addr: addr, From: "stride@example.com", To: []string{"oncall@example.com"}, Username: "stride", Password: "wrong", TLS: &tls.Config{RootCAs: pool}}
		o := &Outbox{Routes: map[string]Sender{"email": ml}}
		row, _ := NewRow("email", m, now)
		row = o.Deliver(context.Background(), row, now)
		if row.GaveUpAt.IsZero() || row.Attempts != 1 || !strings.Contains(row.LastError, "auth") || box.received != 0 {
			t.Errorf("row %+v", row)
		}
	})
	t.Run("a server without STARTTLS is refused when TLS is required", func(t *testing.T) {
		box, addr, _ := startMailbox(t, false)
		ml := &Mail{Addr: addr, From: "stride@example.com", To: []string{"oncall@example.com"}, RequireTLS: true}
		err := ml.Send(context.Background(), m)
		if !IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") || box.received != 0 {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a certificate nobody trusts fails the handshake", func(t *testing.T) {
		_, addr, _ := startMailbox(t, true)
		ml := &Mail{Addr: addr, From: "stride@example.com", To: []string{"oncall@example.com"}}
		if err := ml.Send(context.Background(), m); err == nil || !strings.Contains(err.Error(), "starttls") {
			t.Errorf("got %v, want a starttls error", err)
		}
	})
	t.Run("a bad sender address is permanent", func(t *testing.T) {
		ml := &Mail{Addr: "127.0.0.1:1", From: "not an address", To: []string{"oncall@example.com"}}
		if err := ml.Send(context.Background(), m); !IsPermanent(err) {
			t.Errorf("got %v", err)
		}
	})
}

func TestMailTimesOutASilentServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- c // accepted, and never a greeting
		}
	}()
	t.Cleanup(func() {
		l.Close()
		select {
		case c := <-accepted:
			c.Close()
		default:
		}
	})
	ml := &Mail{Addr: l.Addr().String(), From: "stride@example.com", To: []string{"oncall@example.com"}}
	o := &Outbox{Routes: map[string]Sender{"email": ml}, Policy: Policy{Timeout: 50 * time.Millisecond, Jitter: noJitter}}
	now := ts("2026-03-02T10:00:00Z")
	row, _ := NewRow("email", IncidentMessage(delivery.Incident{Service: "api", ID: "42", Severity: 2}, "", ReasonOpened, now), now)
	row = o.Deliver(context.Background(), row, now)
	if row.Attempts != 1 || !row.Pending() || !strings.Contains(row.LastError, "timed out after 50ms") {
		t.Errorf("row %+v, want one timed-out attempt, due again", row)
	}
}
