// Package cdevents translates CDEvents (v0.4 of the specification) carried
// as CloudEvents over HTTP into Stride's domain events: changes become pull
// requests, builds and pipeline runs builds, service deployments deployments
// and incidents incidents. Both CloudEvents content modes are read: the
// structured mode (Content-Type application/cloudevents+json, the CDEvent in
// the envelope's data), its batch form, and the binary mode (ce-* headers,
// the body is the CDEvent).
package cdevents

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// Name is the source's name, as in the endpoint /webhooks/cdevents.
const Name = "cdevents"

// TokenHeader is where the HTTP layer copies a ?token= query parameter.
const TokenHeader = "X-Stride-Token"

// Config configures the connector.
type Config struct {
	// Token is the bearer token senders present. When empty, every
	// delivery is rejected.
	Token string `yaml:"token"`
	// Services maps a CDEvents service id (subject.id of service events,
	// content.service.id of incidents) to a Stride service.
	Services map[string]string `yaml:"-"`
	// Mapping names services and production environments: a service id
	// that matches a mapped service (ignoring case) takes its spelling, and
	// environment ids go through Mapping.Environment.
	Mapping delivery.Mapping `yaml:"-"`
}

// Source is the CDEvents connector; it implements ingest.Source.
type Source struct {
	cfg Config
}

var _ ingest.Source = (*Source)(nil)

// New returns a connector for cfg.
func New(cfg Config) *Source { return &Source{cfg: cfg} }

// Name returns "cdevents".
func (s *Source) Name() string { return Name }

// Verify accepts the delivery when it carries the configured token, either
// as "Authorization: Bearer <token>" or in X-Stride-Token. Digests are
// compared, so the time taken does not depend on the token's length.
func (s *Source) Verify(h http.Header, body []byte) error {
	if err := ingest.VerifyToken(h, s.cfg.Token, "Authorization", TokenHeader); err != nil {
		return ingest.Unauthorized("cdevents: %v", err)
	}
	return nil
}

// DeliveryID returns the CloudEvent's source and id, which together identify
// an event and are kept on redelivery, or a digest of the body when the
// delivery is a batch or cannot be read.
func (s *Source) DeliveryID(h http.Header, body []byte) string {
	if id := h.Get("ce-id"); id != "" {
		return h.Get("ce-source") + "#" + id
	}
	if mode(h) == modeStructured {
		var env envelope
		if err := json.Unmarshal(body, &env); err == nil && env.ID != "" {
			return env.Source + "#" + env.ID
		}
	}
	var ev cdEvent
	if mode(h) == modeBinary && json.Unmarshal(body, &ev) == nil && ev.Context.ID != "" {
		return ev.Context.Source + "#" + ev.Context.ID
	}
	return ingest.BodyDigest(body)
}

// envelope is a CloudEvent in structured mode (JSON event format).
type envelope struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
	DataBase64      string          `json:"data_base64"`
}

// cdEvent is a CDEvent: a context, a subject and optional custom data.
type cdEvent struct {
	Context               eventContext    `json:"context"`
	Subject               subject         `json:"subject"`
	CustomData            json.RawMessage `json:"customData"`
	CustomDataContentType string          `json:"customDataContentType"`
}

type eventContext struct {
	Version   string `json:"version"`
	ID        string `json:"id"`
	ChainID   string `json:"chainId"`
	Source    string `json:"source"`
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
}

type subject struct {
	ID      string          `json:"id"`
	Source  string          `json:"source"`
	Type    string          `json:"type"`
	Content json.RawMessage `json:"content"`
}

// reference points at another subject (a repository, an environment, a
// service) by id and, optionally, source.
type reference struct {
	ID     string `json:"id"`
	Source string `json:"source"`
}

type changeContent struct {
	Description string     `json:"description"`
	Repository  *reference `json:"repository"`
}

type buildContent struct {
	ArtifactID string `json:"artifactId"`
}

type pipelineRunContent struct {
	PipelineName string `json:"pipelineName"`
	URL          string `json:"url"`
	Outcome      string `json:"outcome"`
	Errors       string `json:"errors"`
}

type serviceContent struct {
	Environment *reference `json:"environment"`
	ArtifactID  string     `json:"artifactId"`
}

type incidentContent struct {
	Description string     `json:"description"`
	Environment *reference `json:"environment"`
	Service     *reference `json:"service"`
	ArtifactID  string     `json:"artifactId"`
	TicketURI   string     `json:"ticketURI"`
}

