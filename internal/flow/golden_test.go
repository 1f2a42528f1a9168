package flow

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	goldenfile "github.com/stride-oss/stride/internal/golden"
)

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", name), got)
}

// fullInput is one month of a small team: every figure has data, one pull
// request is merged but not deployed, one is still open, and one has a
// negative pickup time. Merges are day 12 10:00 unless stated, creation day
// 10 10:00. The figures in testdata/report.json, worked out by hand:
//
//	coding   #101 2 h, #102 24 h, #104 3 h → 2,3,24: median 3 h, p90 (rank 3) 24 h
//	pickup   #101 1 h, #102 1 h (from ready), #103 2 h, #104 27 h; #106 −30 m warned
//	         → 1,1,2,27: median 1.5 h, p90 (rank 4) 27 h
//	review   #101 47 h, #102 24 h, #103 46 h, #104 20 h, #106 48.5 h
//	         → median 46 h, p90 (rank ⌈4.5⌉ = 5) 48.5 h
//	deploy   #101 3 h, #102 26 h, #103 1 h (via commit r2), #106 3 h → median 3 h, p90 26 h
//	cycle    #101 53 h, #102 98 h, #103 49 h and #106 51 h (from creation)
//	         → median 52 h, p90 98 h
//	to merge #104 50 h (not deployed)
//	size     150, 16, 1000, 80, 4 → median 80, p90 1000; files 6,2,31,3,1 → 3, 31;
//	         comments 7,1,0,1,2 → 1, 7; 5 merged by ana, bo, cy → 5/3
func fullInput() Input {
	return Input{
		Period: march,
		PullRequests: []delivery.PullRequest{
			with(merged(101), func(p *delivery.PullRequest) {
				// coding 2 h, pickup 1 h, review 23 h, deploy 3 h (squash).
				p.Author, p.FirstCommitAt, p.FirstReviewAt, p.MergeSHA = "ana", at(10, 8), at(10, 11), "sq101"
				p.Additions, p.Deletions, p.ChangedFiles, p.Comments, p.ReviewComments = 120, 30, 6, 2, 5
			}),
			with(merged(102), func(p *delivery.PullRequest) {
				// draft ready day 11 09:00, reviewed 10:00: pickup 1 h;
				// merge commit shipped 26 h after merge.
				p.Author, p.FirstCommitAt, p.ReadyAt, p.FirstReviewAt = "bo", at(9, 10), at(11, 9), at(11, 10)
				p.MergeSHA, p.Commits = "mc102", []string{"b1", "b2"}
				p.Additions, p.Deletions, p.ChangedFiles, p.Comments, p.ReviewComments = 12, 4, 2, 0, 1
			}),
			with(merged(103), func(p *delivery.PullRequest) {
				// rebase: merge sha not shipped, commit r2 shipped 1 h after.
				p.Author, p.FirstReviewAt, p.MergeSHA, p.Commits = "ana", at(10, 12), "r3", []string{"r1", "r2"}
				p.Additions, p.Deletions, p.ChangedFiles = 800, 200, 31
			}),
			with(merged(104), func(p *delivery.PullRequest) {
				// merged day 20, not deployed: cycle time to merge.
				p.Author, p.FirstCommitAt, p.CreatedAt, p.FirstReviewAt, p.MergedAt, p.MergeSHA = "cy", at(18, 9), at(18, 12), at(19, 15), at(20, 11), "sq104"
				p.Additions, p.Deletions, p.ChangedFiles, p.Comments = 40, 40, 3, 1
			}),
			with(merged(105), func(p *delivery.PullRequest) {
				// still open: in no figure.
				p.Author, p.State, p.MergedAt = "dee", delivery.PullRequestOpen, time.Time{}
			}),
			with(merged(106), func(p *delivery.PullRequest) {
				// reviewed 30 min before it was created (clock skew): a
				// pickup warning; shipped with #101 by d1.
				p.Author, p.FirstReviewAt, p.MergeSHA = "bo", at(10, 10).Add(-30*time.Minute), "sq106"
				p.Additions, p.Deletions, p.ChangedFiles, p.ReviewComments = 3, 1, 1, 2
			}),
		},
		Deployed: map[CommitKey]Deployed{
			key("sq101"): dep("d1", at(12, 13)),
			key("mc102"): dep("d2", at(13, 12)),
			key("r2"):    dep("d1", at(12, 11)),
			key("sq106"): dep("d1", at(12, 13)),
		},
	}
}

