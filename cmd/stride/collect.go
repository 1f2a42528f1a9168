package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/collect"
	collectgithub "github.com/stride-oss/stride/internal/collect/github"
	collectgitlab "github.com/stride-oss/stride/internal/collect/gitlab"
	collectjira "github.com/stride-oss/stride/internal/collect/jira"
	collectpagerduty "github.com/stride-oss/stride/internal/collect/pagerduty"
	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/delivery"
	ghingest "github.com/stride-oss/stride/internal/ingest/github"
	glingest "github.com/stride-oss/stride/internal/ingest/gitlab"
	jiraingest "github.com/stride-oss/stride/internal/ingest/jira"
	pdingest "github.com/stride-oss/stride/internal/ingest/pagerduty"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/jobs"
	"github.com/stride-oss/stride/internal/store"
)

const collectUsage = `Usage:
  stride collect github --repo OWNER/NAME [--repo ...] [--org ORG] [--since DATE] [--api-url URL] [--concurrency N] [--quiet]
  stride collect gitlab --project GROUP/NAME [--project ...] [--since DATE] [--api-url URL] [--concurrency N] [--quiet]
  stride collect pagerduty --service ID [--service ...] [--since DATE] [--api-url URL] [--quiet]
  stride collect jira --project KEY [--project ...] --url https://TEAM.atlassian.net [--since DATE] [--quiet]

Reads a repository's history from GitHub's API (commits with their parents,
tags, releases, pull requests with reviews and comments, deployments,
workflow runs, incident issues), a GitLab project's merge requests,
deployments and pipelines, a PagerDuty service's incidents with their log
entries, or a Jira project's issues, and stores it as the webhooks would
have. A second run reads only what changed. The token is $GITHUB_TOKEN
(a personal, fine-grained or GitHub App installation token),
$GITLAB_TOKEN (a personal, project or group access token),
$PAGERDUTY_TOKEN (a REST API key) or $JIRA_EMAIL and $JIRA_TOKEN (an
Atlassian account and its API token).

On a terminal, a line on stderr is redrawn as the run goes: scopes done
of the total, pages, requests used, the rate-limit budget left where the
vendor's answers say it, and the time left; elsewhere one summary line is
written at the end. --quiet leaves it out.
`

// runCollect is `stride collect <vendor>`.
func runCollect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) > 0 && args[0] == "github":
	case len(args) > 0 && args[0] == "gitlab":
		return runCollectGitLab(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "pagerduty":
		return runCollectPagerDuty(ctx, args[1:], stdout, stderr)
	case len(args) > 0 && args[0] == "jira":
		return runCollectJira(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprint(stderr, collectUsage)
		return 2
	}
	fs := newFlags("collect github", stderr)
	var c common
	c.register(fs)
	var repos, orgs namesFlag
	fs.Var(&repos, "repo", "a repository, owner/name (repeat or comma-separate for several)")
	fs.Var(&orgs, "org", "every repository of an organisation")
	since := fs.String("since", "", "read history from this date or RFC 3339 time on, on a first run (default: all)")
	apiURL := fs.String("api-url", collectgithub.DefaultAPIURL, "the REST API root (GitHub Enterprise: https://HOST/api/v3)")
	concurrency := fs.Int("concurrency", config.DefaultCollectConcurrency, "repositories read at once")
	quiet := fs.Bool("quiet", false, "print no progress")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if !concurrencyOK("github", *concurrency, stderr) {
		return 2
	}
	if len(repos) == 0 && len(orgs) == 0 {
		fmt.Fprintln(stderr, "stride collect github: give --repo OWNER/NAME or --org ORG")
		return 2
	}
	from, tokens, cfg, db, code := openCollect(ctx, stderr, &c, "github", *since, "a token that can read the repositories", "GITHUB_TOKEN")
	if db == nil {
		return code
	}
	defer db.Close()
	token := tokens[0]
	p := newProgress(stderr, "repositories", *quiet)
	col, err := githubCollector(cfg, db, writePath(db, cfg, nil), collectgithub.Config{
		APIURL: *apiURL, Repos: repos, Orgs: orgs, Since: from, Concurrency: *concurrency,
		Progress: p.show, Logger: slog.New(slog.DiscardHandler),
	}, token)
	if err != nil {
		return fail(stderr, err)
	}
	start := time.Now()
	sum, err := col.Run(ctx)
	p.done()
	added, events := 0, 0
	for _, r := range sum.Repos {
		added += r.Added
		events += r.Events
	}
	fmt.Fprintf(stdout, "collected %d repositories: %d events, %d new, %d requests (%d not modified) in %s\n",
		len(sum.Repos)-len(sum.Failed()), events, added, sum.Stats.Requests, sum.Stats.NotModified, time.Since(start).Round(time.Millisecond))
	for _, r := range sum.Repos {
		if r.Err != nil {
			fmt.Fprintf(stderr, "stride collect github: %s stopped: %v\n", r.Repo, r.Err)
		} else {
			fmt.Fprintf(stderr, "%s read: %d pages, %d events (%d new), %d left out\n", r.Repo, r.Pages, r.Events, r.Added, r.Skipped)
		}
	}
	if err != nil {
		return fail(stderr, err)
	}
	if len(sum.Failed()) > 0 {
		return 1
	}
	return 0
}

