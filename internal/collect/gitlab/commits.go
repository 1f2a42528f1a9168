package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/collect"
	"github.com/stride-oss/stride/internal/delivery"
	glingest "github.com/stride-oss/stride/internal/ingest/gitlab"
	"github.com/stride-oss/stride/internal/store"
)

// overlap is how far before the newest commit of the last run a commit
// sweep starts again: commits a merge brings in keep their older dates, and
// the sweep must still list them. Commits read twice have the same key.
const overlap = 14 * 24 * time.Hour

// defaultReleaseBranches are read when the connector names none; the
// connector's release_branches, when set, are the ones whose pushes count,
// and the collector reads the same.
var defaultReleaseBranches = []string{"release/*", "release-*"}

// apiCommit is a commit of GET /projects/:id/repository/commits.
type apiCommit struct {
	ID            string    `json:"id"`
	Title         string    `json:"title"`
	AuthorName    string    `json:"author_name"`
	AuthorEmail   string    `json:"author_email"`
	AuthoredDate  time.Time `json:"authored_date"`
	CommittedDate time.Time `json:"committed_date"`
	ParentIDs     []string  `json:"parent_ids"`
}

func (r *projectRun) change(c apiCommit) delivery.Event {
	return delivery.Event{Key: glingest.CommitKey(r.project, c.ID), Kind: delivery.KindChange,
		Change: glingest.CommitChange(r.project, c.ID, c.ParentIDs, c.AuthorName, c.AuthorEmail, c.AuthoredDate, c.CommittedDate, c.Title)}
}

// sweep reads a list newest first from u, its first page conditional on
// the ETag of the resource's cursor (a 304 ends the sweep: nothing
// changed). Each page's events are committed before the next is read; the
// cursor, with the first page's ETag and what done adds, is saved only once
// the sweep is complete, so a run killed midway reads the same pages again
// and their events, already committed, change nothing.
func (r *projectRun) sweep(ctx context.Context, resource, u string, page func(body []byte) ([]delivery.Event, error), done func(cur *store.Cursor)) (changed bool, err error) {
	cur, err := r.c.cursors.Cursor(ctx, Source, r.project, resource)
	if err != nil {
		return false, err
	}
	etag := ""
	for first := true; u != ""; first = false {
		ask := ""
		if first {
			ask = cur.ETag
		}
		resp, err := r.get(ctx, u, ask)
		if err != nil {
			return false, err
		}
		if resp.NotModified {
			return false, nil
		}
		if first {
			etag = resp.ETag
		}
		events, err := page(resp.Body)
		if err != nil {
			return false, fmt.Errorf("%s: %w", u, err)
		}
		if err := r.commit(ctx, events); err != nil {
			return false, err
		}
		u = resp.Next
	}
	cur.ETag = etag
	if done != nil {
		done(&cur)
	}
	return true, r.c.cursors.SaveCursor(ctx, cur)
}

// branches returns the default branch and the release branches. The
// release branches found are kept in the cursor, for when the list has
// not changed (a 304).
func (r *projectRun) branches(ctx context.Context) ([]string, error) {
	patterns := r.c.cfg.Webhook.ReleaseBranches
	if len(patterns) == 0 {
		patterns = defaultReleaseBranches
	}
	var release []string
	changed, err := r.sweep(ctx, "branches", r.url("/repository/branches", url.Values{"per_page": {"100"}}), func(body []byte) ([]delivery.Event, error) {
		var page []struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			return nil, err
		}
		for _, b := range page {
			if b.Name != r.defaultBranch && slices.ContainsFunc(patterns, func(p string) bool { return delivery.MatchTag(p, b.Name) }) {
				release = append(release, b.Name)
			}
		}
		return nil, nil
	}, func(cur *store.Cursor) { cur.LastID = strings.Join(release, " ") })
	if err != nil {
		return nil, err
	}
	if !changed {
		cur, err := r.c.cursors.Cursor(ctx, Source, r.project, "branches")
		if err != nil {
			return nil, err
		}
		release = strings.Fields(cur.LastID)
	}
	if r.defaultBranch == "" {
		return release, nil // an empty repository has no default branch
	}
	return append([]string{r.defaultBranch}, release...), nil
}

