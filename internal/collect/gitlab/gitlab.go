// Package gitlab collects a GitLab project's history through the REST API
// (v4): commits of the default and release branches with their parents,
// merge requests with their notes (first review) and approvals,
// deployments, pipelines and incidents. Each API object is wrapped in the
// webhook payload that would have carried it and mapped by the webhook
// connector (internal/ingest/gitlab), so a collected merge request and the
// webhook's are one entity; only commits, whose parents no push carries,
// have events of their own.
//
// Merge requests, deployments, pipelines and incidents are listed oldest
// update first from their cursor (updated_after, order_by=updated_at,
// sort=asc), and the cursor is saved after each page's events are
// committed: a run killed midway resumes at the page it was reading, and a
// run after no change costs one request per resource. GitLab offers keyset
// pagination on none of these lists, so pages are offset pages followed by
// their Link rel="next". Commits are swept newest first from a little
// before the newest commit of the last run, the first page conditional on
// its ETag.
package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
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

// Cursors keeps where each resource stopped, and says which commits are
// stored with their files known: *store.DB.
type Cursors interface {
	Cursor(ctx context.Context, source, scope, resource string) (store.Cursor, error)
	SaveCursor(ctx context.Context, c store.Cursor) error
	ChangesWithPaths(ctx context.Context, repository string, shas []string) (map[string]bool, error)
}

// Config says what to collect.
type Config struct {
	// APIURL is the API root, https://HOST/api/v4.
	APIURL string
	// Projects are group/name paths.
	Projects []string
	// Since bounds what a first run reads; zero reads it all.
	Since time.Time
	// Concurrency is how many projects are read at once (default 4).
	Concurrency int
	// Webhook is the connector's configuration, the mapping included.
	Webhook glingest.Config
	Logger  *slog.Logger
	// Progress, when set, is told after each page, each write and each
	// project finished (a scope of collect.Progress).
	Progress func(collect.Progress)
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
	tracker *collect.Tracker
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
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 4
	}
	return &Collector{cfg: cfg, client: client, out: out, cursors: cursors, mapper: glingest.New(cfg.Webhook),
		tracker: collect.NewTracker(client, cfg.Progress)}
}