func parseSince(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, delivery.Errorf(delivery.EINVALID, "%q is neither a date (2026-01-31) nor an RFC 3339 time", s)
	}
	return t, nil
}

// namesFlag is a flag given several times or as a comma-separated list.
type namesFlag []string

func (l *namesFlag) String() string { return strings.Join(*l, ",") }
func (l *namesFlag) Set(v string) error {
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	if len(*l) == 0 {
		return errors.New("empty")
	}
	return nil
}

// scopeResult is what one collected scope (a repository, project or
// service) did, as every collector reports it.
type scopeResult struct {
	Name          string
	Events, Added int
	Err           error
	// Read describes a finished scope: "12 pages, 340 events (5 new)".
	Read string
}

// summarize prints each scope's outcome and the total, and returns the exit
// code: 1 when a scope stopped or the run failed, so a CI job notices.
func summarize(stdout, stderr io.Writer, vendor, unit string, results []scopeResult, took time.Duration, err error) int {
	events, added, failed := 0, 0, 0
	for _, r := range results {
		events += r.Events
		added += r.Added
		if r.Err != nil {
			failed++
			fmt.Fprintf(stderr, "stride collect %s: %s stopped: %v\n", vendor, r.Name, r.Err)
		} else {
			fmt.Fprintf(stderr, "%s read: %s\n", r.Name, r.Read)
		}
	}
	fmt.Fprintf(stdout, "collected %d %s: %d events, %d new in %s\n", len(results)-failed, unit, events, added, took.Round(time.Millisecond))
	if err != nil {
		return fail(stderr, err)
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// concurrencyOK checks --concurrency as stride.yaml's is checked; it prints
// the error and says false when it is out of bounds.
func concurrencyOK(vendor string, n int, stderr io.Writer) bool {
	if err := config.CheckCollectConcurrency("--concurrency", n); err != nil {
		fmt.Fprintf(stderr, "stride collect %s: %v\n", vendor, err)
		return false
	}
	return true
}

// openCollect does what every collect command does after checking its
// scopes: it parses --since, reads the credentials from the variables
// envs (all must be set; want says what they hold), and loads the
// configuration and the database. A nil database means the command ends
// with code, having said why.
func openCollect(ctx context.Context, stderr io.Writer, c *common, vendor, since, want string, envs ...string) (time.Time, []string, config.Config, *store.DB, int) {
	from, ok := sinceOf(vendor, since, stderr)
	if !ok {
		return from, nil, config.Config{}, nil, 2
	}
	tokens := make([]string, len(envs))
	for i, env := range envs {
		if tokens[i] = os.Getenv(env); tokens[i] == "" {
			fmt.Fprintf(stderr, "stride collect %s: set %s to %s\n", vendor, strings.Join(envs, " and "), want)
			return from, nil, config.Config{}, nil, 2
		}
	}
	cfg, db, err := c.load(ctx)
	if err != nil {
		return from, nil, cfg, nil, fail(stderr, err)
	}
	return from, tokens, cfg, db, 0
}

// sinceOf parses --since; it prints the error and says false when it is
// malformed.
func sinceOf(vendor, raw string, stderr io.Writer) (time.Time, bool) {
	if raw == "" {
		return time.Time{}, true
	}
	t, err := parseSince(raw)
	if err != nil {
		fmt.Fprintf(stderr, "stride collect %s: --since: %v\n", vendor, err)
		return time.Time{}, false
	}
	return t, true
}

// webhookConfig is the source's section of stride.yaml, decoded as its
// connector's configuration (the zero one when the source is not set up),
// with the shared mapping: collected events are mapped as the webhook's.
func webhookConfig[T any](cfg config.Config, source string) (T, error) {
	var hook T
	sc, ok, err := cfg.SourceConfig(source)
	if err != nil || !ok {
		return hook, err
	}
	return *sc.(*T), nil
}

// runCollectGitLab is `stride collect gitlab`.
func runCollectGitLab(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("collect gitlab", stderr)
	var c common
	c.register(fs)
	var projects namesFlag
	fs.Var(&projects, "project", "a project, group/name (repeat or comma-separate for several)")
	since := fs.String("since", "", "read history from this date or RFC 3339 time on, on a first run (default: all)")
	apiURL := fs.String("api-url", collectgitlab.DefaultAPIURL, "the API root, https://HOST/api/v4")
	concurrency := fs.Int("concurrency", config.DefaultCollectConcurrency, "projects read at once")
	quiet := fs.Bool("quiet", false, "print no progress")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !concurrencyOK("gitlab", *concurrency, stderr) {
		return 2
	}
	if len(projects) == 0 {
		fmt.Fprintln(stderr, "stride collect gitlab: give --project GROUP/NAME")
		return 2
	}
	from, tokens, cfg, db, code := openCollect(ctx, stderr, &c, "gitlab", *since, "a token that can read the projects", "GITLAB_TOKEN")
	if db == nil {
		return code
	}
	defer db.Close()
	token := tokens[0]
	p := newProgress(stderr, "projects", *quiet)
	col, err := gitlabCollector(cfg, db, writePath(db, cfg, nil), collectgitlab.Config{APIURL: *apiURL, Projects: projects, Since: from,
		Concurrency: *concurrency, Progress: p.show, Logger: slog.New(slog.DiscardHandler)}, token)
	if err != nil {
		return fail(stderr, err)
	}
	start := time.Now()
	results, err := col.Run(ctx)
	p.done()
	return summarize(stdout, stderr, "gitlab", "projects", gitlabScopes(results), time.Since(start), err)
}

// runCollectPagerDuty is `stride collect pagerduty`.
func runCollectPagerDuty(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("collect pagerduty", stderr)
	var c common
	c.register(fs)
	var services namesFlag
	fs.Var(&services, "service", "a PagerDuty service id (repeat or comma-separate for several)")
	since := fs.String("since", "", "read incidents created from this date on, on a first run (default and at most: 180 days back)")
	apiURL := fs.String("api-url", collectpagerduty.DefaultAPIURL, "the REST API root")
	quiet := fs.Bool("quiet", false, "print no progress")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if len(services) == 0 {
		fmt.Fprintln(stderr, "stride collect pagerduty: give --service ID")
		return 2
	}
	from, tokens, cfg, db, code := openCollect(ctx, stderr, &c, "pagerduty", *since, "a REST API key", "PAGERDUTY_TOKEN")
	if db == nil {
		return code
	}
	defer db.Close()
	token := tokens[0]
	p := newProgress(stderr, "services", *quiet)
	col, err := pagerdutyCollector(cfg, db, writePath(db, cfg, nil), collectpagerduty.Config{APIURL: *apiURL, Services: services, Since: from,
		Progress: p.show, Logger: slog.New(slog.DiscardHandler)}, token)
	if err != nil {
		return fail(stderr, err)
	}
	start := time.Now()
	results, err := col.Run(ctx)
	p.done()
	return summarize(stdout, stderr, "pagerduty", "services", pagerdutyScopes(results), time.Since(start), err)
}

// runCollectJira is `stride collect jira`.
func runCollectJira(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("collect jira", stderr)
	var c common
	c.register(fs)
	var projects namesFlag
	fs.Var(&projects, "project", "a project key (repeat or comma-separate for several)")
	site := fs.String("url", "", "the Jira Cloud site, https://TEAM.atlassian.net")
	since := fs.String("since", "", "read issues updated from this date on, on a first run (default: all)")
	quiet := fs.Bool("quiet", false, "print no progress")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if len(projects) == 0 || *site == "" {
		fmt.Fprintln(stderr, "stride collect jira: give --project KEY and --url https://TEAM.atlassian.net")
		return 2
	}
	from, tokens, cfg, db, code := openCollect(ctx, stderr, &c, "jira", *since, "an Atlassian account and its API token", "JIRA_EMAIL", "JIRA_TOKEN")
	if db == nil {
		return code
	}
	defer db.Close()
	email, token := tokens[0], tokens[1]
	p := newProgress(stderr, "projects", *quiet)
	col, err := jiraCollector(cfg, db, writePath(db, cfg, nil), collectjira.Config{URL: *site, Projects: projects, Since: from,
		Progress: p.show, Logger: slog.New(slog.DiscardHandler)}, email, token)
	if err != nil {
		return fail(stderr, err)
	}
	start := time.Now()
	results, err := col.Run(ctx)
	p.done()
	return summarize(stdout, stderr, "jira", "projects", jiraScopes(results), time.Since(start), err)
}

// collectTasks are the collectors stride.yaml's collect: section names, as
// jobs of the runner: each reads what changed since its last run through the
// one write path, every period. A token left out is read from the variable
// the command line uses.
func collectTasks(cfg config.Config, db *store.DB, in *intake.Intake, logger *slog.Logger) ([]jobs.Task, error) {
	token := func(given, env string) string {
		if given != "" {
			return given
		}
		return os.Getenv(env)
	}
	orDefault := func(v, d string) string {
		if v == "" {
			return d
		}
		return v
	}
	var tasks []jobs.Task
	c := cfg.Collect
	if g := c.GitHub; g != nil {
		col, err := githubCollector(cfg, db, in, collectgithub.Config{APIURL: orDefault(g.APIURL, collectgithub.DefaultAPIURL), Repos: g.Repos, Orgs: g.Orgs,
			Concurrency: config.CollectConcurrency(g.Concurrency), Logger: logger}, token(g.Token, "GITHUB_TOKEN"))
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, col.Task("collect-github", config.CollectEvery(g.Every)))
	}
	if g := c.GitLab; g != nil {
		col, err := gitlabCollector(cfg, db, in, collectgitlab.Config{APIURL: orDefault(g.APIURL, collectgitlab.DefaultAPIURL), Projects: g.Projects,
			Concurrency: config.CollectConcurrency(g.Concurrency), Logger: logger}, token(g.Token, "GITLAB_TOKEN"))
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, scopesTask("collect-gitlab", g.Every, func(ctx context.Context) ([]scopeResult, error) {
			rs, err := col.Run(ctx)
			return gitlabScopes(rs), err
		}))
	}
	if p := c.PagerDuty; p != nil {
		col, err := pagerdutyCollector(cfg, db, in, collectpagerduty.Config{APIURL: orDefault(p.APIURL, collectpagerduty.DefaultAPIURL), Services: p.Services,
			Logger: logger}, token(p.Token, "PAGERDUTY_TOKEN"))
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, scopesTask("collect-pagerduty", p.Every, func(ctx context.Context) ([]scopeResult, error) {
			rs, err := col.Run(ctx)
			return pagerdutyScopes(rs), err
		}))
	}
	if j := c.Jira; j != nil {
		col, err := jiraCollector(cfg, db, in, collectjira.Config{URL: j.URL, Projects: j.Projects, Logger: logger},
			token(j.Email, "JIRA_EMAIL"), token(j.Token, "JIRA_TOKEN"))
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, scopesTask("collect-jira", j.Every, func(ctx context.Context) ([]scopeResult, error) {
			rs, err := col.Run(ctx)
			return jiraScopes(rs), err
		}))
	}
	return tasks, nil
}

