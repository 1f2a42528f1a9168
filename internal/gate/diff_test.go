package gate

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseUnifiedDiff(t *testing.T) {
	diff := `diff --git a/calc.go b/calc.go
index 1111111..2222222 100644
--- a/calc.go
+++ b/calc.go
@@ -3,0 +4,2 @@ package calc
+// added
+// added
@@ -10 +12 @@ func Abs(x int) int {
-	return x
+	return x + 0
@@ -20,3 +21,0 @@ func Sign(x int) int {
-	gone
-	gone
-	gone
diff --git a/old.go b/old.go
deleted file mode 100644
--- a/old.go
+++ /dev/null
@@ -1,3 +0,0 @@
-package calc
diff --git a/new.go b/new.go
new file mode 100644
--- /dev/null
+++ b/new.go
@@ -0,0 +1,3 @@
+package calc
`
	got, err := ParseUnifiedDiff(strings.NewReader(diff))
	if err != nil {
		t.Fatal(err)
	}
	want := ChangedLines{
		"calc.go": {{4, 5}, {12, 12}},
		"new.go":  {{1, 3}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := ParseUnifiedDiff(strings.NewReader("+++ b/a.go\n@@ -1 +x @@\n")); err == nil {
		t.Error("a garbled hunk header parsed without error")
	}
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// TestChangedCoverageAgainstGit builds a repository whose module lives in a
// sub-directory, commits the tiny module, then changes Sign (untested) and
// Abs (tested): coverage of the changed lines must count only the blocks
// those lines touch.
func TestChangedCoverageAgainstGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git on PATH")
	}
	repo := t.TempDir()
	mod := filepath.Join(repo, "svc")
	if err := os.MkdirAll(mod, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"go.mod", "calc.go", "calc_test.go"} {
		data, err := os.ReadFile(filepath.Join("testdata", "covermod", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mod, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, repo, "init", "-q")
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-q", "-m", "base")

	src, _ := os.ReadFile(filepath.Join(mod, "calc.go"))
	changed := strings.Replace(string(src), "\t\treturn 1\n", "\t\treturn +1\n", 1) // Sign, untested
	if err := os.WriteFile(filepath.Join(mod, "calc.go"), []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}

	cov, err := ReadCoverprofile(goTestCoverprofile(t, mod))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := GitChangedLines(context.Background(), mod, "HEAD")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(lines, ChangedLines{"calc.go": {{18, 18}}}) {
		t.Fatalf("changed lines = %v, want calc.go line 18", lines)
	}
	modPath, err := ModulePath(mod)
	if err != nil || modPath != "example.com/covermod" {
		t.Fatalf("ModulePath = %q, %v", modPath, err)
	}
	got := ChangedCoverage(cov, lines, modPath)
	// Line 18 is `return 1` inside `case x > 0:`, one uncovered statement.
	if got.Covered != 0 || got.Total != 1 {
		t.Errorf("changed coverage %d of %d, want 0 of 1", got.Covered, got.Total)
	}
	if bySuffix := ChangedCoverage(cov, lines, ""); bySuffix.Total != got.Total {
		t.Errorf("matching by suffix found %d statements, by module path %d", bySuffix.Total, got.Total)
	}

	if _, err := GitChangedLines(context.Background(), mod, "no-such-rev"); err == nil {
		t.Error("an unknown revision gave no error")
	}
	if _, err := GitChangedLines(context.Background(), mod, "--output=/tmp/x"); err == nil {
		t.Error("an option passed as revision gave no error")
	}
}
