package github

import (
	"encoding/json"
	"strconv"
	"time"
)

// One history of the repository acme/shop (service shop), told twice: as
// the objects GitHub's APIs list (a fakeRepo) and as the webhook deliveries
// GitHub sends while it happens. main has A, B, C (the squash of pull
// request 1), M (the merge back of release/1.x, whose hotfix R1 branched
// from B) and D (pull request 2, a draft first); B, M and D are deployed,
// D first failing; v1.0 is released at M; issue 7 is an incident.

var h0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return h0.Add(time.Duration(minutes) * time.Minute) }

type histCommit struct {
	sha, msg, login string
	parents         []string
	at              time.Time
}

var histCommits = []histCommit{
	{sha: "a000000000000000000000000000000000000001", msg: "start the shop", login: "alice", at: at(0)},
	{sha: "b000000000000000000000000000000000000002", msg: "add the cart", login: "alice", parents: []string{"a000000000000000000000000000000000000001"}, at: at(60)},
	{sha: "e000000000000000000000000000000000000003", msg: "hotfix the cart total", login: "erin", parents: []string{"b000000000000000000000000000000000000002"}, at: at(120)},
	{sha: "c000000000000000000000000000000000000004", msg: "checkout (#1)", login: "alice", parents: []string{"b000000000000000000000000000000000000002"}, at: at(180)},
	{sha: "f000000000000000000000000000000000000005", msg: "Merge branch 'release/1.x'", login: "erin",
		parents: []string{"c000000000000000000000000000000000000004", "e000000000000000000000000000000000000003"}, at: at(240)},
	{sha: "d000000000000000000000000000000000000006", msg: "receipts (#2)", login: "carol", parents: []string{"f000000000000000000000000000000000000005"}, at: at(300)},
}

func sha(prefix byte) string {
	for _, c := range histCommits {
		if c.sha[0] == prefix {
			return c.sha
		}
	}
	panic("no commit " + string(prefix))
}

func restCommit(c histCommit) map[string]any {
	parents := []any{}
	for _, p := range c.parents {
		parents = append(parents, map[string]any{"sha": p})
	}
	who := map[string]any{"name": c.login, "email": c.login + "@example.com", "date": c.at}
	return map[string]any{"sha": c.sha, "commit": map[string]any{"message": c.msg, "author": who, "committer": who},
		"author": map[string]any{"login": c.login}, "parents": parents}
}

func pushCommit(c histCommit) map[string]any {
	return map[string]any{"id": c.sha, "message": c.msg, "timestamp": c.at,
		"author": map[string]any{"name": c.login, "email": c.login + "@example.com", "username": c.login}}
}

var shopRepo = map[string]any{"full_name": "acme/shop", "default_branch": "main"}

type histDeployment struct {
	id       int64
	sha      string
	created  time.Time
	statuses [][2]any // state, time
}

var histDeployments = []histDeployment{
	{id: 101, sha: sha('b'), created: at(90), statuses: [][2]any{{"in_progress", at(91)}, {"success", at(100)}}},
	{id: 102, sha: sha('f'), created: at(270), statuses: [][2]any{{"success", at(280)}}},
	{id: 103, sha: sha('d'), created: at(330), statuses: [][2]any{{"failure", at(335)}}},
	{id: 104, sha: sha('d'), created: at(340), statuses: [][2]any{{"success", at(350)}}},
}

func restDeployment(d histDeployment) map[string]any {
	last := d.statuses[len(d.statuses)-1][1].(time.Time)
	return map[string]any{"id": d.id, "sha": d.sha, "ref": "main", "task": "deploy", "environment": "production",
		"payload": map[string]any{}, "created_at": d.created, "updated_at": last}
}

func restStatus(d histDeployment, i int) map[string]any {
	return map[string]any{"id": d.id*10 + int64(i), "state": d.statuses[i][0], "created_at": d.statuses[i][1], "updated_at": d.statuses[i][1]}
}

var release = map[string]any{"id": 1, "tag_name": "v1.0", "target_commitish": sha('f'), "draft": false, "prerelease": false,
	"created_at": at(285), "published_at": at(285)}

// The pull requests' facts, from which both the GraphQL nodes and the
// webhook payloads are made.
type histPull struct {
	number                                int
	title, author                         string
	created, ready, merged, firstCommitAt time.Time
	mergeSHA                              string
	draft                                 bool
	adds, dels, files                     int
	reviews                               []histReview
	reviewComments                        []histComment
	comments                              []histComment
}

type histReview struct {
	id           int64
	login, state string
	at           time.Time
}

type histComment struct {
	id    int64
	login string
	at    time.Time
}

