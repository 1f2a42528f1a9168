package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/flow"
	"github.com/stride-oss/stride/internal/ingest/github"
	"github.com/stride-oss/stride/internal/ingest/pagerduty"
	"github.com/stride-oss/stride/internal/store"
)

// The scripted history of one repository, acme/shop (service "shop"), on
// Monday 2 March 2026 (UTC):
//
//	07:00  commit a1 (on main)
//	08:00  push of a1 to main (the branch is new: a1 has no known parent)
//	08:30  deployment 1001 of a1 to production created; 09:00 success
//	09:40  commit f1 on a feature branch; 10:30 commit f2
//	10:00  pull request #7 opened by alice
//	11:30  bob approves it
//	13:00  #7 merged as m1 (committed 13:00); push of f1, f2, m1 to main
//	13:30  deployment 1002 of m1 created; 14:00 success
//	15:00  PagerDuty incident Q1SHOP triggered on the shop service
//	15:45  the incident is resolved
var (
	day = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

	tA1, tF1, tF2, tM1 = at(7, 0), at(9, 40), at(10, 30), at(13, 0)
	tPush1, tPush2     = at(8, 0), at(13, 0)
	tDep1, tDep1Done   = at(8, 30), at(9, 0)
	tPROpen, tReview   = at(10, 0), at(11, 30)
	tMerge             = at(13, 0)
	tDep2, tDep2Done   = at(13, 30), at(14, 0)
	tIncident, tFixed  = at(15, 0), at(15, 45)

	period = delivery.Period{From: day, To: day.AddDate(0, 0, 7)}
)

const (
	shaA1 = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	shaF1 = "f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1"
	shaF2 = "f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2f2"
	shaM1 = "e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1"
	repo  = "acme/shop"
)

func at(h, m int) time.Time {
	return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// hook is one webhook delivery: its source, unauthenticated headers and
// body. send signs it.
type hook struct {
	source string
	header http.Header
	body   []byte
}

func (d hook) send(t testing.TB, h *harness) {
	t.Helper()
	hdr := d.header.Clone()
	switch d.source {
	case "github":
		hdr.Set(github.HeaderSignature, github.Sign(githubSecret, d.body))
	case "pagerduty":
		hdr.Set(pagerduty.SignatureHeader, "v1="+hmacHex(pagerdutySecret, d.body))
	default:
		t.Fatalf("no signer for %s", d.source)
	}
	r := h.post(t, "/webhooks/"+d.source, hdr, d.body)
	if r.status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", d.source, d.header.Get(github.HeaderDelivery), r.status, r.text)
	}
}

