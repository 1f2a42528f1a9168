package git

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"unicode/utf8"
)

// commit is one record of the log pass.
type commit struct {
	sha         string
	parents     []string
	authorName  string
	authorEmail string
	authorTime  int64 // unix seconds
	commitTime  int64 // unix seconds (committer date)
	subject     string
	// paths are the files the commit touched, read only with --paths;
	// never nil then (a merge lists none of its own).
	paths []string
}

// logFields is the number of NUL-terminated fields of one log record; with
// -z, the record's terminator is the NUL after the last field.
const logFields = 7

// logArgs walk every commit reachable from a branch, a tag, a
// remote-tracking branch or HEAD (also a detached one; --ignore-missing lets
// an empty repository's unborn HEAD pass). Other refs are left out on
// purpose: notes, the stash and replace refs hold bookkeeping, not code, and
// the refs/pull/* of a mirror clone hold every pull request ever opened,
// merged or not. %aN and %aE apply the repository's .mailmap, so one person
// with two addresses is one author. The order is git's default: it streams
// from the first commit, where --topo-order would first walk the whole graph.
var logArgs = []string{
	"--no-replace-objects", "-c", "log.showSignature=false",
	"log", "--ignore-missing", "--branches", "--tags", "--remotes", "HEAD",
	"-z", "--format=%H%x00%P%x00%aN%x00%aE%x00%at%x00%ct%x00%s",
}

// pathArgs make the same pass list the files each commit touched. Each
// record then starts with an empty field (the %x00 in front), and the
// files, which git prints after the record as "\n" then NUL-terminated
// names, end at the next empty field: a file name is never empty, so the
// stream stays parseable whatever the names hold. --no-renames lists a
// moved file under its old and its new path, so a move out of a service's
// directory counts for both services; merges list nothing of their own.
var pathArgs = []string{"--name-only", "--no-renames", "--format=%x00%H%x00%P%x00%aN%x00%aE%x00%at%x00%ct%x00%s"}

// readCommits runs one `git log` over the repository in dir and calls fn for
// each commit as it is read; an error from fn stops git and is returned.
// With paths, it also reads the files each commit touched.
func readCommits(ctx context.Context, dir string, paths bool, fn func(commit) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	args := append([]string{"-C", dir}, logArgs...)
	if paths {
		args = append(args, pathArgs...) // the later --format wins
	}
	cmd := exec.CommandContext(ctx, "git", args...)
	var stderr tailBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("git log in %s: %w", dir, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git log in %s: %w", dir, err)
	}
	readErr := parseLog(bufio.NewReaderSize(out, 256<<10), paths, fn)
	if readErr != nil {
		// Stop git before waiting, or it blocks on a pipe no one reads.
		cancel()
	}
	waitErr := cmd.Wait()
	switch {
	case readErr != nil:
		return readErr
	case ctx.Err() != nil:
		return fmt.Errorf("git log in %s: %w", dir, ctx.Err())
	case waitErr != nil:
		return fmt.Errorf("git log in %s: %w%s", dir, waitErr, stderr.suffix())
	}
	return nil
}

// parseLog reads NUL-separated log records from r; withPaths, records in the
// pathArgs layout, each followed by its files.
func parseLog(r *bufio.Reader, withPaths bool, fn func(commit) error) error {
	if withPaths {
		b, err := r.ReadSlice(0)
		if err == io.EOF && len(b) == 0 {
			return nil
		}
		if err != nil || len(b) != 1 {
			return fmt.Errorf("read git log: a record does not start with an empty field")
		}
	}
	var record []byte
	for n := 0; ; n++ {
		record = record[:0]
		var ends [logFields]int
		for i := range logFields {
			b, err := r.ReadSlice(0)
			for errors.Is(err, bufio.ErrBufferFull) {
				// A subject longer than the buffer: gather it in pieces.
				record = append(record, b...)
				b, err = r.ReadSlice(0)
			}
			if err == io.EOF && i == 0 && len(b) == 0 && len(record) == 0 {
				return nil
			}
			if err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return fmt.Errorf("read git log record %d: %w", n, err)
			}
			record = append(record, b[:len(b)-1]...)
			ends[i] = len(record)
		}
		// One string per record, sliced into its fields, keeps the
		// allocations per commit to a handful.
		s := string(record)
		start := 0
		var fs [logFields]string
		for i := range logFields {
			fs[i] = s[start:ends[i]]
			start = ends[i]
		}
		c, err := parseCommit(fs)
		if err != nil {
			return fmt.Errorf("read git log record %d: %w", n, err)
		}
		more := true
		if withPaths {
			if c.paths, more, err = readPaths(r); err != nil {
				return fmt.Errorf("read git log record %d: %w", n, err)
			}
		}
		if err := fn(c); err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// readPaths reads the file names after a record up to the empty field that
// starts the next record (more) or the end of the log.
func readPaths(r *bufio.Reader) (paths []string, more bool, err error) {
	paths = []string{}
	for {
		b, err := r.ReadBytes(0)
		switch {
		case err == io.EOF && len(b) == 0:
			return paths, false, nil
		case err == io.EOF:
			return nil, false, fmt.Errorf("file list: %w", io.ErrUnexpectedEOF)
		case err != nil:
			return nil, false, fmt.Errorf("file list: %w", err)
		case len(b) == 1:
			return paths, true, nil
		}
		name := string(b[:len(b)-1])
		if len(paths) == 0 {
			// git separates the file list from the record with a newline.
			name = strings.TrimPrefix(name, "\n")
		}
		paths = append(paths, validUTF8(name))
	}
}

func parseCommit(fs [logFields]string) (commit, error) {
	c := commit{
		sha:         fs[0],
		authorName:  validUTF8(fs[2]),
		authorEmail: validUTF8(fs[3]),
		subject:     validUTF8(fs[6]),
	}
	if !isHex(c.sha) {
		return c, fmt.Errorf("bad commit id %q", c.sha)
	}
	if fs[1] != "" {
		c.parents = strings.Split(fs[1], " ")
	}
	var err error
	if c.authorTime, err = strconv.ParseInt(fs[4], 10, 64); err != nil {
		return c, fmt.Errorf("author time of %s: %w", c.sha, err)
	}
	if c.commitTime, err = strconv.ParseInt(fs[5], 10, 64); err != nil {
		return c, fmt.Errorf("commit time of %s: %w", c.sha, err)
	}
	return c, nil
}

// validUTF8 replaces invalid bytes: git passes on the bytes of a commit
// without an encoding header as they are, and PostgreSQL refuses text that is
// not UTF-8.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func isHex(s string) bool {
	if len(s) < 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// tailBuffer keeps the last few kilobytes written to it: enough of git's
// stderr to say what went wrong, without holding a flood of warnings.
type tailBuffer struct {
	b []byte
}

const tailMax = 4 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailMax {
		t.b = append(t.b[:0], t.b[len(t.b)-tailMax:]...)
	}
	return len(p), nil
}

// suffix returns ": <stderr>" or "" when git said nothing.
func (t *tailBuffer) suffix() string {
	s := string(bytes.TrimSpace(t.b))
	if s == "" {
		return ""
	}
	return ": " + s
}
