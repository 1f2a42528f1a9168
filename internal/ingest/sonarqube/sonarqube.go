// Package sonarqube reads SonarQube's webhook: the quality-gate result of
// an analysis, which Stride keeps as the gate result "sonarqube" of the
// analysed commit (the payload's revision), so that `stride gate` and
// `stride promote` can require it. The payload is the one SonarQube
// documents for its webhooks: analysedAt, revision, project.key, and
// qualityGate with its status and conditions (metric, operator, value,
// errorThreshold, status). Its deliveries carry no events: it is an
// ingest.GateSource.
package sonarqube

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/ingest"
)

// Name is the source's name, as in the endpoint /webhooks/sonarqube.
const Name = "sonarqube"

// GateName is the name of the gate result a delivery records, which
// release criteria and rings require (require_gates: [sonarqube]).
const GateName = "sonarqube"

// Headers SonarQube sends: the signature (when the webhook has a secret)
// and the project key.
const (
	HeaderSignature = "X-Sonar-Webhook-HMAC-SHA256"
	HeaderProject   = "X-SonarQube-Project"
)

// Config configures the connector.
type Config struct {
	// Secret is the webhook's secret, with which SonarQube signs each
	// body. When empty, every delivery is rejected.
	Secret string `yaml:"secret"`
	// Projects maps a SonarQube project key to a Stride service, for
	// projects not keyed by their service's name (such as "acme:api").
	Projects map[string]string `yaml:"projects"`
}

// Source is the SonarQube connector; it implements ingest.GateSource.
type Source struct {
	cfg Config
}

var _ ingest.GateSource = (*Source)(nil)

// New returns a connector for cfg.
func New(cfg Config) *Source { return &Source{cfg: cfg} }

// Name returns "sonarqube".
func (s *Source) Name() string { return Name }

