// Package jira collects a Jira project's issues by JQL through the Jira
// Cloud REST API (GET /rest/api/3/search/jql, with their changelog), and
// its boards' sprints with their issues through the agile API
// (/rest/agile/1.0/board, .../board/{id}/sprint, .../sprint/{id}/issue),
// mapped by the webhook
// connector (internal/ingest/jira): a webhook carries the same issue
// object, so each issue is wrapped in the jira:issue_updated event that
// would report it, and becomes the same work item (with its story points,
// sprint and acceptance criteria) and, for an incident issue type, the
// same incident.
//
// Issues are read oldest update first from the project's cursor, which is
// saved after each page's events are committed. JQL compares times to the
// minute in the account's zone, so a run asks again from a day before the
// cursor; the issues read twice have the same keys and change nothing.
package jira

import (
	"context"
	"encoding/base64"
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
	jiraingest "github.com/stride-oss/stride/internal/ingest/jira"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
)

// Source is what collected events are stamped with.
const Source = "jira-api"

// overlap is how far before the cursor a run asks again.
const overlap = 24 * time.Hour

// Writer commits events: *intake.Intake.
type Writer interface {
	Events(ctx context.Context, source string, events []delivery.Event) (intake.Result, error)
}

// Cursors keeps where each project stopped: *store.DB.
type Cursors interface {
	Cursor(ctx context.Context, source, scope, resource string) (store.Cursor, error)
	SaveCursor(ctx context.Context, c store.Cursor) error
}

// Config says what to collect.
type Config struct {
	// URL is the site, https://TEAM.atlassian.net.
	URL string
	// Projects are project keys.
	Projects []string
	// Since bounds what a first run reads; zero reads it all.
	Since time.Time
	// Webhook is the connector's configuration (fields, incident types,
	// teams, mapping); its secret is not needed.
	Webhook jiraingest.Config
	Logger  *slog.Logger
	// Progress, when set, is told after each page, each write and each
	// project finished (a scope of collect.Progress).
	Progress func(collect.Progress)
}

// Basic returns the Auth of an Atlassian account's e-mail address and API
// token.
func Basic(email, token string) func(*http.Request) {
	cred := base64.StdEncoding.EncodeToString([]byte(email + ":" + token))
	return func(r *http.Request) {
		r.Header.Set("Authorization", "Basic "+cred)
		r.Header.Set("Accept", "application/json")
	}
}

// ProjectResult is what a run did for one project.
type ProjectResult struct {
	Project       string
	Pages         int
	Issues        int
	Events, Added int
	Skipped       int
	// Boards and Sprints are what the agile API listed; SprintsRead the
	// sprints whose issues were read (a closed sprint is read once).
	Boards, Sprints, SprintsRead int
	Err                          error
}

// Collector reads Jira into Stride.
type Collector struct {
	cfg     Config
	client  *collect.Client
	out     Writer
	cursors Cursors
	mapper  *jiraingest.Source
	tracker *collect.Tracker
	// categories are the site's statuses' categories (lower-case names),
	// read once a run, for the changelog's statuses.
	categories map[string]delivery.WorkItemCategory
}

// New returns a collector.
func New(cfg Config, client *collect.Client, out Writer, cursors Cursors) *Collector {
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Collector{cfg: cfg, client: client, out: out, cursors: cursors, mapper: jiraingest.New(cfg.Webhook),
		tracker: collect.NewTracker(client, cfg.Progress)}
}

// Run collects each project; one that fails does not stop the others.
func (c *Collector) Run(ctx context.Context) ([]ProjectResult, error) {
	var out []ProjectResult
	c.tracker.Start(len(c.cfg.Projects))
	c.categories = c.statusCategories(ctx)
	for _, p := range c.cfg.Projects {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		res := ProjectResult{Project: p}
		err := c.project(ctx, p, &res)
		if err == nil {
			err = c.sprints(ctx, p, &res)
		}
		if err != nil {
			res.Err = err
			c.cfg.Logger.Warn("collect: project stopped", "project", p, "err", err)
		}
		out = append(out, res)
		c.tracker.Done(p, res.Err)
	}
	return out, ctx.Err()
}

// jql is the query of project's issues updated from since on, oldest
// update first.
func jql(project string, since time.Time) string {
	q := fmt.Sprintf("project = %q", project)
	if !since.IsZero() {
		q += fmt.Sprintf(" AND updated >= %q", since.UTC().Format("2006-01-02 15:04"))
	}
	return q + " ORDER BY updated ASC"
}