// customData holds the fields Stride reads from a CDEvent's customData,
// where the specification has no field for them (docs/cdevents.md).
type customData struct {
	SHA        string `json:"sha"`
	Repository string `json:"repository"`
	Branch     string `json:"branch"`
	Title      string `json:"title"`
	Author     string `json:"author"`
	Outcome    string `json:"outcome"`
	Severity   string `json:"severity"`
	OpenedAt   string `json:"openedAt"`
	Hotfix     bool   `json:"hotfix"`
	// Attempt and DefaultBranch describe a build or pipeline run: its
	// re-run attempt (1 for the first) and its repository's default
	// branch; CDEvents v0.4 has neither.
	Attempt       int    `json:"attempt"`
	DefaultBranch string `json:"defaultBranch"`
}

type contentMode int

const (
	modeBinary contentMode = iota
	modeStructured
	modeBatch
)

func mode(h http.Header) contentMode {
	ct, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	switch {
	case strings.HasPrefix(ct, "application/cloudevents-batch"):
		return modeBatch
	case strings.HasPrefix(ct, "application/cloudevents"):
		return modeStructured
	}
	return modeBinary
}

// Translate reads the CloudEvent(s) of the delivery and maps each CDEvent.
// A batch is translated whole: one event Stride does not use is skipped, one
// malformed event fails the delivery.
func (s *Source) Translate(h http.Header, body []byte) ([]delivery.Event, error) {
	switch mode(h) {
	case modeBatch:
		var batch []envelope
		if err := json.Unmarshal(body, &batch); err != nil {
			return nil, ingest.Malformed("cdevents: decode batch: %v", err)
		}
		var out []delivery.Event
		for i, env := range batch {
			evs, err := s.structured(env)
			if errors.Is(err, ingest.ErrIgnored) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("cdevents: batch event %d: %w", i, err)
			}
			out = append(out, evs...)
		}
		if len(out) == 0 {
			return nil, ingest.Ignored("cdevents: no event of the batch is used")
		}
		return out, nil
	case modeStructured:
		var env envelope
		if err := json.Unmarshal(body, &env); err != nil {
			return nil, ingest.Malformed("cdevents: decode CloudEvent: %v", err)
		}
		return s.structured(env)
	}
	return s.translate(body)
}

func (s *Source) structured(env envelope) ([]delivery.Event, error) {
	data := []byte(env.Data)
	if env.DataBase64 != "" {
		b, err := base64.StdEncoding.DecodeString(env.DataBase64)
		if err != nil {
			return nil, ingest.Malformed("cdevents: data_base64: %v", err)
		}
		data = b
	}
	if len(data) == 0 || string(data) == "null" {
		return nil, ingest.Malformed("cdevents: the CloudEvent %q has no data", env.ID)
	}
	return s.translate(data)
}

func (s *Source) translate(body []byte) ([]delivery.Event, error) {
	var ev cdEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, ingest.Malformed("cdevents: decode CDEvent: %v", err)
	}
	subjectType, predicate, err := parseType(ev.Context.Type)
	if err != nil {
		return nil, err
	}
	if ev.Context.ID == "" {
		return nil, ingest.Malformed("cdevents: context.id is missing")
	}
	if ev.Subject.ID == "" {
		return nil, ingest.Malformed("cdevents: subject.id is missing")
	}
	at, err := parseTime("context.timestamp", ev.Context.Timestamp)
	if err != nil {
		return nil, err
	}
	if at.IsZero() {
		return nil, ingest.Malformed("cdevents: context.timestamp is missing")
	}
	var custom customData
	if len(ev.CustomData) > 0 && ev.CustomData[0] == '{' {
		// customData is free-form: a shape Stride does not read is not an
		// error, it only leaves the optional fields empty.
		_ = json.Unmarshal(ev.CustomData, &custom)
	}
	t := translation{ev: ev, at: at, custom: custom, key: "cdevents:" + ev.Context.Source + "#" + ev.Context.ID}
	var out delivery.Event
	switch subjectType {
	case "change":
		out, err = s.change(t, predicate)
	case "build":
		out, err = s.build(t, predicate)
	case "pipelinerun":
		out, err = s.pipelineRun(t, predicate)
	case "service":
		out, err = s.service(t, predicate)
	case "incident":
		out, err = s.incident(t, predicate)
	default:
		return nil, ingest.Ignored("cdevents: event type %s", ev.Context.Type)
	}
	if err != nil {
		return nil, err
	}
	out.Source = Name
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("cdevents: %s %s: %w", ev.Context.Type, ev.Context.ID, err)
	}
	return []delivery.Event{out}, nil
}

