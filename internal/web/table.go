package web

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
)

// none is how a figure without data is shown, so it cannot be read as 0.
const none = "—"

// Table is one table of a page. Every table, including each chart's text
// alternative, is one of these, so that the page renders it and the CSV
// download writes it from the same rows: what a user downloads is what
// they saw.
type Table struct {
	// ID names the table in ?format=csv&table=ID and in the page's anchors.
	ID      string
	Caption string
	Columns []string
	Rows    []Row
	// Empty is shown instead of the table when it has no rows.
	Empty string
	// Links, when set, make column headers links (a server-side sort),
	// parallel to Columns; Sorted names the sorted column's order ("asc",
	// "desc") in the same positions.
	Links  []string
	Sorted []string
}

// Row is one row of a table. Class marks a row for the stylesheet (a
// failed gate, an open incident) without changing its text.
type Row struct {
	Cells []Cell
	Class string
}

// Cell is one value, with an optional link to the records behind it and an
// optional warning shown beside it.
type Cell struct {
	Text string
	Href string
	// Badge is a tier or verdict word shown as a badge after the text.
	Badge string
	Warn  string
	// Chart is a small chart drawn after the text (a trend sparkline);
	// ChartAlt says its figures in words for those who cannot see it. The
	// CSV leaves the chart out and keeps the words.
	Chart    template.HTML
	ChartAlt string
}

// WriteCSV writes t as RFC 4180 CSV: a header of the column names, then the
// cells' text; a badge and a warning follow the text in their own words so
// nothing shown on the page is lost.
func (t Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Columns); err != nil {
		return fmt.Errorf("write %s csv: %w", t.ID, err)
	}
	for _, r := range t.Rows {
		rec := make([]string, len(r.Cells))
		for i, c := range r.Cells {
			rec[i] = c.Text
			if b := badgeText(c.Badge); b != "" {
				if rec[i] == "" {
					rec[i] = b
				} else {
					rec[i] += " (" + b + ")"
				}
			}
			if c.ChartAlt != "" {
				rec[i] += " [" + c.ChartAlt + "]"
			}
			if c.Warn != "" {
				rec[i] += " [warning: " + c.Warn + "]"
			}
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write %s csv: %w", t.ID, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write %s csv: %w", t.ID, err)
	}
	return nil
}
