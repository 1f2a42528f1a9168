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
)

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
// than the author as the note event would be (the first review), and each
// approval as the merge request event of action "approved". A note or an
// approval updates its merge request, so the notes of the merge requests
// the cursor lists are all that can have changed.
func (r *projectRun) mergeRequests(ctx context.Context) error {
	return r.list(ctx, "merge_requests", "/merge_requests", url.Values{"state": {"all"}}, r.readNotes, func(raw json.RawMessage, _ time.Time) ([]map[string]any, error) {
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

// notesInFlight bounds the notes requests of one project in flight; the
// client bounds those of all projects.
const notesInFlight = 4

// readNotes reads the notes of the merge requests of a page, a few at a
// time: one request each (more for over 100 notes) is the cost of the
// first review and approvals, and waiting for each in turn would make it
// the run's wall time.
func (r *projectRun) readNotes(ctx context.Context, objects []json.RawMessage) error {
	var iids []int
	for _, raw := range objects {
		var m struct {
			IID int `json:"iid"`
		}
		if json.Unmarshal(raw, &m) == nil {
			iids = append(iids, m.IID)
		}
	}
	notes := make([][]apiNote, len(iids))
	errs := make([]error, len(iids))
	pages := make([]int, len(iids))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(notesInFlight, len(iids)) {
		wg.Go(func() {
			for i := range next {
				notes[i], pages[i], errs[i] = r.notesOf(ctx, iids[i])
			}
		})
	}
	for i := range iids {
		next <- i
	}
	close(next)
	wg.Wait()
	r.notes = make(map[int][]apiNote, len(iids))
	for i, iid := range iids {
		r.res.Pages += pages[i]
		r.notes[iid] = notes[i]
	}
	return errors.Join(errs...)
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
		var page []apiNote
		if err := json.Unmarshal(resp.Body, &page); err != nil {
			return nil, pages, fmt.Errorf("%s: %w", u, err)
		}
		out = append(out, page...)
		u = resp.Next
	}
	return out, pages, nil
}
