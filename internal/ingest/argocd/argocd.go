// Package argocd translates Argo CD notifications into deployment events.
// Argo CD has no fixed webhook payload: its notifications controller renders
// a template, and docs/argocd.md ships the template (and the triggers) whose
// JSON body this package reads. A deployment is one sync operation of an
// application; the sync's result and the application's health after it are
// reports of that deployment, which delivery.MergeDeployment joins.
package argocd

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// Name is the source's name, as in the endpoint /webhooks/argocd.
const Name = "argocd"

// TokenHeader is where the HTTP layer copies a ?token= query parameter.
const TokenHeader = "X-Stride-Token"

// Config configures the connector.
type Config struct {
	// Token is the bearer token the notifications webhook service sends.
	// When empty, every delivery is rejected.
	Token string `yaml:"token"`
	// Services maps an Argo CD application name to a Stride service, for
	// applications not named after their service (such as "api-prod").
	Services map[string]string `yaml:"services"`
	// Mapping names services and production environments: an application
	// whose name matches a mapped service (ignoring case), or whose source
	// repository a mapped service claims, deploys that service; environment
	// names go through Mapping.Environment, so "prod" counts as production.
	Mapping delivery.Mapping `yaml:"-"`
}

// Source is the Argo CD connector; it implements ingest.Source.
type Source struct {
	cfg Config
}

var _ ingest.Source = (*Source)(nil)

// New returns a connector for cfg.
func New(cfg Config) *Source { return &Source{cfg: cfg} }

// Name returns "argocd".
func (s *Source) Name() string { return Name }

// Verify accepts the delivery when it carries the configured token, either
// as "Authorization: Bearer <token>" or in X-Stride-Token. Digests are
// compared, so the time taken does not depend on the token's length.
func (s *Source) Verify(h http.Header, body []byte) error {
	if err := ingest.VerifyToken(h, s.cfg.Token, "Authorization", TokenHeader); err != nil {
		return ingest.Unauthorized("argocd: %v", err)
	}
	return nil
}

// DeliveryID returns a digest of the body: Argo CD sends no delivery id, and
// a notification sent twice renders the same body.
func (s *Source) DeliveryID(h http.Header, body []byte) string {
	return ingest.BodyDigest(body)
}

// Notification is the body the shipped template renders. Its fields are
// Argo CD application fields, named in the comments.
type Notification struct {
	App          string `json:"app"`          // .app.metadata.name
	Project      string `json:"project"`      // .app.spec.project
	RepoURL      string `json:"repoURL"`      // .app.spec.source.repoURL
	Revision     string `json:"revision"`     // .app.status.operationState.syncResult.revision
	SyncPhase    string `json:"syncPhase"`    // .app.status.operationState.phase
	SyncStatus   string `json:"syncStatus"`   // .app.status.sync.status
	HealthStatus string `json:"healthStatus"` // .app.status.health.status
	StartedAt    string `json:"startedAt"`    // .app.status.operationState.startedAt
	FinishedAt   string `json:"finishedAt"`   // .app.status.operationState.finishedAt
	Environment  string `json:"environment"`  // the application's "environment" label
	Namespace    string `json:"namespace"`    // .app.spec.destination.namespace
	DeploymentID string `json:"deploymentId"` // the application's uid and the sync's start
}

