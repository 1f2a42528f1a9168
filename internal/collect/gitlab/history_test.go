package gitlab

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// One history of the project acme/shop (service shop), told twice: as the
// objects GitLab's API lists (a fakeProject) and as the webhook deliveries
// GitLab sends while it happens. main has A, B, C (the merge of merge
// request 1), M (the merge back of release/1.x, whose hotfix E branched
// from B) and D (merge request 2, opened as a draft); B, M and D are
// deployed, D first failing; issue 7 is an incident.

var h0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func at(minutes int) time.Time { return h0.Add(time.Duration(minutes) * time.Minute) }

type histCommit struct {
	sha, title, who string
	parents         []string
	at              time.Time
}

var histCommits = []histCommit{
	{sha: "a000000000000000000000000000000000000001", title: "start the shop", who: "alice", at: at(0)},
	{sha: "b000000000000000000000000000000000000002", title: "add the cart", who: "alice", parents: []string{"a000000000000000000000000000000000000001"}, at: at(60)},
	{sha: "e000000000000000000000000000000000000003", title: "hotfix the cart total", who: "erin", parents: []string{"b000000000000000000000000000000000000002"}, at: at(120)},
	{sha: "c000000000000000000000000000000000000004", title: "Merge branch 'checkout' into 'main'", who: "alice", parents: []string{"b000000000000000000000000000000000000002"}, at: at(180)},
	{sha: "f000000000000000000000000000000000000005", title: "Merge branch 'release/1.x'", who: "erin",
		parents: []string{"c000000000000000000000000000000000000004", "e000000000000000000000000000000000000003"}, at: at(240)},
	{sha: "d000000000000000000000000000000000000006", title: "Merge branch 'receipts' into 'main'", who: "carol", parents: []string{"f000000000000000000000000000000000000005"}, at: at(300)},
}

func sha(prefix byte) string {
	for _, c := range histCommits {
		if c.sha[0] == prefix {
			return c.sha
		}
	}
	panic("no commit " + string(prefix))
}

func commitOf(s string) histCommit {
	for _, c := range histCommits {
		if c.sha == s {
			return c
		}
	}
	panic("no commit " + s)
}

// apiCommitOf is the commit as GET /repository/commits lists it.
func apiCommitOf(c histCommit) map[string]any {
	parents := append([]string{}, c.parents...)
	return map[string]any{"id": c.sha, "short_id": c.sha[:8], "title": c.title, "message": c.title + "\n",
		"author_name": c.who, "author_email": c.who + "@example.com", "authored_date": c.at,
		"committer_name": c.who, "committer_email": c.who + "@example.com", "committed_date": c.at,
		"parent_ids": parents, "web_url": "https://gitlab.example.com/acme/shop/-/commit/" + c.sha}
}

// Users by GitLab id.
const (
	alice = 1
	bob   = 2
	carol = 3
	dave  = 4
)

type histNote struct {
	id     int64
	author int64
	body   string
	system bool
	at     time.Time
}

type histMR struct {
	iid            int
	title          string
	author         int64
	created, ready time.Time
	merged         time.Time
	mergeSHA       string
	notes          []histNote
	// commits are when the merge request's commits were authored,
	// oldest first.
	commits []time.Time
}

var histMRs = []histMR{
	{iid: 1, title: "Checkout", author: alice, created: at(150), merged: at(180), mergeSHA: sha('c'), commits: []time.Time{at(130), at(140), at(145)}, notes: []histNote{
		{id: 601, author: carol, body: "the total rounds wrong", at: at(165)},
		{id: 602, author: bob, body: "approved this merge request", system: true, at: at(170)},
		{id: 603, author: dave, body: "nice", at: at(172)},
		{id: 604, author: alice, body: "merged", system: true, at: at(180)},
	}},
	{iid: 2, title: "Receipts", author: carol, created: at(250), ready: at(270), merged: at(300), mergeSHA: sha('d'), commits: []time.Time{at(200)}, notes: []histNote{
		{id: 611, author: carol, body: "still a draft, sorry", at: at(260)},
		{id: 612, author: carol, body: "marked this merge request as **ready**", system: true, at: at(270)},
		{id: 613, author: bob, body: "approved this merge request", system: true, at: at(290)},
	}},
}

