package gate

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// LineRange is the inclusive range of new-file lines [Start, End] that a
// diff hunk added or changed.
type LineRange struct{ Start, End int }

// ChangedLines maps a file path, relative to the directory the diff was
// taken in, to the line ranges the diff added or changed in it.
type ChangedLines map[string][]LineRange

// GitChangedLines runs `git diff -U0 --relative REV` in dir and returns the
// lines changed since REV (committed and uncommitted work alike, because
// CI checks out the commit under test). --relative makes the paths relative
// to dir, which is the module root where Go coverprofile paths begin.
func GitChangedLines(ctx context.Context, dir, rev string) (ChangedLines, error) {
	if strings.HasPrefix(rev, "-") {
		return nil, fmt.Errorf("diff base %q: not a revision", rev)
	}
	cmd := exec.CommandContext(ctx, "git", "diff", "-U0", "--relative", "--no-color", "--no-ext-diff", rev, "--")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git diff -U0 %s: %w: %s", rev, err, strings.TrimSpace(stderr.String()))
	}
	lines, err := ParseUnifiedDiff(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("git diff -U0 %s: %w", rev, err)
	}
	return lines, nil
}

// ParseUnifiedDiff reads the new-file side of a unified diff: for each
// "+++ b/path" the hunk headers "@@ -a,b +c,d @@" give d lines from c. Hunks
// with d = 0 only delete and change no line of the new file.
func ParseUnifiedDiff(r io.Reader) (ChangedLines, error) {
	changed := ChangedLines{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	file := ""
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "+++ "):
			name := strings.TrimPrefix(line, "+++ ")
			if i := strings.IndexByte(name, '\t'); i >= 0 {
				name = name[:i]
			}
			if name == "/dev/null" {
				file = ""
				continue
			}
			file = strings.TrimPrefix(name, "b/")
		case strings.HasPrefix(line, "@@ ") && file != "":
			rng, err := parseHunkHeader(line)
			if err != nil {
				return nil, err
			}
			if rng.End >= rng.Start {
				changed[file] = append(changed[file], rng)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read diff: %w", err)
	}
	return changed, nil
}

func parseHunkHeader(line string) (LineRange, error) {
	// @@ -12,3 +14,5 @@ optional section heading
	fields := strings.Fields(line)
	if len(fields) < 4 || !strings.HasPrefix(fields[2], "+") {
		return LineRange{}, fmt.Errorf("bad hunk header %q", line)
	}
	spec := fields[2][1:]
	count := 1
	if i := strings.IndexByte(spec, ','); i >= 0 {
		n, err := strconv.Atoi(spec[i+1:])
		if err != nil {
			return LineRange{}, fmt.Errorf("bad hunk header %q: %w", line, err)
		}
		count, spec = n, spec[:i]
	}
	start, err := strconv.Atoi(spec)
	if err != nil {
		return LineRange{}, fmt.Errorf("bad hunk header %q: %w", line, err)
	}
	return LineRange{Start: start, End: start + count - 1}, nil
}

// touches reports whether any range overlaps [start, end].
func touches(ranges []LineRange, start, end int) bool {
	for _, r := range ranges {
		if r.Start <= end && start <= r.End {
			return true
		}
	}
	return false
}

// ChangedCoverage restricts a Go coverage to the blocks that overlap changed
// lines. Coverprofile paths are import paths (module path + directory +
// file); modulePath, when known, turns them into paths relative to the
// module root, which is where the diff was taken. Without it a profile path
// matches a diff path when it ends with "/"+path.
func ChangedCoverage(c Coverage, changed ChangedLines, modulePath string) Coverage {
	out := Coverage{Format: c.Format + " (changed lines)"}
	for _, p := range c.Profiles {
		ranges := changedRangesFor(p.FileName, changed, modulePath)
		if len(ranges) == 0 {
			continue
		}
		for _, b := range p.Blocks {
			if !touches(ranges, b.StartLine, b.EndLine) {
				continue
			}
			out.Total += int64(b.NumStmt)
			if b.Count > 0 {
				out.Covered += int64(b.NumStmt)
			}
		}
	}
	return out
}

func changedRangesFor(profileFile string, changed ChangedLines, modulePath string) []LineRange {
	if modulePath != "" {
		if rel, ok := strings.CutPrefix(profileFile, modulePath+"/"); ok {
			return changed[rel]
		}
	}
	if r, ok := changed[profileFile]; ok {
		return r
	}
	for path, r := range changed {
		if strings.HasSuffix(profileFile, "/"+path) {
			return r
		}
	}
	return nil
}

// ModulePath reads the module path from dir/go.mod, or "" when dir holds no
// go.mod (the diff then matches coverprofile paths by suffix).
func ModulePath(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read go.mod: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("go.mod in %s: no module line", dir)
}
