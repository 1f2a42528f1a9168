package flow

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// The tests use March 2024 as the period; at(d, h) is March d at h:00 UTC.
var march = delivery.Period{From: at(1, 0), To: at(32, 0)} // day 32 = April 1

func at(day, hour int) time.Time {
	return time.Date(2024, time.March, day, hour, 0, 0, 0, time.UTC)
}

const hour = 3600.0 // seconds

// merged returns a pull request opened at March 10 10:00 and merged on
// March 12 10:00, with nothing else known; cases fill in what they test.
func merged(number int) delivery.PullRequest {
	return delivery.PullRequest{
		Repository: "acme/api",
		Number:     number,
		Title:      fmt.Sprintf("change %d", number),
		Author:     "ana",
		State:      delivery.PullRequestMerged,
		CreatedAt:  at(10, 10),
		MergedAt:   at(12, 10),
	}
}

func with(pr delivery.PullRequest, f func(*delivery.PullRequest)) delivery.PullRequest {
	f(&pr)
	return pr
}

func dep(id string, finished time.Time) Deployed {
	return Deployed{Deployment: delivery.DeploymentKey{Service: "api", Environment: "production", ID: id}, FinishedAt: finished}
}

func key(sha string) CommitKey { return CommitKey{Repository: "acme/api", SHA: sha} }

func durationOf(r Report, name string) *DurationStat {
	switch name {
	case "coding_time":
		return r.CodingTime
	case "pickup_time":
		return r.PickupTime
	case "review_time":
		return r.ReviewTime
	case "deploy_time":
		return r.DeployTime
	case "cycle_time":
		return r.CycleTime
	case "cycle_time_to_merge":
		return r.CycleTimeToMerge
	}
	panic(name)
}