// scopesTask is a collector as a job: a run in which some scopes stopped is
// a failed run naming each (the runner logs it), the others having been read.
func scopesTask(name string, every time.Duration, run func(ctx context.Context) ([]scopeResult, error)) jobs.Task {
	return jobs.Task{Name: name, Every: config.CollectEvery(every), Share: 0.2, Run: func(ctx context.Context) error {
		scopes, err := run(ctx)
		errs := []error{err}
		for _, r := range scopes {
			if r.Err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", r.Name, r.Err))
			}
		}
		return errors.Join(errs...)
	}}
}

// The collectors, built alike for `stride collect` and for the jobs of a
// collect: section: each maps what it reads with its source's section of
// stride.yaml and the shared mapping, as the webhooks do, and writes
// through the write path in.

// requestsInFlight is the client's bound for a collector reading
// concurrency scopes at once: two requests each, so one scope's page being
// written does not leave its slot idle.
func requestsInFlight(concurrency int) int {
	return 2 * config.CollectConcurrency(concurrency)
}

func githubCollector(cfg config.Config, db *store.DB, in *intake.Intake, c collectgithub.Config, token string) (*collectgithub.Collector, error) {
	hook, err := webhookConfig[ghingest.Config](cfg, ghingest.Name)
	if err != nil {
		return nil, err
	}
	hook.Mapping = cfg.Mapping()
	c.Webhook = hook
	return collectgithub.New(c, collect.NewClient(requestsInFlight(c.Concurrency), collect.Bearer(token)), in, db), nil
}