// Run collects the projects, Concurrency at a time; a project that fails
// does not stop the others. The results are in the order of Projects; a
// project a cancelled run never started says so.
func (c *Collector) Run(ctx context.Context) ([]ProjectResult, error) {
	out := make([]ProjectResult, len(c.cfg.Projects))
	for i, p := range c.cfg.Projects {
		out[i] = ProjectResult{Project: p, Err: context.Canceled}
	}
	c.tracker.Start(len(out))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(c.cfg.Concurrency, max(len(out), 1)) {
		wg.Go(func() {
			for i := range next {
				out[i] = c.collect(ctx, c.cfg.Projects[i])
				c.tracker.Done(out[i].Project, out[i].Err)
			}
		})
	}
feed:
	for i := range out {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return out, ctx.Err()
}

// collect reads one project, resource after resource.
func (c *Collector) collect(ctx context.Context, project string) ProjectResult {
	res := ProjectResult{Project: project}
	r := &projectRun{c: c, project: project, res: &res, commitPaths: collect.NewCommitPaths(c.cfg.Webhook.Mapping, project)}
	for _, step := range []func(context.Context) error{r.check, r.commits, r.mergeRequests, r.deployments, r.pipelines, r.incidents} {
		if err := step(ctx); err != nil {
			res.Err = err
			break
		}
	}
	if res.Err != nil {
		c.cfg.Logger.Warn("collect: project stopped", "project", project, "err", res.Err)
	} else {
		c.cfg.Logger.Info("collect: project read", "project", project, "pages", res.Pages, "events", res.Events, "added", res.Added)
	}
	return res
}

type projectRun struct {
	c       *Collector
	project string
	res     *ProjectResult
	// defaultBranch is the project's, as check read it.
	defaultBranch string
	// notes are the notes of the merge requests of the page being
	// mapped, by iid.
	notes map[int][]apiNote
	// firstCommits are when the first commits of the merge requests of
	// the page were authored, by iid, where read; mergeRequestsSince and
	// mergeRequestsAtSince are the cursor the run started from and the
	// merge requests it names.
	firstCommits         map[int]time.Time
	mergeRequestsSince   time.Time
	mergeRequestsAtSince map[int64]bool
	// extra are events of the page that no webhook payload carries,
	// written with the page's.
	extra []delivery.Event
	// commitPaths picks the commits whose files are asked for.
	commitPaths *collect.CommitPaths
}

func (r *projectRun) url(p string, q url.Values) string {
	u := r.c.cfg.APIURL + "/projects/" + url.PathEscape(r.project) + p
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// get reads one page, conditional on etag when given.
func (r *projectRun) get(ctx context.Context, u, etag string) (*collect.Response, error) {
	resp, err := r.c.client.Do(ctx, collect.Request{URL: u, ETag: etag})
	if err != nil {
		return nil, err
	}
	r.res.Pages++
	r.c.tracker.Page()
	return resp, nil
}

// check asks for the project, so a project that does not exist stops
// with GitLab's 404 before anything else is asked; the answer names the
// default branch.
func (r *projectRun) check(ctx context.Context) error {
	resp, err := r.get(ctx, r.url("", nil), "")
	if err != nil {
		return err
	}
	var p struct {
		DefaultBranch string `json:"default_branch"`
	}
	if err := json.Unmarshal(resp.Body, &p); err != nil {
		return fmt.Errorf("project %s: %w", r.project, err)
	}
	r.defaultBranch = p.DefaultBranch
	return nil
}

// commit writes events through intake, in batches the domain allows.
func (r *projectRun) commit(ctx context.Context, events []delivery.Event) error {
	for len(events) > 0 {
		n := min(len(events), delivery.MaxBatch)
		res, err := r.c.out.Events(ctx, Source, events[:n])
		if err != nil {
			return fmt.Errorf("write %d events of %s: %w", n, r.project, err)
		}
		r.res.Events += res.Events
		r.res.Added += res.Added
		r.c.tracker.Wrote(res.Events, res.Added)
		events = events[n:]
	}
	return nil
}

// listed is the part of every listed object the cursor needs.
type listed struct {
	ID        int64     `json:"id"`
	UpdatedAt time.Time `json:"updated_at"`
}

// list reads resource oldest update first from its cursor, mapping each
// object with toPayloads (none leaves it out), committing each page and
// then saving the cursor at the page's newest update. updated_after is on
// or after, so the objects last read come back on the next run: the cursor
// keeps their ids (LastID) and they are passed over, which keeps a run
// after no change at one request and spares their notes being read again.
// prepare, when set, is given the page's objects to be mapped first, to
// read what they need all at once.
func (r *projectRun) list(ctx context.Context, resource, path string, q url.Values, prepare func(ctx context.Context, objects []json.RawMessage) error,
	toPayloads func(raw json.RawMessage, updated time.Time) ([]map[string]any, error)) error {
	cur, err := r.c.cursors.Cursor(ctx, Source, r.project, resource)
	if err != nil {
		return err
	}
	since := cur.Since
	if since.IsZero() {
		since = r.c.cfg.Since
	}
	seen := map[int64]bool{}
	for _, id := range strings.Fields(cur.LastID) {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			seen[n] = true
		}
	}
	q.Set("order_by", "updated_at")
	q.Set("sort", "asc")
	q.Set("per_page", "100")
	if !since.IsZero() {
		q.Set("updated_after", since.UTC().Format(time.RFC3339Nano))
	}
	for u := r.url(path, q); u != ""; {
		resp, err := r.get(ctx, u, "")
		if err != nil {
			return err
		}
		var page []json.RawMessage
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return fmt.Errorf("%s: %w", u, err)
		}
		var fresh []json.RawMessage
		var updated []time.Time
		for _, raw := range page {
			var obj listed
			if err := json.Unmarshal(raw, &obj); err != nil {
				return fmt.Errorf("%s: %w", u, err)
			}
			switch {
			case obj.UpdatedAt.Equal(cur.Since) && seen[obj.ID]:
				continue // committed by the run that saved the cursor
			case obj.UpdatedAt.After(cur.Since):
				cur.Since = obj.UpdatedAt
				seen = map[int64]bool{}
			}
			if obj.UpdatedAt.Equal(cur.Since) {
				seen[obj.ID] = true
			}
			fresh = append(fresh, raw)
			updated = append(updated, obj.UpdatedAt)
		}
		if prepare != nil && len(fresh) > 0 {
			if err := prepare(ctx, fresh); err != nil {
				return err
			}
		}
		var events []delivery.Event
		r.extra = nil
		for i, raw := range fresh {
			payloads, err := toPayloads(raw, updated[i])
			if err != nil {
				return err
			}
			for _, p := range payloads {
				events = append(events, r.translate(p)...)
			}
		}
		events = append(events, r.extra...)
		if err := r.commit(ctx, events); err != nil {
			return err
		}
		cur.LastID = idList(seen)
		if err := r.c.cursors.SaveCursor(ctx, cur); err != nil {
			return err
		}
		u = resp.Next
	}
	return nil
}

