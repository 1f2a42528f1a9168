package github

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// deploymentStates maps a GitHub deployment status to the domain's. An
// inactive status only says a newer deployment replaced this one, which
// is no news about this deployment, so it is not in the table.
var deploymentStates = map[string]delivery.DeploymentStatus{
	"success":     delivery.DeploymentSuccess,
	"failure":     delivery.DeploymentFailure,
	"error":       delivery.DeploymentFailure,
	"in_progress": delivery.DeploymentInProgress,
	"queued":      delivery.DeploymentInProgress,
	"pending":     delivery.DeploymentPending,
}

// shaPattern matches a full or abbreviated commit sha.
var shaPattern = regexp.MustCompile(`^[0-9a-fA-F]{7,64}$`)

// deployment reports a deployment GitHub has just created: pending until a
// status says more.
func (s *Source) deployment(body []byte) ([]delivery.Event, error) {
	var e deploymentEvent
	if err := decode(body, &e); err != nil {
		return nil, err
	}
	if e.Action != "created" {
		return nil, ingest.Ignored("github: deployment action %q", e.Action)
	}
	if err := checkDeployment("deployment", e.Repository, e.Deployment); err != nil {
		return nil, err
	}
	d := e.Deployment
	at := d.CreatedAt
	if d.UpdatedAt.After(at) {
		at = d.UpdatedAt
	}
	prefix := "github:deployment:" + e.Repository.FullName + ":" + strconv.FormatInt(d.ID, 10)
	return s.deployments(prefix, e.Repository.FullName, d, delivery.DeploymentPending, time.Time{}, at), nil
}

// deploymentStatus reports the progress of a deployment; a terminal status
// finishes it at the time GitHub recorded the status.
func (s *Source) deploymentStatus(body []byte) ([]delivery.Event, error) {
	var e deploymentEvent
	if err := decode(body, &e); err != nil {
		return nil, err
	}
	if e.Action != "" && e.Action != "created" {
		return nil, ingest.Ignored("github: deployment_status action %q", e.Action)
	}
	if err := checkDeployment("deployment_status", e.Repository, e.Deployment); err != nil {
		return nil, err
	}
	st := e.DeploymentStatus
	if st == nil || st.State == "" {
		return nil, missing("deployment_status", "deployment_status.state")
	}
	if st.State == "inactive" {
		return nil, ingest.Ignored("github: deployment %d became inactive (a newer deployment replaced it)", e.Deployment.ID)
	}
	status, ok := deploymentStates[st.State]
	if !ok {
		return nil, ingest.Ignored("github: unknown deployment state %q", st.State)
	}
	if st.CreatedAt.IsZero() {
		return nil, missing("deployment_status", "deployment_status.created_at")
	}
	at := st.CreatedAt
	if st.UpdatedAt.After(at) {
		at = st.UpdatedAt
	}
	var finished time.Time
	if status.Terminal() {
		finished = st.CreatedAt
	}
	prefix := "github:deployment_status:" + e.Repository.FullName + ":" + strconv.FormatInt(st.ID, 10)
	if st.ID == 0 {
		prefix += ":" + strconv.FormatInt(e.Deployment.ID, 10) + ":" + st.State + ":" + stamp(st.CreatedAt)
	}
	return s.deployments(prefix, e.Repository.FullName, e.Deployment, status, finished, at), nil
}

func checkDeployment(event string, r *repository, d *deployment) error {
	switch {
	case r == nil || r.FullName == "":
		return missing(event, "repository.full_name")
	case d == nil:
		return missing(event, "deployment")
	case d.ID <= 0:
		return missing(event, "deployment.id")
	}
	return nil
}

// deployments builds one event per service the deployment ships: the
// service named in the deployment's payload, or else every service the
// repository maps to (a repository deployed as a whole ships them all).
func (s *Source) deployments(keyPrefix, repo string, d *deployment, status delivery.DeploymentStatus, finished, at time.Time) []delivery.Event {
	pl := d.payload()
	// A deployment from a configuration repository names the application
	// commit it rolls out in its payload; that commit, not the config
	// repository's, is what lead time follows.
	sha, shaRepo := d.SHA, repo
	if app := firstNonEmpty(stringField(pl, "app_sha"), stringField(pl, "sha")); app != "" {
		sha, shaRepo = app, firstNonEmpty(stringField(pl, "app_repository"), stringField(pl, "repository"))
	}
	task := strings.ToLower(d.Task)
	hotfix := boolField(pl, "hotfix") || strings.Contains(task, "hotfix") || s.cfg.Mapping.IsHotfix(payloadLabels(pl))
	rollback := boolField(pl, "rollback") || strings.Contains(task, "rollback")

	var services []string
	if name := stringField(pl, "service"); name != "" {
		services = []string{name}
	} else {
		for _, sm := range s.cfg.Mapping.ServicesOf(repo, nil) {
			services = append(services, sm.Name)
		}
	}
	events := make([]delivery.Event, 0, len(services))
	for _, svc := range services {
		r := shaRepo
		if r == "" {
			r = s.appRepository(svc, repo)
		}
		// The environment is part of the key: one deployment id is
		// delivered for several environments (production, github-pages),
		// and each delivery is its own report, not a repeat of another.
		events = append(events, delivery.Event{
			Key:  keyPrefix + ":" + d.Environment + ":" + svc,
			Kind: delivery.KindDeployment,
			Deployment: &delivery.Deployment{
				Service:     svc,
				Environment: s.cfg.Mapping.Environment(d.Environment),
				ID:          strconv.FormatInt(d.ID, 10),
				Status:      status,
				StartedAt:   d.CreatedAt,
				FinishedAt:  finished,
				SHA:         sha,
				Repository:  r,
				Ring:        stringField(pl, "ring"),
				Hotfix:      hotfix,
				Rollback:    rollback,
				UpdatedAt:   at,
			},
		})
	}
	return events
}