// commits reads the commits of the default and release branches, with
// their parents (parent_ids), from a little before the newest commit the
// last run read.
func (r *projectRun) commits(ctx context.Context) error {
	branches, err := r.branches(ctx)
	if err != nil {
		return err
	}
	for _, b := range branches {
		resource := "commits:" + b
		cur, err := r.c.cursors.Cursor(ctx, Source, r.project, resource)
		if err != nil {
			return err
		}
		q := url.Values{"ref_name": {b}, "per_page": {"100"}}
		since := r.c.cfg.Since
		if !cur.Since.IsZero() && cur.Since.Add(-overlap).After(since) {
			since = cur.Since.Add(-overlap)
		}
		if !since.IsZero() {
			q.Set("since", since.UTC().Format(time.RFC3339))
		}
		newest := cur.Since
		_, err = r.sweep(ctx, resource, r.url("/repository/commits", q), func(body []byte) ([]delivery.Event, error) {
			var page []apiCommit
			if err := json.Unmarshal(body, &page); err != nil {
				return nil, err
			}
			for _, c := range page {
				if c.ID == "" || c.CommittedDate.IsZero() {
					return nil, fmt.Errorf("a commit without an id or a committed date")
				}
			}
			paths, err := r.paths(ctx, page)
			if err != nil {
				return nil, err
			}
			events := make([]delivery.Event, 0, len(page))
			for _, c := range page {
				ev := r.change(c)
				if p, ok := paths[c.ID]; ok {
					// Another key than the commit's without files, so
					// that files read later reach a stored change.
					ev.Key += ":paths"
					ev.Change.Paths = p
				}
				events = append(events, ev)
				if c.CommittedDate.After(newest) {
					newest = c.CommittedDate
				}
			}
			return events, nil
		}, func(cur *store.Cursor) { cur.Since = newest })
		if err != nil {
			return err
		}
	}
	return nil
}

// paths reads the files of the commits of page that need them: only when
// the project's services own paths, and only the commits neither this run
// nor an earlier one (the store) read the files of. The list of commits
// does not give them, so each costs one request, GET
// /repository/commits/:sha/diff (more for over 100 files). A merge commit
// touches nothing of its own, as the git importer reads it, and costs
// none.
func (r *projectRun) paths(ctx context.Context, page []apiCommit) (map[string][]string, error) {
	refs := make([]collect.Commit, len(page))
	for i, c := range page {
		refs[i] = collect.Commit{SHA: c.ID, Merge: len(c.ParentIDs) > 1}
	}
	out, ask, err := r.commitPaths.Select(ctx, refs, func(ctx context.Context, shas []string) (map[string]bool, error) {
		return r.c.cursors.ChangesWithPaths(ctx, r.project, shas)
	})
	if err != nil || len(ask) == 0 {
		return out, err
	}
	for _, sha := range ask {
		files := []string{}
		for u := r.url("/repository/commits/"+sha+"/diff", url.Values{"per_page": {"100"}}); u != ""; {
			resp, err := r.get(ctx, u, "")
			if err != nil {
				return nil, err
			}
			var diffs []struct {
				OldPath string `json:"old_path"`
				NewPath string `json:"new_path"`
			}
			if err := json.Unmarshal(resp.Body, &diffs); err != nil {
				return nil, fmt.Errorf("commit %s: %w", sha, err)
			}
			for _, d := range diffs {
				// A rename touches where the file was as well as where
				// it is, as a push lists it (removed and added).
				files = append(files, d.NewPath)
				if d.OldPath != "" && d.OldPath != d.NewPath {
					files = append(files, d.OldPath)
				}
			}
			u = resp.Next
		}
		out[sha] = files
	}
	return out, nil
}