func idList(ids map[int64]bool) string {
	out := make([]string, 0, len(ids))
	for id := range ids {
		out = append(out, strconv.FormatInt(id, 10))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// translate maps one payload; what the connector ignores or cannot read is
// left out (the latter logged and counted).
func (r *projectRun) translate(payload map[string]any) []delivery.Event {
	payload["project"] = map[string]any{"path_with_namespace": r.project, "default_branch": r.defaultBranch}
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

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// deployments maps each deployment's current status as the deployment
// event reporting it would be; the status changed when it was updated.
// When the deployment's job (deployable) has started, the event of its
// start, "running" at the job's started_at, comes first, as the webhook
// sends it.
func (r *projectRun) deployments(ctx context.Context) error {
	return r.list(ctx, "deployments", "/deployments", url.Values{}, nil, func(raw json.RawMessage, updated time.Time) ([]map[string]any, error) {
		var d struct {
			ID          int64  `json:"id"`
			Ref         string `json:"ref"`
			SHA         string `json:"sha"`
			Status      string `json:"status"`
			Environment struct {
				Name string `json:"name"`
			} `json:"environment"`
			Deployable *struct {
				StartedAt time.Time `json:"started_at"`
			} `json:"deployable"`
		}
		if json.Unmarshal(raw, &d) != nil {
			return nil, nil
		}
		event := func(status string, at time.Time) map[string]any {
			return map[string]any{"object_kind": "deployment", "status": status, "status_changed_at": at,
				"deployment_id": d.ID, "environment": d.Environment.Name, "sha": d.SHA, "ref": d.Ref}
		}
		var out []map[string]any
		if j := d.Deployable; j != nil && !j.StartedAt.IsZero() && d.Status != "created" && d.Status != "blocked" && j.StartedAt.Before(updated) {
			out = append(out, event("running", j.StartedAt))
		}
		return append(out, event(d.Status, updated)), nil
	})
}

// finished are the pipeline statuses that end a pipeline: the list does
// not carry finished_at, so such a pipeline finished when last updated.
var finished = map[string]bool{"success": true, "failed": true, "canceled": true, "skipped": true}

// pipelines maps each pipeline as the pipeline event would be.
func (r *projectRun) pipelines(ctx context.Context) error {
	return r.list(ctx, "pipelines", "/pipelines", url.Values{}, nil, func(raw json.RawMessage, updated time.Time) ([]map[string]any, error) {
		var p struct {
			ID        int64     `json:"id"`
			Ref       string    `json:"ref"`
			SHA       string    `json:"sha"`
			Status    string    `json:"status"`
			Tag       bool      `json:"tag"`
			CreatedAt time.Time `json:"created_at"`
		}
		if json.Unmarshal(raw, &p) != nil {
			return nil, nil
		}
		attrs := map[string]any{"id": p.ID, "ref": p.Ref, "sha": p.SHA, "status": p.Status, "tag": p.Tag, "created_at": p.CreatedAt}
		if finished[p.Status] {
			attrs["finished_at"] = updated
		}
		return []map[string]any{{"object_kind": "pipeline", "object_attributes": attrs}}, nil
	})
}
