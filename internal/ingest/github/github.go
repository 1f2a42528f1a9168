// Package github translates GitHub webhook deliveries (pushes, pull
// requests and their reviews, deployments, workflow runs, releases and
// incident issues) into Stride's domain events. It does no I/O: the HTTP
// layer hands it the headers and the raw body of each delivery.
package github

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// Name is the source's name: the endpoint is /webhooks/github and every event
// it produces carries Source "github".
const Name = "github"

// Header names GitHub sets on every delivery.
const (
	HeaderEvent     = "X-GitHub-Event"
	HeaderDelivery  = "X-GitHub-Delivery"
	HeaderSignature = "X-Hub-Signature-256"
)

// Config is what an operator sets for the GitHub connector. The zero value
// of every field but Secret means the default; a zero Secret rejects every
// delivery, because accepting unsigned payloads would let anyone write
// deployments into the metrics.
type Config struct {
	// Secret is the webhook secret entered in GitHub; deliveries are
	// authenticated by their HMAC-SHA256 signature with it.
	Secret string `yaml:"secret"`
	// Mapping turns repositories into services and labels into incidents
	// and hotfixes.
	Mapping delivery.Mapping `yaml:"-"`
	// ReleasesAsDeployments counts each published release as a successful
	// production deployment, for teams whose releases are their deployments
	// and who do not use GitHub deployments.
	//
	// A release cut from a branch name carries no commit, so with this on
	// the push of the release's tag (refs/tags/<tag>) is counted too: it
	// carries the tagged commit, and its deployment has the release's ID,
	// release-<tag>, so both reports of one release are one deployment.
	ReleasesAsDeployments bool `yaml:"releases_as_deployments"`
	// DeployTags are glob patterns (path.Match syntax, where * does not
	// match a "/") of the tags whose releases and tag pushes count as
	// deployments; empty means every tag.
	DeployTags []string `yaml:"deploy_tags"`
	// ExcludeTags are glob patterns of tags that never count, even when
	// they match DeployTags: pre-release tags such as "*-rc*".
	ExcludeTags []string `yaml:"exclude_tags"`
	// ReleaseBranches are patterns (matched as git matches them, so `*`
	// crosses "/") of branches besides the default one whose pushes are
	// taken like the default branch's: the maintenance branches releases
	// are cut from ("release-*"). Without them, a release deployed from
	// such a branch ships only its own commit, since Stride was never told
	// of the branch's other commits.
	ReleaseBranches []string `yaml:"release_branches"`
	// DefaultSeverity is the severity of an incident issue that carries no
	// severity label. When nil the issue's report leaves the severity
	// unknown, so it does not overwrite one another report gave; an incident
	// no report gave one is kept at 2 (major feature down, with a
	// workaround), which notifies without paging anyone at night.
	DefaultSeverity *int `yaml:"default_severity"`
}

// Source is the GitHub connector; it implements ingest.Source. It keeps only
// its configuration, so Translate gives the same events for the same
// delivery whenever it is called, which reprocessing relies on.
type Source struct {
	cfg             Config
	defaultSeverity int
}

var _ ingest.Source = (*Source)(nil)

// New returns a connector with the configuration cfg. A DefaultSeverity
// outside 0–3 is treated as none rather than failing, so a typo in a config
// file cannot make every incident invalid.
func New(cfg Config) *Source {
	sev := delivery.SeverityUnknown
	if cfg.DefaultSeverity != nil && *cfg.DefaultSeverity >= 0 && *cfg.DefaultSeverity <= 3 {
		sev = *cfg.DefaultSeverity
	}
	return &Source{cfg: cfg, defaultSeverity: sev}
}

// Name returns "github", the last element of the webhook endpoint.
func (s *Source) Name() string { return Name }

