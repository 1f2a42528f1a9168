package github

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
)

// pullsPage is how many pull requests one GraphQL request asks for, each
// with its reviews, their first comments, its conversation comments, its
// first commit and its ready-for-review time: what REST needs four
// requests per pull request for.
const pullsPage = 50

// pullsQuery lists pull requests most recently updated first.
const pullsQuery = `query($owner: String!, $name: String!, $first: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequests(first: $first, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        number title state isDraft createdAt updatedAt closedAt mergedAt
        additions deletions changedFiles
        author { login }
        mergeCommit { oid }
        labels(first: 50) { nodes { name } }
        comments(first: 100) { totalCount nodes { databaseId createdAt author { login } } }
        reviews(first: 100) { nodes { databaseId state submittedAt author { login }
          comments(first: 1) { totalCount nodes { databaseId createdAt author { login } } } } }
        commits(first: 1) { nodes { commit { authoredDate committedDate } } }
        timelineItems(first: 1, itemTypes: [READY_FOR_REVIEW_EVENT]) { nodes { ... on ReadyForReviewEvent { createdAt } } }
      }
    }
  }
}`

type gqlLogin struct {
	Login string `json:"login"`
}

type gqlComment struct {
	DatabaseID int64     `json:"databaseId"`
	CreatedAt  time.Time `json:"createdAt"`
	Author     *gqlLogin `json:"author"`
}