var histPulls = []histPull{
	{number: 1, title: "Checkout", author: "alice", created: at(150), merged: at(180), firstCommitAt: at(130), mergeSHA: sha('c'),
		adds: 120, dels: 10, files: 4,
		reviews:        []histReview{{id: 501, login: "bob", state: "APPROVED", at: at(170)}},
		reviewComments: []histComment{{id: 601, login: "carol", at: at(165)}},
		comments:       []histComment{{id: 701, login: "dave", at: at(172)}}},
	{number: 2, title: "Receipts", author: "carol", created: at(250), ready: at(270), merged: at(300), firstCommitAt: at(200), mergeSHA: sha('d'),
		draft: true, adds: 40, dels: 2, files: 2,
		reviews: []histReview{{id: 502, login: "carol", state: "COMMENTED", at: at(260)}, {id: 503, login: "bob", state: "APPROVED", at: at(290)}}},
}

// gqlNode is the pull request as the GraphQL query reads it, merged.
func gqlNode(p histPull) map[string]any {
	login := func(l string) any { return map[string]any{"login": l} }
	reviews := []any{}
	for _, r := range p.reviews {
		comments := []any{}
		total := 0
		if r.login == "bob" && p.number == 1 {
			// carol's review comment belongs to a review of her own, which
			// GitHub lists as COMMENTED; put it with bob's for brevity.
			for _, c := range p.reviewComments {
				comments = append(comments, map[string]any{"databaseId": c.id, "createdAt": c.at, "author": login(c.login)})
			}
			total = len(p.reviewComments)
		}
		reviews = append(reviews, map[string]any{"databaseId": r.id, "state": r.state, "submittedAt": r.at, "author": login(r.login),
			"comments": map[string]any{"totalCount": total, "nodes": comments}})
	}
	comments := []any{}
	for _, c := range p.comments {
		comments = append(comments, map[string]any{"databaseId": c.id, "createdAt": c.at, "author": login(c.login)})
	}
	timeline := []any{}
	if !p.ready.IsZero() {
		timeline = append(timeline, map[string]any{"createdAt": p.ready})
	}
	return map[string]any{"number": p.number, "title": p.title, "state": "MERGED", "isDraft": false,
		"createdAt": p.created, "updatedAt": p.merged, "closedAt": p.merged, "mergedAt": p.merged,
		"additions": p.adds, "deletions": p.dels, "changedFiles": p.files, "author": login(p.author),
		"mergeCommit": map[string]any{"oid": p.mergeSHA}, "labels": map[string]any{"nodes": []any{}},
		"comments":      map[string]any{"totalCount": len(p.comments), "nodes": comments},
		"reviews":       map[string]any{"nodes": reviews},
		"commits":       map[string]any{"nodes": []any{map[string]any{"commit": map[string]any{"authoredDate": p.firstCommitAt, "committedDate": p.firstCommitAt}}}},
		"timelineItems": map[string]any{"nodes": timeline},
	}
}

var histIncident = map[string]any{"number": 7, "title": "Receipts fail", "state": "closed", "user": map[string]any{"login": "dave"},
	"labels": []any{map[string]any{"name": "incident"}, map[string]any{"name": "sev1"}}, "comments": 0,
	"created_at": at(336), "updated_at": at(352), "closed_at": at(352)}

var histRun = map[string]any{"id": 9001, "name": "ci", "head_sha": sha('d'), "head_branch": "main", "status": "completed",
	"conclusion": "success", "run_attempt": 1, "run_started_at": at(301), "created_at": at(301), "updated_at": at(310)}

// shopFake is the history as the APIs list it.
func shopFake() *fakeRepo {
	byBranch := func(shas ...string) []map[string]any {
		var out []map[string]any
		for _, s := range shas {
			for _, c := range histCommits {
				if c.sha == s {
					out = append(out, restCommit(c))
				}
			}
		}
		return out
	}
	r := &fakeRepo{
		defaultBranch: "main",
		branches: map[string][]map[string]any{
			"main":        byBranch(sha('d'), sha('f'), sha('c'), sha('e'), sha('b'), sha('a')),
			"release/1.x": byBranch(sha('e'), sha('b'), sha('a')),
			"feature/x":   byBranch(sha('a')),
		},
		tags:     []any{map[string]any{"name": "v1.0", "commit": map[string]any{"sha": sha('f')}}},
		releases: []any{release},
		statuses: map[int64][]any{},
		runs:     []any{histRun},
		issues:   []map[string]any{histIncident},
	}
	for i := len(histDeployments) - 1; i >= 0; i-- { // newest first
		d := histDeployments[i]
		r.deployments = append(r.deployments, restDeployment(d))
		for j := range d.statuses {
			r.statuses[d.id] = append([]any{restStatus(d, j)}, r.statuses[d.id]...) // newest first
		}
	}
	for i := len(histPulls) - 1; i >= 0; i-- {
		r.pulls = append(r.pulls, gqlNode(histPulls[i]))
	}
	return r
}

