package conformance

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLookup(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "stride")
	pkg := filepath.Join(repo, "internal", "ingest", "github")
	for _, d := range []string{pkg, filepath.Join(root, "shared", "fixtures", "github")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(repo, "go.mod"), []byte("module example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "shared", "fixtures", "gitlab"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(pkg)
	tests := []struct {
		vendor string
		want   string // "" wants an error
	}{
		{"github", filepath.Join(root, "shared", "fixtures", "github")},
		{"gitlab", ""}, // a file, not a folder
		{"jira", ""},
	}
	for _, tt := range tests {
		got, err := Lookup(tt.vendor)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Lookup(%q) = %q, want an error", tt.vendor, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Lookup(%q) = %q, %v, want %q", tt.vendor, got, err, tt.want)
		}
	}
}