type gqlPull struct {
	Number       int       `json:"number"`
	Title        string    `json:"title"`
	State        string    `json:"state"`
	IsDraft      bool      `json:"isDraft"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	ClosedAt     time.Time `json:"closedAt"`
	MergedAt     time.Time `json:"mergedAt"`
	Additions    int       `json:"additions"`
	Deletions    int       `json:"deletions"`
	ChangedFiles int       `json:"changedFiles"`
	Author       *gqlLogin `json:"author"`
	MergeCommit  *struct {
		OID string `json:"oid"`
	} `json:"mergeCommit"`
	Labels struct {
		Nodes []struct {
			Name string `json:"name"`
		} `json:"nodes"`
	} `json:"labels"`
	Comments struct {
		TotalCount int          `json:"totalCount"`
		Nodes      []gqlComment `json:"nodes"`
	} `json:"comments"`
	Reviews struct {
		Nodes []struct {
			DatabaseID  int64     `json:"databaseId"`
			State       string    `json:"state"`
			SubmittedAt time.Time `json:"submittedAt"`
			Author      *gqlLogin `json:"author"`
			Comments    struct {
				TotalCount int          `json:"totalCount"`
				Nodes      []gqlComment `json:"nodes"`
			} `json:"comments"`
		} `json:"nodes"`
	} `json:"reviews"`
	Commits struct {
		Nodes []struct {
			Commit struct {
				AuthoredDate  time.Time `json:"authoredDate"`
				CommittedDate time.Time `json:"committedDate"`
			} `json:"commit"`
		} `json:"nodes"`
	} `json:"commits"`
	TimelineItems struct {
		Nodes []struct {
			CreatedAt time.Time `json:"createdAt"`
		} `json:"nodes"`
	} `json:"timelineItems"`
}

type gqlPulls struct {
	Repository *struct {
		PullRequests struct {
			PageInfo struct {
				HasNextPage bool   `json:"hasNextPage"`
				EndCursor   string `json:"endCursor"`
			} `json:"pageInfo"`
			Nodes []gqlPull `json:"nodes"`
		} `json:"pullRequests"`
	} `json:"repository"`
}

func login(l *gqlLogin) any {
	if l == nil {
		return nil
	}
	return map[string]any{"login": l.Login}
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// restPull is the pull request in the shape of the REST API and the
// webhook payloads, which the connector reads.
func restPull(p gqlPull, reviewComments int) map[string]any {
	state := "open"
	if p.State != "OPEN" {
		state = "closed"
	}
	labels := make([]map[string]any, 0, len(p.Labels.Nodes))
	for _, l := range p.Labels.Nodes {
		labels = append(labels, map[string]any{"name": l.Name})
	}
	merge := ""
	if p.MergeCommit != nil {
		merge = p.MergeCommit.OID
	}
	return map[string]any{
		"number": p.Number, "title": p.Title, "state": state, "draft": p.IsDraft, "user": login(p.Author),
		"merged": p.State == "MERGED", "created_at": p.CreatedAt, "updated_at": p.UpdatedAt,
		"closed_at": timeOrNil(p.ClosedAt), "merged_at": timeOrNil(p.MergedAt), "merge_commit_sha": merge,
		"labels": labels, "additions": p.Additions, "deletions": p.Deletions, "changed_files": p.ChangedFiles,
		"comments": p.Comments.TotalCount, "review_comments": reviewComments,
	}
}

// pullEvents maps one pull request as its webhook events would be mapped:
// the pull request itself, each submitted review, each review's first
// comment and each conversation comment, with the keys of those events.
// What no webhook tells, the first commit and the time the draft was
// marked ready, is one more event of its own.
func (r *repoRun) pullEvents(p gqlPull) ([]delivery.Event, error) {
	reviewComments := 0
	for _, rv := range p.Reviews.Nodes {
		reviewComments += rv.Comments.TotalCount
	}
	pr := restPull(p, reviewComments)
	action := "opened"
	if p.State != "OPEN" {
		action = "closed"
	}
	events, err := r.translate("pull_request", map[string]any{"action": action, "number": p.Number, "pull_request": pr})
	if err != nil {
		return nil, err
	}
	add := func(event string, payload map[string]any) error {
		ev, err := r.translate(event, payload)
		events = append(events, ev...)
		return err
	}
	for _, rv := range p.Reviews.Nodes {
		if rv.SubmittedAt.IsZero() { // a pending review is not submitted yet
			continue
		}
		review := map[string]any{"id": rv.DatabaseID, "user": login(rv.Author), "state": strings.ToLower(rv.State), "submitted_at": rv.SubmittedAt}
		if err := add("pull_request_review", map[string]any{"action": "submitted", "review": review, "pull_request": pr}); err != nil {
			return nil, err
		}
		for _, c := range rv.Comments.Nodes {
			comment := map[string]any{"id": c.DatabaseID, "user": login(c.Author), "created_at": c.CreatedAt}
			if err := add("pull_request_review_comment", map[string]any{"action": "created", "comment": comment, "pull_request": pr}); err != nil {
				return nil, err
			}
		}
	}
	issue := map[string]any{"number": p.Number, "title": p.Title, "user": login(p.Author), "comments": p.Comments.TotalCount,
		"created_at": p.CreatedAt, "updated_at": p.UpdatedAt, "pull_request": map[string]any{}}
	for _, c := range p.Comments.Nodes {
		comment := map[string]any{"id": c.DatabaseID, "user": login(c.Author), "created_at": c.CreatedAt}
		if err := add("issue_comment", map[string]any{"action": "created", "issue": issue, "comment": comment}); err != nil {
			return nil, err
		}
	}
	extra := &delivery.PullRequest{Repository: r.repo, Number: p.Number, Title: p.Title, CreatedAt: p.CreatedAt,
		// Dated at creation, so this report never outranks the pull
		// request's own on its state, labels or title.
		UpdatedAt: p.CreatedAt}
	if p.Author != nil {
		extra.Author = p.Author.Login
	}
	if len(p.Commits.Nodes) > 0 {
		c := p.Commits.Nodes[0].Commit
		extra.FirstCommitAt = c.AuthoredDate
		if extra.FirstCommitAt.IsZero() {
			extra.FirstCommitAt = c.CommittedDate
		}
	}
	if len(p.TimelineItems.Nodes) > 0 {
		extra.ReadyAt = p.TimelineItems.Nodes[0].CreatedAt
	}
	if !extra.FirstCommitAt.IsZero() || !extra.ReadyAt.IsZero() {
		key := fmt.Sprintf("github:pull_request_history:%s:%d:%s:%s", r.repo, p.Number, stamp(extra.FirstCommitAt), stamp(extra.ReadyAt))
		events = append(events, delivery.Event{Key: key, Kind: delivery.KindPullRequest, Source: Source, PullRequest: extra})
	}
	return events, nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// pulls reads the pull requests updated since the last run, newest update
// first, a GraphQL page at a time; the cursor is saved once the sweep
// reached what the last run read.
func (r *repoRun) pulls(ctx context.Context) error {
	cur, err := r.cursor(ctx, "pulls")
	if err != nil {
		return err
	}
	owner, name, _ := strings.Cut(r.repo, "/")
	since := cur.Since
	if since.IsZero() {
		since = r.c.cfg.Since
	}
	newest := cur.Since
	vars := map[string]any{"owner": owner, "name": name, "first": pullsPage}
	for {
		var page gqlPulls
		if err := r.c.client.GraphQL(ctx, GraphQLURL(r.c.cfg.APIURL), pullsQuery, vars, &page); err != nil {
			return err
		}
		r.res.Pages++
		r.c.tracker.Page()
		if page.Repository == nil {
			return fmt.Errorf("graphql: no repository %s", r.repo)
		}
		conn := page.Repository.PullRequests
		var events []delivery.Event
		older := false
		for _, p := range conn.Nodes {
			if !since.IsZero() && p.UpdatedAt.Before(since) {
				older = true
				break
			}
			newest = later(newest, p.UpdatedAt)
			ev, err := r.pullEvents(p)
			if err != nil {
				return err
			}
			events = append(events, ev...)
		}
		if err := r.commit(ctx, events); err != nil {
			return err
		}
		if older || !conn.PageInfo.HasNextPage {
			break
		}
		vars["after"] = conn.PageInfo.EndCursor
	}
	cur.Since = newest
	return r.save(ctx, store.Cursor{Source: cur.Source, Scope: cur.Scope, Resource: cur.Resource, Since: newest})
}

// deploymentsQuery lists deployments newest first, each with its
// statuses: REST needs one more request per deployment for those.
const deploymentsQuery = `query($owner: String!, $name: String!, $first: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    deployments(first: $first, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        databaseId commitOid environment task payload createdAt updatedAt
        statuses(first: 100) { nodes { state createdAt updatedAt } }
      }
    }
  }
}`

type gqlDeployments struct {
	Repository *struct {
		Deployments struct {
			PageInfo struct {
				HasNextPage bool   `json:"hasNextPage"`
				EndCursor   string `json:"endCursor"`
			} `json:"pageInfo"`
			Nodes []struct {
				DatabaseID  int64     `json:"databaseId"`
				CommitOID   string    `json:"commitOid"`
				Environment string    `json:"environment"`
				Task        string    `json:"task"`
				Payload     string    `json:"payload"`
				CreatedAt   time.Time `json:"createdAt"`
				UpdatedAt   time.Time `json:"updatedAt"`
				Statuses    struct {
					Nodes []struct {
						State     string    `json:"state"`
						CreatedAt time.Time `json:"createdAt"`
						UpdatedAt time.Time `json:"updatedAt"`
					} `json:"nodes"`
				} `json:"statuses"`
			} `json:"nodes"`
		} `json:"deployments"`
	} `json:"repository"`
}

// deployments reports each deployment and its statuses as the deployment
// and deployment_status events do, a GraphQL page of 100 deployments at a
// time. GraphQL gives a status no REST id, so a status's key is the
// connector's for a status without one (deployment, state and time): it
// merges with the webhook's report of the same status into one
// deployment. The sweep ends at a page of deployments none updated since
// the last run; the cursor is saved once it is complete.
func (r *repoRun) deployments(ctx context.Context) error {
	cur, err := r.cursor(ctx, "deployments")
	if err != nil {
		return err
	}
	owner, name, _ := strings.Cut(r.repo, "/")
	newest := cur.Since
	vars := map[string]any{"owner": owner, "name": name, "first": 100}
	for {
		var page gqlDeployments
		if err := r.c.client.GraphQL(ctx, GraphQLURL(r.c.cfg.APIURL), deploymentsQuery, vars, &page); err != nil {
			return err
		}
		r.res.Pages++
		r.c.tracker.Page()
		if page.Repository == nil {
			return fmt.Errorf("graphql: no repository %s", r.repo)
		}
		conn := page.Repository.Deployments
		var events []delivery.Event
		fresh := 0
		for _, d := range conn.Nodes {
			newest = later(newest, d.UpdatedAt)
			if !cur.Since.IsZero() && d.UpdatedAt.Before(cur.Since) {
				continue
			}
			fresh++
			dep := map[string]any{"id": d.DatabaseID, "sha": d.CommitOID, "task": d.Task, "environment": d.Environment,
				"payload": d.Payload, "created_at": d.CreatedAt, "updated_at": d.UpdatedAt}
			ev, err := r.translate("deployment", map[string]any{"action": "created", "deployment": dep})
			if err != nil {
				return err
			}
			events = append(events, ev...)
			for _, st := range d.Statuses.Nodes {
				status := map[string]any{"state": strings.ToLower(st.State), "created_at": st.CreatedAt, "updated_at": st.UpdatedAt}
				ev, err := r.translate("deployment_status", map[string]any{"action": "created", "deployment": dep, "deployment_status": status})
				if err != nil {
					return err
				}
				events = append(events, ev...)
			}
		}
		if err := r.commit(ctx, events); err != nil {
			return err
		}
		if (fresh == 0 && len(conn.Nodes) > 0) || !conn.PageInfo.HasNextPage {
			break
		}
		vars["after"] = conn.PageInfo.EndCursor
	}
	return r.save(ctx, store.Cursor{Source: cur.Source, Scope: cur.Scope, Resource: cur.Resource, Since: newest})
}