type translation struct {
	ev     cdEvent
	at     time.Time
	custom customData
	key    string
}

// parseType splits "dev.cdevents.<subject>.<predicate>.<version>". The
// subject is returned in lower case (pipelineRun and pipelinerun both occur).
func parseType(typ string) (subject, predicate string, err error) {
	rest, ok := strings.CutPrefix(typ, "dev.cdevents.")
	if !ok {
		if typ == "" {
			return "", "", ingest.Malformed("cdevents: context.type is missing")
		}
		return "", "", ingest.Malformed("cdevents: %q is not a CDEvents type (dev.cdevents.<subject>.<predicate>.<version>)", typ)
	}
	parts := strings.SplitN(rest, ".", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", "", ingest.Malformed("cdevents: %q is not a CDEvents type (dev.cdevents.<subject>.<predicate>.<version>)", typ)
	}
	return strings.ToLower(parts[0]), parts[1], nil
}

func content[T any](t translation) (T, error) {
	var c T
	if len(t.ev.Subject.Content) == 0 || string(t.ev.Subject.Content) == "null" {
		return c, nil
	}
	if err := json.Unmarshal(t.ev.Subject.Content, &c); err != nil {
		return c, ingest.Malformed("cdevents: %s: decode subject.content: %v", t.ev.Context.Type, err)
	}
	return c, nil
}

// change maps change events to pull requests. Stride numbers pull requests,
// so a change id must end in its number (see trailingNumber).
func (s *Source) change(t translation, predicate string) (delivery.Event, error) {
	c, err := content[changeContent](t)
	if err != nil {
		return delivery.Event{}, err
	}
	repo := t.custom.Repository
	if c.Repository != nil && c.Repository.ID != "" {
		repo = c.Repository.ID
	}
	if repo == "" {
		return delivery.Event{}, ingest.Malformed("cdevents: change %s names no repository (subject.content.repository.id)", t.ev.Subject.ID)
	}
	number, ok := trailingNumber(t.ev.Subject.ID)
	if !ok {
		return delivery.Event{}, ingest.Ignored("cdevents: change id %q carries no pull request number", t.ev.Subject.ID)
	}
	pr := &delivery.PullRequest{Repository: repo, Number: number, Title: t.custom.Title, Author: t.custom.Author, UpdatedAt: t.at}
	switch predicate {
	case "created":
		pr.State, pr.CreatedAt = delivery.PullRequestOpen, t.at
	case "updated":
	case "reviewed":
		pr.FirstReviewAt = t.at
	case "merged":
		pr.State, pr.MergedAt = delivery.PullRequestMerged, t.at
		pr.MergeSHA = t.custom.SHA
	case "abandoned":
		pr.State, pr.ClosedAt = delivery.PullRequestClosed, t.at
	default:
		return delivery.Event{}, ingest.Ignored("cdevents: event type %s", t.ev.Context.Type)
	}
	if pr.Title == "" {
		pr.Title = firstLine(c.Description)
	}
	return delivery.Event{Key: t.key, Kind: delivery.KindPullRequest, PullRequest: pr}, nil
}

func (s *Source) build(t translation, predicate string) (delivery.Event, error) {
	c, err := content[buildContent](t)
	if err != nil {
		return delivery.Event{}, err
	}
	b := &delivery.Build{ID: t.ev.Subject.ID, Branch: t.custom.Branch, UpdatedAt: t.at, Attempt: t.custom.Attempt, DefaultBranch: t.custom.DefaultBranch}
	b.SHA, b.Repository = commit(c.ArtifactID, t.custom)
	switch predicate {
	case "queued":
	case "started":
		b.Status, b.StartedAt = delivery.BuildRunning, t.at
	case "finished":
		// build.finished has no outcome in v0.4; customData.outcome may
		// carry one, and a finished build is taken to have succeeded.
		b.Status, b.FinishedAt = outcome(t.custom.Outcome, delivery.BuildSuccess), t.at
	default:
		return delivery.Event{}, ingest.Ignored("cdevents: event type %s", t.ev.Context.Type)
	}
	if b.Repository == "" {
		b.Repository = t.ev.Subject.Source
	}
	return delivery.Event{Key: t.key, Kind: delivery.KindBuild, Build: b}, nil
}