func (c *Collector) project(ctx context.Context, project string, res *ProjectResult) error {
	cur, err := c.cursors.Cursor(ctx, Source, project, "issues")
	if err != nil {
		return err
	}
	since := c.cfg.Since
	if !cur.Since.IsZero() {
		since = cur.Since.Add(-overlap)
	}
	token := ""
	for {
		q := url.Values{"jql": {jql(project, since)}, "fields": {"*all"}, "maxResults": {"100"}, "expand": {"changelog"}}
		if token != "" {
			q.Set("nextPageToken", token)
		}
		resp, err := c.client.Do(ctx, collect.Request{URL: c.cfg.URL + "/rest/api/3/search/jql?" + q.Encode()})
		if err != nil {
			return err
		}
		res.Pages++
		c.tracker.Page()
		var page struct {
			Issues        []json.RawMessage `json:"issues"`
			NextPageToken string            `json:"nextPageToken"`
			IsLast        bool              `json:"isLast"`
		}
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return fmt.Errorf("search %s: %w", project, err)
		}
		var events []delivery.Event
		for _, raw := range page.Issues {
			var is struct {
				Fields struct {
					Updated string `json:"updated"`
				} `json:"fields"`
			}
			if err := json.Unmarshal(raw, &is); err != nil {
				return fmt.Errorf("search %s: %w", project, err)
			}
			res.Issues++
			updated := parseTime(is.Fields.Updated)
			if updated.After(cur.Since) {
				cur.Since = updated
			}
			body, err := json.Marshal(map[string]any{"webhookEvent": "jira:issue_updated", "timestamp": updated.UnixMilli(), "issue": raw})
			if err != nil {
				return err
			}
			ev, err := c.mapper.Translate(http.Header{}, body)
			switch {
			case errors.Is(err, ingest.ErrIgnored):
			case err != nil:
				res.Skipped++
				c.cfg.Logger.Warn("collect: an issue the connector cannot read is left out", "project", project, "err", err)
			default:
				events = append(events, c.categorize(ev)...)
			}
		}
		if len(events) > 0 {
			r, err := c.out.Events(ctx, Source, events)
			if err != nil {
				return fmt.Errorf("write %d events of %s: %w", len(events), project, err)
			}
			res.Events += r.Events
			res.Added += r.Added
			c.tracker.Wrote(r.Events, r.Added)
		}
		if err := c.cursors.SaveCursor(ctx, cur); err != nil {
			return err
		}
		if page.IsLast || page.NextPageToken == "" || len(page.Issues) == 0 {
			return nil
		}
		token = page.NextPageToken
	}
}

// parseTime reads a time as Jira writes it ("2026-03-02T09:00:00.000+0000"),
// the zero time when it cannot.
func parseTime(s string) time.Time {
	for _, l := range []string{"2006-01-02T15:04:05.999999999-0700", time.RFC3339Nano, "2006-01-02T15:04:05-0700"} {
		if t, err := time.Parse(l, strings.TrimSpace(s)); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// statusCategories reads the site's statuses (GET /rest/api/3/status) and
// their categories, so that each status of a changelog has its category
// and not only the one an issue is in now. A site that does not answer
// leaves them to the report, which says which it could not place.
func (c *Collector) statusCategories(ctx context.Context) map[string]delivery.WorkItemCategory {
	resp, err := c.client.Do(ctx, collect.Request{URL: c.cfg.URL + "/rest/api/3/status"})
	if err != nil {
		c.cfg.Logger.Warn("collect: the statuses of the site could not be read; the report places the changelog's statuses itself", "err", err)
		return nil
	}
	var statuses []struct {
		Name           string `json:"name"`
		StatusCategory struct {
			Key string `json:"key"`
		} `json:"statusCategory"`
	}
	if err := json.Unmarshal(resp.Body, &statuses); err != nil {
		c.cfg.Logger.Warn("collect: the statuses of the site are unreadable", "err", err)
		return nil
	}
	keys := map[string]delivery.WorkItemCategory{"new": delivery.CategoryToDo, "indeterminate": delivery.CategoryInProgress, "done": delivery.CategoryDone}
	out := map[string]delivery.WorkItemCategory{}
	for _, st := range statuses {
		if cat, ok := keys[st.StatusCategory.Key]; ok && st.Name != "" {
			out[strings.ToLower(st.Name)] = cat
		}
	}
	return out
}

// categorize gives each status change of the work items the category of
// its status, where the connector could not tell it.
func (c *Collector) categorize(events []delivery.Event) []delivery.Event {
	if len(c.categories) == 0 {
		return events
	}
	for i := range events {
		w := events[i].WorkItem
		if w == nil {
			continue
		}
		changed := false
		for j := range w.Transitions {
			tr := &w.Transitions[j]
			if cat, ok := c.categories[strings.ToLower(tr.Status)]; ok && tr.Status != "" && tr.Category == "" {
				tr.Category, changed = cat, true
			}
		}
		if changed {
			// Validate sorts the changelog again: the category is part of
			// its order.
			if err := events[i].Validate(); err != nil {
				c.cfg.Logger.Warn("collect: an issue's changelog did not validate after its categories were set", "key", w.Key, "err", err)
			}
		}
	}
	return events
}