func TestDurations(t *testing.T) {
	tests := []struct {
		name     string
		figure   string
		prs      []delivery.PullRequest
		deployed map[CommitKey]Deployed
		want     *DurationStat
		warnings []string // "figure #number"
	}{
		// ---- coding time: first commit → created (created is day 10 10:00).
		{
			// 1 h, 2 h, 10 h: median 2 h; p90 rank ⌈2.7⌉ = 3 → 10 h.
			name:   "coding time over an odd count",
			figure: "coding_time",
			prs: []delivery.PullRequest{
				with(merged(1), func(p *delivery.PullRequest) { p.FirstCommitAt = at(10, 9) }),
				with(merged(2), func(p *delivery.PullRequest) { p.FirstCommitAt = at(10, 8) }),
				with(merged(3), func(p *delivery.PullRequest) { p.FirstCommitAt = at(10, 0) }),
			},
			want: &DurationStat{MedianSeconds: 2 * hour, P90Seconds: 10 * hour, Count: 3},
		},
		{
			// 1 h, 2 h, 3 h, 5 h: median (2+3)/2 = 2.5 h; p90 rank ⌈3.6⌉ = 4 → 5 h.
			name:   "coding time over an even count",
			figure: "coding_time",
			prs: []delivery.PullRequest{
				with(merged(1), func(p *delivery.PullRequest) { p.FirstCommitAt = at(10, 9) }),
				with(merged(2), func(p *delivery.PullRequest) { p.FirstCommitAt = at(10, 8) }),
				with(merged(3), func(p *delivery.PullRequest) { p.FirstCommitAt = at(10, 7) }),
				with(merged(4), func(p *delivery.PullRequest) { p.FirstCommitAt = at(10, 5) }),
			},
			want: &DurationStat{MedianSeconds: 2.5 * hour, P90Seconds: 5 * hour, Count: 4},
		},
		{
			// #2 has no first-commit time: only #1's 4 h counts.
			name:   "coding time skips a pull request whose first commit is unknown",
			figure: "coding_time",
			prs: []delivery.PullRequest{
				with(merged(1), func(p *delivery.PullRequest) { p.FirstCommitAt = at(10, 6) }),
				merged(2),
			},
			want: &DurationStat{MedianSeconds: 4 * hour, P90Seconds: 4 * hour, Count: 1},
		},
		{
			// #2's first commit is 1 h after creation: -1 h is left out and
			// reported; #1's 3 h remains.
			name:   "a negative coding time is a warning, not a value",
			figure: "coding_time",
			prs: []delivery.PullRequest{
				with(merged(1), func(p *delivery.PullRequest) { p.FirstCommitAt = at(10, 7) }),
				with(merged(2), func(p *delivery.PullRequest) { p.FirstCommitAt = at(10, 11) }),
			},
			want:     &DurationStat{MedianSeconds: 3 * hour, P90Seconds: 3 * hour, Count: 1},
			warnings: []string{"coding_time #2"},
		},
		{
			// #1 merged Feb 29 and #2 is still open: neither is in March's
			// figures, so there is no figure at all.
			name:   "pull requests not merged in the period are left out",
			figure: "coding_time",
			prs: []delivery.PullRequest{
				with(merged(1), func(p *delivery.PullRequest) {
					p.FirstCommitAt, p.CreatedAt, p.MergedAt = at(1, 0).Add(-72*time.Hour), at(1, 0).Add(-48*time.Hour), at(1, 0).Add(-time.Hour)
				}),
				with(merged(2), func(p *delivery.PullRequest) {
					p.FirstCommitAt, p.MergedAt, p.State = at(10, 9), time.Time{}, delivery.PullRequestOpen
				}),
			},
			want: nil,
		},
		{
			// Merged at exactly April 1 00:00 is outside [March 1, April 1);
			// merged at March 1 00:00 is inside. Only #2's 1 h counts.
			name:   "the period is half-open",
			figure: "coding_time",
			prs: []delivery.PullRequest{
				with(merged(1), func(p *delivery.PullRequest) { p.FirstCommitAt, p.MergedAt = at(10, 9), at(32, 0) }),
				with(merged(2), func(p *delivery.PullRequest) {
					p.FirstCommitAt, p.CreatedAt, p.MergedAt = at(1, 0).Add(-2*time.Hour), at(1, 0).Add(-time.Hour), at(1, 0)
				}),
			},
			want: &DurationStat{MedianSeconds: 1 * hour, P90Seconds: 1 * hour, Count: 1},
		},

		// ---- pickup time: created (or ready) → first review.
		{
			// #1 reviewed 2 h after creation; #2 a draft marked ready on day
			// 11 at 10:00 and reviewed at 13:00: 3 h, not the 27 h since it
			// was created. Median (2+3)/2 = 2.5 h; p90 rank ⌈1.8⌉ = 2 → 3 h.
			name:   "pickup time of a draft starts when it was marked ready",
			figure: "pickup_time",
			prs: []delivery.PullRequest{
				with(merged(1), func(p *delivery.PullRequest) { p.FirstReviewAt = at(10, 12) }),
				with(merged(2), func(p *delivery.PullRequest) { p.ReadyAt, p.FirstReviewAt = at(11, 10), at(11, 13) }),
			},
			want: &DurationStat{MedianSeconds: 2.5 * hour, P90Seconds: 3 * hour, Count: 2},
		},
		{
			// A ready time before creation cannot be right; pickup starts at
			// creation: 10:00 → 11:00 = 1 h.
			name:   "a ready time before creation is ignored",
			figure: "pickup_time",
			prs: []delivery.PullRequest{
				with(merged(1), func(p *delivery.PullRequest) { p.ReadyAt, p.FirstReviewAt = at(9, 10), at(10, 11) }),
			},
			want: &DurationStat{MedianSeconds: 1 * hour, P90Seconds: 1 * hour, Count: 1},
		},
		{
			// The connectors keep the author's own reviews out of
			// FirstReviewAt; a review time before creation (clock skew, or a
			// self-review that slipped through) gives -2 h: a warning. #1 was
			// never reviewed and has no pickup time. No figure remains.
			name:   "a review before creation is a warning and an unreviewed pull request has no pickup",
			figure: "pickup_time",
			prs: []delivery.PullRequest{
				merged(1),
				with(merged(2), func(p *delivery.PullRequest) { p.FirstReviewAt = at(10, 8) }),
			},
			want:     nil,
			warnings: []string{"pickup_time #2"},
		},
		{
			// A draft reviewed at 12:00 before being marked ready at 14:00 on
			// day 10: -2 h, a warning.
			name:     "a draft reviewed before it was ready is a warning",
			figure:   "pickup_time",
			prs:      []delivery.PullRequest{with(merged(1), func(p *delivery.PullRequest) { p.ReadyAt, p.FirstReviewAt = at(10, 14), at(10, 12) })},
			want:     nil,
			warnings: []string{"pickup_time #1"},
		},

		// ---- review time: first review → merged (day 12 10:00).
		{
			// #1 reviewed day 12 04:00 → 6 h; #2 day 11 10:00 → 24 h; #3 not
			// reviewed (merged without review) is left out. Median 15 h;
			// p90 rank 2 → 24 h.
			name:   "review time of reviewed pull requests",
			figure: "review_time",
			prs: []delivery.PullRequest{
				with(merged(1), func(p *delivery.PullRequest) { p.FirstReviewAt = at(12, 4) }),
				with(merged(2), func(p *delivery.PullRequest) { p.FirstReviewAt = at(11, 10) }),
				merged(3),
			},
			want: &DurationStat{MedianSeconds: 15 * hour, P90Seconds: 24 * hour, Count: 2},
		},

		// ---- deploy time: merged (day 12 10:00) → deployment finished.
		{
			// Squash merge: the merge sha s1 was shipped at 12:00 → 2 h.
			name:     "deploy time of a squash merge follows the merge sha",
			figure:   "deploy_time",
			prs:      []delivery.PullRequest{with(merged(1), func(p *delivery.PullRequest) { p.MergeSHA, p.Commits = "s1", []string{"a1", "a2"} })},
			deployed: map[CommitKey]Deployed{key("s1"): dep("d1", at(12, 12))},
			want:     &DurationStat{MedianSeconds: 2 * hour, P90Seconds: 2 * hour, Count: 1},
		},
		{
			// Merge commit m1 shipped at 15:00 → 5 h, even though the branch
			// commit b1 was reported shipped earlier (an earlier deployment
			// of the branch): the merge sha wins when it was shipped.
			name:   "deploy time of a merge commit prefers the merge sha",
			figure: "deploy_time",
			prs:    []delivery.PullRequest{with(merged(1), func(p *delivery.PullRequest) { p.MergeSHA, p.Commits = "m1", []string{"b1"} })},
			deployed: map[CommitKey]Deployed{
				key("m1"): dep("d2", at(12, 15)),
				key("b1"): dep("d1", at(12, 11)),
			},
			want: &DurationStat{MedianSeconds: 5 * hour, P90Seconds: 5 * hour, Count: 1},
		},
		{
			// Rebase merge whose merge sha r9 was never shipped: the commits
			// r1 (shipped at 18:00 by d2) and r2 (at 13:00 by d1) link it;
			// the first, d1, ships it → 3 h. r3 is not shipped at all.
			name:   "deploy time of a rebase merge links through the commits",
			figure: "deploy_time",
			prs:    []delivery.PullRequest{with(merged(1), func(p *delivery.PullRequest) { p.MergeSHA, p.Commits = "r9", []string{"r1", "r2", "r3"} })},
			deployed: map[CommitKey]Deployed{
				key("r1"): dep("d2", at(12, 18)),
				key("r2"): dep("d1", at(12, 13)),
			},
			want: &DurationStat{MedianSeconds: 3 * hour, P90Seconds: 3 * hour, Count: 1},
		},
		{
			// The same sha shipped in another repository says nothing about
			// this one: shas are keyed by repository.
			name:     "a sha of another repository does not link",
			figure:   "deploy_time",
			prs:      []delivery.PullRequest{with(merged(1), func(p *delivery.PullRequest) { p.MergeSHA = "s1" })},
			deployed: map[CommitKey]Deployed{{Repository: "acme/web", SHA: "s1"}: dep("d1", at(12, 12))},
			want:     nil,
		},
		{
			// #1 not shipped; #2 shipped April 2, after the period: neither
			// is in March's deploy time.
			name:   "pull requests not deployed in the period have no deploy time",
			figure: "deploy_time",
			prs: []delivery.PullRequest{
				with(merged(1), func(p *delivery.PullRequest) { p.MergeSHA = "s1" }),
				with(merged(2), func(p *delivery.PullRequest) { p.MergeSHA = "s2" }),
			},
			deployed: map[CommitKey]Deployed{key("s2"): dep("d1", at(33, 0))},
			want:     nil,
		},
		{
			// Merged Feb 29 12:00, deployed March 1 02:00: deploy time reads
			// the deployment's period, so it counts (14 h).
			name:   "a pull request merged before the period and deployed in it counts",
			figure: "deploy_time",
			prs: []delivery.PullRequest{with(merged(1), func(p *delivery.PullRequest) {
				p.CreatedAt, p.MergedAt, p.MergeSHA = at(1, 0).Add(-24*time.Hour), at(1, 0).Add(-12*time.Hour), "s1"
			})},
			deployed: map[CommitKey]Deployed{key("s1"): dep("d1", at(1, 2))},
			want:     &DurationStat{MedianSeconds: 14 * hour, P90Seconds: 14 * hour, Count: 1},
		},
		{
			// Deployment finished 1 h before the merge (a branch deploy that
			// contained the commit): -1 h is a warning.
			name:     "a deployment before the merge is a warning",
			figure:   "deploy_time",
			prs:      []delivery.PullRequest{with(merged(1), func(p *delivery.PullRequest) { p.MergeSHA = "s1" })},
			deployed: map[CommitKey]Deployed{key("s1"): dep("d1", at(12, 9))},
			want:     nil,
			warnings: []string{"deploy_time #1"},
		},

		// ---- cycle time: first commit (or created) → deployed.
		{
			// #1 first commit day 10 00:00 → shipped day 12 12:00 = 60 h.
			// #2 has no first commit: from created (day 10 10:00) → 50 h.
			// #3 not shipped: not in cycle time. Median 55 h; p90 → 60 h.
			name:   "cycle time starts at creation when the first commit is unknown",
			figure: "cycle_time",
			prs: []delivery.PullRequest{
				with(merged(1), func(p *delivery.PullRequest) { p.FirstCommitAt, p.MergeSHA = at(10, 0), "s1" }),
				with(merged(2), func(p *delivery.PullRequest) { p.MergeSHA = "s2" }),
				with(merged(3), func(p *delivery.PullRequest) { p.MergeSHA = "s3" }),
			},
			deployed: map[CommitKey]Deployed{key("s1"): dep("d1", at(12, 12)), key("s2"): dep("d1", at(12, 12))},
			want:     &DurationStat{MedianSeconds: 55 * hour, P90Seconds: 60 * hour, Count: 2},
		},

		// ---- cycle time to merge: merged in the period, not deployed by its end.
		{
			// #1 shipped in March: in cycle time, not here. #2 not shipped:
			// day 10 00:00 → merged day 12 10:00 = 58 h. #3 shipped April 2,
			// so not yet deployed when March ended: created day 10 10:00 →
			// merged = 48 h. Median 53 h; p90 rank 2 → 58 h.
			name:   "cycle time to merge counts pull requests not deployed by the end of the period",
			figure: "cycle_time_to_merge",
			prs: []delivery.PullRequest{
				with(merged(1), func(p *delivery.PullRequest) { p.FirstCommitAt, p.MergeSHA = at(10, 0), "s1" }),
				with(merged(2), func(p *delivery.PullRequest) { p.FirstCommitAt, p.MergeSHA = at(10, 0), "s2" }),
				with(merged(3), func(p *delivery.PullRequest) { p.MergeSHA = "s3" }),
			},
			deployed: map[CommitKey]Deployed{key("s1"): dep("d1", at(12, 12)), key("s3"): dep("d9", at(33, 0))},
			want:     &DurationStat{MedianSeconds: 53 * hour, P90Seconds: 58 * hour, Count: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compute(Input{Period: march, PullRequests: tt.prs, Deployed: tt.deployed})
			if got := durationOf(r, tt.figure); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %+v, want %+v", tt.figure, got, tt.want)
			}
			var warnings []string
			for _, w := range r.Warnings {
				if w.Figure == tt.figure {
					warnings = append(warnings, fmt.Sprintf("%s #%d", w.Figure, w.Number))
				}
			}
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings = %v, want %v", warnings, tt.warnings)
			}
		})
	}
}

