package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportExplainInTableMode(t *testing.T) {
	db := filepath.Join(t.TempDir(), "stride.db")
	cfg := filepath.Join(t.TempDir(), "stride.yaml")
	if err := os.WriteFile(cfg, []byte("# no services\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Flow's explanation is a table, and an empty one says why.
	code, out, errOut := stride(t, "report", "flow", "--db", db, "--config", cfg, "--from", "2026-01-01", "--to", "2026-02-01", "--explain", "deploy_time")
	if code != 0 || !strings.Contains(out, "deploy time (seconds)") || !strings.Contains(out, "nothing counted, because") || strings.Contains(out, "{") {
		t.Errorf("flow explain: %d %q %q; want a table saying nothing was counted and why", code, out, errOut)
	}
	// Planning has no explanation: the flag is refused, not ignored.
	code, out, errOut = stride(t, "report", "planning", "--db", db, "--config", cfg, "--explain", "velocity")
	if code != 2 || !strings.Contains(errOut, "--explain is not supported for planning") || out != "" {
		t.Errorf("planning explain: %d %q %q; want exit 2 saying --explain is not supported", code, out, errOut)
	}
}