func (s *Source) pipelineRun(t translation, predicate string) (delivery.Event, error) {
	if predicate != "finished" {
		return delivery.Event{}, ingest.Ignored("cdevents: event type %s", t.ev.Context.Type)
	}
	c, err := content[pipelineRunContent](t)
	if err != nil {
		return delivery.Event{}, err
	}
	b := &delivery.Build{ID: t.ev.Subject.ID, Name: c.PipelineName, Branch: t.custom.Branch, FinishedAt: t.at, UpdatedAt: t.at,
		Attempt: t.custom.Attempt, DefaultBranch: t.custom.DefaultBranch}
	b.SHA, b.Repository = commit("", t.custom)
	b.Status = outcome(c.Outcome, "")
	if b.Status == "" {
		return delivery.Event{}, ingest.Malformed("cdevents: pipeline run %s: outcome %q is not success, failure or error", t.ev.Subject.ID, c.Outcome)
	}
	if b.Repository == "" {
		b.Repository = t.ev.Subject.Source
	}
	return delivery.Event{Key: t.key, Kind: delivery.KindBuild, Build: b}, nil
}

func outcome(v string, fallback delivery.BuildStatus) delivery.BuildStatus {
	switch strings.ToLower(v) {
	case "success", "succeeded":
		return delivery.BuildSuccess
	case "failure", "failed", "error":
		return delivery.BuildFailure
	case "cancel", "cancelled", "canceled":
		return delivery.BuildCancelled
	}
	return fallback
}

// service maps deployed, upgraded and rolled-back services to a successful
// deployment, identified by the CDEvent's id (each event is one deployment).
// A rollback is a deployment of an earlier version, marked as rework.
func (s *Source) service(t translation, predicate string) (delivery.Event, error) {
	switch predicate {
	case "deployed", "upgraded", "rolledback":
	default:
		return delivery.Event{}, ingest.Ignored("cdevents: event type %s", t.ev.Context.Type)
	}
	c, err := content[serviceContent](t)
	if err != nil {
		return delivery.Event{}, err
	}
	if c.Environment == nil || c.Environment.ID == "" {
		return delivery.Event{}, ingest.Malformed("cdevents: service %s: subject.content.environment.id is missing", t.ev.Subject.ID)
	}
	sha, repo := commit(c.ArtifactID, t.custom)
	if sha == "" {
		return delivery.Event{}, ingest.Malformed("cdevents: service %s: no commit in artifactId %q nor in customData.sha", t.ev.Subject.ID, c.ArtifactID)
	}
	d := &delivery.Deployment{
		Service:     s.serviceName(t.ev.Subject.ID),
		Environment: s.cfg.Mapping.Environment(c.Environment.ID),
		ID:          t.ev.Context.ID,
		Status:      delivery.DeploymentSuccess,
		FinishedAt:  t.at,
		SHA:         sha,
		Repository:  repo,
		Rollback:    predicate == "rolledback",
		Hotfix:      t.custom.Hotfix,
		UpdatedAt:   t.at,
	}
	return delivery.Event{Key: t.key, Kind: delivery.KindDeployment, Deployment: d}, nil
}

// incidentSeverity maps customData.severity, which the specification's own
// example fills with low/medium/high/critical.
var incidentSeverity = map[string]int{"critical": 0, "high": 1, "major": 1, "medium": 2, "moderate": 2, "minor": 2, "low": 3}