// appRepository guesses the application repository of a config-repository
// deployment that named the commit but not its repository: the first
// repository of the service other than the config repository, or none
// (then the domain takes the service's own).
func (s *Source) appRepository(service, configRepo string) string {
	for _, sm := range s.cfg.Mapping.Services {
		if sm.Name != service {
			continue
		}
		for _, r := range sm.Repositories {
			if !strings.EqualFold(r, configRepo) {
				return r
			}
		}
	}
	return ""
}

// payloadLabels reads a "labels" list of strings from a deployment payload.
func payloadLabels(pl map[string]any) []string {
	list, _ := pl["labels"].([]any)
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// release counts a published release as a successful production deployment
// of the repository's services, when the operator asked for that.
func (s *Source) release(body []byte) ([]delivery.Event, error) {
	var e releaseEvent
	if err := decode(body, &e); err != nil {
		return nil, err
	}
	if e.Action != "published" {
		return nil, ingest.Ignored("github: release action %q", e.Action)
	}
	if !s.cfg.ReleasesAsDeployments {
		return nil, ingest.Ignored("github: releases are not counted as deployments (releases_as_deployments is off in the github source of stride.yaml)")
	}
	switch {
	case e.Repository == nil || e.Repository.FullName == "":
		return nil, missing("release", "repository.full_name")
	case e.Release == nil || e.Release.TagName == "":
		return nil, missing("release", "release.tag_name")
	case e.Release.PublishedAt.IsZero():
		return nil, missing("release", "release.published_at")
	}
	r := e.Release
	if r.Prerelease {
		return nil, ingest.Ignored("github: release %s is a pre-release, not a production deployment", r.TagName)
	}
	if ok, why := s.tagCounts(r.TagName); !ok {
		return nil, ingest.Ignored("github: release %s: %s", r.TagName, why)
	}
	if !shaPattern.MatchString(r.TargetCommitish) {
		// A successful deployment needs the commit it ships, and a branch
		// name says only where the tag was cut from, not which commit. The
		// push of the tag, which GitHub sends with every new release,
		// carries the commit and reports the same deployment.
		return nil, ingest.Ignored("github: release %s targets the branch %q rather than a commit; the push of tag %s supplies the deployment (subscribe to Pushes)", r.TagName, r.TargetCommitish, r.TagName)
	}
	repo := e.Repository.FullName
	return s.releaseDeployments("github:release:"+repo+":"+r.TagName, repo, r.TagName, r.TargetCommitish, time.Time{}, r.PublishedAt), nil
}

// tagCounts reports whether releases and pushes of tag count as
// deployments under DeployTags and ExcludeTags, and if not, why. A
// malformed pattern matches nothing (the configuration loader rejects
// them, so this only protects hand-made configurations).
func (s *Source) tagCounts(tag string) (bool, string) {
	if len(s.cfg.DeployTags) > 0 && !slices.ContainsFunc(s.cfg.DeployTags, func(p string) bool { return globMatch(p, tag) }) {
		return false, fmt.Sprintf("tag %s matches none of deploy_tags %v", tag, s.cfg.DeployTags)
	}
	if i := slices.IndexFunc(s.cfg.ExcludeTags, func(p string) bool { return globMatch(p, tag) }); i >= 0 {
		return false, fmt.Sprintf("tag %s matches exclude_tags pattern %q", tag, s.cfg.ExcludeTags[i])
	}
	return true, ""
}

func globMatch(pattern, name string) bool {
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}

// releaseDeployments returns one successful production deployment of the
// release tag per service repo maps to. Releases and tag pushes both build
// their deployments here, so the two reports of one release agree on the
// ID, environment and services, and merge into one deployment.
func (s *Source) releaseDeployments(keyPrefix, repo, tag, sha string, started, finished time.Time) []delivery.Event {
	var events []delivery.Event
	for _, sm := range s.cfg.Mapping.ServicesOf(repo, nil) {
		events = append(events, delivery.Event{
			Key:  keyPrefix + ":" + sm.Name,
			Kind: delivery.KindDeployment,
			Deployment: &delivery.Deployment{
				Service:     sm.Name,
				Environment: delivery.EnvironmentProduction,
				ID:          ReleaseDeploymentID(tag),
				Status:      delivery.DeploymentSuccess,
				StartedAt:   started,
				FinishedAt:  finished,
				SHA:         sha,
				Repository:  repo,
				UpdatedAt:   finished,
			},
		})
	}
	return events
}

// ReleaseDeploymentID is the deployment ID of the release of tag.
func ReleaseDeploymentID(tag string) string { return "release-" + tag }
