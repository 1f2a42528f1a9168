// Package gitlab collects a GitLab project's merge requests, deployments
// and pipelines through the REST API (v4), mapped by the webhook connector
// (internal/ingest/gitlab): each API object is wrapped in the webhook
// payload that would have carried it, so a collected merge request and
// the webhook's are one entity.
//
// Every resource is listed oldest update first from its cursor
// (updated_after, order_by=updated_at, sort=asc), and the cursor is saved
// after each page's events are committed: a run killed midway resumes at
// the page it was reading, and a run after no change costs one request per
// resource.
package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/collect"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
	glingest "github.com/stride-oss/stride/internal/ingest/gitlab"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
)

// Source is what collected events are stamped with; not the webhook's
// "gitlab", whose reprocessing rebuilds only from stored deliveries.
const Source = "gitlab-api"

// DefaultAPIURL is GitLab.com's API.
const DefaultAPIURL = "https://gitlab.com/api/v4"

// Writer commits events: *intake.Intake.
type Writer interface {
	Events(ctx context.Context, source string, events []delivery.Event) (intake.Result, error)
}

// Cursors keeps where each resource stopped: *store.DB.
type Cursors interface {
	Cursor(ctx context.Context, source, scope, resource string) (store.Cursor, error)
	SaveCursor(ctx context.Context, c store.Cursor) error
}

// Config says what to collect.
type Config struct {
	// APIURL is the API root, https://HOST/api/v4.
	APIURL string
	// Projects are group/name paths.
	Projects []string
	// Since bounds what a first run reads; zero reads it all.
	Since time.Time
	// Webhook is the connector's configuration, the mapping included.
	Webhook glingest.Config
	Logger  *slog.Logger
}

// ProjectResult is what a run did for one project.
type ProjectResult struct {
	Project       string
	Pages         int
	Events, Added int
	Skipped       int
	// Err stopped the project; the others were read regardless.
	Err error
}

// Collector reads GitLab into Stride.
type Collector struct {
	cfg     Config
	client  *collect.Client
	out     Writer
	cursors Cursors
	mapper  *glingest.Source
}