// incident maps incident events to one incident per subject. Incidents in an
// environment that is not production are not Stride's incidents.
func (s *Source) incident(t translation, predicate string) (delivery.Event, error) {
	switch predicate {
	case "detected", "reported", "resolved":
	default:
		return delivery.Event{}, ingest.Ignored("cdevents: event type %s", t.ev.Context.Type)
	}
	c, err := content[incidentContent](t)
	if err != nil {
		return delivery.Event{}, err
	}
	if c.Environment != nil && c.Environment.ID != "" && s.cfg.Mapping.Environment(c.Environment.ID) != delivery.EnvironmentProduction {
		return delivery.Event{}, ingest.Ignored("cdevents: incident %s is in environment %s, not production", t.ev.Subject.ID, c.Environment.ID)
	}
	if c.Service == nil || c.Service.ID == "" {
		return delivery.Event{}, ingest.Malformed("cdevents: incident %s: subject.content.service.id is missing", t.ev.Subject.ID)
	}
	// Without a severity the report leaves it unknown, so a resolution that
	// omits it does not overwrite the one the detection gave.
	severity := delivery.SeverityUnknown
	if v, ok := incidentSeverity[strings.ToLower(t.custom.Severity)]; ok {
		severity = v
	}
	in := &delivery.Incident{
		Service:   s.serviceName(c.Service.ID),
		ID:        "cdevents-" + t.ev.Subject.ID,
		Title:     firstLine(c.Description),
		Severity:  severity,
		OpenedAt:  t.at,
		UpdatedAt: t.at,
	}
	if predicate == "resolved" {
		// A resolution names no opening time; customData.openedAt may, and
		// otherwise the earlier detected/reported report supplies it when
		// the reports are merged.
		in.ResolvedAt = t.at
		// Its description tells of the recovery ("restored below 100ms"),
		// which should not replace the incident's title.
		in.Title = ""
		opened, err := parseTime("customData.openedAt", t.custom.OpenedAt)
		if err != nil {
			return delivery.Event{}, err
		}
		if !opened.IsZero() {
			in.OpenedAt = opened
		}
	}
	return delivery.Event{Key: t.key, Kind: delivery.KindIncident, Incident: in}, nil
}

func (s *Source) serviceName(id string) string {
	if v := s.cfg.Services[id]; v != "" {
		return v
	}
	for _, m := range s.cfg.Mapping.Services {
		if strings.EqualFold(m.Name, id) {
			return m.Name
		}
	}
	return strings.TrimSpace(id)
}

// commit finds the commit an artifact was built from, and its repository:
// customData.sha (and .repository) when given; else a purl qualifier
// (?sha=, ?commit= or vcs_url=git+https://host/org/repo@<sha>); else a
// purl of a Git host (pkg:github/acme/api@<sha>); else the artifactId
// itself when it is a bare commit hash.
func commit(artifactID string, custom customData) (sha, repo string) {
	sha, repo = custom.SHA, custom.Repository
	if sha != "" {
		return sha, repo
	}
	a := strings.TrimSpace(artifactID)
	if isCommit(a) {
		return a, repo
	}
	rest, ok := strings.CutPrefix(a, "pkg:")
	if !ok {
		return "", repo
	}
	rest, _, _ = strings.Cut(rest, "#")
	rest, query, _ := strings.Cut(rest, "?")
	q, _ := url.ParseQuery(query)
	for _, k := range []string{"sha", "commit"} {
		if v := q.Get(k); isCommit(v) {
			return v, repo
		}
	}
	if vcs := q.Get("vcs_url"); vcs != "" {
		if i := strings.LastIndex(vcs, "@"); i >= 0 && isCommit(vcs[i+1:]) {
			if repo == "" {
				repo = vcsRepository(vcs[:i])
			}
			return vcs[i+1:], repo
		}
	}
	typ, path, _ := strings.Cut(rest, "/")
	name, version, _ := strings.Cut(path, "@")
	version, _ = url.PathUnescape(version)
	switch strings.ToLower(typ) {
	case "github", "gitlab", "bitbucket", "git":
		if isCommit(version) {
			if repo == "" {
				repo, _ = url.PathUnescape(name)
			}
			return version, repo
		}
	}
	return "", repo
}

func vcsRepository(v string) string {
	v = strings.TrimPrefix(v, "git+")
	if u, err := url.Parse(v); err == nil && u.Host != "" {
		return strings.TrimSuffix(strings.TrimPrefix(u.Path, "/"), ".git")
	}
	return ""
}

// isCommit reports whether v looks like a Git commit id: 7 to 64 hex digits
// (abbreviated, SHA-1 or SHA-256 object names).
func isCommit(v string) bool {
	if len(v) < 7 || len(v) > 64 {
		return false
	}
	_, err := hex.DecodeString(v + strings.Repeat("0", len(v)%2))
	return err == nil
}

// trailingNumber reads the number that ends a change id after its last
// separator: "42", "acme/api/pull/42", "acme/api#42", "acme/api!42". A
// Gerrit Change-Id (I8473b9...) has none.
func trailingNumber(id string) (int, bool) {
	seg := id[strings.LastIndexAny(id, "/#!")+1:]
	if seg == "" || len(seg) > 9 || strings.Trim(seg, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(seg)
	return n, err == nil && n > 0
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, ingest.Malformed("cdevents: %s: %v", field, err)
	}
	return t, nil
}
