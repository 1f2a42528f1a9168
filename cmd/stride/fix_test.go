package main

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stride-oss/stride/internal/rings"
)

// TestPromoteMarksFixes: stride promote marks a fix as stride gate does,
// by --fix, a branch matching fix_branches or a label matching fix_labels
// of --policy, and always sends the policy's fix_labels, so the server can
// judge the labels of the commit's stored pull requests.
func TestPromoteMarksFixes(t *testing.T) {
	for _, v := range []string{"GITHUB_HEAD_REF", "GITHUB_REF_NAME", "CI_COMMIT_REF_NAME"} {
		t.Setenv(v, "")
	}
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte("defaults:\n  fix_branches: [\"hotfix/*\"]\n  fix_labels: [hotfix]\nservices:\n  api:\n    fix_labels: [\"sev*\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	labels := []string{"hotfix", "sev*"}
	tests := []struct {
		name   string
		extra  []string
		fix    bool
		reason string
		labels []string
	}{
		{name: "no policy, no flag: not a fix"},
		{name: "--fix", extra: []string{"--fix"}, fix: true, reason: "marked with --fix"},
		{name: "a fix branch", extra: []string{"--policy", policy, "--branch", "hotfix/pay-42"}, fix: true,
			reason: "branch hotfix/pay-42 matches fix_branches", labels: labels},
		{name: "a feature branch", extra: []string{"--policy", policy, "--branch", "feature/pay-42"}, labels: labels},
		{name: "a label of the service's own list", extra: []string{"--policy", policy, "--label", "ui", "--label", "sev1"}, fix: true,
			reason: "label sev1 matches fix_labels", labels: labels},
		{name: "a label without a policy is no fix", extra: []string{"--label", "hotfix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &fakeServer{t: t, resp: rings.PromotionResponse{Decision: rings.Decision{Allowed: true}}}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			args := append([]string{"--service", "api", "--sha", "abc", "--to", "ring1", "--server", srv.URL}, tt.extra...)
			if code, _, stderr := runCmd(t, promoteCmd, args); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var req rings.PromotionRequest
			if err := json.Unmarshal(fake.got, &req); err != nil {
				t.Fatal(err)
			}
			want := rings.PromotionRequest{Service: "api", SHA: "abc", To: "ring1", Fix: tt.fix, FixReason: tt.reason, FixLabels: tt.labels}
			if !reflect.DeepEqual(req, want) {
				t.Errorf("request %+v, want %+v", req, want)
			}
		})
	}
	if code, _, stderr := runCmd(t, promoteCmd, []string{"--service", "api", "--sha", "abc", "--to", "ring1", "--server", "http://127.0.0.1:1", "--policy", filepath.Join(t.TempDir(), "none.yaml")}); code != 2 || stderr == "" {
		t.Errorf("a missing policy: exit %d %q, want 2", code, stderr)
	}
}
