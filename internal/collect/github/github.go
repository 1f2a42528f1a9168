// Package github collects a GitHub repository's history through the REST
// and GraphQL APIs: commits of the default and release branches with their
// parents, tags and releases, pull requests with their first commit,
// reviews and comments, deployments and their statuses, workflow runs and
// issues labelled as incidents.
//
// What it reads is mapped by the webhook connector (internal/ingest/github):
// each API object is wrapped in the webhook payload that would have carried
// it and translated, so a collected entity is the same delivery.Event, with
// the same idempotency key, as the webhook's, and the two merge into one.
// Only what a webhook cannot tell (a commit's true parents, a pull request's
// first commit and ready-for-review time) has events of its own.
//
// Each resource of each repository keeps a cursor in the store, saved only
// after the events it covers are committed through intake, and list
// requests are conditional on the last answer's ETag, so a run after no
// change costs a handful of requests, most of them free 304s.
package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/stride-oss/stride/internal/collect"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
	ghingest "github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/jobs"
	"github.com/stride-oss/stride/internal/store"
)

// Source is the source collected events are stamped with. It is not the
// webhook's "github": `stride reprocess --source github` rebuilds what only
// that source reported from its stored deliveries, and collected events
// have none.
const Source = "github-api"

// DefaultAPIURL is GitHub.com's API.
const DefaultAPIURL = "https://api.github.com"

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
	// APIURL is the REST API's root: https://api.github.com, or
	// https://HOST/api/v3 for GitHub Enterprise Server. GraphQL is asked
	// at /graphql beside it (HOST/api/graphql on Enterprise).
	APIURL string
	// Repos are owner/name; Orgs add every repository of an organisation.
	Repos []string
	Orgs  []string
	// Since bounds the history read on a first run; zero reads it all.
	Since time.Time
	// ReleaseBranches are the glob patterns of the branches whose commits
	// are read besides the default branch's (default release/*, release-*).
	ReleaseBranches []string
	// Concurrency is how many repositories are read at once (default 4).
	Concurrency int
	// Webhook is the connector's configuration, the mapping included, so
	// the collected events are mapped as the webhook's are.
	Webhook ghingest.Config
	// Progress, when set, is told after each page, each write and each
	// repository (a scope of collect.Progress).
	Progress func(collect.Progress)
	// Logger receives a line per repository (slog.Default when nil).
	Logger *slog.Logger
}

// RepoResult is what a run did for one repository.
type RepoResult struct {
	Repo          string
	Pages         int
	Events, Added int
	// Skipped counts the objects the connector could not read.
	Skipped int
	// Err stopped the repository; the others were read regardless.
	Err error
}

// Summary is what a run did.
type Summary struct {
	Repos []RepoResult
	Stats collect.Stats
}

// Failed returns the repositories that stopped on an error.
func (s Summary) Failed() []RepoResult {
	var out []RepoResult
	for _, r := range s.Repos {
		if r.Err != nil {
			out = append(out, r)
		}
	}
	return out
}

// Collector reads GitHub into Stride.
type Collector struct {
	cfg     Config
	client  *collect.Client
	out     Writer
	cursors Cursors
	mapper  *ghingest.Source
	tracker *collect.Tracker
}

// New returns a collector reading with client, writing to out and keeping
// its cursors in cursors.
func New(cfg Config, client *collect.Client, out Writer, cursors Cursors) *Collector {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimSuffix(cfg.APIURL, "/")
	if len(cfg.ReleaseBranches) == 0 {
		cfg.ReleaseBranches = []string{"release/*", "release-*"}
	}
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 4
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Collector{cfg: cfg, client: client, out: out, cursors: cursors, mapper: ghingest.New(cfg.Webhook),
		tracker: collect.NewTracker(client, cfg.Progress)}
}

// GraphQLURL is where the GraphQL API of the REST root api is:
// api.github.com/graphql, or HOST/api/graphql for HOST/api/v3.
func GraphQLURL(api string) string {
	if base, ok := strings.CutSuffix(api, "/api/v3"); ok {
		return base + "/api/graphql"
	}
	return api + "/graphql"
}