func gitlabCollector(cfg config.Config, db *store.DB, in *intake.Intake, c collectgitlab.Config, token string) (*collectgitlab.Collector, error) {
	hook, err := webhookConfig[glingest.Config](cfg, glingest.Name)
	if err != nil {
		return nil, err
	}
	hook.Mapping = cfg.Mapping()
	c.Webhook = hook
	return collectgitlab.New(c, collect.NewClient(requestsInFlight(c.Concurrency), collect.Bearer(token)), in, db), nil
}

func pagerdutyCollector(cfg config.Config, db *store.DB, in *intake.Intake, c collectpagerduty.Config, token string) (*collectpagerduty.Collector, error) {
	hook, err := webhookConfig[pdingest.Config](cfg, pdingest.Name)
	if err != nil {
		return nil, err
	}
	hook.Mapping = cfg.Mapping()
	c.Webhook = hook
	return collectpagerduty.New(c, collect.NewClient(4, collectpagerduty.Token(token)), in, db)
}

func jiraCollector(cfg config.Config, db *store.DB, in *intake.Intake, c collectjira.Config, email, token string) (*collectjira.Collector, error) {
	hook, err := webhookConfig[jiraingest.Config](cfg, jiraingest.Name)
	if err != nil {
		return nil, err
	}
	hook.Mapping = cfg.Mapping()
	c.Webhook = hook
	return collectjira.New(c, collect.NewClient(4, collectjira.Basic(email, token)), in, db), nil
}

