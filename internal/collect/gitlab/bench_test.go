package gitlab

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/collect"
	glingest "github.com/stride-oss/stride/internal/ingest/gitlab"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// A synthetic project-year: commits on main (one parent each), merge
// requests of three commits with a review comment and an approval each, deployments and
// pipelines of the newest commits, a few incidents.
const (
	yearCommits     = 1000
	yearMRs         = 300
	yearDeployments = 250
	yearPipelines   = 500
	yearIncidents   = 12
)

func yearOf() *fakeProject {
	p := &fakeProject{defaultBranch: "main", commits: map[string][]map[string]any{}, lists: map[string][]map[string]any{},
		notes: map[int][]map[string]any{}, mrCommits: map[int][]map[string]any{}}
	step := 365 * 24 * time.Hour / yearCommits
	var main []map[string]any
	for i := range yearCommits {
		c := histCommit{sha: fmt.Sprintf("%040x", i+1), title: fmt.Sprintf("change %d", i), who: "dev", at: h0.Add(time.Duration(i) * step)}
		if i > 0 {
			c.parents = []string{fmt.Sprintf("%040x", i)}
		}
		main = append([]map[string]any{apiCommitOf(c)}, main...) // newest first
	}
	p.commits["main"] = main
	for i := 1; i <= yearMRs; i++ {
		created := h0.Add(time.Duration(i) * 24 * time.Hour)
		m := histMR{iid: i, title: fmt.Sprintf("mr %d", i), author: alice, created: created, merged: created.Add(5 * time.Hour), mergeSHA: fmt.Sprintf("%040x", i)}
		p.lists["merge_requests"] = append(p.lists["merge_requests"], apiMR(m))
		p.notes[i] = []map[string]any{
			apiNoteOf(histNote{id: int64(10 * i), author: carol, body: "a question", at: created.Add(time.Hour)}),
			apiNoteOf(histNote{id: int64(10*i + 1), author: bob, body: approvedNote, system: true, at: created.Add(2 * time.Hour)}),
		}
		for j := 3; j >= 1; j-- { // newest first
			p.mrCommits[i] = append(p.mrCommits[i], apiCommitOf(histCommit{sha: fmt.Sprintf("%039x%d", i, j), title: "work", who: "dev",
				at: created.Add(-time.Duration(4-j) * time.Hour)}))
		}
	}
	for i := 1; i <= yearDeployments; i++ {
		p.lists["deployments"] = append(p.lists["deployments"], apiDeployment(histDeployment{id: int64(i), sha: fmt.Sprintf("%040x", yearCommits-yearDeployments+i),
			status: "success", finished: h0.Add(time.Duration(i) * 30 * time.Hour)}))
	}
	for i := 1; i <= yearPipelines; i++ {
		at := h0.Add(time.Duration(i) * 15 * time.Hour)
		p.lists["pipelines"] = append(p.lists["pipelines"], map[string]any{"id": 5000 + i, "ref": "main", "sha": fmt.Sprintf("%040x", i), "status": "success",
			"created_at": at, "updated_at": at.Add(10 * time.Minute)})
	}
	for i := 1; i <= yearIncidents; i++ {
		at := h0.Add(time.Duration(i) * 29 * 24 * time.Hour)
		p.lists["issues"] = append(p.lists["issues"], map[string]any{"id": 7000 + i, "iid": i, "title": "down", "state": "closed", "issue_type": "incident",
			"severity": "HIGH", "labels": []string{"incident"}, "created_at": at, "updated_at": at.Add(time.Hour), "closed_at": at.Add(time.Hour)})
	}
	return p
}

func pages(n int) int { return max((n+99)/100, 1) }

// leastRequests is the least the REST API allows for a project-year: the
// project, the branches, each list in pages of 100 (the incidents twice:
// by type and by label), and each merge request's notes and commits (for
// the first), which GitLab lists only per merge request.
var leastRequests = 1 + 1 + pages(yearCommits) + pages(yearMRs) + 2*yearMRs + pages(yearDeployments) + pages(yearPipelines) + 2*pages(yearIncidents)

// BenchmarkCollectProjectYears collects 4 project-years from the simulated
// GitLab answering each request after 100 ms, 8 requests in flight and 4
// projects at a time. It reports the requests per project-year and their
// ratio to the least the REST API allows, and the wall time beside that of
// a reference measured in the same run: the same requests replayed by 8
// workers in no order, read and thrown away (no mapping, no writing).
func BenchmarkCollectProjectYears(b *testing.B) {
	const projects, concurrency, inFlight = 4, 4, 8
	for b.Loop() {
		b.StopTimer()
		db := storetest.SQLite(b)
		fake := newFake()
		fake.pageSize = 100
		fake.latency = 100 * time.Millisecond
		fake.record = true
		var names []string
		for i := range projects {
			name := fmt.Sprintf("acme/svc%02d", i)
			fake.projects[name] = yearOf()
			names = append(names, name)
		}
		srv := serve(b, fake)
		client := collect.NewClient(inFlight, collect.Bearer("tok"))
		c := New(Config{APIURL: srv.URL, Projects: names, Concurrency: concurrency, Logger: discard,
			Webhook: glingest.Config{Mapping: mapping()}}, client, prepared(b, db), db)
		b.StartTimer()
		start := time.Now()
		res, err := c.Run(ctx)
		took := time.Since(start)
		b.StopTimer()
		for _, r := range res {
			if err != nil || r.Err != nil {
				b.Fatalf("run: %v %+v", err, r)
			}
		}
		requests := fake.requestsSoFar()

		// The reference: the same requests, replayed by as many workers
		// as the client has requests in flight, in no order: the floor
		// of the wall time at this concurrency, which the collector
		// cannot reach while a page waits for the one before it.
		urls := make(chan string)
		fake.record = false
		replay := collect.NewClient(inFlight, collect.Bearer("tok"))
		start = time.Now()
		var wg sync.WaitGroup
		for range inFlight {
			wg.Go(func() {
				for u := range urls {
					if _, err := replay.Do(ctx, collect.Request{URL: u}); err != nil {
						b.Error(err)
					}
				}
			})
		}
		for _, u := range fake.served {
			urls <- srv.URL + u
		}
		close(urls)
		wg.Wait()
		reference := time.Since(start)

		perYear := float64(requests) / projects
		b.ReportMetric(perYear, "requests/project-year")
		b.ReportMetric(perYear/float64(leastRequests), "requests/least")
		b.ReportMetric(took.Seconds(), "s/run")
		b.ReportMetric(reference.Seconds(), "s/replay")
		b.ReportMetric(took.Seconds()/reference.Seconds(), "run/replay")
		b.StartTimer()
	}
}
