package git

import (
	"bufio"
	"reflect"
	"strings"
	"testing"
)

const (
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	shaC = "cccccccccccccccccccccccccccccccccccccccc"
)

// record builds one log record as `git log -z` with logArgs' format writes it.
func record(fields ...string) string { return strings.Join(fields, "\x00") + "\x00" }

func TestParseLog(t *testing.T) {
	long := strings.Repeat("very long subject ", 20)
	cases := []struct {
		name    string
		in      string
		want    []commit
		wantErr string
	}{
		{name: "no output is no commits"},
		{
			name: "a root commit has no parents",
			in:   record(shaA, "", "Ada", "ada@example.com", "100", "200", "first"),
			want: []commit{{sha: shaA, authorName: "Ada", authorEmail: "ada@example.com", authorTime: 100, commitTime: 200, subject: "first"}},
		},
		{
			name: "a merge has two parents, and records follow each other",
			in: record(shaC, shaA+" "+shaB, "Ada", "", "300", "300", "Merge") +
				record(shaB, shaA, "", "", "200", "250", ""),
			want: []commit{
				{sha: shaC, parents: []string{shaA, shaB}, authorName: "Ada", authorTime: 300, commitTime: 300, subject: "Merge"},
				{sha: shaB, parents: []string{shaA}, authorTime: 200, commitTime: 250},
			},
		},
		{
			name: "a subject longer than the read buffer is read whole",
			in:   record(shaA, "", "Ada", "a@x", "1", "2", long),
			want: []commit{{sha: shaA, authorName: "Ada", authorEmail: "a@x", authorTime: 1, commitTime: 2, subject: long}},
		},
		{
			name:    "a truncated record is an error",
			in:      record(shaA, "", "Ada", "a@x", "1"),
			wantErr: "record 0: unexpected EOF",
		},
		{
			name:    "a malformed commit id is an error",
			in:      record("HEAD", "", "Ada", "a@x", "1", "2", "s"),
			wantErr: `bad commit id "HEAD"`,
		},
		{
			name:    "a malformed time is an error",
			in:      record(shaA, "", "Ada", "a@x", "yesterday", "2", "s"),
			wantErr: "author time of " + shaA,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []commit
			err := parseLog(bufio.NewReaderSize(strings.NewReader(c.in), 16), false, func(cm commit) error {
				got = append(got, cm)
				return nil
			})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("commits = %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func FuzzParseLog(f *testing.F) {
	f.Add(record(shaA, "", "Ada", "ada@example.com", "100", "200", "first"))
	f.Add(record(shaC, shaA+" "+shaB, "Ada", "", "300", "300", "Merge") + record(shaB, shaA, "", "", "200", "250", ""))
	f.Add(record(shaA, "", "Ada", "a@x", "1"))
	f.Fuzz(func(t *testing.T, in string) {
		n := 0
		err := parseLog(bufio.NewReaderSize(strings.NewReader(in), 16), false, func(c commit) error {
			n++
			if !isHex(c.sha) {
				t.Errorf("commit with id %q accepted", c.sha)
			}
			for _, s := range []string{c.authorName, c.authorEmail, c.subject} {
				if strings.ContainsRune(s, 0) {
					t.Errorf("field %q holds a NUL", s)
				}
			}
			return nil
		})
		if err == nil && n != strings.Count(in, "\x00")/logFields {
			t.Errorf("read %d commits from %d fields", n, strings.Count(in, "\x00"))
		}
	})
}
