// Package alertmanager translates Prometheus Alertmanager webhook
// notifications (webhook_config, payload version "4") into incident events.
// Each alert of a notification is one incident: it opens when the alert
// starts firing and is restored when Alertmanager reports it resolved.
package alertmanager

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// Name is the source's name, as in the endpoint /webhooks/alertmanager.
const Name = "alertmanager"

// TokenHeader is where the HTTP layer copies a ?token= query parameter, for
// senders that cannot set an Authorization header.
const TokenHeader = "X-Stride-Token"

// Version is the only webhook payload version this package reads.
const Version = "4"

// Config configures the connector. Zero values mean the defaults.
type Config struct {
	// Token is the bearer token Alertmanager sends (http_config.authorization).
	// When empty, every delivery is rejected.
	Token string `yaml:"token"`
	// SeverityLabel names the alert label that carries the severity
	// (default "severity").
	SeverityLabel string `yaml:"severity_label"`
	// Severity maps label values (ignoring case) to severities 0–3. Entries
	// override DefaultSeverity one by one; a value neither names gets
	// severity 2, which notifies without paging.
	Severity map[string]int `yaml:"severity"`
	// ServiceLabel names the alert label that carries the Stride service
	// (default "service"); alerts without it fall back to the "job" label.
	ServiceLabel string `yaml:"service_label"`
	// Mapping supplies the canonical spelling of service names: a label
	// value that matches a mapped service (ignoring case) takes its name.
	Mapping delivery.Mapping `yaml:"-"`
}

// DefaultSeverity maps the severity label values common in Prometheus rule
// sets (and in kube-prometheus) to Stride severities.
var DefaultSeverity = map[string]int{
	"critical": 0,
	"page":     1,
	"high":     1,
	"error":    1,
	"warning":  2,
	"info":     3,
}

// Source is the Alertmanager connector; it implements ingest.Source.
type Source struct {
	cfg Config
}

var _ ingest.Source = (*Source)(nil)

// New returns a connector for cfg, filling in the default labels. It fails
// when a configured severity is outside 0–3, so a typo is caught at start-up.
func New(cfg Config) (*Source, error) {
	for k, v := range cfg.Severity {
		if v < delivery.SeverityCritical || v > delivery.SeverityLow {
			return nil, fmt.Errorf("alertmanager: severity of %q: must be 0 to 3, got %d", k, v)
		}
	}
	if cfg.SeverityLabel == "" {
		cfg.SeverityLabel = "severity"
	}
	if cfg.ServiceLabel == "" {
		cfg.ServiceLabel = "service"
	}
	return &Source{cfg: cfg}, nil
}

// Name returns "alertmanager".
func (s *Source) Name() string { return Name }

// Verify accepts the delivery when it carries the configured token, either
// as "Authorization: Bearer <token>" or in X-Stride-Token. The comparison
// is of digests, so it takes the same time whatever the token's length.
func (s *Source) Verify(h http.Header, body []byte) error {
	if err := ingest.VerifyToken(h, s.cfg.Token, "Authorization", TokenHeader); err != nil {
		return ingest.Unauthorized("alertmanager: %v", err)
	}
	return nil
}

// DeliveryID returns a digest of the group key and, for each alert, its
// fingerprint, status, start and end. Alertmanager has no delivery id and
// resends a group every repeat_interval; a resend of an unchanged group gets
// the same id, a change of any alert's state a new one.
func (s *Source) DeliveryID(h http.Header, body []byte) string {
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		return ingest.BodyDigest(body)
	}
	d := sha256.New()
	d.Write([]byte(p.GroupKey))
	for _, a := range p.Alerts {
		for _, f := range []string{a.Fingerprint, a.Status, a.StartsAt, a.EndsAt} {
			d.Write([]byte{0})
			d.Write([]byte(f))
		}
	}
	return "sha256:" + hex.EncodeToString(d.Sum(nil))
}

type payload struct {
	Version         string  `json:"version"`
	GroupKey        string  `json:"groupKey"`
	TruncatedAlerts int     `json:"truncatedAlerts"`
	Status          string  `json:"status"`
	Receiver        string  `json:"receiver"`
	ExternalURL     string  `json:"externalURL"`
	Alerts          []alert `json:"alerts"`
}

type alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Translate maps each alert of the notification to one incident report. The
// incident's id joins the alert's fingerprint and start, so an alert that
// fires again after it was resolved opens a new incident.
func (s *Source) Translate(h http.Header, body []byte) ([]delivery.Event, error) {
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, ingest.Malformed("alertmanager: decode body: %v", err)
	}
	if p.Version != Version {
		return nil, ingest.Malformed("alertmanager: webhook payload version %q is not supported (want %q, sent by Alertmanager 0.10 and later)", p.Version, Version)
	}
	if len(p.Alerts) == 0 {
		return nil, ingest.Ignored("alertmanager: the notification carries no alerts")
	}
	events := make([]delivery.Event, 0, len(p.Alerts))
	for i, a := range p.Alerts {
		ev, err := s.translate(a)
		if err != nil {
			return nil, fmt.Errorf("alertmanager: alert %d: %w", i, err)
		}
		events = append(events, ev)
	}
	return events, nil
}

func (s *Source) translate(a alert) (delivery.Event, error) {
	fingerprint := a.Fingerprint
	if fingerprint == "" {
		fingerprint = labelsDigest(a.Labels)
	}
	started, err := parseTime("startsAt", a.StartsAt)
	if err != nil {
		return delivery.Event{}, err
	}
	if started.IsZero() {
		return delivery.Event{}, ingest.Malformed("startsAt is missing")
	}
	service := s.service(a.Labels)
	if service == "" {
		return delivery.Event{}, ingest.Malformed("alert %s has neither a %q nor a \"job\" label to name its service", fingerprint, s.cfg.ServiceLabel)
	}
	id := "alertmanager-" + fingerprint + "-" + strconv.FormatInt(started.Unix(), 10)
	inc := &delivery.Incident{
		Service:   service,
		ID:        id,
		Title:     title(a),
		Severity:  s.severity(a.Labels[s.cfg.SeverityLabel]),
		OpenedAt:  started,
		UpdatedAt: started,
	}
	key := "alertmanager:" + id + ":" + a.Status
	switch a.Status {
	case "firing":
	case "resolved":
		ended, err := parseTime("endsAt", a.EndsAt)
		if err != nil {
			return delivery.Event{}, err
		}
		if ended.IsZero() {
			return delivery.Event{}, ingest.Malformed("alert %s is resolved but has no endsAt", fingerprint)
		}
		inc.ResolvedAt, inc.UpdatedAt = ended, ended
		key += ":" + strconv.FormatInt(ended.UnixNano(), 10)
	default:
		return delivery.Event{}, ingest.Malformed("alert %s has status %q (want firing or resolved)", fingerprint, a.Status)
	}
	ev := delivery.Event{Key: key, Kind: delivery.KindIncident, Source: Name, Incident: inc}
	if err := ev.Validate(); err != nil {
		return delivery.Event{}, fmt.Errorf("incident %s: %w", id, err)
	}
	return ev, nil
}

// labelsDigest stands in for the fingerprint Alertmanager omits in versions
// before 0.19: a digest of the sorted label set, which identifies the alert
// as the fingerprint does.
func labelsDigest(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	slices.Sort(names)
	d := sha256.New()
	for _, k := range names {
		d.Write([]byte(k))
		d.Write([]byte{0})
		d.Write([]byte(labels[k]))
		d.Write([]byte{0})
	}
	return hex.EncodeToString(d.Sum(nil))[:16]
}

func title(a alert) string {
	if v := strings.TrimSpace(a.Annotations["summary"]); v != "" {
		return v
	}
	return a.Labels["alertname"]
}

func (s *Source) severity(value string) int {
	for k, v := range s.cfg.Severity {
		if strings.EqualFold(k, value) {
			return v
		}
	}
	if v, ok := DefaultSeverity[strings.ToLower(value)]; ok {
		return v
	}
	return delivery.SeverityMinor
}

func (s *Source) service(labels map[string]string) string {
	name := strings.TrimSpace(labels[s.cfg.ServiceLabel])
	if name == "" {
		name = strings.TrimSpace(labels["job"])
	}
	for _, m := range s.cfg.Mapping.Services {
		if strings.EqualFold(m.Name, name) {
			return m.Name
		}
	}
	return name
}

// parseTime reads an RFC 3339 time; Alertmanager writes the zero time
// 0001-01-01T00:00:00Z for an alert that has not ended, which reads as zero.
func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, ingest.Malformed("%s: %v", field, err)
	}
	return t, nil
}
