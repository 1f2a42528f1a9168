// Package flow computes the pull-request flow metrics (coding, pickup,
// review, deploy and cycle time, size, comments, PRs per contributor) and the
// planning metrics (story-point and acceptance-criteria coverage, velocity)
// that docs/metrics.md defines. Like package dora it is pure: the
// store gathers pull requests, work items and the deployments that shipped
// their commits; this package only counts.
//
// Which pull requests a figure reads:
//
//   - coding, pickup and review time, cycle time to merge, PR size, changed
//     files, comments and PRs per contributor read the pull requests merged
//     in the period, so the figures of one report describe one population;
//   - deploy time and cycle time read the pull requests whose deployment
//     finished in the period, as DORA lead time reads the changes a
//     deployment in the period shipped;
//   - cycle time to merge reads the pull requests merged in the period that
//     were not deployed before the period ended, so that each merged pull
//     request appears in exactly one of the two cycle times of a period's
//     report (a pull request merged in one period and deployed in the next
//     appears in the first's cycle time to merge and the second's cycle time).
//
// A pull request is merged when MergedAt is known; closed pull requests and
// those without a merge time are left out of every figure.
package flow

import (
	"cmp"
	"slices"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// Input is everything one flow report reads, for one scope (a repository, a
// team's repositories, the org) and one period.
type Input struct {
	Period delivery.Period
	// PullRequests are the scope's pull requests merged in the period or
	// deployed in it (package report may pass more; the rest are ignored).
	PullRequests []delivery.PullRequest
	// Deployed maps a commit to the first successful production deployment
	// that shipped it. Package report fills it for each pull request's merge sha
	// and its commits; a commit that is absent has not been shipped.
	Deployed map[CommitKey]Deployed
}

// CommitKey identifies a commit; shas are unique only within a repository.
type CommitKey struct {
	Repository string
	SHA        string
}

// Deployed is the first successful production deployment that shipped a
// commit and when it finished, which is when the commit reached users.
type Deployed struct {
	Deployment delivery.DeploymentKey
	FinishedAt time.Time
}

// Report holds the flow figures of one scope and period. A figure is nil
// (JSON null) when no pull request contributed to it: empty is not zero.
type Report struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// CodingTime is first commit → created, for pull requests whose first
	// commit time is known.
	CodingTime *DurationStat `json:"coding_time"`
	// PickupTime is created, or marked ready for review when the pull
	// request was opened as a draft, → first review or review comment by
	// someone other than the author.
	PickupTime *DurationStat `json:"pickup_time"`
	// ReviewTime is first review → merged.
	ReviewTime *DurationStat `json:"review_time"`
	// DeployTime is merged → the deployment that shipped the pull request.
	DeployTime *DurationStat `json:"deploy_time"`
	// CycleTime is first commit (created when the first commit time is not
	// known) → the deployment that shipped the pull request.
	CycleTime *DurationStat `json:"cycle_time"`
	// CycleTimeToMerge is first commit (or created) → merged, for pull
	// requests merged in the period and not deployed by its end.
	CycleTimeToMerge *DurationStat `json:"cycle_time_to_merge"`
	// PRSize is additions + deletions.
	PRSize       *CountStat `json:"pr_size"`
	ChangedFiles *CountStat `json:"changed_files"`
	// Comments is issue comments + review comments.
	Comments          *CountStat     `json:"comments"`
	PRsPerContributor PerContributor `json:"prs_per_contributor"`
	// Warnings are the negative durations left out of the figures above:
	// clock skew or events out of order, which a user should see rather
	// than have averaged away. Never nil, so the JSON shows [].
	Warnings []Warning `json:"warnings"`
}

// PerContributor is merged pull requests ÷ distinct authors, kept with its
// numerator and denominator so a ratio of 1 from 1 ÷ 1 is not mistaken for
// one from 40 ÷ 40. Ratio is nil when nothing was merged. Pull requests
// whose author is unknown ("") count as one contributor between them.
type PerContributor struct {
	Merged       int      `json:"merged"`
	Contributors int      `json:"contributors"`
	Ratio        *float64 `json:"ratio"`
}

