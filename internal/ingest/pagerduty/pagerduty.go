// Package pagerduty translates PagerDuty v3 webhooks (webhook subscriptions)
// into incident events. A v3 delivery carries exactly one event; the incident
// events among them (triggered, acknowledged, resolved and the updates in
// between) become reports of one Stride incident, which delivery.MergeIncident
// joins whatever the order they arrive in.
package pagerduty

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// Name is the source's name, as in the endpoint /webhooks/pagerduty.
const Name = "pagerduty"

// SignatureHeader carries one or more comma-separated "v1=<hex>" HMACs of
// the body, one per signing secret of the subscription.
const SignatureHeader = "X-PagerDuty-Signature"

// Config configures the connector.
type Config struct {
	// Secrets are the signing secrets of the webhook subscription. Several
	// may be given while a secret is rotated; a delivery signed with any of
	// them is accepted. With none (or only empty ones) every delivery is
	// rejected, because an HMAC under an empty key proves nothing.
	Secrets []string `yaml:"secrets"`
	// Mapping supplies the canonical spelling of service names: a PagerDuty
	// service whose name matches a mapped service (ignoring case) takes
	// that service's name.
	Mapping delivery.Mapping `yaml:"-"`
	// Services maps a PagerDuty service id (such as "PF9KMXH") or name
	// (such as "API Service") to a Stride service. The id is tried first,
	// because names can be renamed in PagerDuty. Unmapped services keep
	// their PagerDuty name.
	Services map[string]string `yaml:"services"`
	// Severity maps PagerDuty priorities and urgencies to Stride severities.
	Severity SeverityMap `yaml:"-"`
}

// SeverityMap maps an incident's priority (P1..P5, or whatever names an
// account defines) and, when the incident has no priority, its urgency
// (high, low) to a severity 0–3. Names match ignoring case. Entries given
// here override the defaults one by one, so a team can move P3 alone.
//
// Defaults: P1→0, P2→1, P3→2, P4→3, P5→3; without a priority, high
// urgency→1 and low→3. An incident whose priority and urgency are both
// unknown gets severity 2, which notifies without paging.
type SeverityMap struct {
	Priority map[string]int
	Urgency  map[string]int
}

// DefaultPriority and DefaultUrgency are the default severity mappings.
// Priorities are the ones PagerDuty creates for a new account.
var (
	DefaultPriority = map[string]int{"p1": 0, "p2": 1, "p3": 2, "p4": 3, "p5": 3}
	DefaultUrgency  = map[string]int{"high": 1, "low": 3}
)

// severity returns the severity of an incident with the given priority
// name (empty when none is set) and urgency.
func (m SeverityMap) severity(priority, urgency string) int {
	if priority != "" {
		if s, ok := lookup(m.Priority, DefaultPriority, priority); ok {
			return s
		}
	}
	if s, ok := lookup(m.Urgency, DefaultUrgency, urgency); ok {
		return s
	}
	return delivery.SeverityMinor
}