func gitlabScopes(rs []collectgitlab.ProjectResult) []scopeResult {
	out := make([]scopeResult, len(rs))
	for i, r := range rs {
		out[i] = scopeResult{Name: r.Project, Events: r.Events, Added: r.Added, Err: r.Err,
			Read: fmt.Sprintf("%d pages, %d events (%d new), %d left out", r.Pages, r.Events, r.Added, r.Skipped)}
	}
	return out
}

func pagerdutyScopes(rs []collectpagerduty.ServiceResult) []scopeResult {
	out := make([]scopeResult, len(rs))
	for i, r := range rs {
		out[i] = scopeResult{Name: r.Service, Events: r.Events, Added: r.Added, Err: r.Err,
			Read: fmt.Sprintf("%d incidents, %d events (%d new), %d left out", r.Incidents, r.Events, r.Added, r.Skipped)}
	}
	return out
}

func jiraScopes(rs []collectjira.ProjectResult) []scopeResult {
	out := make([]scopeResult, len(rs))
	for i, r := range rs {
		out[i] = scopeResult{Name: r.Project, Events: r.Events, Added: r.Added, Err: r.Err,
			Read: fmt.Sprintf("%d issues in %d pages, %d boards with %d sprints (%d read), %d events (%d new), %d left out",
				r.Issues, r.Pages, r.Boards, r.Sprints, r.SprintsRead, r.Events, r.Added, r.Skipped)}
	}
	return out
}