// Warning names a pull request whose duration for a figure was negative and
// therefore left out of it. A warning about the report as a whole (data
// not yet brought up to date) has only a Message.
type Warning struct {
	Figure     string  `json:"figure,omitempty"`
	Repository string  `json:"repository,omitempty"`
	Number     int     `json:"number,omitempty"`
	Seconds    float64 `json:"seconds,omitempty"`
	Message    string  `json:"message"`
}

// figure enumerates the figures of a Report; its names are the JSON names,
// which Explain accepts.
type figure int

const (
	codingTime figure = iota
	pickupTime
	reviewTime
	deployTime
	cycleTime
	cycleTimeToMerge
	prSize
	changedFiles
	comments
	prsPerContributor
	numFigures
)

var figureNames = [numFigures]string{
	codingTime:        "coding_time",
	pickupTime:        "pickup_time",
	reviewTime:        "review_time",
	deployTime:        "deploy_time",
	cycleTime:         "cycle_time",
	cycleTimeToMerge:  "cycle_time_to_merge",
	prSize:            "pr_size",
	changedFiles:      "changed_files",
	comments:          "comments",
	prsPerContributor: "prs_per_contributor",
}

var figureByName = func() map[string]figure {
	m := make(map[string]figure, numFigures)
	for f, name := range figureNames {
		m[name] = figure(f)
	}
	return m
}()

// isDuration reports whether the figure's values are durations in
// nanoseconds rather than counts.
func (f figure) isDuration() bool { return f <= cycleTimeToMerge }

var warningMessages = [numFigures]string{
	codingTime:       "first commit after the pull request was created",
	pickupTime:       "first review before the pull request was created or marked ready",
	reviewTime:       "merged before the first review",
	deployTime:       "deployment finished before the pull request was merged",
	cycleTime:        "deployment finished before the first commit",
	cycleTimeToMerge: "merged before the first commit",
}

// Figures returns the names of the figures Explain accepts, in report order.
func Figures() []string {
	return append([]string(nil), figureNames[:]...)
}

// sample is one pull request's contribution to one figure.
type sample struct {
	pr    int   // index into Input.PullRequests
	value int64 // nanoseconds for durations, otherwise a count
	start time.Time
	end   time.Time
	// deployed is the deployment that ended the duration, for deploy time
	// and cycle time; its FinishedAt is zero for the other figures.
	deployed Deployed
}

// collect walks the pull requests once and hands every sample of every
// figure to emit; Compute and Explain differ only in what they keep.
func collect(in Input, emit func(figure, sample)) {
	for i := range in.PullRequests {
		pr := &in.PullRequests[i]
		if pr.MergedAt.IsZero() {
			continue
		}
		start := pr.FirstCommitAt
		if start.IsZero() {
			start = pr.CreatedAt
		}
		dep, isDeployed := shippedBy(in.Deployed, pr)
		span := func(f figure, from, to time.Time, d Deployed) {
			emit(f, sample{pr: i, value: int64(to.Sub(from)), start: from, end: to, deployed: d})
		}
		if in.Period.Contains(pr.MergedAt) {
			if !pr.FirstCommitAt.IsZero() && !pr.CreatedAt.IsZero() {
				span(codingTime, pr.FirstCommitAt, pr.CreatedAt, Deployed{})
			}
			if !pr.FirstReviewAt.IsZero() {
				if ready := readyAt(pr); !ready.IsZero() {
					span(pickupTime, ready, pr.FirstReviewAt, Deployed{})
				}
				span(reviewTime, pr.FirstReviewAt, pr.MergedAt, Deployed{})
			}
			if !start.IsZero() && (!isDeployed || !dep.FinishedAt.Before(in.Period.To)) {
				span(cycleTimeToMerge, start, pr.MergedAt, Deployed{})
			}
			emit(prSize, sample{pr: i, value: int64(pr.Additions) + int64(pr.Deletions)})
			emit(changedFiles, sample{pr: i, value: int64(pr.ChangedFiles)})
			emit(comments, sample{pr: i, value: int64(pr.Comments) + int64(pr.ReviewComments)})
			emit(prsPerContributor, sample{pr: i, value: 1})
		}
		if isDeployed && in.Period.Contains(dep.FinishedAt) {
			span(deployTime, pr.MergedAt, dep.FinishedAt, dep)
			if !start.IsZero() {
				span(cycleTime, start, dep.FinishedAt, dep)
			}
		}
	}
}

