package jira

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// block is one line of a description, flattened from text or from an
// Atlassian Document: its text, and whether it is a heading.
type block struct {
	text    string
	heading bool
}

var (
	markdownHeading = regexp.MustCompile(`^#{1,6}\s+`)
	wikiHeading     = regexp.MustCompile(`(?i)^h[1-6]\.\s*`)
)

// hasAcceptanceCriteria reports whether a description has a section headed
// "Acceptance criteria" with something in it. The heading may be Markdown
// ("## Acceptance criteria"), Jira wiki markup ("h2. Acceptance Criteria"),
// an Atlassian Document heading node, or a line of its own in plain text
// ("Acceptance criteria:", also in bold); case does not matter. A heading
// with nothing under it before the next heading does not count: issue
// templates often carry the empty heading, and an empty section is no
// criteria.
func hasAcceptanceCriteria(description json.RawMessage) bool {
	description = bytes.TrimSpace(description)
	if len(description) == 0 || bytes.Equal(description, []byte("null")) {
		return false
	}
	var blocks []block
	switch description[0] {
	case '"':
		var s string
		if json.Unmarshal(description, &s) != nil {
			return false
		}
		blocks = textBlocks(s)
	case '{':
		var doc adfNode
		if json.Unmarshal(description, &doc) != nil {
			return false
		}
		blocks = adfBlocks(doc, nil)
	default:
		return false
	}
	for i, b := range blocks {
		if !isCriteriaTitle(b.text) {
			continue
		}
		for _, next := range blocks[i+1:] {
			if next.heading || isCriteriaTitle(next.text) {
				break
			}
			if strings.TrimSpace(next.text) != "" {
				return true
			}
		}
	}
	return false
}

// isCriteriaTitle reports whether a line, stripped of emphasis and a
// trailing colon, reads "acceptance criteria".
func isCriteriaTitle(s string) bool {
	s = strings.TrimSpace(s)
	s = strings.Trim(s, "*_ \t")
	s = strings.TrimSuffix(s, ":")
	s = strings.Trim(s, "*_ \t")
	return strings.EqualFold(strings.Join(strings.Fields(s), " "), "acceptance criteria")
}

func textBlocks(s string) []block {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := make([]block, 0, len(lines))
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case markdownHeading.MatchString(t):
			out = append(out, block{text: strings.TrimRight(markdownHeading.ReplaceAllString(t, ""), "# "), heading: true})
		case wikiHeading.MatchString(t):
			out = append(out, block{text: wikiHeading.ReplaceAllString(t, ""), heading: true})
		default:
			out = append(out, block{text: t})
		}
	}
	return out
}

// adfNode is a node of the Atlassian Document Format, the JSON tree Jira
// Cloud's REST API v3 uses for rich text.
type adfNode struct {
	Type    string    `json:"type"`
	Text    string    `json:"text"`
	Content []adfNode `json:"content"`
}

// maxADFDepth bounds the walk, so a hostile document cannot exhaust the
// stack; real documents nest a handful of levels.
const maxADFDepth = 64

// adfBlocks flattens a document into blocks: a heading node is a heading
// block, a paragraph (or any other node holding text directly) is a plain
// block with its text, and containers (lists, panels, tables) are walked.
func adfBlocks(n adfNode, out []block) []block {
	return adfWalk(n, out, 0)
}

func adfWalk(n adfNode, out []block, depth int) []block {
	if depth > maxADFDepth {
		return out
	}
	switch {
	case n.Type == "heading":
		return append(out, block{text: adfText(n, 0), heading: true})
	case n.Type == "text":
		return append(out, block{text: n.Text})
	case holdsText(n):
		return append(out, block{text: adfText(n, 0)})
	}
	for _, c := range n.Content {
		out = adfWalk(c, out, depth+1)
	}
	return out
}

// holdsText reports whether a node's children are inline (text and the
// like) rather than blocks, which makes the node one line.
func holdsText(n adfNode) bool {
	if len(n.Content) == 0 {
		return false
	}
	for _, c := range n.Content {
		if len(c.Content) > 0 {
			return false
		}
	}
	return true
}

func adfText(n adfNode, depth int) string {
	if depth > maxADFDepth {
		return ""
	}
	var b strings.Builder
	b.WriteString(n.Text)
	for _, c := range n.Content {
		b.WriteString(adfText(c, depth+1))
	}
	return b.String()
}
