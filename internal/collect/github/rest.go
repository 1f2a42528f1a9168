package github

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/collect"
	"github.com/stride-oss/stride/internal/delivery"
	ghingest "github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/store"
)

// overlap is how far before the newest commit of the last run a commit
// sweep starts again: commits a merge brings in keep their older dates, and
// the sweep must still list them. Commits seen twice have the same key.
const overlap = 14 * 24 * time.Hour

// sweep reads a list newest first from u, its first page conditional on
// the ETag of the resource's cursor (a 304 ends the sweep: nothing
// changed). page turns a page into events, which are committed before the
// next page is read, and says when the rest is older than what the last
// run read. The cursor, with the first page's ETag and what done adds, is
// saved only once the sweep is complete, so a run killed midway reads the
// same pages again and their events, already committed, change nothing.
func (r *repoRun) sweep(ctx context.Context, resource, u string, page func(body []byte, cur store.Cursor) ([]delivery.Event, bool, error), done func(cur *store.Cursor)) error {
	cur, err := r.cursor(ctx, resource)
	if err != nil {
		return err
	}
	etag := ""
	for first := true; u != ""; first = false {
		ask := ""
		if first {
			ask = cur.ETag
		}
		resp, err := r.get(ctx, u, ask)
		if err != nil {
			return err
		}
		if resp.NotModified {
			return nil
		}
		if first {
			etag = resp.ETag
		}
		events, stop, err := page(resp.Body, cur)
		if err != nil {
			return fmt.Errorf("%s: %w", u, err)
		}
		if err := r.commit(ctx, events); err != nil {
			return err
		}
		if stop {
			break
		}
		u = resp.Next
	}
	next := cur
	next.ETag = etag
	if done != nil {
		done(&next)
	}
	return r.save(ctx, next)
}

// branches returns the default branch and the release branches.
func (r *repoRun) branches(ctx context.Context) ([]string, error) {
	var def string
	err := r.sweep(ctx, "repository", r.url("", nil), func(body []byte, _ store.Cursor) ([]delivery.Event, bool, error) {
		var repo struct {
			DefaultBranch string `json:"default_branch"`
		}
		if err := json.Unmarshal(body, &repo); err != nil {
			return nil, false, err
		}
		def = repo.DefaultBranch
		return nil, true, nil
	}, func(cur *store.Cursor) { cur.LastID = def })
	if err != nil {
		return nil, err
	}
	if def == "" {
		cur, err := r.cursor(ctx, "repository")
		if err != nil {
			return nil, err
		}
		def = cur.LastID
	}
	r.defaultBranch = def
	var release []string
	err = r.sweep(ctx, "branches", r.url("/branches", url.Values{"per_page": {"100"}}), func(body []byte, _ store.Cursor) ([]delivery.Event, bool, error) {
		var page []struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, false, err
		}
		for _, b := range page {
			if b.Name != def && matches(r.c.cfg.ReleaseBranches, b.Name) {
				release = append(release, b.Name)
			}
		}
		return nil, false, nil
	}, func(cur *store.Cursor) { cur.LastID = strings.Join(release, " ") })
	if err != nil {
		return nil, err
	}
	if release == nil {
		cur, err := r.cursor(ctx, "branches")
		if err != nil {
			return nil, err
		}
		release = strings.Fields(cur.LastID)
	}
	return append([]string{def}, release...), nil
}

type apiCommit struct {
	SHA    string `json:"sha"`
	Commit struct {
		Message   string `json:"message"`
		Author    gitWho `json:"author"`
		Committer gitWho `json:"committer"`
	} `json:"commit"`
	Author *struct {
		Login string `json:"login"`
	} `json:"author"`
	Parents []struct {
		SHA string `json:"sha"`
	} `json:"parents"`
}

type gitWho struct {
	Name  string    `json:"name"`
	Email string    `json:"email"`
	Date  time.Time `json:"date"`
}

// change is the commit as a change with its parents; the author is named
// as a push names it: the GitHub login, else the name, else the address.
func (r *repoRun) change(c apiCommit) delivery.Event {
	parents := make([]string, 0, len(c.Parents))
	for _, p := range c.Parents {
		parents = append(parents, p.SHA)
	}
	who := c.Commit.Author.Name
	if c.Author != nil && c.Author.Login != "" {
		who = c.Author.Login
	} else if who == "" {
		who = c.Commit.Author.Email
	}
	ch := ghingest.CommitChange(r.repo, c.SHA, parents, who, c.Commit.Author.Date, c.Commit.Committer.Date, c.Commit.Message)
	return delivery.Event{Key: ghingest.CommitKey(r.repo, c.SHA), Kind: delivery.KindChange, Change: ch}
}