func apiMR(m histMR) map[string]any {
	return map[string]any{"id": 1000 + m.iid, "iid": m.iid, "title": m.title, "state": "merged", "draft": false,
		"author": map[string]any{"id": m.author}, "created_at": m.created, "updated_at": m.merged, "merged_at": m.merged,
		"closed_at": nil, "merge_commit_sha": m.mergeSHA, "squash_commit_sha": nil, "sha": m.mergeSHA, "labels": []string{}}
}

func apiNoteOf(n histNote) map[string]any {
	typ := any(nil)
	if !n.system {
		typ = "DiscussionNote"
	}
	return map[string]any{"id": n.id, "type": typ, "body": n.body, "system": n.system, "author": map[string]any{"id": n.author},
		"created_at": n.at, "updated_at": n.at, "noteable_type": "MergeRequest"}
}

type histDeployment struct {
	id       int64
	sha      string
	started  time.Time // the job's start, when it ran before finishing
	status   string
	finished time.Time
}

var histDeployments = []histDeployment{
	{id: 101, sha: sha('b'), started: at(91), status: "success", finished: at(100)},
	{id: 102, sha: sha('f'), status: "success", finished: at(280)},
	{id: 103, sha: sha('d'), status: "failed", finished: at(335)},
	{id: 104, sha: sha('d'), status: "success", finished: at(350)},
}

func apiDeployment(d histDeployment) map[string]any {
	job := map[string]any{"id": d.id * 10, "status": d.status, "started_at": nil, "finished_at": d.finished}
	if !d.started.IsZero() {
		job["started_at"] = d.started
	}
	return map[string]any{"id": d.id, "iid": d.id - 100, "ref": "main", "sha": d.sha, "status": d.status,
		"created_at": d.finished.Add(-5 * time.Minute), "updated_at": d.finished,
		"environment": map[string]any{"id": 1, "name": "production"}, "deployable": job}
}

var histPipeline = map[string]any{"id": 900, "iid": 12, "ref": "main", "sha": sha('d'), "status": "success", "source": "push",
	"created_at": at(301), "updated_at": at(310)}

var histIncident = map[string]any{"id": 7007, "iid": 7, "title": "Receipts fail", "state": "closed", "issue_type": "incident",
	"type": "INCIDENT", "severity": "UNKNOWN", "labels": []string{"severity::high"},
	"created_at": at(336), "updated_at": at(352), "closed_at": at(352)}

// shopProject is the history as the API lists it.
func shopProject() *fakeProject {
	byBranch := func(shas ...string) []map[string]any {
		var out []map[string]any
		for _, s := range shas {
			out = append(out, apiCommitOf(commitOf(s)))
		}
		return out
	}
	p := &fakeProject{
		defaultBranch: "main",
		commits: map[string][]map[string]any{
			"main":        byBranch(sha('d'), sha('f'), sha('c'), sha('e'), sha('b'), sha('a')),
			"release/1.x": byBranch(sha('e'), sha('b'), sha('a')),
			"feature/x":   byBranch(sha('a')),
		},
		lists:     map[string][]map[string]any{"pipelines": {histPipeline}, "issues": {histIncident}},
		notes:     map[int][]map[string]any{},
		mrCommits: map[int][]map[string]any{},
	}
	for _, d := range histDeployments {
		p.lists["deployments"] = append(p.lists["deployments"], apiDeployment(d))
	}
	for _, m := range histMRs {
		p.lists["merge_requests"] = append(p.lists["merge_requests"], apiMR(m))
		for _, n := range m.notes {
			p.notes[m.iid] = append(p.notes[m.iid], apiNoteOf(n))
		}
		for i, c := range m.commits { // newest first
			p.mrCommits[m.iid] = append([]map[string]any{apiCommitOf(histCommit{sha: fmt.Sprintf("%039x%d", i+1, m.iid), title: "work", who: "dev", at: c})},
				p.mrCommits[m.iid]...)
		}
	}
	return p
}

