package delivery

import (
	"strings"
)

// Tag patterns are written by users as they would write them for git
// (`git tag -l 'v*'`, `--exclude-tags '*-rc*'`), so they are matched exactly
// as git matches them: git's wildmatch without WM_PATHNAME, byte by byte.
// There `*` crosses "/", which Go's path.Match does not: with path.Match,
// '*-rc*' silently misses 'sdk/v1.15.0-rc.1', and a release candidate is
// counted as a production deployment.
//
//	*        any run of bytes, "/" included ("**" is the same as "*")
//	?        any one byte, "/" included
//	[abc]    one byte of the class; [a-z] a range; [!a-z] or [^a-z] negated;
//	         ']' first in the class is a literal; [[:digit:]] and the other
//	         POSIX classes (ASCII)
//	\x       the byte x itself
//
// git answers "no match" to a pattern it cannot read (an unclosed class, an
// unknown [:class:], a trailing backslash); CheckTagPattern refuses those
// instead, so that a typo is an error and not a filter that matches nothing.

// MatchTag reports whether the tag name matches pattern as `git tag -l
// pattern` would list it. A malformed pattern matches nothing, as in git;
// check patterns with CheckTagPattern where they are read.
func MatchTag(pattern, tag string) bool {
	p, t := 0, 0
	// The position after the last star, and the text position it was
	// tried at: on a mismatch the star takes one more byte. One star to
	// return to is enough, since a star matches any bytes.
	starP, starT := -1, 0
	for p < len(pattern) || t < len(tag) {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case '*':
				for p < len(pattern) && pattern[p] == '*' {
					p++
				}
				if p == len(pattern) {
					return true
				}
				starP, starT = p, t
				continue
			case '?':
				if t < len(tag) {
					p++
					t++
					continue
				}
			case '[':
				if t < len(tag) {
					in, next, ok := matchClass(pattern, p, tag[t])
					if !ok {
						return false
					}
					if in {
						p = next
						t++
						continue
					}
				}
			case '\\':
				if p+1 < len(pattern) && t < len(tag) && tag[t] == pattern[p+1] {
					p += 2
					t++
					continue
				}
			default:
				if t < len(tag) && tag[t] == c {
					p++
					t++
					continue
				}
			}
		}
		if starP >= 0 && starT < len(tag) {
			starT++
			p, t = starP, starT
			continue
		}
		return false
	}
	return true
}

// matchClass matches the byte b against the class that starts with the '['
// at pattern[p], following git's wildmatch. It returns whether b is in the
// class, the position after the class, and false for ok when the class is
// malformed (git then gives up on the whole pattern).
func matchClass(pattern string, p int, b byte) (in bool, next int, ok bool) {
	p++
	if p >= len(pattern) {
		return false, 0, false
	}
	negated := false
	if pattern[p] == '!' || pattern[p] == '^' {
		negated = true
		p++
	}
	var prev byte // the byte a '-' would start a range from; 0 for none
	matched := false
	for first := true; ; first = false {
		if p >= len(pattern) {
			return false, 0, false
		}
		c := pattern[p]
		if c == ']' && !first {
			break
		}
		switch {
		case c == '\\':
			p++
			if p >= len(pattern) {
				return false, 0, false
			}
			c = pattern[p]
			if b == c {
				matched = true
			}
		case c == '-' && prev != 0 && p+1 < len(pattern) && pattern[p+1] != ']':
			p++
			c = pattern[p]
			if c == '\\' {
				p++
				if p >= len(pattern) {
					return false, 0, false
				}
				c = pattern[p]
			}
			if prev <= b && b <= c {
				matched = true
			}
			c = 0 // a range cannot start another
		case c == '[' && p+1 < len(pattern) && pattern[p+1] == ':':
			s := p + 2
			e := s
			for e < len(pattern) && pattern[e] != ']' {
				e++
			}
			if e >= len(pattern) {
				return false, 0, false
			}
			if e-s-1 < 0 || pattern[e-1] != ':' {
				// No ":]": the '[' is an ordinary member.
				if b == '[' {
					matched = true
				}
				break
			}
			member, known := posixClass(pattern[s:e-1], b)
			if !known {
				return false, 0, false
			}
			if member {
				matched = true
			}
			p, c = e, 0
		default:
			if b == c {
				matched = true
			}
		}
		prev = c
		p++
	}
	return matched != negated, p + 1, true
}

// posixClass reports whether b is in the named POSIX class, ASCII only as
// in git, and whether the name is one git knows.
func posixClass(name string, b byte) (member, known bool) {
	lower := 'a' <= b && b <= 'z'
	upper := 'A' <= b && b <= 'Z'
	digit := '0' <= b && b <= '9'
	space := b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
	switch name {
	case "alnum":
		return lower || upper || digit, true
	case "alpha":
		return lower || upper, true
	case "blank":
		return b == ' ' || b == '\t', true
	case "cntrl":
		return b < 0x20 || b == 0x7f, true
	case "digit":
		return digit, true
	case "graph":
		return 0x21 <= b && b <= 0x7e, true
	case "lower":
		return lower, true
	case "print":
		return 0x20 <= b && b <= 0x7e, true
	case "punct":
		return 0x21 <= b && b <= 0x7e && !lower && !upper && !digit, true
	case "space":
		return space, true
	case "upper":
		return upper, true
	case "xdigit":
		return digit || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F', true
	}
	return false, false
}

// CheckTagPattern returns an EINVALID error saying what is wrong with a
// pattern git could not read (it would silently match nothing): an empty
// pattern, a class without its closing ']', an unknown [:class:] or a
// trailing backslash.
func CheckTagPattern(pattern string) error {
	if pattern == "" {
		return Errorf(EINVALID, "tag pattern is empty")
	}
	for p := 0; p < len(pattern); p++ {
		switch pattern[p] {
		case '\\':
			if p+1 == len(pattern) {
				return Errorf(EINVALID, "tag pattern %q ends in a backslash, which escapes nothing", pattern)
			}
			p++
		case '[':
			// Any byte will do: the class is read through to its end
			// whether or not the byte is a member.
			_, next, ok := matchClass(pattern, p, 0)
			if !ok {
				return Errorf(EINVALID, "tag pattern %q: the class at byte %d has no closing ']' or names an unknown [:class:]", pattern, p+1)
			}
			p = next - 1
		}
	}
	return nil
}

// SplitTagPatterns splits a comma-separated list of tag patterns, as
// `--deploy-tags 'v*,release-*'` gives it, trimming spaces and dropping
// empty entries. A comma inside a class ("[,.]") belongs to the class.
func SplitTagPatterns(list string) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	start := 0
	for p := 0; p < len(list); p++ {
		switch list[p] {
		case '\\':
			p++
		case '[':
			if _, next, ok := matchClass(list, p, 0); ok {
				p = next - 1
			}
		case ',':
			add(list[start:p])
			start = p + 1
		}
	}
	add(list[start:])
	return out
}
