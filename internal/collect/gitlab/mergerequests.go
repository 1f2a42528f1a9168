package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stride-oss/stride/internal/collect"
	"github.com/stride-oss/stride/internal/delivery"
)

type apiMergeRequest struct {
	ID             int64     `json:"id"`
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

// apiNote is a note of GET /projects/:id/merge_requests/:iid/notes: a
// comment (a DiffNote on the diff, a DiscussionNote in a thread, or a plain
// one) or, with system set, what GitLab recorded of an action, such as
// "approved this merge request".
type apiNote struct {
	ID        int64     `json:"id"`
	Body      string    `json:"body"`
	System    bool      `json:"system"`
	CreatedAt time.Time `json:"created_at"`
	Author    struct {
		ID int64 `json:"id"`
	} `json:"author"`
}

// approvedNote is the body of the system note GitLab records when someone
// approves a merge request (and "unapproved this merge request" when the
// approval is withdrawn, which is not an approval).
const approvedNote = "approved this merge request"

// readyNote reports whether body is the system note of a draft marked
// ready: "marked this merge request as **ready**" (GitLab 14 on), or the
// older "unmarked as a **Work In Progress**".
func readyNote(body string) bool {
	body = strings.TrimSpace(body)
	return strings.HasPrefix(body, "marked this merge request as **ready**") || strings.HasPrefix(body, "unmarked as a **Work In Progress**")
}

// mergeRequests maps each merge request as its last webhook event would
// be (merged, closed or open, with its labels and merge commit), and, for
// each merge request that changed, its notes: a comment by someone other
// than the author as the note event would be (the first review), each
// approval as the merge request event of action "approved", and a draft
// marked ready as the update event that says so; and its first commit
// (see readDetails). A note or an approval updates its merge request, so
// the notes of the merge requests the cursor lists are all that can have
// changed.
func (r *projectRun) mergeRequests(ctx context.Context) error {
	cur, err := r.c.cursors.Cursor(ctx, Source, r.project, "merge_requests")
	if err != nil {
		return err
	}
	r.mergeRequestsSince, r.mergeRequestsAtSince = cur.Since, map[int64]bool{}
	for _, id := range strings.Fields(cur.LastID) {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			r.mergeRequestsAtSince[n] = true
		}
	}
	return r.list(ctx, "merge_requests", "/merge_requests", url.Values{"state": {"all"}}, r.readDetails, func(raw json.RawMessage, _ time.Time) ([]map[string]any, error) {
		var m apiMergeRequest
		if json.Unmarshal(raw, &m) != nil {
			return nil, nil
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
		var author int64
		if m.Author != nil {
			author = m.Author.ID
		}
		attrs := map[string]any{"iid": m.IID, "title": m.Title, "state": m.State, "action": action,
			"created_at": m.CreatedAt, "updated_at": m.UpdatedAt, "merged_at": timeOrNil(m.MergedAt), "closed_at": timeOrNil(m.ClosedAt),
			"merge_commit_sha": sha, "labels": labels, "last_commit": map[string]any{"id": m.SHA}, "author_id": author}
		out := []map[string]any{{"object_kind": "merge_request", "object_attributes": attrs, "labels": labels}}
		if at, ok := r.firstCommits[m.IID]; ok {
			r.extra = append(r.extra, r.firstCommitEvent(m, author, at))
		}
		for _, n := range r.notes[m.IID] {
			switch {
			case n.System && strings.TrimSpace(n.Body) == approvedNote:
				// The approval hook: the merge request, open, updated
				// when approved, by the approver.
				out = append(out, map[string]any{"object_kind": "merge_request", "user": map[string]any{"id": n.Author.ID},
					"object_attributes": map[string]any{"iid": m.IID, "title": m.Title, "state": "opened", "action": "approved",
						"created_at": m.CreatedAt, "updated_at": n.CreatedAt, "author_id": author}})
			case n.System && readyNote(n.Body):
				// The update hook that marks the draft ready.
				out = append(out, map[string]any{"object_kind": "merge_request", "user": map[string]any{"id": n.Author.ID},
					"object_attributes": map[string]any{"iid": m.IID, "title": m.Title, "state": "opened", "action": "update",
						"created_at": m.CreatedAt, "updated_at": n.CreatedAt, "author_id": author},
					"changes": map[string]any{"draft": map[string]any{"previous": true, "current": false}}})
			case !n.System:
				out = append(out, map[string]any{"object_kind": "note", "user": map[string]any{"id": n.Author.ID},
					"object_attributes": map[string]any{"id": n.ID, "noteable_type": "MergeRequest", "author_id": n.Author.ID,
						"system": false, "created_at": n.CreatedAt},
					"merge_request": map[string]any{"iid": m.IID, "author_id": author, "title": m.Title, "created_at": m.CreatedAt}})
			}
		}
		return out, nil
	})
}

// detailsInFlight bounds the requests for the details of one project's
// merge requests in flight; the client bounds those of all projects.
const detailsInFlight = 4

// readDetails reads what the list does not say of the merge requests of a
// page, a few at a time, as waiting for each in turn would make it the
// run's wall time: the notes of each (one request, more for over 100
// notes), the cost of the first review and approvals; and the first
// commit of each that is open or was merged since the last run (one
// request, two for over 100 commits), for the coding time. A merge
// request the last run read merged had its first commit read by that run.
func (r *projectRun) readDetails(ctx context.Context, objects []json.RawMessage) error {
	var mrs []apiMergeRequest
	for _, raw := range objects {
		var m apiMergeRequest
		if json.Unmarshal(raw, &m) == nil {
			mrs = append(mrs, m)
		}
	}
	notes := make([][]apiNote, len(mrs))
	first := make([]time.Time, len(mrs))
	errs := make([]error, len(mrs))
	pages := make([]int, len(mrs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(detailsInFlight, len(mrs)) {
		wg.Go(func() {
			for i := range next {
				m := mrs[i]
				var n int
				notes[i], n, errs[i] = r.notesOf(ctx, m.IID)
				pages[i] += n
				if errs[i] != nil || m.State == "closed" || m.State == "merged" && r.readMerged(m) {
					continue
				}
				first[i], n, errs[i] = r.firstCommit(ctx, m.IID)
				pages[i] += n
			}
		})
	}
	for i := range mrs {
		next <- i
	}
	close(next)
	wg.Wait()
	r.notes = make(map[int][]apiNote, len(mrs))
	r.firstCommits = make(map[int]time.Time, len(mrs))
	for i, m := range mrs {
		r.res.Pages += pages[i]
		r.notes[m.IID] = notes[i]
		if !first[i].IsZero() {
			r.firstCommits[m.IID] = first[i]
		}
	}
	return errors.Join(errs...)
}

// readMerged reports whether the run that saved the cursor read merge
// request m merged: it was merged before the cursor, or at it and is one of
// the merge requests the cursor names (a merge updates the merge request).
func (r *projectRun) readMerged(m apiMergeRequest) bool {
	return m.MergedAt.Before(r.mergeRequestsSince) || m.MergedAt.Equal(r.mergeRequestsSince) && r.mergeRequestsAtSince[m.ID]
}

// firstCommit reads when the first commit of merge request iid was
// authored. GitLab lists the commits newest first, so the oldest are on
// the last page: the first page, and the last (Link rel="last") when
// there are more; following rel="next" when GitLab leaves "last" out, as
// it does for very long lists.
func (r *projectRun) firstCommit(ctx context.Context, iid int) (time.Time, int, error) {
	var first time.Time
	pages := 0
	for u := r.url("/merge_requests/"+strconv.Itoa(iid)+"/commits", url.Values{"per_page": {"100"}}); u != ""; {
		resp, err := r.c.client.Do(ctx, collect.Request{URL: u})
		if err != nil {
			return time.Time{}, pages, err
		}
		pages++
		r.c.tracker.Page()
		var page []struct {
			AuthoredDate  time.Time `json:"authored_date"`
			CommittedDate time.Time `json:"committed_date"`
		}
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return time.Time{}, pages, fmt.Errorf("%s: %w", u, err)
		}
		for _, c := range page {
			at := c.AuthoredDate
			if at.IsZero() {
				at = c.CommittedDate
			}
			if !at.IsZero() && (first.IsZero() || at.Before(first)) {
				first = at
			}
		}
		next := resp.Next
		if last := collect.LinkRel(resp.Header.Get("Link"), "last"); next != "" && last != "" && last != u {
			next = last
		}
		u = next
	}
	return first, pages, nil
}

// notesOf reads every note of merge request iid, oldest first, and how
// many pages that took.
func (r *projectRun) notesOf(ctx context.Context, iid int) ([]apiNote, int, error) {
	pages := 0
	var out []apiNote
	q := url.Values{"sort": {"asc"}, "order_by": {"created_at"}, "per_page": {"100"}}
	for u := r.url("/merge_requests/"+strconv.Itoa(iid)+"/notes", q); u != ""; {
		resp, err := r.c.client.Do(ctx, collect.Request{URL: u})
		if err != nil {
			return nil, pages, err
		}
		pages++
		r.c.tracker.Page()
		var page []apiNote
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return nil, pages, fmt.Errorf("%s: %w", u, err)
		}
		out = append(out, page...)
		u = resp.Next
	}
	return out, pages, nil
}

// firstCommitEvent reports when merge request m's first commit was
// authored, which no webhook tells: an event of its own, keyed by the
// time it reports, dated at creation so it never outranks the merge
// request's own reports on state, labels or title.
func (r *projectRun) firstCommitEvent(m apiMergeRequest, author int64, at time.Time) delivery.Event {
	pr := &delivery.PullRequest{Repository: r.project, Number: m.IID, Title: m.Title, CreatedAt: m.CreatedAt, UpdatedAt: m.CreatedAt, FirstCommitAt: at}
	if author > 0 {
		pr.Author = strconv.FormatInt(author, 10)
	}
	return delivery.Event{Key: fmt.Sprintf("gitlab:merge_request_history:%s:%d:%s", r.project, m.IID, at.UTC().Format(time.RFC3339Nano)),
		Kind: delivery.KindPullRequest, Source: Source, PullRequest: pr}
}