func lookup(configured, defaults map[string]int, name string) (int, bool) {
	for k, v := range configured {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	v, ok := defaults[strings.ToLower(name)]
	return v, ok
}

// Source is the PagerDuty connector; it implements ingest.Source.
type Source struct {
	cfg Config
}

var _ ingest.Source = (*Source)(nil)

// New returns a connector for cfg. It fails when a configured severity is
// outside 0–3, so a typo is caught at start-up rather than on every delivery.
func New(cfg Config) (*Source, error) {
	for _, m := range []map[string]int{cfg.Severity.Priority, cfg.Severity.Urgency} {
		for k, v := range m {
			if v < delivery.SeverityCritical || v > delivery.SeverityLow {
				return nil, fmt.Errorf("pagerduty: severity of %q: must be 0 to 3, got %d", k, v)
			}
		}
	}
	return &Source{cfg: cfg}, nil
}

// Name returns "pagerduty".
func (s *Source) Name() string { return Name }

// Verify accepts the delivery when one of the v1 signatures in
// X-PagerDuty-Signature is the HMAC-SHA256 of the body under one of the
// configured secrets. Signatures of other versions are skipped, as PagerDuty
// asks, so a future v2 next to v1 does not break verification.
func (s *Source) Verify(h http.Header, body []byte) error {
	var macs [][]byte
	for _, secret := range s.cfg.Secrets {
		if secret == "" {
			continue
		}
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		macs = append(macs, m.Sum(nil))
	}
	if len(macs) == 0 {
		return ingest.Unauthorized("pagerduty: no signing secret is configured")
	}
	header := h.Get(SignatureHeader)
	if header == "" {
		return ingest.Unauthorized("pagerduty: the %s header is missing", SignatureHeader)
	}
	ok := false
	for _, sig := range strings.Split(header, ",") {
		hexSig, found := strings.CutPrefix(strings.TrimSpace(sig), "v1=")
		if !found {
			continue
		}
		got, err := hex.DecodeString(hexSig)
		if err != nil {
			continue
		}
		for _, want := range macs {
			// Every pair is compared, so the time taken does not tell
			// which secret or which signature matched.
			if hmac.Equal(got, want) {
				ok = true
			}
		}
	}
	if !ok {
		return ingest.Unauthorized("pagerduty: no signature in %s matches a configured secret", SignatureHeader)
	}
	return nil
}

// DeliveryID returns the event's id (event.id), which PagerDuty repeats on
// every retry of one event, or a digest of the body when there is none.
func (s *Source) DeliveryID(h http.Header, body []byte) string {
	var p payload
	if err := json.Unmarshal(body, &p); err == nil && p.Event != nil && p.Event.ID != "" {
		return p.Event.ID
	}
	return digest(body)
}

func digest(body []byte) string {
	return ingest.BodyDigest(body)
}

type payload struct {
	Event *event `json:"event"`
}

type event struct {
	ID           string          `json:"id"`
	EventType    string          `json:"event_type"`
	ResourceType string          `json:"resource_type"`
	OccurredAt   string          `json:"occurred_at"`
	Data         json.RawMessage `json:"data"`
}

type reference struct {
	ID      string `json:"id"`
	Summary string `json:"summary"`
	Name    string `json:"name"`
}

type incident struct {
	ID        string     `json:"id"`
	Type      string     `json:"type"`
	Number    int        `json:"number"`
	Status    string     `json:"status"`
	Title     string     `json:"title"`
	Summary   string     `json:"summary"`
	CreatedAt string     `json:"created_at"`
	Urgency   string     `json:"urgency"`
	Service   *reference `json:"service"`
	Priority  *reference `json:"priority"`
}

// incidentEvents are the event types that report an incident's state.
// Reopened reopens the incident; escalated carries no milestone of its own
// and is kept as an update because it may carry a new priority or title.
var incidentEvents = map[string]bool{
	"incident.triggered":        true,
	"incident.acknowledged":     true,
	"incident.resolved":         true,
	"incident.priority_updated": true,
	"incident.reopened":         true,
	"incident.escalated":        true,
}

// Translate maps an incident event to one incident report. Every other event
// type (notes, responders, services, the subscription's ping) is ignored.
func (s *Source) Translate(h http.Header, body []byte) ([]delivery.Event, error) {
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, ingest.Malformed("pagerduty: decode body: %v", err)
	}
	if p.Event == nil {
		return nil, ingest.Malformed("pagerduty: the body has no event object (is this a v3 webhook?)")
	}
	ev := p.Event
	if ev.EventType == "" {
		return nil, ingest.Malformed("pagerduty: event.event_type is missing")
	}
	if !incidentEvents[ev.EventType] {
		return nil, ingest.Ignored("pagerduty: event type %s", ev.EventType)
	}
	occurred, err := parseTime("event.occurred_at", ev.OccurredAt)
	if err != nil {
		return nil, err
	}
	var in incident
	if len(ev.Data) == 0 || string(ev.Data) == "null" {
		return nil, ingest.Malformed("pagerduty: event.data is missing")
	}
	if err := json.Unmarshal(ev.Data, &in); err != nil {
		return nil, ingest.Malformed("pagerduty: decode event.data: %v", err)
	}
	if in.ID == "" {
		return nil, ingest.Malformed("pagerduty: event.data.id is missing")
	}
	opened, err := parseTime("event.data.created_at", in.CreatedAt)
	if err != nil {
		return nil, err
	}
	service := s.service(in.Service)
	if service == "" {
		return nil, ingest.Malformed("pagerduty: incident %s has no service", in.ID)
	}
	priority := ""
	if in.Priority != nil {
		priority = in.Priority.Summary
	}
	title := in.Title
	if title == "" {
		title = in.Summary
	}
	inc := &delivery.Incident{
		Service:   service,
		ID:        "pagerduty-" + in.ID,
		Title:     title,
		Severity:  s.cfg.Severity.severity(priority, in.Urgency),
		OpenedAt:  opened,
		UpdatedAt: occurred,
	}
	// Triggered, acknowledged and reopened say the incident is open at that
	// moment, so a reopening clears an earlier resolution; priority changes
	// and escalations say nothing of the status.
	switch ev.EventType {
	case "incident.triggered", "incident.reopened":
		inc.Status = delivery.IncidentOpen
	case "incident.acknowledged":
		inc.Status, inc.AcknowledgedAt = delivery.IncidentOpen, occurred
	case "incident.resolved":
		inc.Status, inc.ResolvedAt = delivery.IncidentResolved, occurred
	}
	key := ev.ID
	if key == "" {
		key = digest(body)
	}
	out := delivery.Event{Key: "pagerduty:" + key, Kind: delivery.KindIncident, Source: Name, Incident: inc}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("pagerduty: incident %s: %w", in.ID, err)
	}
	return []delivery.Event{out}, nil
}

// service names the Stride service of a PagerDuty service reference.
func (s *Source) service(ref *reference) string {
	if ref == nil {
		return ""
	}
	name := ref.Summary
	if name == "" {
		name = ref.Name
	}
	for _, k := range []string{ref.ID, name} {
		if k == "" {
			continue
		}
		if v, ok := s.cfg.Services[k]; ok && v != "" {
			return v
		}
	}
	for _, m := range s.cfg.Mapping.Services {
		if strings.EqualFold(m.Name, name) {
			return m.Name
		}
	}
	return strings.TrimSpace(name)
}

func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, ingest.Malformed("pagerduty: %s is missing", field)
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, ingest.Malformed("pagerduty: %s: %v", field, err)
	}
	return t, nil
}