// Verify checks the X-Hub-Signature-256 header: the HMAC-SHA256 of the raw
// body keyed with the configured secret. The comparison takes constant time
// so that the signature cannot be guessed byte by byte from response times.
func (s *Source) Verify(h http.Header, body []byte) error {
	if s.cfg.Secret == "" {
		return ingest.Unauthorized("github: no webhook secret is configured, so no delivery can be trusted")
	}
	sig := h.Get(HeaderSignature)
	if sig == "" {
		return ingest.Unauthorized("github: the delivery has no %s header (set a secret on the webhook)", HeaderSignature)
	}
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	if !ok {
		return ingest.Unauthorized("github: %s is not of the form sha256=<hex>", HeaderSignature)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return ingest.Unauthorized("github: %s is not hexadecimal", HeaderSignature)
	}
	mac := hmac.New(sha256.New, []byte(s.cfg.Secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ingest.Unauthorized("github: the signature does not match the body and the configured secret")
	}
	return nil
}

// Sign returns the X-Hub-Signature-256 value GitHub would send for body
// signed with secret. Tests and tools that replay deliveries use it.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// DeliveryID returns GitHub's delivery GUID, which a redelivery from the
// GitHub UI repeats, or a digest of the body when the header is missing (a
// replayed or hand-made delivery), so duplicates are still recognised.
func (s *Source) DeliveryID(h http.Header, body []byte) string {
	if id := strings.TrimSpace(h.Get(HeaderDelivery)); id != "" {
		return id
	}
	return ingest.BodyDigest(body)
}

// Translate maps one delivery to domain events by its X-GitHub-Event header
// and action. Every returned event has passed Event.Validate, so it is
// normalised and ready to ingest; an event that would not pass makes the
// whole delivery malformed, since half a delivery would be worse than none.
func (s *Source) Translate(h http.Header, body []byte) ([]delivery.Event, error) {
	name := strings.TrimSpace(h.Get(HeaderEvent))
	if name == "" {
		return nil, ingest.Malformed("github: the delivery has no %s header", HeaderEvent)
	}
	tr, ok := translators[name]
	if !ok {
		return nil, ingest.Ignored("github: Stride does not use %q events", name)
	}
	events, err := tr(s, body)
	if err != nil {
		var syntax *json.SyntaxError
		switch {
		case errors.Is(err, ingest.ErrIgnored) || delivery.ErrorCode(err) != delivery.EINTERNAL:
			return nil, err
		case errors.As(err, &syntax):
			return nil, ingest.Malformed("github: %s: the body is not valid JSON: %v", name, err)
		}
		// Other decoding errors (a string where a number belongs, a bad
		// time) are the sender's fault too, not Stride's.
		return nil, ingest.Malformed("github: %s: %v", name, err)
	}
	for i := range events {
		events[i].Source = Name
		if err := events[i].Validate(); err != nil {
			return nil, fmt.Errorf("github: %s: event %d (%s): %w", name, i, events[i].Key, err)
		}
	}
	return events, nil
}

type translator func(s *Source, body []byte) ([]delivery.Event, error)

// translators maps X-GitHub-Event to its translation; events not listed are
// ignored.
var translators = map[string]translator{
	"ping":                        func(*Source, []byte) ([]delivery.Event, error) { return nil, ingest.Ignored("github: ping") },
	"push":                        (*Source).push,
	"pull_request":                (*Source).pullRequest,
	"pull_request_review":         (*Source).pullRequestReview,
	"pull_request_review_comment": (*Source).pullRequestReviewComment,
	"issue_comment":               (*Source).issueComment,
	"deployment":                  (*Source).deployment,
	"deployment_status":           (*Source).deploymentStatus,
	"workflow_run":                (*Source).workflowRun,
	"release":                     (*Source).release,
	"issues":                      (*Source).issues,
}

// decode reads body into v, wrapping the decoder's error with the event.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}

// missing returns the EINVALID error of a payload that lacks a field its
// event needs.
func missing(event, field string) error {
	return ingest.Malformed("github: %s: the payload has no %s", event, field)
}
