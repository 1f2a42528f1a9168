package github

import (
	"fmt"
	"strconv"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/ingest"
)

// buildConclusions maps the conclusion of a completed workflow run. A run
// that waits for approval (action_required) has not run yet, so it counts
// as running; neutral is GitHub's "passed, with nothing to say".
var buildConclusions = map[string]delivery.BuildStatus{
	"success":         delivery.BuildSuccess,
	"neutral":         delivery.BuildSuccess,
	"failure":         delivery.BuildFailure,
	"timed_out":       delivery.BuildFailure,
	"startup_failure": delivery.BuildFailure,
	"cancelled":       delivery.BuildCancelled,
	"skipped":         delivery.BuildCancelled,
	"stale":           delivery.BuildCancelled,
	"action_required": delivery.BuildRunning,
}

// workflowRun reports a GitHub Actions run as a build.
func (s *Source) workflowRun(body []byte) ([]delivery.Event, error) {
	var e workflowRunEvent
	if err := decode(body, &e); err != nil {
		return nil, err
	}
	switch e.Action {
	case "requested", "in_progress", "completed":
	default:
		return nil, ingest.Ignored("github: workflow_run action %q", e.Action)
	}
	switch {
	case e.Repository == nil || e.Repository.FullName == "":
		return nil, missing("workflow_run", "repository.full_name")
	case e.WorkflowRun == nil || e.WorkflowRun.ID <= 0:
		return nil, missing("workflow_run", "workflow_run.id")
	}
	run := e.WorkflowRun
	name := run.Name
	if name == "" && e.Workflow != nil {
		name = e.Workflow.Name
	}
	b := &delivery.Build{
		Repository: e.Repository.FullName,
		ID:         strconv.FormatInt(run.ID, 10),
		Name:       name,
		SHA:        run.HeadSHA,
		Branch:     run.HeadBranch,
		StartedAt:  run.RunStartedAt,
		UpdatedAt:  run.UpdatedAt,
		// run_attempt is 1 for the first run and grows with each re-run
		// of the same run ID; 0 (absent) stays "not known".
		Attempt:       run.RunAttempt,
		DefaultBranch: e.Repository.defaultBranch(),
	}
	if b.StartedAt.IsZero() {
		b.StartedAt = run.CreatedAt
	}
	if run.Status == "completed" {
		// An unknown conclusion leaves the status unreported rather than
		// guessing; a later delivery may say more.
		b.Status = buildConclusions[run.Conclusion]
		if b.Status != delivery.BuildRunning {
			b.FinishedAt = run.UpdatedAt
		}
	} else {
		b.Status = delivery.BuildRunning
	}
	// Re-runs keep the run's ID; the attempt and the status tell the
	// reports of one run apart.
	key := fmt.Sprintf("github:workflow_run:%s:%d:%d:%s:%s:%s", b.Repository, run.ID, run.RunAttempt, run.Status, run.Conclusion, stamp(run.UpdatedAt))
	return []delivery.Event{{Key: key, Kind: delivery.KindBuild, Build: b}}, nil
}
