package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// post sends body to url and turns any answer but 2xx into a *StatusError.
func post(ctx context.Context, client *http.Client, url string, body []byte, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("post %s: %w", url, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Stride")
	for k, v := range header {
		req.Header[k] = v
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", url, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return fmt.Errorf("post %s: %w", url, &StatusError{Code: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After"), Body: strings.TrimSpace(string(snippet))})
}

// PagerDutyURL is the Events API v2 endpoint.
const PagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

// PagerDuty sends events to the PagerDuty Events API v2: a trigger opens (or
// adds to) the alert of the message's dedup key, acknowledge and resolve act
// on it.
type PagerDuty struct {
	// URL is the enqueue endpoint; empty means PagerDutyURL.
	URL string
	// RoutingKey is the integration key of the PagerDuty service.
	RoutingKey string
	Client     *http.Client
}

// pagerDutySeverity maps Stride's severities to PagerDuty's names.
var pagerDutySeverity = [4]string{"critical", "error", "warning", "info"}

type pdPayload struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity"`
	Timestamp     string            `json:"timestamp,omitempty"`
	Component     string            `json:"component,omitempty"`
	Group         string            `json:"group,omitempty"`
	Class         string            `json:"class,omitempty"`
	CustomDetails map[string]string `json:"custom_details,omitempty"`
}

type pdLink struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Client      string     `json:"client,omitempty"`
	Payload     *pdPayload `json:"payload,omitempty"`
	Links       []pdLink   `json:"links,omitempty"`
}

// Send implements Sender.
func (p *PagerDuty) Send(ctx context.Context, m Message) error {
	if p.RoutingKey == "" {
		return Permanent(fmt.Errorf("pagerduty: no routing key"))
	}
	ev := pdEvent{RoutingKey: p.RoutingKey, EventAction: string(m.Action), DedupKey: m.DedupKey, Client: "Stride"}
	if m.Action == "" {
		ev.EventAction = string(ActionTrigger)
	}
	if ev.EventAction == string(ActionTrigger) {
		sev := "warning"
		if m.Severity >= 0 && m.Severity < len(pagerDutySeverity) {
			sev = pagerDutySeverity[m.Severity]
		}
		summary := m.Summary
		if len(summary) > 1024 { // the API's limit, cut on a character boundary
			cut := 1024
			for cut > 0 && !utf8.RuneStart(summary[cut]) {
				cut--
			}
			summary = summary[:cut]
		}
		ev.Payload = &pdPayload{Summary: summary, Source: m.Service, Severity: sev, Component: m.Service,
			Group: m.Team, Class: string(m.Reason), CustomDetails: m.Details}
		if !m.At.IsZero() {
			ev.Payload.Timestamp = m.At.UTC().Format(time.RFC3339)
		}
		if m.Link != "" {
			ev.Links = []pdLink{{Href: m.Link, Text: "Stride"}}
		}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return Permanent(fmt.Errorf("pagerduty: %w", err))
	}
	url := p.URL
	if url == "" {
		url = PagerDutyURL
	}
	if err := post(ctx, p.Client, url, body, nil); err != nil {
		return fmt.Errorf("pagerduty: %w", err)
	}
	return nil
}

// Slack posts a message to a Slack-compatible incoming webhook (Slack,
// Mattermost, Rocket.Chat and others take the same {"text": ...} body).
type Slack struct {
	URL    string
	Client *http.Client
}

// Send implements Sender.
func (s *Slack) Send(ctx context.Context, m Message) error {
	text := m.Summary
	if m.Target != "" {
		text += " → " + m.Target
	}
	if m.Link != "" {
		text += "\n<" + m.Link + ">"
	}
	if m.Body != nil && m.Body.Chat != "" {
		text = m.Body.Chat
	}
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return Permanent(fmt.Errorf("slack: %w", err))
	}
	if err := post(ctx, s.Client, s.URL, body, nil); err != nil {
		return fmt.Errorf("slack: %w", err)
	}
	return nil
}

// Webhook headers. The signature is the HMAC-SHA256, keyed with the shared
// secret, of the timestamp, a dot and the raw body, so that a receiver can
// refuse a replayed delivery by its age.
const (
	HeaderSignature = "X-Stride-Signature"
	HeaderTimestamp = "X-Stride-Timestamp"
)

// Webhook posts the message as JSON to any receiver, signed.
type Webhook struct {
	URL    string
	Secret string
	Client *http.Client
	// Now is the clock of the timestamp header; nil means time.Now.
	Now func() time.Time
}

// Sign returns the X-Stride-Signature value of body sent at timestamp.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature is the one Sign gives, in constant time;
// receivers written in Go can use it.
func Verify(secret, timestamp string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature))
}

// Send implements Sender.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	if w.Secret == "" {
		return Permanent(fmt.Errorf("webhook %s: no secret to sign with", w.URL))
	}
	body, err := json.Marshal(m)
	if err != nil {
		return Permanent(fmt.Errorf("webhook: %w", err))
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	h := http.Header{}
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, Sign(w.Secret, ts, body))
	if err := post(ctx, w.Client, w.URL, body, h); err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	return nil
}
