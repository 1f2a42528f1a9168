package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"slices"
	"strings"
	"time"
)

// Mail sends the message as a plain-text e-mail over SMTP. It upgrades the
// connection with STARTTLS whenever the server offers it, and authenticates
// with PLAIN when a username is set (net/smtp refuses PLAIN over a
// connection that is neither TLS nor to localhost, so credentials never
// travel in the clear).
type Mail struct {
	// Addr is the server's host:port (587 for submission).
	Addr     string
	From     string
	To       []string
	Username string
	Password string
	// TLS configures STARTTLS; nil verifies the server as the host of Addr.
	TLS *tls.Config
	// RequireTLS refuses to send when the server offers no STARTTLS.
	RequireTLS bool
	// Hello is the name given in EHLO; empty means "localhost".
	Hello string
	// Now is the clock of the Date header; nil means time.Now.
	Now func() time.Time
}

// Send implements Sender. The context's deadline bounds the whole session.
func (ml *Mail) Send(ctx context.Context, m Message) error {
	from, err := mail.ParseAddress(ml.From)
	if err != nil {
		return Permanent(fmt.Errorf("mail: from %q: %w", ml.From, err))
	}
	if len(ml.To) == 0 {
		return Permanent(fmt.Errorf("mail: no recipient"))
	}
	to := make([]*mail.Address, len(ml.To))
	for i, a := range ml.To {
		if to[i], err = mail.ParseAddress(a); err != nil {
			return Permanent(fmt.Errorf("mail: to %q: %w", a, err))
		}
	}
	now := time.Now
	if ml.Now != nil {
		now = ml.Now
	}
	msg, err := compose(m, from, to, now())
	if err != nil {
		return Permanent(fmt.Errorf("mail: %w", err))
	}
	if err := ml.session(ctx, from, to, msg); err != nil {
		return fmt.Errorf("mail via %s: %w", ml.Addr, err)
	}
	return nil
}

func (ml *Mail) session(ctx context.Context, from *mail.Address, to []*mail.Address, msg []byte) error {
	host, _, err := net.SplitHostPort(ml.Addr)
	if err != nil {
		return Permanent(err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", ml.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	hello := ml.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := &tls.Config{ServerName: host}
		if ml.TLS != nil {
			cfg = ml.TLS.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName = host
			}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	} else if ml.RequireTLS {
		return Permanent(fmt.Errorf("server offers no STARTTLS"))
	}
	if ml.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", ml.Username, ml.Password, host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return err
	}
	for _, a := range to {
		if err := c.Rcpt(a.Address); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// compose renders an RFC 5322 message: Date, Message-ID, From, To, Subject
// (RFC 2047-encoded when not ASCII), and a UTF-8 text/plain body in
// quoted-printable, so that no line is too long and any text survives.
func compose(m Message, from *mail.Address, to []*mail.Address, now time.Time) ([]byte, error) {
	id := make([]byte, 12)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	rcpt := make([]string, len(to))
	for i, a := range to {
		rcpt[i] = a.String()
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	header("From", from.String())
	header("To", strings.Join(rcpt, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", m.Summary))
	header("MIME-Version", "1.0")
	if m.DedupKey != "" {
		header("X-Stride-Dedup-Key", m.DedupKey)
	}
	text := mailBody(m)
	if m.Body != nil && m.Body.Text != "" {
		text = m.Body.Text
	}
	if m.Body == nil || m.Body.HTML == "" {
		header("Content-Type", "text/plain; charset=UTF-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, text); err != nil {
			return nil, err
		}
		b.WriteString("\r\n")
		return b.Bytes(), nil
	}
	// A text part and its HTML alternative, the text first: a client shows
	// the last part it can render (RFC 2046, 5.1.4).
	mw := multipart.NewWriter(&b)
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	for _, part := range []struct{ kind, body string }{{"text/plain", text}, {"text/html", m.Body.HTML}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.kind + "; charset=UTF-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		if err := writeQP(w, part.body); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeQP writes body quoted-printable; the writer ends every line in
// CRLF, as SMTP wants, so no line is too long and any text survives.
func writeQP(w io.Writer, body string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := qp.Write([]byte(body)); err != nil {
		return err
	}
	return qp.Close()
}

func mailBody(m Message) string {
	var b strings.Builder
	b.WriteString(m.Summary + "\n\n")
	line := func(k, v string) {
		if v != "" {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	line("Service", m.Service)
	line("Team", m.Team)
	line("Incident", m.Incident)
	line("Severity", fmt.Sprint(m.Severity))
	line("Reason", string(m.Reason))
	line("Escalated to", m.Target)
	if !m.At.IsZero() {
		line("At", m.At.UTC().Format(time.RFC3339))
	}
	line("Link", m.Link)
	for _, k := range slices.Sorted(maps.Keys(m.Details)) {
		line(k, m.Details[k])
	}
	return b.String()
}