// Run collects every configured repository, Concurrency at a time. A
// repository that fails (it does not exist, the token cannot read it) is
// reported in the summary and does not stop the others; the error is for
// what stops the whole run (listing an organisation, a cancelled context).
func (c *Collector) Run(ctx context.Context) (Summary, error) {
	repos := append([]string(nil), c.cfg.Repos...)
	for _, org := range c.cfg.Orgs {
		names, err := c.orgRepos(ctx, org)
		if err != nil {
			return Summary{Stats: c.client.Stats()}, fmt.Errorf("list the repositories of %s: %w", org, err)
		}
		repos = append(repos, names...)
	}
	c.tracker.Start(len(repos))

	results := make([]RepoResult, len(repos))
	for i, r := range repos {
		// What a cancelled run never started says so.
		results[i] = RepoResult{Repo: r, Err: context.Canceled}
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(c.cfg.Concurrency, max(len(repos), 1)) {
		wg.Go(func() {
			for i := range next {
				results[i] = c.repo(ctx, repos[i])
				c.finished(results[i])
			}
		})
	}
feed:
	for i := range repos {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return Summary{Repos: results, Stats: c.client.Stats()}, ctx.Err()
}

// Task is the collector as a job of the runner (a collect: section of
// stride.yaml), run every period; a run in which a repository stopped is
// a failed run, naming each, and the other repositories were read.
func (c *Collector) Task(name string, every time.Duration) jobs.Task {
	return jobs.Task{Name: name, Every: every, Run: func(ctx context.Context) error {
		sum, err := c.Run(ctx)
		if err != nil {
			return err
		}
		var errs []error
		for _, r := range sum.Failed() {
			errs = append(errs, fmt.Errorf("%s: %w", r.Repo, r.Err))
		}
		return errors.Join(errs...)
	}}
}

func (c *Collector) finished(r RepoResult) {
	if r.Err != nil {
		c.cfg.Logger.Warn("collect: repository stopped", "repo", r.Repo, "err", r.Err)
	} else {
		c.cfg.Logger.Info("collect: repository read", "repo", r.Repo, "pages", r.Pages, "events", r.Events, "added", r.Added)
	}
	c.tracker.Done(r.Repo, r.Err)
}

// repoRun is the state of one repository's collection.
type repoRun struct {
	c    *Collector
	repo string
	res  *RepoResult
	// commitTimes are the commit times read this run, for dating tags.
	commitTimes map[string]time.Time
	// published are the releases' publication times by tag.
	published map[string]time.Time
	// commitPaths picks the commits whose files are asked for.
	commitPaths *collect.CommitPaths
	// defaultBranch is the repository's default branch once branches has
	// read it, sent with each translated object as a webhook sends it.
	defaultBranch string
}

func (c *Collector) repo(ctx context.Context, repo string) RepoResult {
	res := RepoResult{Repo: repo}
	if strings.Count(repo, "/") != 1 || strings.HasPrefix(repo, "/") || strings.HasSuffix(repo, "/") {
		res.Err = fmt.Errorf("%q is not owner/name", repo)
		return res
	}
	r := &repoRun{c: c, repo: repo, res: &res, commitPaths: collect.NewCommitPaths(c.cfg.Webhook.Mapping, repo)}
	// Releases come before tags: a tag's release dates its deployment.
	steps := []func(context.Context) error{r.commits, r.releases, r.tags, r.pulls, r.deployments, r.runs, r.incidents}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			res.Err = err
			break
		}
	}
	return res
}

// get reads one page, conditional on etag.
func (r *repoRun) get(ctx context.Context, u, etag string) (*collect.Response, error) {
	resp, err := r.c.client.Do(ctx, collect.Request{URL: u, ETag: etag, Header: http.Header{
		"Accept": {"application/vnd.github+json"}, "X-Github-Api-Version": {"2022-11-28"}}})
	if err != nil {
		return nil, err
	}
	r.res.Pages++
	r.c.tracker.Page()
	return resp, nil
}

// url is the REST URL of the repository's path with query.
func (r *repoRun) url(p string, query url.Values) string {
	u := r.c.cfg.APIURL + "/repos/" + r.repo + p
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}

// commit writes events through intake. Nothing is written for none.
func (r *repoRun) commit(ctx context.Context, events []delivery.Event) error {
	for len(events) > 0 {
		n := min(len(events), delivery.MaxBatch)
		res, err := r.c.out.Events(ctx, Source, events[:n])
		if err != nil {
			return fmt.Errorf("write %d events of %s: %w", n, r.repo, err)
		}
		r.res.Events += res.Events
		r.res.Added += res.Added
		r.c.tracker.Wrote(res.Events, res.Added)
		events = events[n:]
	}
	return nil
}

func (r *repoRun) cursor(ctx context.Context, resource string) (store.Cursor, error) {
	return r.c.cursors.Cursor(ctx, Source, r.repo, resource)
}

func (r *repoRun) save(ctx context.Context, cur store.Cursor) error {
	return r.c.cursors.SaveCursor(ctx, cur)
}

// translate maps one API object as the webhook connector maps the payload
// event that carries it. What the connector ignores (a pre-release, an
// inactive deployment) is left out; what it cannot read (a malformed
// delivery, were it a webhook) is left out too, logged and counted in
// Skipped, so one odd object does not stop its repository.
func (r *repoRun) translate(event string, payload map[string]any) ([]delivery.Event, error) {
	repo := map[string]any{"full_name": r.repo}
	if r.defaultBranch != "" {
		repo["default_branch"] = r.defaultBranch
	}
	payload["repository"] = repo
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", event, err)
	}
	h := http.Header{}
	h.Set(ghingest.HeaderEvent, event)
	events, err := r.c.mapper.Translate(h, body)
	if errors.Is(err, ingest.ErrIgnored) {
		return nil, nil
	}
	if err != nil {
		r.res.Skipped++
		r.c.cfg.Logger.Warn("collect: an object the connector cannot read is left out", "repo", r.repo, "event", event, "err", err)
		return nil, nil
	}
	return events, nil
}

// matches reports whether name matches one of the glob patterns.
func matches(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, err := path.Match(p, name); err == nil && ok {
			return true
		}
	}
	return false
}

func (c *Collector) orgRepos(ctx context.Context, org string) ([]string, error) {
	var names []string
	u := c.cfg.APIURL + "/orgs/" + url.PathEscape(org) + "/repos?per_page=100&type=all"
	for u != "" {
		resp, err := c.client.Do(ctx, collect.Request{URL: u})
		if err != nil {
			return nil, err
		}
		var page []struct {
			FullName string `json:"full_name"`
			Archived bool   `json:"archived"`
		}
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
		for _, r := range page {
			if !r.Archived {
				names = append(names, r.FullName)
			}
		}
		u = resp.Next
	}
	return names, nil
}