// edit loads a fixture as generic JSON so a test can change what the
// history needs and keep the rest of the payload as it is.
func edit(t testing.TB, path string, fn func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFile(t, path), &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// set assigns v at a dotted path of objects.
func set(m map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

func obj(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }

// clone deep-copies generic JSON.
func clone(v map[string]any) map[string]any {
	b, _ := json.Marshal(v)
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

func ghFixture(parts ...string) string {
	return filepath.Join(append([]string{githubPayloads}, parts...)...)
}

// inRepo points a GitHub payload at the history's repository.
func inRepo(m map[string]any) {
	set(m, "repository.full_name", repo)
	set(m, "repository.name", "shop")
	set(m, "repository.default_branch", "main")
	set(m, "repository.master_branch", "main")
}

func ghHook(event, id string, body []byte) hook {
	return hook{source: "github", header: headers(github.HeaderEvent, event, github.HeaderDelivery, id, "Content-Type", "application/json"), body: body}
}

// history builds the deliveries of the scripted history from copies of
// the project's GitHub and PagerDuty payloads.
func history(t testing.TB) []hook {
	t.Helper()
	commit := func(tmpl map[string]any, sha, msg, who string, when time.Time) map[string]any {
		c := clone(tmpl)
		c["id"], c["message"], c["timestamp"] = sha, msg, ts(when)
		for _, k := range []string{"author", "committer"} {
			set(c, k+".username", who)
			set(c, k+".name", who)
		}
		return c
	}
	push := func(id, before string, created bool, when time.Time, commits ...map[string]any) hook {
		return ghHook("push", id, edit(t, ghFixture("push", "new-branch.json"), func(m map[string]any) {
			inRepo(m)
			tmpl := m["commits"].([]any)[0].(map[string]any)
			list := make([]any, len(commits))
			for i, c := range commits {
				list[i] = commit(tmpl, c["sha"].(string), c["msg"].(string), c["who"].(string), c["at"].(time.Time))
			}
			m["ref"], m["before"], m["created"], m["forced"] = "refs/heads/main", before, created, false
			m["after"] = commits[len(commits)-1]["sha"]
			m["commits"], m["head_commit"] = list, list[len(list)-1]
			set(m, "repository.pushed_at", when.Unix())
		}))
	}
	c := func(sha, msg, who string, when time.Time) map[string]any {
		return map[string]any{"sha": sha, "msg": msg, "who": who, "at": when}
	}
	pr := func(m map[string]any, state string, updated time.Time) {
		inRepo(m)
		p := obj(m, "pull_request")
		p["number"], p["state"], p["title"] = 7, state, "Faster checkout"
		p["created_at"], p["updated_at"] = ts(tPROpen), ts(updated)
		set(p, "user.login", "alice")
		p["merge_commit_sha"], p["merged"], p["merged_at"], p["closed_at"] = nil, false, nil, nil
		p["additions"], p["deletions"], p["changed_files"], p["comments"], p["review_comments"] = 30, 10, 3, 2, 1
		p["labels"] = []any{}
		m["number"] = 7
	}
	deployment := func(m map[string]any, id int, sha string, created, updated time.Time) {
		inRepo(m)
		d := obj(m, "deployment")
		d["id"], d["sha"], d["ref"], d["environment"], d["task"] = id, sha, "main", "production", "deploy"
		d["created_at"], d["updated_at"], d["payload"] = ts(created), ts(updated), map[string]any{}
	}
	status := func(id, statusID int, sha string, created, done time.Time) hook {
		return ghHook("deployment_status", fmt.Sprintf("gh-status-%d", statusID), edit(t, ghFixture("deployment_status", "success.json"), func(m map[string]any) {
			deployment(m, id, sha, created, done)
			s := obj(m, "deployment_status")
			s["id"], s["state"], s["environment"] = statusID, "success", "production"
			s["created_at"], s["updated_at"] = ts(done), ts(done)
		}))
	}
	incident := func(file, eventID string, occurred time.Time) hook {
		body := edit(t, filepath.Join("..", "ingest", "pagerduty", "testdata", file), func(m map[string]any) {
			e := obj(m, "event")
			e["id"], e["occurred_at"] = eventID, ts(occurred)
			d := obj(e, "data")
			d["id"], d["created_at"], d["title"], d["priority"], d["urgency"] = "Q1SHOP", ts(tIncident), "Checkout errors", nil, "high"
			set(d, "service.id", pagerdutyShopService)
			set(d, "service.summary", "Shop (production)")
		})
		return hook{source: "pagerduty", header: headers("Content-Type", "application/json"), body: body}
	}

	return []hook{
		push("gh-push-1", "0000000000000000000000000000000000000000", true, tPush1, c(shaA1, "Set up checkout", "carol", tA1)),
		ghHook("deployment", "gh-deployment-1001", edit(t, ghFixture("deployment", "created.json"), func(m map[string]any) {
			deployment(m, 1001, shaA1, tDep1, tDep1)
		})),
		status(1001, 2001, shaA1, tDep1, tDep1Done),
		ghHook("pull_request", "gh-pr-opened", edit(t, ghFixture("pull_request", "opened.json"), func(m map[string]any) {
			pr(m, "open", tPROpen)
		})),
		ghHook("pull_request_review", "gh-review", edit(t, ghFixture("pull_request_review", "submitted.json"), func(m map[string]any) {
			pr(m, "open", tReview)
			// The short pull request of a review payload has no counts.
			for _, k := range []string{"additions", "deletions", "changed_files", "comments", "review_comments"} {
				delete(obj(m, "pull_request"), k)
			}
			r := obj(m, "review")
			r["id"], r["state"], r["submitted_at"] = 3001, "approved", ts(tReview)
			set(r, "user.login", "bob")
		})),
		ghHook("pull_request", "gh-pr-closed", edit(t, ghFixture("pull_request", "closed.json"), func(m map[string]any) {
			pr(m, "closed", tMerge)
			p := obj(m, "pull_request")
			p["merged"], p["merged_at"], p["closed_at"], p["merge_commit_sha"] = true, ts(tMerge), ts(tMerge), shaM1
		})),
		push("gh-push-2", shaA1, false, tPush2,
			c(shaF1, "Cache the basket", "alice", tF1),
			c(shaF2, "Batch the price lookups", "alice", tF2),
			c(shaM1, "Merge pull request #7 from acme/faster-checkout", "alice", tM1)),
		ghHook("deployment", "gh-deployment-1002", edit(t, ghFixture("deployment", "created.json"), func(m map[string]any) {
			deployment(m, 1002, shaM1, tDep2, tDep2)
		})),
		status(1002, 2002, shaM1, tDep2, tDep2Done),
		incident("incident.triggered.json", "EVT-TRIGGERED", tIncident),
		incident("incident.resolved.json", "EVT-RESOLVED", tFixed),
	}
}

// reports returns the DORA and flow reports of the whole org over the
// period, and of the service shop, as JSON.
func reports(t testing.TB, db *store.DB) (dora.Report, flow.Report, string) {
	t.Helper()
	ctx := context.Background()
	var out []any
	var d dora.Report
	var f flow.Report
	for _, scope := range []store.Scope{{}, {Service: "shop"}} {
		dr, err := reader(db).DORA(ctx, scope, period, nil)
		if err != nil {
			t.Fatal(err)
		}
		fr, err := reader(db).Flow(ctx, scope, period)
		if err != nil {
			t.Fatal(err)
		}
		if scope.Service == "" {
			d, f = dr, fr
		}
		out = append(out, dr, fr)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return d, f, string(b)
}

// secs is a duration in seconds as the reports give it.
func secs(d time.Duration) float64 { return d.Seconds() }

// checkHistoryDORA compares the DORA report with the figures worked out by
// hand from the history above.
func checkHistoryDORA(t *testing.T, r dora.Report) {
	t.Helper()
	// Deployment frequency: 1001 and 1002, both on 2 March; the period is
	// exactly one ISO week.
	df := r.DeploymentFrequency
	if df.Count != 2 || df.DeploymentDays != 1 || df.Weeks != 1 || df.PerWeek == nil || *df.PerWeek != 2 ||
		df.MedianDeploymentDaysPerWeek == nil || *df.MedianDeploymentDaysPerWeek != 1 {
		t.Errorf("deployment frequency %+v, want 2 deployments on 1 day of 1 week", df)
	}
	// Lead time: 1001 is the service's first deployment and ships only
	// its own commit a1 (09:00 − 07:00 = 2 h); 1002 ships what m1 reaches
	// and a1 does not: f1 (14:00 − 09:40 = 4 h 20), f2 (3 h 30), m1 (1 h).
	// Sorted 1 h, 2 h, 3 h 30, 4 h 20: the median is the mean of 2 h and
	// 3 h 30, 2 h 45; p90 is the ⌈3.6⌉ = 4th, 4 h 20.
	lt := r.LeadTime
	wantMedian, wantP90 := secs(2*time.Hour+45*time.Minute), secs(4*time.Hour+20*time.Minute)
	if lt.Count != 4 || lt.Deployments != 2 || lt.MedianSeconds == nil || *lt.MedianSeconds != wantMedian || lt.P90Seconds == nil || *lt.P90Seconds != wantP90 {
		t.Errorf("lead time %+v (median %v, p90 %v), want 4 changes of 2 deployments, median %v, p90 %v",
			lt, deref(lt.MedianSeconds), deref(lt.P90Seconds), wantMedian, wantP90)
	}
	// Change failure rate: the incident opened at 15:00 names no cause, so
	// it is inferred to be 1002, the latest success before it: 1 of 2.
	cfr := r.ChangeFailureRate
	if cfr.Failed != 1 || cfr.Deployments != 2 || cfr.Ratio == nil || *cfr.Ratio != 0.5 {
		t.Errorf("change failure rate %+v, want 1 of 2", cfr)
	}
	// Time to restore: 15:45 − 15:00.
	ttr := r.TimeToRestore
	if ttr.Count != 1 || ttr.MedianSeconds == nil || *ttr.MedianSeconds != secs(45*time.Minute) || *ttr.P90Seconds != secs(45*time.Minute) {
		t.Errorf("time to restore %+v, want one of 45 min", ttr)
	}
	// Failed deployment recovery time: 1002 finished at 14:00 and no fix
	// followed, so it recovered when the incident was resolved, 15:45.
	rt := r.RecoveryTime
	if rt.Count != 1 || rt.MedianSeconds == nil || *rt.MedianSeconds != secs(time.Hour+45*time.Minute) {
		t.Errorf("recovery time %+v, want one of 1 h 45", rt)
	}
	if rr := r.ReworkRate; rr.Unplanned != 0 || rr.Deployments != 2 {
		t.Errorf("rework rate %+v, want 0 of 2", rr)
	}
	if len(r.Warnings) != 0 {
		t.Errorf("warnings %+v, want none", r.Warnings)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// checkHistoryFlow compares the flow report with the figures worked out by
// hand. GitHub's pull_request payload does not carry the first commit's
// time, so coding time is unknown and cycle time starts at creation.
func checkHistoryFlow(t *testing.T, r flow.Report) {
	t.Helper()
	dur := func(name string, got *flow.DurationStat, want time.Duration) {
		t.Helper()
		if got == nil || got.Count != 1 || got.MedianSeconds != secs(want) || got.P90Seconds != secs(want) {
			t.Errorf("%s %+v, want one pull request of %v", name, got, want)
		}
	}
	if r.CodingTime != nil {
		t.Errorf("coding time %+v, want null (the first commit time is not known)", r.CodingTime)
	}
	dur("pickup time", r.PickupTime, tReview.Sub(tPROpen))  // 1 h 30
	dur("review time", r.ReviewTime, tMerge.Sub(tReview))   // 1 h 30
	dur("deploy time", r.DeployTime, tDep2Done.Sub(tMerge)) // 1 h
	dur("cycle time", r.CycleTime, tDep2Done.Sub(tPROpen))  // 4 h
	if r.CycleTimeToMerge != nil {
		t.Errorf("cycle time to merge %+v, want null (the pull request was deployed)", r.CycleTimeToMerge)
	}
	count := func(name string, got *flow.CountStat, want float64) {
		t.Helper()
		if got == nil || got.Count != 1 || got.Median != want {
			t.Errorf("%s %+v, want one pull request of %v", name, got, want)
		}
	}
	count("PR size", r.PRSize, 40)
	count("changed files", r.ChangedFiles, 3)
	count("comments", r.Comments, 3)
	if p := r.PRsPerContributor; p.Merged != 1 || p.Contributors != 1 || p.Ratio == nil || *p.Ratio != 1 {
		t.Errorf("PRs per contributor %+v, want 1 of 1", p)
	}
}

// sendAll sends deliveries in order.
func sendAll(t testing.TB, h *harness, ds []hook) {
	t.Helper()
	for _, d := range ds {
		d.send(t, h)
	}
}

func TestHistoryByWebhooks(t *testing.T) {
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		hooks := history(t)

		h := open(t)
		sendAll(t, h, hooks)
		d, f, want := reports(t, h.db)
		t.Run("the reports have the figures worked out by hand", func(t *testing.T) {
			// Every delivery lands on the one service: PagerDuty's service
			// through its mapping, GitHub's repository through its own.
			services, err := h.db.ScopeServices(context.Background(), store.Scope{})
			if err != nil || len(services) != 1 || services[0] != "shop" {
				t.Errorf("services %v (%v), want [shop]", services, err)
			}
			checkHistoryDORA(t, d)
			checkHistoryFlow(t, f)
		})

		for seed := uint64(1); seed <= 4; seed++ {
			t.Run(fmt.Sprintf("shuffled with seed %d, the reports are the same", seed), func(t *testing.T) {
				ds := append([]hook(nil), hooks...)
				rand.New(rand.NewPCG(seed, seed)).Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
				h := open(t)
				sendAll(t, h, ds)
				if _, _, got := reports(t, h.db); got != want {
					t.Errorf("reports differ from the in-order ones:\n%s\nwant\n%s", got, want)
				}
			})
		}
		for seed := uint64(1); seed <= 2; seed++ {
			t.Run(fmt.Sprintf("every delivery sent twice (seed %d), the reports are the same", seed), func(t *testing.T) {
				ds := append(append([]hook(nil), hooks...), hooks...)
				rand.New(rand.NewPCG(seed, 99)).Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
				h := open(t)
				sendAll(t, h, ds)
				if _, _, got := reports(t, h.db); got != want {
					t.Errorf("reports differ from the in-order ones:\n%s\nwant\n%s", got, want)
				}
				if n := h.counts(t)["raw_deliveries"]; n != len(hooks) {
					t.Errorf("%d raw deliveries stored, want %d (each once)", n, len(hooks))
				}
			})
		}
	})
}

// nativeHistory is the same history told through the native API, as a
// deployment pipeline or a script would tell it. With firstCommit, the pull
// request also carries the time of its first commit, which the native
// format has a field for and GitHub's pull_request payload does not.
func nativeHistory(firstCommit bool) []map[string]any {
	change := func(sha, parent, who, title string, when time.Time) map[string]any {
		c := map[string]any{"repository": repo, "sha": sha, "author": who, "commit_time": ts(when), "title": title}
		if parent != "" {
			c["parents"] = []string{parent}
		}
		return map[string]any{"key": "change-" + sha, "kind": "change", "change": c}
	}
	deployment := func(id, sha string, started, finished time.Time) map[string]any {
		return map[string]any{"key": "deployment-" + id, "kind": "deployment", "deployment": map[string]any{
			"service": "shop", "environment": "production", "id": id, "status": "success",
			"started_at": ts(started), "finished_at": ts(finished), "sha": sha, "repository": repo}}
	}
	pr := map[string]any{"repository": repo, "number": 7, "title": "Faster checkout", "author": "alice",
		"created_at": ts(tPROpen), "first_review_at": ts(tReview), "approved_at": ts(tReview),
		"merged_at": ts(tMerge), "closed_at": ts(tMerge), "merge_sha": shaM1,
		"additions": 30, "deletions": 10, "changed_files": 3, "comments": 2, "review_comments": 1, "labels": []string{}}
	if firstCommit {
		pr["first_commit_at"] = ts(tF1)
	}
	return []map[string]any{
		change(shaA1, "", "carol", "Set up checkout", tA1),
		change(shaF1, shaA1, "alice", "Cache the basket", tF1),
		change(shaF2, shaF1, "alice", "Batch the price lookups", tF2),
		change(shaM1, shaF2, "alice", "Merge pull request #7 from acme/faster-checkout", tM1),
		deployment("1001", shaA1, tDep1, tDep1Done),
		deployment("1002", shaM1, tDep2, tDep2Done),
		{"key": "pull-request-7", "kind": "pull_request", "pull_request": pr},
		{"key": "incident-Q1SHOP", "kind": "incident", "incident": map[string]any{
			"service": "shop", "id": "Q1SHOP", "title": "Checkout errors", "severity": 1,
			"opened_at": ts(tIncident), "resolved_at": ts(tFixed)}},
	}
}

func (h *harness) postEvents(t testing.TB, events []map[string]any) {
	t.Helper()
	body, err := json.Marshal(events)
	if err != nil {
		t.Fatal(err)
	}
	r := h.post(t, "/api/v1/events", headers("Authorization", "Bearer "+h.token, "Content-Type", "application/json"), body)
	if r.status != http.StatusOK || r.body["added"] != float64(len(events)) {
		t.Fatalf("POST /api/v1/events: %d %s", r.status, r.text)
	}
}

// TestHistoryNativeEqualsWebhooks tells the history once through webhooks
// and once through the native API: the reports must be the same, field by
// field. The one legitimate difference is the pull request's first commit
// time: the native API can give it and GitHub's pull_request webhook does
// not carry it (Stride would have to call GitHub's API for the PR's
// commits), so only a native sender gets coding time, and its cycle time
// starts at the first commit rather than at the pull request's creation.
func TestHistoryNativeEqualsWebhooks(t *testing.T) {
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		hooks := open(t)
		sendAll(t, hooks, history(t))
		_, _, want := reports(t, hooks.db)

		t.Run("with what a GitHub webhook knows, the reports are equal", func(t *testing.T) {
			native := open(t)
			native.postEvents(t, nativeHistory(false))
			d, f, got := reports(t, native.db)
			if got != want {
				t.Errorf("native reports:\n%s\nwebhook reports:\n%s", got, want)
			}
			checkHistoryDORA(t, d)
			checkHistoryFlow(t, f)
		})
		t.Run("with the first commit time, only coding and cycle time differ", func(t *testing.T) {
			native := open(t)
			native.postEvents(t, nativeHistory(true))
			d, f, _ := reports(t, native.db)
			checkHistoryDORA(t, d)
			// Coding time: first commit 09:40 → opened 10:00. Cycle time:
			// 09:40 → deployed 14:00, 4 h 20 instead of 4 h.
			if c := f.CodingTime; c == nil || c.Count != 1 || c.MedianSeconds != secs(20*time.Minute) {
				t.Errorf("coding time %+v, want one of 20 min", c)
			}
			if c := f.CycleTime; c == nil || c.Count != 1 || c.MedianSeconds != secs(4*time.Hour+20*time.Minute) {
				t.Errorf("cycle time %+v, want one of 4 h 20", c)
			}
			// Everything else is as the webhooks told it.
			_, webhookFlow, _ := reports(t, hooks.db)
			f.CodingTime, f.CycleTime = webhookFlow.CodingTime, webhookFlow.CycleTime
			a, _ := json.Marshal(f)
			b, _ := json.Marshal(webhookFlow)
			if string(a) != string(b) {
				t.Errorf("flow besides coding and cycle time:\n%s\nwebhooks:\n%s", a, b)
			}
		})
	})
}
