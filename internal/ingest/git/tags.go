package git

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// tag is a tag that points, possibly through other tags, at a commit.
type tag struct {
	name string
	sha  string // the commit the tag peels to
	time int64  // unix seconds of the tag's creation; 0 when unknown
}

// tagFormat gives, per tag: the name, the type and id of the object the ref
// points at, the type and id of the object an annotated tag points at, and
// the creation date (the tagger date of an annotated tag, the committer date
// of the commit of a lightweight one).
const tagFormat = "--format=%(refname:strip=2)%00%(objecttype)%00%(objectname)%00%(*objecttype)%00%(*objectname)%00%(creatordate:unix)"

// readTags lists the tags of the repository in dir with one
// `git for-each-ref`, keeping those that peel to a commit. A tag of a tag,
// rare but legal, is peeled with one more `git cat-file` call for all such
// tags together, since git 2.39's %(*objectname) peels one level only.
func readTags(ctx context.Context, dir string) ([]tag, error) {
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "for-each-ref", "refs/tags", tagFormat)
	var stderr tailBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("read tags of %s: %w%s", dir, err, stderr.suffix())
	}
	var tags []tag
	var nested []int // indexes into tags of tags of tags
	for line := range bytes.Lines(out) {
		f := strings.Split(strings.TrimSuffix(string(line), "\n"), "\x00")
		if len(f) != 6 {
			return nil, fmt.Errorf("read tags of %s: unexpected line %q", dir, line)
		}
		t := tag{name: f[0]}
		switch {
		case f[1] == "commit":
			t.sha = f[2]
		case f[1] == "tag" && f[3] == "commit":
			t.sha = f[4]
		case f[1] == "tag" && f[3] == "tag":
			t.sha = "refs/tags/" + t.name
			nested = append(nested, len(tags))
		default:
			continue // a tag of a tree or a blob ships no commit
		}
		if f[5] != "" {
			if t.time, err = strconv.ParseInt(f[5], 10, 64); err != nil {
				return nil, fmt.Errorf("read tags of %s: date of %s: %w", dir, t.name, err)
			}
		}
		tags = append(tags, t)
	}
	if len(nested) > 0 {
		if err := peel(ctx, dir, tags, nested); err != nil {
			return nil, err
		}
		tags = dropUnpeeled(tags)
	}
	return tags, nil
}

// peel resolves the tags at the given indexes to the object they finally
// point at, clearing sha when that is not a commit.
func peel(ctx context.Context, dir string, tags []tag, idx []int) error {
	var in strings.Builder
	for _, i := range idx {
		in.WriteString(tags[i].sha + "^{}\n")
	}
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "cat-file", "--batch-check=%(objectname) %(objecttype)")
	cmd.Stdin = strings.NewReader(in.String())
	var stderr tailBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("peel nested tags of %s: %w%s", dir, err, stderr.suffix())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for _, i := range idx {
		if !sc.Scan() {
			return fmt.Errorf("peel nested tags of %s: no answer for %s", dir, tags[i].name)
		}
		id, typ, _ := strings.Cut(sc.Text(), " ")
		if typ == "commit" {
			tags[i].sha = id
		} else {
			tags[i].sha = ""
		}
	}
	return nil
}

func dropUnpeeled(tags []tag) []tag {
	out := tags[:0]
	for _, t := range tags {
		if t.sha != "" {
			out = append(out, t)
		}
	}
	return out
}