func TestCountsAndContributors(t *testing.T) {
	size := func(n, add, del, files, comments, review int, author string) delivery.PullRequest {
		return with(merged(n), func(p *delivery.PullRequest) {
			p.Additions, p.Deletions, p.ChangedFiles, p.Comments, p.ReviewComments, p.Author = add, del, files, comments, review, author
		})
	}
	tests := []struct {
		name                  string
		prs                   []delivery.PullRequest
		size, files, comments *CountStat
		perContributor        PerContributor
	}{
		{
			// sizes 10+5=15, 100+0=100, 1+1=2 → sorted 2, 15, 100: median 15,
			// p90 rank 3 → 100. files 1, 7, 3 → median 3, p90 7. comments
			// 0+0, 2+3=5, 1+0=1 → median 1, p90 5. 3 merged by ana and bo:
			// 3 ÷ 2 = 1.5.
			name: "an odd count",
			prs: []delivery.PullRequest{
				size(1, 10, 5, 1, 0, 0, "ana"),
				size(2, 100, 0, 7, 2, 3, "bo"),
				size(3, 1, 1, 3, 1, 0, "ana"),
			},
			size:           &CountStat{Median: 15, P90: 100, Count: 3},
			files:          &CountStat{Median: 3, P90: 7, Count: 3},
			comments:       &CountStat{Median: 1, P90: 5, Count: 3},
			perContributor: PerContributor{Merged: 3, Contributors: 2, Ratio: ptr(1.5)},
		},
		{
			// sizes 2, 15 → median 8.5, p90 rank ⌈1.8⌉ = 2 → 15. files 1, 2
			// → 1.5, 2. comments 0, 4 → 2, 4. 2 merged by 1 author: 2. #3
			// is open and counts for nothing.
			name: "an even count",
			prs: []delivery.PullRequest{
				size(1, 1, 1, 1, 0, 0, "ana"),
				size(2, 10, 5, 2, 4, 0, "ana"),
				with(size(3, 1000, 1000, 50, 9, 9, "cy"), func(p *delivery.PullRequest) { p.MergedAt = time.Time{} }),
			},
			size:           &CountStat{Median: 8.5, P90: 15, Count: 2},
			files:          &CountStat{Median: 1.5, P90: 2, Count: 2},
			comments:       &CountStat{Median: 2, P90: 4, Count: 2},
			perContributor: PerContributor{Merged: 2, Contributors: 1, Ratio: ptr(2.0)},
		},
		{
			// An empty pull request (0 lines, 0 files) is a real 0, unlike
			// an empty period.
			name:           "zero is a value",
			prs:            []delivery.PullRequest{size(1, 0, 0, 0, 0, 0, "ana")},
			size:           &CountStat{Count: 1},
			files:          &CountStat{Count: 1},
			comments:       &CountStat{Count: 1},
			perContributor: PerContributor{Merged: 1, Contributors: 1, Ratio: ptr(1.0)},
		},
		{
			name:           "nothing merged gives no figures and no ratio",
			prs:            nil,
			perContributor: PerContributor{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compute(Input{Period: march, PullRequests: tt.prs})
			if !reflect.DeepEqual(r.PRSize, tt.size) {
				t.Errorf("pr_size = %+v, want %+v", r.PRSize, tt.size)
			}
			if !reflect.DeepEqual(r.ChangedFiles, tt.files) {
				t.Errorf("changed_files = %+v, want %+v", r.ChangedFiles, tt.files)
			}
			if !reflect.DeepEqual(r.Comments, tt.comments) {
				t.Errorf("comments = %+v, want %+v", r.Comments, tt.comments)
			}
			if !reflect.DeepEqual(r.PRsPerContributor, tt.perContributor) {
				t.Errorf("prs_per_contributor = %+v, want %+v", r.PRsPerContributor, tt.perContributor)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestEmptyPeriodIsNullNotZero(t *testing.T) {
	b, err := json.Marshal(Compute(Input{Period: march}))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"coding_time", "pickup_time", "review_time", "deploy_time", "cycle_time", "cycle_time_to_merge", "pr_size", "changed_files", "comments"} {
		if !strings.Contains(string(b), `"`+f+`":null`) {
			t.Errorf("%s is not null in %s", f, b)
		}
	}
	for _, want := range []string{`"prs_per_contributor":{"merged":0,"contributors":0,"ratio":null}`, `"warnings":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("missing %s in %s", want, b)
		}
	}
}

func TestExplain(t *testing.T) {
	in := Input{
		Period: march,
		PullRequests: []delivery.PullRequest{
			// Shipped 2 h after merge by d1.
			with(merged(1), func(p *delivery.PullRequest) { p.MergeSHA = "s1" }),
			// Shipped 5 h after merge by d2, through a commit (rebase).
			with(merged(2), func(p *delivery.PullRequest) { p.MergeSHA, p.Commits = "x", []string{"c2"} }),
			// Shipped 1 h before its merge: excluded.
			with(merged(3), func(p *delivery.PullRequest) { p.MergeSHA = "s3" }),
			// Not shipped: not behind deploy time.
			with(merged(4), func(p *delivery.PullRequest) { p.MergeSHA = "s4" }),
		},
		Deployed: map[CommitKey]Deployed{
			key("s1"): dep("d1", at(12, 12)),
			key("c2"): dep("d2", at(12, 15)),
			key("s3"): dep("d0", at(12, 9)),
		},
	}
	t.Run("deploy time lists each deployed pull request, largest first, excluded last", func(t *testing.T) {
		e, err := Explain(in, "deploy_time")
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			number     int
			value      float64
			deployment string
			excluded   bool
		}
		var got []row
		for _, it := range e.Items {
			got = append(got, row{it.Number, it.Value, it.Deployment, it.Excluded})
		}
		want := []row{
			{2, 5 * hour, "api/production/d2", false},
			{1, 2 * hour, "api/production/d1", false},
			{3, -1 * hour, "api/production/d0", true},
		}
		if e.Unit != "seconds" || !reflect.DeepEqual(got, want) {
			t.Errorf("Explain = %s %+v, want seconds %+v", e.Unit, got, want)
		}
		// The figure's count is the items not excluded.
		if n := Compute(in).DeployTime.Count; n != 2 {
			t.Errorf("deploy_time count = %d, want 2", n)
		}
	})
	t.Run("pr size lists every merged pull request as a count", func(t *testing.T) {
		e, err := Explain(in, "pr_size")
		if err != nil {
			t.Fatal(err)
		}
		if e.Unit != "count" || len(e.Items) != 4 || e.Items[0].Start != nil {
			t.Errorf("Explain(pr_size) = %+v", e)
		}
	})
	t.Run("every figure of the report can be explained", func(t *testing.T) {
		for _, f := range Figures() {
			if _, err := Explain(in, f); err != nil {
				t.Errorf("Explain(%q): %v", f, err)
			}
		}
	})
	t.Run("an unknown figure is invalid", func(t *testing.T) {
		_, err := Explain(in, "lead_time")
		var de *delivery.Error
		if !errors.As(err, &de) || de.Code != delivery.EINVALID {
			t.Fatalf("Explain(lead_time) error = %v, want EINVALID", err)
		}
	})
}

func BenchmarkCompute(b *testing.B) {
	const n = 50_000
	in := Input{Period: march, Deployed: make(map[CommitKey]Deployed, 2*n)}
	for i := range n {
		created := at(1, 0).Add(time.Duration(i) * 53 * time.Second)
		pr := delivery.PullRequest{
			Repository:    fmt.Sprintf("acme/repo%d", i%20),
			Number:        i,
			Author:        fmt.Sprintf("dev%d", i%150),
			State:         delivery.PullRequestMerged,
			FirstCommitAt: created.Add(-time.Duration(i%48) * time.Hour),
			CreatedAt:     created,
			FirstReviewAt: created.Add(time.Duration(i%7) * time.Hour),
			MergedAt:      created.Add(time.Duration(i%7+i%5) * time.Hour),
			Additions:     i % 400,
			Deletions:     i % 90,
			ChangedFiles:  i % 30,
			Comments:      i % 4,
			MergeSHA:      fmt.Sprintf("m%d", i),
			Commits:       []string{fmt.Sprintf("c%da", i), fmt.Sprintf("c%db", i), fmt.Sprintf("c%dc", i)},
		}
		switch i % 3 {
		case 0: // merge sha shipped
			in.Deployed[CommitKey{pr.Repository, pr.MergeSHA}] = Deployed{FinishedAt: pr.MergedAt.Add(time.Duration(i%11) * time.Hour)}
		case 1: // rebase: shipped through a commit
			in.Deployed[CommitKey{pr.Repository, pr.Commits[2]}] = Deployed{FinishedAt: pr.MergedAt.Add(time.Hour)}
		}
		in.PullRequests = append(in.PullRequests, pr)
	}
	b.ReportAllocs()
	for b.Loop() {
		Compute(in)
	}
}
