package gate

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Formats the CLI can write.
const (
	FormatText     = "text"
	FormatJSON     = "json"
	FormatMarkdown = "markdown"
)

// Write renders a result in one of the formats: text for a CI log, json for
// machines, markdown for a pull-request comment.
func Write(w io.Writer, r Result, format string) error {
	switch format {
	case FormatText, "":
		return writeText(w, r)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write json: %w", err)
		}
		return nil
	case FormatMarkdown:
		return writeMarkdown(w, r)
	default:
		return fmt.Errorf("unknown format %q: want text, json or markdown", format)
	}
}

func writeText(w io.Writer, r Result) error {
	var table strings.Builder
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	for _, c := range r.Criteria {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", strings.ToUpper(string(c.Status)), c.Name, measured(c), threshold(c), c.Detail)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write text: %w", err)
	}
	var b strings.Builder
	for line := range strings.Lines(table.String()) {
		b.WriteString(strings.TrimRight(line, " \n") + "\n")
	}
	_, err := fmt.Fprintf(w, "%sverdict: %s (%s)%s\n", b.String(), strings.ToUpper(string(r.Verdict)), tally(r), subject(r))
	if err != nil {
		return fmt.Errorf("write text: %w", err)
	}
	return nil
}

func writeMarkdown(w io.Writer, r Result) error {
	var b strings.Builder
	icon := map[Status]string{Pass: "✅", Fail: "❌", Skipped: "⏭️"}
	fmt.Fprintf(&b, "### %s Stride gate: **%s**%s\n\n", icon[r.Verdict], strings.ToUpper(string(r.Verdict)), subject(r))
	fmt.Fprintf(&b, "%s.\n\n", tally(r))
	b.WriteString("| | criterion | measured | threshold | detail |\n|---|---|---|---|---|\n")
	for _, c := range r.Criteria {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", icon[c.Status], cell(c.Name), cell(measured(c)), cell(threshold(c)), cell(c.Detail))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write markdown: %w", err)
	}
	return nil
}

func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func subject(r Result) string {
	s := " for " + r.Service
	if r.SHA != "" {
		s += " @ " + shortSHA(r.SHA)
	}
	if r.Fix {
		s += " (fix)"
	}
	return s
}

func shortSHA(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

func tally(r Result) string {
	n := map[Status]int{}
	for _, c := range r.Criteria {
		n[c.Status]++
	}
	return fmt.Sprintf("%d passed, %d failed, %d skipped", n[Pass], n[Fail], n[Skipped])
}

func measured(c Criterion) string {
	if c.Measured == nil {
		return "-"
	}
	return withUnit(number(*c.Measured, c.Op), c.Unit)
}

func threshold(c Criterion) string {
	op, ok := map[string]string{">=": "≥", "<=": "≤"}[c.Op]
	if !ok {
		return "-"
	}
	return op + " " + withUnit(number(c.Threshold, ""), c.Unit)
}

func withUnit(n, unit string) string {
	if unit == "" {
		return n
	}
	if unit == "%" {
		return n + " %"
	}
	return n + " " + unit
}

// number prints at most two decimals, rounded toward failing the criterion
// (down for ≥, up for ≤), so that the printed figure never looks like it
// meets a threshold that it misses: 94.996 % against ≥ 95 % reads 94.99.
func number(v float64, op string) string {
	switch op {
	case ">=":
		v = math.Floor(v*100+1e-9) / 100
	case "<=":
		v = math.Ceil(v*100-1e-9) / 100
	default:
		v = math.Round(v*100) / 100
	}
	if v == 0 {
		v = 0 // no "-0" from rounding a tiny negative error up
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