// Verify checks X-Sonar-Webhook-HMAC-SHA256, which SonarQube documents as
// the hexadecimal HMAC-SHA256 of the raw body keyed with the webhook's
// secret. MACs are compared in constant time.
func (s *Source) Verify(h http.Header, body []byte) error {
	if s.cfg.Secret == "" {
		return ingest.Unauthorized("sonarqube: no webhook secret is configured, so no delivery can be trusted")
	}
	sig := strings.TrimSpace(h.Get(HeaderSignature))
	if sig == "" {
		return ingest.Unauthorized("sonarqube: the delivery has no %s header (set a secret on the SonarQube webhook)", HeaderSignature)
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return ingest.Unauthorized("sonarqube: %s is not hexadecimal", HeaderSignature)
	}
	mac := hmac.New(sha256.New, []byte(s.cfg.Secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ingest.Unauthorized("sonarqube: the signature does not match the body and the configured secret")
	}
	return nil
}

// Sign returns the X-Sonar-Webhook-HMAC-SHA256 value SonarQube would send
// for body signed with secret, for tests and tools that replay deliveries.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// DeliveryID is a digest of the body: SonarQube sends no delivery id, and
// one analysis may send several different payloads (the gate is sent again
// when an issue's status changes it), each of which counts.
func (s *Source) DeliveryID(h http.Header, body []byte) string {
	return ingest.BodyDigest(body)
}

// payload is the part of SonarQube's webhook body Stride reads.
type payload struct {
	TaskID     string `json:"taskId"`
	Status     string `json:"status"`
	AnalysedAt string `json:"analysedAt"`
	Revision   string `json:"revision"`
	Project    struct {
		Key  string `json:"key"`
		Name string `json:"name"`
	} `json:"project"`
	Branch *struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"branch"`
	QualityGate *struct {
		Name       string      `json:"name"`
		Status     string      `json:"status"`
		Conditions []condition `json:"conditions"`
	} `json:"qualityGate"`
}

type condition struct {
	Metric         string `json:"metric"`
	Operator       string `json:"operator"`
	Value          string `json:"value"`
	ErrorThreshold string `json:"errorThreshold"`
	Status         string `json:"status"`
}

// Translate checks that the delivery is a quality-gate result Stride can
// keep, and returns no events: the result is read by Gate.
func (s *Source) Translate(h http.Header, body []byte) ([]delivery.Event, error) {
	if _, err := s.Gate(h, body); err != nil {
		return nil, err
	}
	return nil, nil
}

// Gate reads the delivery's quality-gate result as the gate result
// "sonarqube" of the analysed commit. SonarQube's own verdict
// (qualityGate.status) decides; each condition becomes a criterion.
func (s *Source) Gate(h http.Header, body []byte) (ingest.GateReport, error) {
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		return ingest.GateReport{}, ingest.Malformed("sonarqube: the body is not a webhook payload: %v", err)
	}
	if strings.TrimSpace(p.Project.Key) == "" {
		return ingest.GateReport{}, ingest.Malformed("sonarqube: the payload names no project.key")
	}
	if p.QualityGate == nil {
		return ingest.GateReport{}, ingest.Ignored("sonarqube: the analysis of %s has no quality gate (task status %s)", p.Project.Key, p.Status)
	}
	if strings.TrimSpace(p.Revision) == "" {
		return ingest.GateReport{}, ingest.Ignored("sonarqube: the analysis of %s names no revision, so it judges no commit (let the scanner detect the SCM, or set sonar.scm.revision)", p.Project.Key)
	}
	var passed bool
	switch p.QualityGate.Status {
	case "OK":
		passed = true
	case "ERROR":
	default:
		return ingest.GateReport{}, ingest.Malformed("sonarqube: qualityGate.status %q: want OK or ERROR", p.QualityGate.Status)
	}
	if p.AnalysedAt != "" {
		if _, err := parseTime(p.AnalysedAt); err != nil {
			return ingest.GateReport{}, ingest.Malformed("sonarqube: analysedAt %q is not a time", p.AnalysedAt)
		}
	}
	criteria := []gate.Criterion{summary(p, passed)}
	for i, c := range p.QualityGate.Conditions {
		cr, err := criterion(c)
		if err != nil {
			return ingest.GateReport{}, ingest.Malformed("sonarqube: qualityGate.conditions[%d]: %v", i, err)
		}
		criteria = append(criteria, cr)
	}
	data, err := json.Marshal(criteria)
	if err != nil {
		return ingest.GateReport{}, fmt.Errorf("sonarqube: encode criteria: %w", err)
	}
	return ingest.GateReport{Service: s.service(p.Project.Key), SHA: strings.TrimSpace(p.Revision), Name: GateName,
		Passed: passed, Criteria: data}, nil
}

// service is the Stride service of a project: the configured one, else the
// project key itself.
func (s *Source) service(key string) string {
	if svc, ok := s.cfg.Projects[key]; ok {
		return svc
	}
	return key
}

// parseTime reads analysedAt, which SonarQube writes with a numeric zone
// without a colon ("2016-11-18T10:46:28+0100"); RFC 3339 is taken too.
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02T15:04:05-0700", v); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, v)
}

func summary(p payload, passed bool) gate.Criterion {
	failed := 0
	for _, c := range p.QualityGate.Conditions {
		if c.Status == "ERROR" {
			failed++
		}
	}
	detail := fmt.Sprintf("SonarQube quality gate %q of %s: %s, %d of %d condition(s) failed",
		p.QualityGate.Name, p.Project.Key, p.QualityGate.Status, failed, len(p.QualityGate.Conditions))
	if p.Branch != nil && p.Branch.Name != "" {
		detail += fmt.Sprintf(" (%s %s)", strings.ToLower(strings.ReplaceAll(p.Branch.Type, "_", " ")), p.Branch.Name)
	}
	if p.AnalysedAt != "" {
		if t, err := parseTime(p.AnalysedAt); err == nil {
			detail += ", analysed at " + t.UTC().Format(time.RFC3339)
		}
	}
	st := gate.Fail
	if passed {
		st = gate.Pass
	}
	return gate.Criterion{Name: "quality gate", Status: st, Detail: detail}
}

// criterion turns one condition into a criterion. SonarQube's operator
// says when the condition fails (GREATER_THAN: the value is above the
// threshold), so the criterion's op is its passing side.
func criterion(c condition) (gate.Criterion, error) {
	if c.Metric == "" {
		return gate.Criterion{}, fmt.Errorf("no metric")
	}
	cr := gate.Criterion{Name: c.Metric, Unit: unit(c.Metric)}
	switch c.Operator {
	case "GREATER_THAN":
		cr.Op = "<="
	case "LESS_THAN":
		cr.Op = ">="
	default:
		return cr, fmt.Errorf("%s: operator %q: want GREATER_THAN or LESS_THAN", c.Metric, c.Operator)
	}
	if c.ErrorThreshold != "" {
		t, err := strconv.ParseFloat(c.ErrorThreshold, 64)
		if err != nil {
			return cr, fmt.Errorf("%s: errorThreshold %q is not a number", c.Metric, c.ErrorThreshold)
		}
		cr.Threshold = t
	}
	if c.Value != "" {
		v, err := strconv.ParseFloat(c.Value, 64)
		if err != nil {
			return cr, fmt.Errorf("%s: value %q is not a number", c.Metric, c.Value)
		}
		cr.Measured = &v
	}
	switch c.Status {
	case "OK", "WARN": // WARN: older servers' warning threshold, which never failed a gate
		cr.Status = gate.Pass
	case "ERROR":
		cr.Status = gate.Fail
	case "NO_VALUE":
		cr.Status = gate.Skipped
	default:
		return cr, fmt.Errorf("%s: status %q: want OK, ERROR or NO_VALUE", c.Metric, c.Status)
	}
	cr.Detail = describe(c, cr)
	return cr, nil
}

// ratings are the metrics whose values are SonarQube's ratings, 1 (A) to
// 5 (E); reliability and maintainability (sqale) ratings, and security,
// overall and on new code, and the software-quality ratings of 10.x.
var ratings = map[string]string{
	"reliability_rating":                          "reliability rating",
	"new_reliability_rating":                      "reliability rating on new code",
	"software_quality_reliability_rating":         "reliability rating",
	"new_software_quality_reliability_rating":     "reliability rating on new code",
	"sqale_rating":                                "maintainability rating",
	"new_maintainability_rating":                  "maintainability rating on new code",
	"software_quality_maintainability_rating":     "maintainability rating",
	"new_software_quality_maintainability_rating": "maintainability rating on new code",
	"security_rating":                             "security rating",
	"new_security_rating":                         "security rating on new code",
	"software_quality_security_rating":            "security rating",
	"new_software_quality_security_rating":        "security rating on new code",
	"security_review_rating":                      "security review rating",
	"new_security_review_rating":                  "security review rating on new code",
}

// counts are metrics whose values are counts worth naming in words.
var counts = map[string]string{
	"vulnerabilities":     "vulnerabilities",
	"new_vulnerabilities": "vulnerabilities in new code",
	"bugs":                "bugs",
	"new_bugs":            "bugs in new code",
	"code_smells":         "code smells",
	"new_code_smells":     "code smells in new code",
}

func unit(metric string) string {
	if strings.Contains(metric, "coverage") || strings.Contains(metric, "density") {
		return "%"
	}
	return ""
}

// describe says what a condition measured, in words: ratings as letters.
func describe(c condition, cr gate.Criterion) string {
	side := "above"
	if cr.Op == ">=" {
		side = "below"
	}
	if name, ok := ratings[c.Metric]; ok {
		if cr.Measured == nil {
			return fmt.Sprintf("%s: no value; fails worse than %s", name, letter(cr.Threshold))
		}
		return fmt.Sprintf("%s %s; fails worse than %s", name, letter(*cr.Measured), letter(cr.Threshold))
	}
	name := c.Metric
	if n, ok := counts[c.Metric]; ok {
		name = n
	}
	if cr.Measured == nil {
		return fmt.Sprintf("%s: no value; fails %s %s%s", name, side, c.ErrorThreshold, cr.Unit)
	}
	return fmt.Sprintf("%s: %s%s; fails %s %s%s", name, c.Value, cr.Unit, side, c.ErrorThreshold, cr.Unit)
}

// letter is a rating's letter: 1 is A, 5 is E.
func letter(v float64) string {
	if v >= 1 && v <= 5 && v == float64(int(v)) {
		return string(rune('A' + int(v) - 1))
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