// fullItems are a team's sprints S1 to S4 with items resolved in March, and
// S5, still running. Resolved in March: PAY-1..6 (7 is deleted, 8 is in
// progress) = 6; estimated: all but PAY-3 = 5 (PAY-4's 0 counts); with
// criteria: 1, 2, 5, 6 = 4. Velocity S1 3, S2 5, S3 0+8 = 8, S4 2 (PAY-7
// deleted); average of the last 3: (5+8+2)/3 = 5.
func fullItems() PlanningInput {
	inSprint := func(key string, points *float64, sprint string, end int, criteria bool) delivery.WorkItem {
		return witem(item(key, points), func(w *delivery.WorkItem) {
			w.Sprint, w.SprintEnd, w.AcceptanceCriteria = sprint, at(end, 17), criteria
			w.ResolvedAt = at(end, 12)
		})
	}
	return PlanningInput{
		Period: march,
		Items: []delivery.WorkItem{
			inSprint("PAY-1", ptr(3.0), "S1", 1, true),
			inSprint("PAY-2", ptr(5.0), "S2", 8, true),
			inSprint("PAY-3", nil, "S2", 8, false),
			inSprint("PAY-4", ptr(0.0), "S3", 15, false),
			inSprint("PAY-5", ptr(8.0), "S3", 15, true),
			inSprint("PAY-6", ptr(2.0), "S4", 22, true),
			witem(inSprint("PAY-7", ptr(13.0), "S4", 22, true), func(w *delivery.WorkItem) { w.Deleted = true }),
			witem(inSprint("PAY-8", ptr(5.0), "S5", 36, false), func(w *delivery.WorkItem) {
				w.Category, w.ResolvedAt = delivery.CategoryInProgress, time.Time{}
			}),
		},
	}
}

func TestGolden(t *testing.T) {
	marshal := func(v any) []byte {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return append(b, '\n')
	}
	t.Run("the flow report of a month", func(t *testing.T) {
		r := Compute(fullInput())
		golden(t, "report.json", marshal(r))
		var buf bytes.Buffer
		if err := WriteTable(&buf, r); err != nil {
			t.Fatal(err)
		}
		golden(t, "report.txt", buf.Bytes())
	})
	t.Run("the planning report of a month", func(t *testing.T) {
		r := Plan(fullItems())
		golden(t, "planning.json", marshal(r))
		var buf bytes.Buffer
		if err := WritePlanningTable(&buf, r); err != nil {
			t.Fatal(err)
		}
		golden(t, "planning.txt", buf.Bytes())
	})
}

func TestTablesShowMissingFiguresAsDash(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, Compute(Input{Period: march})); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	for _, line := range lines[2:11] { // the nine figure rows
		if !strings.Contains(line, "—") || strings.Contains(line, " 0s") {
			t.Errorf("row without data does not read as missing: %q", line)
		}
	}
	if !strings.Contains(buf.String(), "PRs per contributor: — (0 merged ÷ 0 authors)") {
		t.Errorf("missing ratio does not read as missing:\n%s", buf.String())
	}
	buf.Reset()
	if err := WritePlanningTable(&buf, Plan(PlanningInput{Period: march})); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(buf.String(), "—"); got != 3 {
		t.Errorf("planning table has %d dashes, want 3 (two coverages, one average):\n%s", got, buf.String())
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		seconds float64
		want    string
	}{
		{0, "0s"},
		{0.4, "0s"},
		{45, "45s"},
		{60, "1m"},
		{725, "12m 5s"},   // 12·60 + 5
		{15120, "4h 12m"}, // 4·3600 + 12·60
		{273600, "3d 4h"}, // 3·86400 + 4·3600
		{273659, "3d 4h"}, // minutes and seconds below the second unit are dropped
		{-1800, "-30m"},
		{9000.5, "2h 30m"}, // 2.5 h and half a second rounds to 9001 s
	}
	for _, tt := range tests {
		if got := humanDuration(tt.seconds); got != tt.want {
			t.Errorf("humanDuration(%v) = %q, want %q", tt.seconds, got, tt.want)
		}
	}
}
