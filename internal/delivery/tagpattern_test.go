package delivery

import (
	"slices"
	"testing"
)

func TestMatchTag(t *testing.T) {
	cases := []struct {
		pattern, tag string
		want         bool
	}{
		// The case of the issue: "*" crosses "/".
		{"*-rc*", "sdk/v1.15.0-rc.1", true},
		{"*-rc*", "etcdctl/v3.6.0-rc.0", true},
		{"*-rc*", "v1.15.0", false},
		{"v*", "v3.1.0", true},
		{"v*", "sdk/v1.15.0", false},
		{"*/v*", "sdk/v1.15.0", true},
		{"*/v*", "v1.15.0", false},
		{"release/*", "release/2026/03", true},
		{"**", "a/b/c", true},
		{"a**z", "a/b/z", true},
		{"*", "", true},
		{"", "", true},
		{"", "v1", false},
		{"v1.0.0", "v1.0.0", true},
		{"v1.0.0", "v1.0.00", false},
		{"v1.0", "v1.0.0", false},
		// "?" is one byte, "/" too; a two-byte letter is two.
		{"v?", "v1", true},
		{"v?", "v12", false},
		{"a?b", "a/b", true},
		{"caf?", "café", false},
		{"caf??", "café", true},
		// Backtracking: the first "-" is not the one that matches.
		{"*-rc*.1", "v1-beta-rc.1", true},
		{"*a*b*c", "aXbXbXa", false},
		{"*a*b*c", "aXbXbXc", true},
		// Classes, ranges and negation.
		{"v[0-9]*", "v1.2", true},
		{"v[0-9]*", "vX", false},
		{"v[!0-9]*", "vX", true},
		{"v[^0-9]*", "v1", false},
		{"v[123]", "v2", true},
		{"v[123]", "v4", false},
		{"[]]", "]", true},
		{"[!]]", "]", false},
		{"[!]]", "a", true},
		{"[a-]", "-", true},
		{"[-a]", "-", true},
		{"[a-c-e]", "-", true},
		{"[a-c-e]", "d", false},
		{"[z-a]", "m", false},
		{"[\\]]", "]", true},
		{"[[:digit:]]", "7", true},
		{"[[:digit:]]", "x", false},
		{"[[:alpha:][:digit:]]", "x", true},
		{"[![:alpha:]]", "x", false},
		{"[[:upper:]]", "Q", true},
		{"[[:xdigit:]]", "f", true},
		{"[[:punct:]]", "-", true},
		{"[[:alpha]", "p", true}, // no ":]": '[', ':', 'a', 'l', 'p', 'h'
		{"[[:alpha]", "z", false},
		{"[[:]]", "]", false}, // the class {'[', ':'} then a literal ']'
		{"[[:]]", ":]", true},
		{"\\*", "*", true},
		{"\\*", "a", false},
		// What git cannot read matches nothing.
		{"v[", "v[", false},
		{"[-", "-", false},
		{"[[:nope:]]", "a", false},
		{"v\\", "v", false},
	}
	for _, c := range cases {
		if got := MatchTag(c.pattern, c.tag); got != c.want {
			t.Errorf("MatchTag(%q, %q) = %v, want %v", c.pattern, c.tag, got, c.want)
		}
	}
}

func TestCheckTagPattern(t *testing.T) {
	cases := []struct {
		pattern string
		ok      bool
	}{
		{"v*", true},
		{"*-rc*", true},
		{"[]]", true},
		{"[[:digit:]]*", true},
		{"[[:alpha]", true},
		{"\\[", true},
		{"", false},
		{"v[", false},
		{"[-", false},
		{"[!", false},
		{"[[:nope:]]", false},
		{"[[:digit:]", false},
		{"v\\", false},
	}
	for _, c := range cases {
		err := CheckTagPattern(c.pattern)
		if (err == nil) != c.ok {
			t.Errorf("CheckTagPattern(%q) = %v, want ok %v", c.pattern, err, c.ok)
		}
		if err != nil && ErrorCode(err) != EINVALID {
			t.Errorf("CheckTagPattern(%q): code %s, want %s", c.pattern, ErrorCode(err), EINVALID)
		}
	}
}

func TestSplitTagPatterns(t *testing.T) {
	cases := []struct {
		list string
		want []string
	}{
		{"v*", []string{"v*"}},
		{"v*,sdk/v*", []string{"v*", "sdk/v*"}},
		{" v* , release-* ,", []string{"v*", "release-*"}},
		{"v1[,.]0,x", []string{"v1[,.]0", "x"}},
		{"a\\,b,c", []string{"a\\,b", "c"}},
		{"", nil},
		{",,", nil},
	}
	for _, c := range cases {
		if got := SplitTagPatterns(c.list); !slices.Equal(got, c.want) {
			t.Errorf("SplitTagPatterns(%q) = %q, want %q", c.list, got, c.want)
		}
	}
}

// refMatch is wildmatch written as its definition: a star takes nothing or
// one more byte. It is exponential, which the fuzz target's short inputs
// keep cheap, and checks MatchTag's backtracking.
func refMatch(p, t string) bool {
	if p == "" {
		return t == ""
	}
	switch p[0] {
	case '*':
		return refMatch(p[1:], t) || t != "" && refMatch(p, t[1:])
	case '?':
		return t != "" && refMatch(p[1:], t[1:])
	case '[':
		if t == "" {
			return false
		}
		in, next, ok := matchClass(p, 0, t[0])
		return ok && in && refMatch(p[next:], t[1:])
	case '\\':
		return len(p) > 1 && t != "" && t[0] == p[1] && refMatch(p[2:], t[1:])
	default:
		return t != "" && t[0] == p[0] && refMatch(p[1:], t[1:])
	}
}

func FuzzMatchTag(f *testing.F) {
	for _, s := range [][2]string{{"*-rc*", "sdk/v1.15.0-rc.1"}, {"v[0-9]*", "v1.2"}, {"[!]]*x", "ax"}, {"*a*b*c", "aXbXbXc"},
		{"[[:digit:]]?", "7/"}, {"\\*", "*"}, {"a**z", "a/b/z"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, tag string) {
		got := MatchTag(pattern, tag) // never panics, whatever the input
		if len(pattern) > 12 || len(tag) > 24 || CheckTagPattern(pattern) != nil {
			return
		}
		if want := refMatch(pattern, tag); got != want {
			t.Errorf("MatchTag(%q, %q) = %v, the definition says %v", pattern, tag, got, want)
		}
	})
}