// commits reads the default and release branches' commits, with parents.
func (r *repoRun) commits(ctx context.Context) error {
	branches, err := r.branches(ctx)
	if err != nil {
		return err
	}
	r.commitTimes = map[string]time.Time{}
	for _, b := range branches {
		if b == "" {
			continue
		}
		resource := "commits:" + b
		cur, err := r.cursor(ctx, resource)
		if err != nil {
			return err
		}
		q := url.Values{"sha": {b}, "per_page": {"100"}}
		since := r.c.cfg.Since
		if !cur.Since.IsZero() && cur.Since.Add(-overlap).After(since) {
			since = cur.Since.Add(-overlap)
		}
		if !since.IsZero() {
			q.Set("since", since.UTC().Format(time.RFC3339))
		}
		newest := cur.Since
		err = r.sweep(ctx, resource, r.url("/commits", q), func(body []byte, _ store.Cursor) ([]delivery.Event, bool, error) {
			var page []apiCommit
			if err := json.Unmarshal(body, &page); err != nil {
				return nil, false, err
			}
			for _, c := range page {
				if c.SHA == "" || c.Commit.Committer.Date.IsZero() {
					return nil, false, fmt.Errorf("a commit without a sha or a committer date")
				}
			}
			paths, err := r.paths(ctx, page)
			if err != nil {
				return nil, false, err
			}
			events := make([]delivery.Event, 0, len(page))
			for _, c := range page {
				ev := r.change(c)
				if p, ok := paths[c.SHA]; ok {
					// Another key than the commit's without files, so
					// that files read later reach a stored change.
					ev.Key += ":paths"
					ev.Change.Paths = p
				}
				events = append(events, ev)
				r.commitTimes[c.SHA] = c.Commit.Committer.Date
				if c.Commit.Committer.Date.After(newest) {
					newest = c.Commit.Committer.Date
				}
			}
			return events, false, nil
		}, func(cur *store.Cursor) { cur.Since = newest })
		if err != nil {
			return err
		}
	}
	return nil
}

// paths reads the files of the commits of page that need them: only when
// the repository's services own paths, and only the commits neither this
// run nor an earlier one (the store) read the files of. The list and
// GraphQL do not give a commit's files (GraphQL's Commit has only a count,
// changedFilesIfAvailable), so each costs one REST request, GET
// /commits/{sha}, and more for a commit of over 300 files (its pages). A
// merge commit touches nothing of its own, as the git importer reads it,
// and costs none.
func (r *repoRun) paths(ctx context.Context, page []apiCommit) (map[string][]string, error) {
	refs := make([]collect.Commit, len(page))
	for i, c := range page {
		refs[i] = collect.Commit{SHA: c.SHA, Merge: len(c.Parents) > 1}
	}
	out, ask, err := r.commitPaths.Select(ctx, refs, func(ctx context.Context, shas []string) (map[string]bool, error) {
		return r.c.cursors.ChangesWithPaths(ctx, r.repo, shas)
	})
	if err != nil || len(ask) == 0 {
		return out, err
	}
	for _, sha := range ask {
		files := []string{}
		for u := r.url("/commits/"+sha, url.Values{"per_page": {"300"}}); u != ""; {
			resp, err := r.get(ctx, u, "")
			if err != nil {
				return nil, err
			}
			var c struct {
				Files []struct {
					Filename         string `json:"filename"`
					PreviousFilename string `json:"previous_filename"`
				} `json:"files"`
			}
			if err := json.Unmarshal(resp.Body, &c); err != nil {
				return nil, fmt.Errorf("commit %s: %w", sha, err)
			}
			for _, f := range c.Files {
				// A rename touches where the file was as well as where
				// it is, as a push lists it (removed and added).
				files = append(files, f.Filename)
				if f.PreviousFilename != "" {
					files = append(files, f.PreviousFilename)
				}
			}
			u = resp.Next
		}
		out[sha] = files
	}
	return out, nil
}

