package digest_test

import (
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/digest"
	"github.com/stride-oss/stride/internal/golden"
)

// checkGoldens compares the digest and its three renderings with the
// golden files: the same files on both databases, so both read the same.
func checkGoldens(t *testing.T, d digest.Digest) {
	t.Helper()
	golden.CheckJSON(t, "testdata/digest.json", d)
	golden.Check(t, "testdata/mail.txt", []byte(digest.Text(d)))
	html, err := digest.HTML(d)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/mail.html", []byte(html))
	golden.Check(t, "testdata/slack.txt", []byte(digest.Chat(d)))
	frag, err := digest.Fragment(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html, string(frag)) {
		t.Error("the page's fragment is not the body of the e-mail's HTML")
	}
	if first, _, _ := strings.Cut(digest.Text(d), "\n"); first != d.Headline {
		t.Errorf("the mail's first line is %q, not the headline", first)
	}
}