// hookTime is a time as GitLab's hooks write it.
func hookTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// shopWebhooks is the history as GitLab's webhooks deliver it.
func shopWebhooks() [][]byte {
	var out [][]byte
	project := map[string]any{"id": 42, "path_with_namespace": "acme/shop", "default_branch": "main"}
	send := func(payload map[string]any) {
		payload["project"] = project
		b, err := json.Marshal(payload)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	push := func(before string, shas ...string) {
		var commits []any
		for _, s := range shas {
			c := commitOf(s)
			commits = append(commits, map[string]any{"id": c.sha, "message": c.title + "\n", "title": c.title, "timestamp": c.at,
				"author": map[string]any{"name": c.who, "email": c.who + "@example.com"},
				"added":  []string{}, "modified": []string{"README.md"}, "removed": []string{}})
		}
		send(map[string]any{"object_kind": "push", "ref": "refs/heads/main", "before": before, "after": shas[len(shas)-1],
			"commits": commits, "total_commits_count": len(commits)})
	}
	push(zeroSHA, sha('a'), sha('b'))
	push(sha('b'), sha('c'))
	push(sha('c'), sha('e'), sha('f')) // the merge back brings the hotfix
	push(sha('f'), sha('d'))
	for _, d := range histDeployments {
		dep := func(status string, t time.Time) {
			send(map[string]any{"object_kind": "deployment", "status": status, "status_changed_at": hookTime(t), "deployment_id": d.id,
				"environment": "production", "short_sha": d.sha[:8], "commit_url": "https://gitlab.example.com/acme/shop/-/commit/" + d.sha, "ref": "main"})
		}
		if !d.started.IsZero() {
			dep("running", d.started)
		}
		dep(d.status, d.finished)
	}
	for _, m := range histMRs {
		attrs := func(state, action string, updated time.Time) map[string]any {
			a := map[string]any{"iid": m.iid, "author_id": m.author, "title": m.title, "state": state, "action": action,
				"created_at": hookTime(m.created), "updated_at": hookTime(updated), "last_commit": map[string]any{"id": m.mergeSHA}}
			if state == "merged" {
				a["merge_commit_sha"] = m.mergeSHA
			}
			return a
		}
		open := map[string]any{"object_kind": "merge_request", "user": map[string]any{"id": m.author},
			"object_attributes": attrs("opened", "open", m.created), "labels": []any{}}
		send(open)
		for _, n := range m.notes {
			switch {
			case n.body == "approved this merge request":
				send(map[string]any{"object_kind": "merge_request", "user": map[string]any{"id": n.author},
					"object_attributes": attrs("opened", "approved", n.at), "labels": []any{}})
			case strings.HasPrefix(n.body, "marked this merge request as **ready**"):
				send(map[string]any{"object_kind": "merge_request", "user": map[string]any{"id": m.author},
					"object_attributes": attrs("opened", "update", n.at), "labels": []any{},
					"changes": map[string]any{"draft": map[string]any{"previous": true, "current": false}}})
			case !n.system:
				send(map[string]any{"object_kind": "note", "user": map[string]any{"id": n.author},
					"object_attributes": map[string]any{"id": n.id, "note": n.body, "noteable_type": "MergeRequest", "author_id": n.author,
						"system": false, "created_at": hookTime(n.at)},
					"merge_request": map[string]any{"iid": m.iid, "author_id": m.author, "title": m.title, "created_at": hookTime(m.created)}})
			}
		}
		send(map[string]any{"object_kind": "merge_request", "user": map[string]any{"id": m.author},
			"object_attributes": attrs("merged", "merge", m.merged), "labels": []any{}})
	}
	send(map[string]any{"object_kind": "pipeline", "object_attributes": map[string]any{"id": 900, "ref": "main", "tag": false, "sha": sha('d'),
		"status": "success", "created_at": hookTime(at(301)), "finished_at": hookTime(at(310))}})
	issue := func(state, action string, updated time.Time, closed any) {
		send(map[string]any{"object_kind": "issue", "labels": []any{map[string]any{"title": "severity::high"}},
			"object_attributes": map[string]any{"iid": 7, "title": "Receipts fail", "issue_type": "incident", "type": "INCIDENT",
				"state": state, "action": action, "severity": "unknown", "created_at": hookTime(at(336)), "updated_at": hookTime(updated),
				"closed_at": closed}})
	}
	issue("opened", "open", at(336), nil)
	issue("closed", "close", at(352), hookTime(at(352)))
	return out
}

const zeroSHA = "0000000000000000000000000000000000000000"