// New returns a collector reading with client (collect.Bearer takes a
// personal, project or group access token).
func New(cfg Config, client *collect.Client, out Writer, cursors Cursors) *Collector {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimSuffix(cfg.APIURL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Collector{cfg: cfg, client: client, out: out, cursors: cursors, mapper: glingest.New(cfg.Webhook)}
}

// Run collects the projects one after the other; a project that fails
// does not stop the others.
func (c *Collector) Run(ctx context.Context) ([]ProjectResult, error) {
	var out []ProjectResult
	for _, p := range c.cfg.Projects {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		res := ProjectResult{Project: p}
		r := &projectRun{c: c, project: p, res: &res}
		for _, step := range []func(context.Context) error{r.check, r.mergeRequests, r.deployments, r.pipelines} {
			if err := step(ctx); err != nil {
				res.Err = err
				break
			}
		}
		if res.Err != nil {
			c.cfg.Logger.Warn("collect: project stopped", "project", p, "err", res.Err)
		}
		out = append(out, res)
	}
	return out, ctx.Err()
}

type projectRun struct {
	c       *Collector
	project string
	res     *ProjectResult
}

func (r *projectRun) url(p string, q url.Values) string {
	u := r.c.cfg.APIURL + "/projects/" + url.PathEscape(r.project) + p
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// check asks for the project, so a project that does not exist stops
// with GitLab's 404 before anything else is asked.
func (r *projectRun) check(ctx context.Context) error {
	_, err := r.c.client.Do(ctx, collect.Request{URL: r.url("", nil)})
	if err == nil {
		r.res.Pages++
	}
	return err
}

// list reads resource oldest update first from its cursor, mapping each
// object with toPayload (nil leaves it out), committing each page and then
// saving the cursor at the page's newest update.
func (r *projectRun) list(ctx context.Context, resource, path string, q url.Values, toPayload func(raw json.RawMessage, updated time.Time) map[string]any) error {
	cur, err := r.c.cursors.Cursor(ctx, Source, r.project, resource)
	if err != nil {
		return err
	}
	since := cur.Since
	if since.IsZero() {
		since = r.c.cfg.Since
	}
	q.Set("order_by", "updated_at")
	q.Set("sort", "asc")
	q.Set("per_page", "100")
	if !since.IsZero() {
		q.Set("updated_after", since.UTC().Format(time.RFC3339Nano))
	}
	for u := r.url(path, q); u != ""; {
		resp, err := r.c.client.Do(ctx, collect.Request{URL: u})
		if err != nil {
			return err
		}
		r.res.Pages++
		var page []json.RawMessage
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return fmt.Errorf("%s: %w", u, err)
		}
		var events []delivery.Event
		for _, raw := range page {
			var obj struct {
				UpdatedAt time.Time `json:"updated_at"`
			}
			if err := json.Unmarshal(raw, &obj); err != nil {
				return fmt.Errorf("%s: %w", u, err)
			}
			if obj.UpdatedAt.After(cur.Since) {
				cur.Since = obj.UpdatedAt
			}
			payload := toPayload(raw, obj.UpdatedAt)
			if payload == nil {
				continue
			}
			events = append(events, r.translate(payload)...)
		}
		if len(events) > 0 {
			res, err := r.c.out.Events(ctx, Source, events)
			if err != nil {
				return fmt.Errorf("write %d events of %s: %w", len(events), r.project, err)
			}
			r.res.Events += res.Events
			r.res.Added += res.Added
		}
		if err := r.c.cursors.SaveCursor(ctx, cur); err != nil {
			return err
		}
		u = resp.Next
	}
	return nil
}

// translate maps one payload; what the connector ignores or cannot read is
// left out (the latter logged and counted).
func (r *projectRun) translate(payload map[string]any) []delivery.Event {
	payload["project"] = map[string]any{"path_with_namespace": r.project}
	body, err := json.Marshal(payload)
	if err == nil {
		var events []delivery.Event
		events, err = r.c.mapper.Translate(http.Header{}, body)
		if err == nil {
			return events
		}
	}
	if !errors.Is(err, ingest.ErrIgnored) {
		r.res.Skipped++
		r.c.cfg.Logger.Warn("collect: an object the connector cannot read is left out", "project", r.project, "err", err)
	}
	return nil
}

type apiMergeRequest struct {
	IID            int       `json:"iid"`
	Title          string    `json:"title"`
	State          string    `json:"state"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	MergedAt       time.Time `json:"merged_at"`
	ClosedAt       time.Time `json:"closed_at"`
	MergeCommitSHA string    `json:"merge_commit_sha"`
	SquashSHA      string    `json:"squash_commit_sha"`
	SHA            string    `json:"sha"`
	Labels         []string  `json:"labels"`
	Author         *struct {
		ID int64 `json:"id"`
	} `json:"author"`
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// mergeRequests maps each merge request as its last webhook event would
// be: merged, closed or open, with its labels and merge commit.
func (r *projectRun) mergeRequests(ctx context.Context) error {
	return r.list(ctx, "merge_requests", "/merge_requests", url.Values{"state": {"all"}}, func(raw json.RawMessage, _ time.Time) map[string]any {
		var m apiMergeRequest
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		action := "update"
		switch m.State {
		case "merged":
			action = "merge"
		case "closed":
			action = "close"
		}
		labels := make([]map[string]any, 0, len(m.Labels))
		for _, l := range m.Labels {
			labels = append(labels, map[string]any{"title": l})
		}
		sha := m.MergeCommitSHA
		if sha == "" {
			sha = m.SquashSHA
		}
		attrs := map[string]any{"iid": m.IID, "title": m.Title, "state": m.State, "action": action,
			"created_at": m.CreatedAt, "updated_at": m.UpdatedAt, "merged_at": timeOrNil(m.MergedAt), "closed_at": timeOrNil(m.ClosedAt),
			"merge_commit_sha": sha, "labels": labels, "last_commit": map[string]any{"id": m.SHA}}
		if m.Author != nil {
			attrs["author_id"] = m.Author.ID
		}
		return map[string]any{"object_kind": "merge_request", "object_attributes": attrs, "labels": labels}
	})
}

// deployments maps each deployment's current status as the deployment
// event reporting it would be; the status changed when it was updated.
func (r *projectRun) deployments(ctx context.Context) error {
	return r.list(ctx, "deployments", "/deployments", url.Values{}, func(raw json.RawMessage, updated time.Time) map[string]any {
		var d struct {
			ID          int64  `json:"id"`
			Ref         string `json:"ref"`
			SHA         string `json:"sha"`
			Status      string `json:"status"`
			Environment struct {
				Name string `json:"name"`
			} `json:"environment"`
		}
		if json.Unmarshal(raw, &d) != nil {
			return nil
		}
		return map[string]any{"object_kind": "deployment", "status": d.Status, "status_changed_at": updated,
			"deployment_id": d.ID, "environment": d.Environment.Name, "sha": d.SHA, "ref": d.Ref}
	})
}

// finished are the pipeline statuses that end a pipeline: the list does
// not carry finished_at, so such a pipeline finished when last updated.
var finished = map[string]bool{"success": true, "failed": true, "canceled": true, "skipped": true}

// pipelines maps each pipeline as the pipeline event would be.
func (r *projectRun) pipelines(ctx context.Context) error {
	return r.list(ctx, "pipelines", "/pipelines", url.Values{}, func(raw json.RawMessage, updated time.Time) map[string]any {
		var p struct {
			ID        int64     `json:"id"`
			Ref       string    `json:"ref"`
			SHA       string    `json:"sha"`
			Status    string    `json:"status"`
			Tag       bool      `json:"tag"`
			CreatedAt time.Time `json:"created_at"`
		}
		if json.Unmarshal(raw, &p) != nil {
			return nil
		}
		attrs := map[string]any{"id": p.ID, "ref": p.Ref, "sha": p.SHA, "status": p.Status, "tag": p.Tag, "created_at": p.CreatedAt}
		if finished[p.Status] {
			attrs["finished_at"] = updated
		}
		return map[string]any{"object_kind": "pipeline", "object_attributes": attrs}
	})
}
