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
	// Planning's explanation is a table too; with no sprint it says so.
	code, out, errOut = stride(t, "report", "planning", "--db", db, "--config", cfg, "--explain", "velocity")
	if code != 0 || !strings.Contains(out, "no work item behind this figure") || !strings.Contains(out, "warning: no sprint") {
		t.Errorf("planning explain: %d %q %q; want a table saying no work item and no sprint", code, out, errOut)
	}
	code, _, errOut = stride(t, "report", "planning", "--db", db, "--config", cfg, "--explain", "lead_time")
	if code == 0 || !strings.Contains(errOut, "unknown planning figure") {
		t.Errorf("planning explain of an unknown figure: %d %q", code, errOut)
	}
}

func TestTokenListAndRevoke(t *testing.T) {
	db := filepath.Join(t.TempDir(), "stride.db")
	cfg := filepath.Join(t.TempDir(), "stride.yaml")
	if err := os.WriteFile(cfg, []byte("# no services\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := stride(t, "token", "list", "--db", db, "--config", cfg); code != 0 || !strings.Contains(out, "no tokens") {
		t.Fatalf("list of none: %d %q", code, out)
	}
	var secrets []string
	for _, args := range [][]string{{"--name", "ci", "--scope", "ingest"}, {"--name", "ci", "--scope", "ingest"}, {"--name", "dash", "--scope", "read"}} {
		code, out, errOut := stride(t, append([]string{"token", "create", "--db", db, "--config", cfg}, args...)...)
		if code != 0 {
			t.Fatalf("create: %d %s", code, errOut)
		}
		secrets = append(secrets, strings.TrimSpace(out))
	}
	code, out, _ := stride(t, "token", "list", "--db", db, "--config", cfg)
	// A header and three tokens; no secret is shown.
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 4 || strings.Count(out, " ci ") != 2 || !strings.Contains(out, "dash") {
		t.Errorf("list: %d %q; want a header, two ci tokens and dash", code, out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("list shows a secret: %q", out)
		}
	}
	// Revoking ci revokes both tokens of the name, and dash stays.
	code, out, _ = stride(t, "token", "revoke", "ci", "--db", db, "--config", cfg)
	if code != 0 || strings.Count(out, "revoked token \"ci\"") != 2 {
		t.Errorf("revoke ci: %d %q; want both ci tokens revoked", code, out)
	}
	code, out, _ = stride(t, "token", "list", "--db", db, "--config", cfg)
	if code != 0 || strings.Contains(out, " ci ") || !strings.Contains(out, "dash") {
		t.Errorf("list after revoke: %d %q; want dash alone", code, out)
	}
	// A name no token has is an error naming the way to see them.
	code, _, errOut := stride(t, "token", "revoke", "--db", db, "--config", cfg, "nope")
	if code == 0 || !strings.Contains(errOut, "stride token list") {
		t.Errorf("revoke nope: %d %q; want a failure pointing at stride token list", code, errOut)
	}
	if code, _, errOut := stride(t, "token", "revoke", "--db", db, "--config", cfg); code != 2 || !strings.Contains(errOut, "name one token") {
		t.Errorf("revoke without a name: %d %q", code, errOut)
	}
}
