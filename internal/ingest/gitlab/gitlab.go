// Package gitlab translates GitLab webhook deliveries (push, merge request,
// note, pipeline, deployment and incident issue events) into Stride's domain
// events. It does no I/O: the HTTP layer hands it headers and a body.
package gitlab

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// Name is the source's name: the endpoint is /webhooks/gitlab and every
// event it yields carries it as its Source.
const Name = "gitlab"

// Config is what a GitLab connector needs. Token is the secret token set on
// the GitLab webhook, which GitLab sends back in X-Gitlab-Token; Mapping turns
// projects and environment names into Stride's services and environments.
type Config struct {
	Token   string           `yaml:"token"`
	Mapping delivery.Mapping `yaml:"-"`
	// ReleaseBranches are patterns (matched as git matches them, so `*`
	// crosses "/") of branches besides the default one whose pushes are
	// taken like the default branch's: the maintenance branches releases
	// are cut from ("release-*"). Without them, a release deployed from
	// such a branch ships only its own commit, since Stride was never told
	// of the branch's other commits.
	ReleaseBranches []string `yaml:"release_branches"`
}

// Source is the GitLab webhook connector. It holds only configuration, so
// Translate gives the same events for the same delivery, as reprocessing
// of stored deliveries requires.
type Source struct {
	cfg Config
}

// New returns a connector for cfg. An empty Token makes Verify reject every
// delivery, so a forgotten setting never opens the endpoint.
func New(cfg Config) *Source {
	return &Source{cfg: cfg}
}

var _ ingest.Source = (*Source)(nil)

// Name returns "gitlab", the last element of the webhook endpoint.
func (s *Source) Name() string { return Name }

// Verify accepts a delivery whose X-Gitlab-Token equals the configured token.
// GitLab does not sign bodies; the shared token is all it offers. Without
// X-Gitlab-Token, X-Stride-Token is read instead: the HTTP layer puts a
// ?token= query parameter there, for relays that drop GitLab's header. A
// wrong X-Gitlab-Token is not rescued by the other. The comparison takes
// constant time so the token cannot be guessed byte by byte.
func (s *Source) Verify(h http.Header, _ []byte) error {
	if err := ingest.VerifyToken(h, s.cfg.Token, "X-Gitlab-Token", "X-Stride-Token"); err != nil {
		return ingest.Unauthorized("gitlab: %v", err)
	}
	return nil
}

// DeliveryID returns GitLab's id of the delivery (X-Gitlab-Event-UUID, or
// the Idempotency-Key that newer GitLab versions keep across retries), or a
// digest of the body when neither is sent, so a redelivery is recognised.
func (s *Source) DeliveryID(h http.Header, body []byte) string {
	for _, k := range []string{"X-Gitlab-Event-UUID", "Idempotency-Key"} {
		if v := strings.TrimSpace(h.Get(k)); v != "" {
			return v
		}
	}
	return ingest.BodyDigest(body)
}

// eventKinds maps X-Gitlab-Event values to object_kind values, for the rare
// body without object_kind.
var eventKinds = map[string]string{
	"Push Hook":                  "push",
	"Tag Push Hook":              "tag_push",
	"Merge Request Hook":         "merge_request",
	"Note Hook":                  "note",
	"Confidential Note Hook":     "note",
	"Pipeline Hook":              "pipeline",
	"Deployment Hook":            "deployment",
	"Issue Hook":                 "issue",
	"Confidential Issue Hook":    "issue",
	"Job Hook":                   "build",
	"Release Hook":               "release",
	"Wiki Page Hook":             "wiki_page",
	"Feature Flag Hook":          "feature_flag",
	"Emoji Hook":                 "emoji",
	"Resource Access Token Hook": "access_token",
}

// Translate maps a delivery to domain events. The body's object_kind decides
// what it is; the X-Gitlab-Event header is read only when the body lacks it.
// Every event is validated here, so a delivery either yields valid events or
// an error: ErrIgnored for events Stride does not use, EINVALID otherwise.
func (s *Source) Translate(h http.Header, body []byte) ([]delivery.Event, error) {
	var env struct {
		ObjectKind string `json:"object_kind"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, ingest.Malformed("gitlab: body is not a JSON object: %v", err)
	}
	kind := env.ObjectKind
	if kind == "" {
		kind = eventKinds[h.Get("X-Gitlab-Event")]
	}
	var (
		events []delivery.Event
		err    error
	)
	switch kind {
	case "push":
		events, err = s.push(body)
	case "merge_request":
		events, err = s.mergeRequest(body)
	case "note":
		events, err = s.note(body)
	case "pipeline":
		events, err = s.pipeline(body)
	case "deployment":
		events, err = s.deployment(body)
	case "issue":
		events, err = s.issue(body)
	case "":
		return nil, ingest.Malformed("gitlab: neither object_kind nor a known X-Gitlab-Event header (%q)", h.Get("X-Gitlab-Event"))
	default:
		if why, ok := ignoredWhy[kind]; ok {
			return nil, ingest.Ignored("gitlab: %s events are not used: %s", kind, why)
		}
		return nil, ingest.Ignored("gitlab: %s events are not used", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("gitlab %s: %w", kind, err)
	}
	for i := range events {
		events[i].Source = Name
		if err := events[i].Validate(); err != nil {
			return nil, fmt.Errorf("gitlab %s: event %d: %w", kind, i, err)
		}
	}
	return events, nil
}

// ignoredWhy says, for the events a GitLab webhook commonly sends that Stride
// leaves aside, why; the reason is stored with the raw delivery.
var ignoredWhy = map[string]string{
	"build":    "deployments come from deployment events, builds from pipeline events",
	"tag_push": "tags ship nothing until a deployment names them",
	"release":  "releases ship nothing until a deployment names them",
}

// key builds an idempotency key from payload values. A key that would exceed
// the domain's bound is replaced by its digest, which is just as stable.
func key(parts ...string) string {
	k := Name + ":" + strings.Join(parts, ":")
	if len(k) <= delivery.MaxKeyLength {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return Name + ":sha256:" + hex.EncodeToString(sum[:])
}