// Translate maps a notification to one deployment report: a succeeded sync
// is a success, a failed (or errored) sync a failure, a running sync in
// progress, and a degraded application a failure of its latest sync.
func (s *Source) Translate(h http.Header, body []byte) ([]delivery.Event, error) {
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, ingest.Malformed("argocd: decode body: %v", err)
	}
	n.clean()
	if n.App == "" {
		return nil, ingest.Malformed("argocd: app is missing (is the notification rendered by the template in docs/argocd.md?)")
	}
	var status delivery.DeploymentStatus
	switch {
	case strings.EqualFold(n.HealthStatus, "Degraded"):
		status = delivery.DeploymentFailure
	case strings.EqualFold(n.SyncPhase, "Succeeded"):
		status = delivery.DeploymentSuccess
	case strings.EqualFold(n.SyncPhase, "Failed"), strings.EqualFold(n.SyncPhase, "Error"):
		status = delivery.DeploymentFailure
	case strings.EqualFold(n.SyncPhase, "Running"):
		status = delivery.DeploymentInProgress
	case n.SyncPhase == "":
		return nil, ingest.Malformed("argocd: application %s: syncPhase is missing", n.App)
	default:
		return nil, ingest.Ignored("argocd: application %s: sync phase %s", n.App, n.SyncPhase)
	}
	started, err := parseTime("startedAt", n.StartedAt)
	if err != nil {
		return nil, err
	}
	finished, err := parseTime("finishedAt", n.FinishedAt)
	if err != nil {
		return nil, err
	}
	if status.Terminal() && finished.IsZero() {
		return nil, ingest.Malformed("argocd: application %s: finishedAt is missing for a %s sync", n.App, n.SyncPhase)
	}
	if status == delivery.DeploymentSuccess && n.Revision == "" {
		return nil, ingest.Malformed("argocd: application %s: revision is missing for a succeeded sync", n.App)
	}
	id := n.DeploymentID
	if id == "" {
		if started.IsZero() {
			return nil, ingest.Malformed("argocd: application %s: deploymentId and startedAt are missing", n.App)
		}
		id = n.App + "@" + started.UTC().Format(time.RFC3339)
	}
	env := n.Environment
	if env == "" {
		env = n.Namespace
	}
	service, repo := s.service(n.App, n.RepoURL)
	d := &delivery.Deployment{
		Service:     service,
		Environment: s.cfg.Mapping.Environment(env),
		ID:          id,
		Status:      status,
		StartedAt:   started,
		FinishedAt:  finished,
		SHA:         n.Revision,
		Repository:  repo,
		UpdatedAt:   latest(started, finished),
	}
	ev := delivery.Event{
		Key:        "argocd:" + id + ":" + string(status),
		Kind:       delivery.KindDeployment,
		Source:     Name,
		Deployment: d,
	}
	if err := ev.Validate(); err != nil {
		return nil, fmt.Errorf("argocd: application %s: %w", n.App, err)
	}
	return []delivery.Event{ev}, nil
}

// clean trims the fields and drops "<no value>", which a Go template renders
// for a missing map key (an application without an environment label).
func (n *Notification) clean() {
	for _, f := range []*string{&n.App, &n.Project, &n.RepoURL, &n.Revision, &n.SyncPhase, &n.SyncStatus, &n.HealthStatus, &n.StartedAt, &n.FinishedAt, &n.Environment, &n.Namespace, &n.DeploymentID} {
		*f = strings.TrimSpace(*f)
		if *f == "<no value>" {
			*f = ""
		}
	}
}

// service returns the Stride service an application deploys and the
// repository of the deployed revision.
func (s *Source) service(app, repoURL string) (service, repo string) {
	repo = repository(repoURL)
	if v := s.cfg.Services[app]; v != "" {
		return v, repo
	}
	for _, m := range s.cfg.Mapping.Services {
		if strings.EqualFold(m.Name, app) {
			return m.Name, repo
		}
	}
	for _, m := range s.cfg.Mapping.Services {
		for _, r := range m.Repositories {
			if repo != "" && strings.EqualFold(r, repo) {
				return m.Name, repo
			}
		}
	}
	return app, repo
}

// repository turns a Git URL (https://github.com/acme/api.git,
// git@github.com:acme/api.git) into the "acme/api" form mappings use.
// Helm chart repositories and OCI references give their path too; the
// revision is then a chart version, not a commit.
func repository(repoURL string) string {
	s := strings.TrimSuffix(strings.TrimSpace(repoURL), "/")
	s = strings.TrimSuffix(s, ".git")
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		return strings.TrimPrefix(u.Path, "/")
	}
	if at := strings.Index(s, "@"); at >= 0 {
		if _, path, ok := strings.Cut(s[at:], ":"); ok {
			return path
		}
	}
	return s
}

func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, ingest.Malformed("argocd: %s: %v", field, err)
	}
	return t, nil
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
