package server

import (
	"context"
	"fmt"

	"github.com/stride-oss/stride/internal/gate"
)

// fixByLabels says whether a stored pull request of the commit carries a
// label that one of patterns (the policy's fix_labels) matches, and which,
// so a fix labelled in the pull request gets past a freeze without a flag
// in the pipeline. No patterns, no lookup.
func (s *Server) fixByLabels(ctx context.Context, service, sha string, patterns []string) (string, error) {
	if len(patterns) == 0 || sha == "" {
		return "", nil
	}
	prs, err := s.DB.CommitPullRequests(ctx, service, sha)
	if err != nil {
		return "", err
	}
	for _, pr := range prs {
		if l, ok := gate.FixLabel(patterns, pr.Labels); ok {
			return fmt.Sprintf("label %s of pull request %s#%d matches fix_labels", l, pr.Repository, pr.Number), nil
		}
	}
	return "", nil
}

// latestGateRuns are the latest results of each gate of a commit, for the
// require_gates of the gate that posted: SonarQube's among them.
func (s *Server) latestGateRuns(ctx context.Context, service, sha string) ([]gate.GateRun, error) {
	if sha == "" {
		return nil, nil
	}
	runs, err := s.gateRuns(ctx, service, sha)
	if err != nil {
		return nil, err
	}
	out := make([]gate.GateRun, 0, len(runs))
	for _, g := range runs {
		out = append(out, gate.GateRun{Name: g.Name, Passed: g.Passed, At: g.At})
	}
	return out, nil
}