type webhook struct {
	event string
	body  []byte
}

// shopWebhooks is the history as GitHub's webhooks deliver it.
func shopWebhooks() []webhook {
	var out []webhook
	send := func(event string, payload map[string]any) {
		payload["repository"] = shopRepo
		body, err := json.Marshal(payload)
		if err != nil {
			panic(err)
		}
		out = append(out, webhook{event: event, body: body})
	}
	push := func(before string, shas ...string) {
		var commits []any
		for _, s := range shas {
			for _, c := range histCommits {
				if c.sha == s {
					commits = append(commits, pushCommit(c))
				}
			}
		}
		send("push", map[string]any{"ref": "refs/heads/main", "before": before, "after": shas[len(shas)-1], "commits": commits})
	}
	push("0000000000000000000000000000000000000000", sha('a'), sha('b'))
	push(sha('b'), sha('c'))
	push(sha('c'), sha('e'), sha('f')) // the merge back brings the hotfix
	push(sha('f'), sha('d'))
	for _, d := range histDeployments {
		send("deployment", map[string]any{"action": "created", "deployment": restDeployment(d)})
		for i := range d.statuses {
			send("deployment_status", map[string]any{"action": "created", "deployment": restDeployment(d), "deployment_status": restStatus(d, i)})
		}
	}
	send("release", map[string]any{"action": "published", "release": release})
	send("push", map[string]any{"ref": "refs/tags/v1.0", "after": sha('f'), "head_commit": pushCommit(histCommits[4]),
		"repository": nil}) // repository set below, with pushed_at
	var tag map[string]any
	json.Unmarshal(out[len(out)-1].body, &tag)
	tag["repository"] = map[string]any{"full_name": "acme/shop", "default_branch": "main", "pushed_at": at(285).Unix()}
	out[len(out)-1].body, _ = json.Marshal(tag)

	for _, p := range histPulls {
		pr := func(state string, updated time.Time, draft bool) map[string]any {
			m := map[string]any{"number": p.number, "title": p.title, "state": state, "draft": draft, "user": map[string]any{"login": p.author},
				"created_at": p.created, "updated_at": updated, "labels": []any{},
				"additions": p.adds, "deletions": p.dels, "changed_files": p.files, "comments": len(p.comments), "review_comments": len(p.reviewComments)}
			if state == "closed" {
				m["merged"], m["merged_at"], m["closed_at"], m["merge_commit_sha"] = true, p.merged, p.merged, p.mergeSHA
			}
			return m
		}
		send("pull_request", map[string]any{"action": "opened", "number": p.number, "pull_request": pr("open", p.created, p.draft)})
		if !p.ready.IsZero() {
			send("pull_request", map[string]any{"action": "ready_for_review", "number": p.number, "pull_request": pr("open", p.ready, false)})
		}
		for _, c := range p.reviewComments {
			send("pull_request_review_comment", map[string]any{"action": "created", "pull_request": pr("open", c.at, false),
				"comment": map[string]any{"id": c.id, "user": map[string]any{"login": c.login}, "created_at": c.at}})
		}
		for _, r := range p.reviews {
			send("pull_request_review", map[string]any{"action": "submitted", "pull_request": pr("open", r.at, false),
				"review": map[string]any{"id": r.id, "user": map[string]any{"login": r.login}, "state": r.state, "submitted_at": r.at}})
		}
		for _, c := range p.comments {
			send("issue_comment", map[string]any{"action": "created",
				"issue": map[string]any{"number": p.number, "title": p.title, "user": map[string]any{"login": p.author}, "comments": len(p.comments),
					"created_at": p.created, "updated_at": c.at, "pull_request": map[string]any{}},
				"comment": map[string]any{"id": c.id, "user": map[string]any{"login": c.login}, "created_at": c.at}})
		}
		send("pull_request", map[string]any{"action": "closed", "number": p.number, "pull_request": pr("closed", p.merged, false)})
	}
	opened := map[string]any{}
	for k, v := range histIncident {
		opened[k] = v
	}
	opened["state"], opened["closed_at"], opened["updated_at"] = "open", nil, at(336)
	send("issues", map[string]any{"action": "opened", "issue": opened})
	send("issues", map[string]any{"action": "closed", "issue": histIncident})
	send("workflow_run", map[string]any{"action": "completed", "workflow_run": histRun})
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