// tags reports each tag as its release's deployment when the connector
// counts releases as deployments, as a tag push would. The API gives no
// push time: the deployment is dated when the tag's release was published
// (a release is published as its tag is pushed), else at the tagged commit.
func (r *repoRun) tags(ctx context.Context) error {
	if !r.c.cfg.Webhook.ReleasesAsDeployments {
		return nil
	}
	return r.sweep(ctx, "tags", r.url("/tags", url.Values{"per_page": {"100"}}), func(body []byte, _ store.Cursor) ([]delivery.Event, bool, error) {
		var page []struct {
			Name   string `json:"name"`
			Commit struct {
				SHA string `json:"sha"`
			} `json:"commit"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, false, err
		}
		var events []delivery.Event
		for _, t := range page {
			at, ok := r.published[t.Name]
			if !ok {
				var err error
				if at, err = r.commitTime(ctx, t.Commit.SHA); err != nil {
					return nil, false, err
				}
			}
			ev, err := r.translate("push", map[string]any{"ref": "refs/tags/" + t.Name,
				"head_commit": map[string]any{"id": t.Commit.SHA, "timestamp": at}})
			if err != nil {
				return nil, false, err
			}
			events = append(events, ev...)
		}
		return events, false, nil
	}, nil)
}

// commitTime is when sha was committed: known when this run read it,
// else asked for.
func (r *repoRun) commitTime(ctx context.Context, sha string) (time.Time, error) {
	if at, ok := r.commitTimes[sha]; ok {
		return at, nil
	}
	resp, err := r.get(ctx, r.url("/commits/"+sha, nil), "")
	if err != nil {
		return time.Time{}, err
	}
	var c apiCommit
	if err := json.Unmarshal(resp.Body, &c); err != nil {
		return time.Time{}, fmt.Errorf("commit %s: %w", sha, err)
	}
	r.commitTimes[sha] = c.Commit.Committer.Date
	return c.Commit.Committer.Date, nil
}

// releases reports the published releases as the release event does.
func (r *repoRun) releases(ctx context.Context) error {
	r.published = map[string]time.Time{}
	return r.sweep(ctx, "releases", r.url("/releases", url.Values{"per_page": {"100"}}), func(body []byte, _ store.Cursor) ([]delivery.Event, bool, error) {
		var page []json.RawMessage
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, false, err
		}
		var events []delivery.Event
		for _, raw := range page {
			var rel struct {
				Draft       bool      `json:"draft"`
				TagName     string    `json:"tag_name"`
				PublishedAt time.Time `json:"published_at"`
			}
			if err := json.Unmarshal(raw, &rel); err != nil {
				return nil, false, err
			}
			if rel.Draft {
				continue
			}
			r.published[rel.TagName] = rel.PublishedAt
			ev, err := r.translate("release", map[string]any{"action": "published", "release": raw})
			if err != nil {
				return nil, false, err
			}
			events = append(events, ev...)
		}
		return events, false, nil
	}, nil)
}

// runs reports the workflow runs as the workflow_run event does.
func (r *repoRun) runs(ctx context.Context) error {
	q := url.Values{"per_page": {"100"}}
	if !r.c.cfg.Since.IsZero() {
		q.Set("created", ">="+r.c.cfg.Since.UTC().Format("2006-01-02"))
	}
	var newest time.Time
	return r.sweep(ctx, "workflow_runs", r.url("/actions/runs", q), func(body []byte, cur store.Cursor) ([]delivery.Event, bool, error) {
		var page struct {
			Runs []json.RawMessage `json:"workflow_runs"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, false, err
		}
		var events []delivery.Event
		fresh := 0
		for _, raw := range page.Runs {
			var run struct {
				Status    string    `json:"status"`
				UpdatedAt time.Time `json:"updated_at"`
			}
			if err := json.Unmarshal(raw, &run); err != nil {
				return nil, false, err
			}
			newest = later(newest, run.UpdatedAt, cur.Since)
			if !cur.Since.IsZero() && run.UpdatedAt.Before(cur.Since) {
				continue
			}
			fresh++
			action := "in_progress"
			if run.Status == "completed" {
				action = "completed"
			}
			ev, err := r.translate("workflow_run", map[string]any{"action": action, "workflow_run": raw})
			if err != nil {
				return nil, false, err
			}
			events = append(events, ev...)
		}
		return events, fresh == 0 && len(page.Runs) > 0, nil
	}, func(cur *store.Cursor) { cur.Since = newest })
}

// incidents reports the issues labelled as incidents as the issues event
// does. They are listed oldest update first from the cursor, which is
// saved after each page: a run killed midway resumes at the page it was
// reading.
func (r *repoRun) incidents(ctx context.Context) error {
	labels := r.c.cfg.Webhook.Mapping.IncidentLabels
	if len(labels) == 0 {
		labels = []string{"incident"}
	}
	for _, label := range labels {
		resource := "issues:" + label
		cur, err := r.cursor(ctx, resource)
		if err != nil {
			return err
		}
		since := cur.Since
		if since.IsZero() {
			since = r.c.cfg.Since
		}
		q := url.Values{"labels": {label}, "state": {"all"}, "sort": {"updated"}, "direction": {"asc"}, "per_page": {"100"}}
		if !since.IsZero() {
			q.Set("since", since.UTC().Format(time.RFC3339))
		}
		for u := r.url("/issues", q); u != ""; {
			resp, err := r.get(ctx, u, "")
			if err != nil {
				return err
			}
			var page []json.RawMessage
			if err := json.Unmarshal(resp.Body, &page); err != nil {
				return fmt.Errorf("%s: %w", u, err)
			}
			var events []delivery.Event
			for _, raw := range page {
				var is struct {
					State       string          `json:"state"`
					UpdatedAt   time.Time       `json:"updated_at"`
					PullRequest json.RawMessage `json:"pull_request"`
				}
				if err := json.Unmarshal(raw, &is); err != nil {
					return fmt.Errorf("%s: %w", u, err)
				}
				cur.Since = later(cur.Since, is.UpdatedAt)
				if len(is.PullRequest) > 0 && string(is.PullRequest) != "null" {
					continue
				}
				action := "opened"
				if is.State == "closed" {
					action = "closed"
				}
				ev, err := r.translate("issues", map[string]any{"action": action, "issue": raw})
				if err != nil {
					return err
				}
				events = append(events, ev...)
			}
			if err := r.commit(ctx, events); err != nil {
				return err
			}
			if err := r.save(ctx, cur); err != nil {
				return err
			}
			u = resp.Next
		}
	}
	return nil
}

func later(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}
