package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
)

// BenchmarkCommitPullRequests measures the lookup every gate and promotion
// with fix_labels makes, the pull requests of one commit among 10,000 of
// the service's repository, against a raw scan of the same rows' JSON in
// the same run (ref-scan-ns/op; time-ratio is the lookup over the scan).
func BenchmarkCommitPullRequests(b *testing.B) {
	for _, kind := range benchKinds() {
		b.Run(kind, func(b *testing.B) { benchCommitPullRequests(b, kind) })
	}
}

func benchCommitPullRequests(b *testing.B, kind string) {
	const prs = 10000
	db, raw := benchStore(b, kind)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	in := intake.New(db, nil)
	events := []delivery.Event{{Key: "dep", Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{
		Service: "api", Repository: "acme/api", ID: "1", SHA: "sha-0", Status: delivery.DeploymentSuccess, FinishedAt: t0}}}
	for i := range prs {
		events = append(events, delivery.Event{Key: fmt.Sprintf("pr%d", i), Kind: delivery.KindPullRequest,
			PullRequest: &delivery.PullRequest{Repository: "acme/api", Number: i + 1, State: delivery.PullRequestMerged,
				CreatedAt: t0, MergedAt: t0.Add(time.Duration(i) * time.Minute), MergeSHA: fmt.Sprintf("merge-%040d", i),
				Commits: []string{fmt.Sprintf("c1-%040d", i), fmt.Sprintf("c2-%040d", i)}, Labels: []string{"area/api"}}})
		if len(events) == delivery.MaxBatch || i == prs-1 {
			if _, err := in.Events(ctx, "api", events); err != nil {
				b.Fatal(err)
			}
			events = events[:0]
		}
	}
	sha := fmt.Sprintf("c2-%040d", prs/2)
	var p pair
	for b.Loop() {
		p.time(&p.measured, func() {
			got, err := db.CommitPullRequests(ctx, "api", sha)
			if err != nil || len(got) != 1 {
				b.Fatalf("%d pull requests, %v", len(got), err)
			}
		})
		p.time(&p.reference, func() {
			rows, err := raw.QueryContext(ctx, `SELECT data FROM pull_requests`)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var data string
				if err := rows.Scan(&data); err != nil {
					b.Fatal(err)
				}
				n++
			}
			if err := rows.Err(); err != nil || n != prs {
				b.Fatalf("%d rows, %v", n, err)
			}
			rows.Close()
		})
		p.rounds++
	}
	b.ReportMetric(float64(p.measured.Nanoseconds())/float64(p.rounds), "lookup-ns/op")
	p.report(b, "ref-scan", "time-ratio", false)
}