// readyAt is when the pull request became ready for review: when it was
// marked ready if it was opened as a draft, else when it was created. The
// later of the two is taken so that a ready time reported before creation
// (which a draft cannot have) does not stretch pickup time.
func readyAt(pr *delivery.PullRequest) time.Time {
	if pr.ReadyAt.After(pr.CreatedAt) {
		return pr.ReadyAt
	}
	return pr.CreatedAt
}

// shippedBy finds the deployment that shipped a pull request: the one that
// shipped its merge sha (a squash or merge commit, or the last commit of a
// rebase), or, when that sha is unknown or was not shipped, the first
// deployment that shipped any of the pull request's own commits. The first
// one is taken, as DORA lead time takes the first deployment that contains
// a change; commits of one pull request land together and are normally
// shipped together.
func shippedBy(deployed map[CommitKey]Deployed, pr *delivery.PullRequest) (Deployed, bool) {
	if len(deployed) == 0 {
		return Deployed{}, false
	}
	if pr.MergeSHA != "" {
		if d, ok := deployed[CommitKey{pr.Repository, pr.MergeSHA}]; ok && !d.FinishedAt.IsZero() {
			return d, true
		}
	}
	var first Deployed
	found := false
	for _, sha := range pr.Commits {
		d, ok := deployed[CommitKey{pr.Repository, sha}]
		if !ok || d.FinishedAt.IsZero() {
			continue
		}
		if !found || d.FinishedAt.Before(first.FinishedAt) ||
			(d.FinishedAt.Equal(first.FinishedAt) && d.Deployment.String() < first.Deployment.String()) {
			first, found = d, true
		}
	}
	return first, found
}

// Compute returns the flow report of in.
func Compute(in Input) Report {
	var values [numFigures][]int64
	for f := range values {
		values[f] = make([]int64, 0, len(in.PullRequests))
	}
	authors := map[string]struct{}{}
	warnings := []Warning{}
	collect(in, func(f figure, s sample) {
		pr := &in.PullRequests[s.pr]
		switch {
		case f == prsPerContributor:
			authors[pr.Author] = struct{}{}
		case f.isDuration() && s.value < 0:
			warnings = append(warnings, Warning{
				Figure:     figureNames[f],
				Repository: pr.Repository,
				Number:     pr.Number,
				Seconds:    time.Duration(s.value).Seconds(),
				Message:    warningMessages[f],
			})
			return
		}
		values[f] = append(values[f], s.value)
	})
	slices.SortFunc(warnings, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(a.Repository, b.Repository), cmp.Compare(a.Number, b.Number),
			cmp.Compare(figureByName[a.Figure], figureByName[b.Figure]))
	})
	r := Report{
		From:             in.Period.From,
		To:               in.Period.To,
		CodingTime:       durationStat(values[codingTime]),
		PickupTime:       durationStat(values[pickupTime]),
		ReviewTime:       durationStat(values[reviewTime]),
		DeployTime:       durationStat(values[deployTime]),
		CycleTime:        durationStat(values[cycleTime]),
		CycleTimeToMerge: durationStat(values[cycleTimeToMerge]),
		PRSize:           countStat(values[prSize]),
		ChangedFiles:     countStat(values[changedFiles]),
		Comments:         countStat(values[comments]),
		PRsPerContributor: PerContributor{
			Merged:       len(values[prsPerContributor]),
			Contributors: len(authors),
		},
		Warnings: warnings,
	}
	r.PRsPerContributor.Ratio = ratio(r.PRsPerContributor.Merged, r.PRsPerContributor.Contributors)
	return r
}

// Lookback is how long before a period a pull request may have merged and
// still be deployed inside it (deploy time and cycle time count pull
// requests by their deployment), so a report reads the pull requests merged
// from Lookback before the period to its end.
const Lookback = 90 * 24 * time.Hour
