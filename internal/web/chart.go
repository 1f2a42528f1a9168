package web

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// The charts are drawn here, on the server, as SVG: the pages need no
// script and no third-party library, and the output is plain text a golden
// test can pin down. Every chart has role="img", a <title> and a <desc>
// naming what it shows, text labels on its axes, and marks that differ in
// shape or pattern as well as in shade, so it reads without colour; the
// page puts a table of the same figures next to it.

// Chart is a drawn chart with the table of its figures, which the page
// shows beside it as the chart's text alternative (and offers as CSV).
type Chart struct {
	SVG   template.HTML
	Table Table
}

// svg collects the markup of one chart.
type svg struct{ b strings.Builder }

func (s *svg) f(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

// open starts the <svg> with its accessible name and description.
func (s *svg) open(id string, w, h int, title, desc string) {
	s.f(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="%s" role="img" aria-labelledby="%s-title %s-desc" viewBox="0 0 %d %d" width="%d" height="%d">`,
		esc(id), esc(id), esc(id), w, h, w, h)
	s.f(`<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, esc(id), esc(title), esc(id), esc(desc))
}

func (s *svg) text(x, y float64, anchor, class, t string) {
	s.f(`<text x="%s" y="%s" text-anchor="%s" class="%s">%s</text>`, n(x), n(y), anchor, class, esc(t))
}

func (s *svg) close() template.HTML {
	s.b.WriteString(`</svg>`)
	return template.HTML(s.b.String()) // every interpolated string went through esc
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// n prints a coordinate with at most one decimal, so golden files do not
// churn on float noise.
func n(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten, so axis
// ticks fall on numbers people read at a glance.
func niceMax(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// plain formats an axis number without needless decimals.
func plain(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// labelled reports whether point i of count gets an axis label: at most
// six, evenly spaced and counted back from the last, which is the week a
// reader looks for first.
func labelled(i, count int) bool {
	step := max(1, (count+5)/6)
	return (count-1-i)%step == 0
}

// LineChart is a series of values over labelled points (weeks). A nil value
// is a point without data and leaves a gap: it is not drawn as zero.
type LineChart struct {
	ID, Title, Desc string
	// Unit names the values on the axis and in the table ("days a week").
	Unit   string
	Labels []string
	Values []*float64
	// Format prints a value in the table and on the last point; nil prints
	// it with one decimal.
	Format func(float64) string
	// Sparkline draws a small chart for a table cell: no tick labels but the
	// maximum, the last value and the first and last point's label.
	Sparkline bool
}

func (c LineChart) format(v float64) string {
	if c.Format != nil {
		return c.Format(v)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// Line draws c.
func Line(c LineChart) Chart {
	w, h, left, right, top, bottom := 560, 200, 56.0, 28.0, 16.0, 40.0
	if c.Sparkline {
		w, h, left, right, top, bottom = 176, 44, 4, 52, 10, 12
	}
	maxV := 0.0
	for _, v := range c.Values {
		if v != nil {
			maxV = max(maxV, *v)
		}
	}
	top1 := niceMax(maxV)
	pw, ph := float64(w)-left-right, float64(h)-top-bottom
	x := func(i int) float64 {
		if len(c.Values) <= 1 {
			return left + pw/2
		}
		return left + pw*float64(i)/float64(len(c.Values)-1)
	}
	y := func(v float64) float64 { return top + ph - ph*v/top1 }

	var s svg
	s.open(c.ID, w, h, c.Title, c.Desc)
	// Axes: the baseline and the value axis, with the unit named.
	s.f(`<path class="axis" d="M%s %sH%s"/>`, n(left), n(top+ph), n(left+pw))
	if c.Sparkline {
		s.text(left, top-2, "start", "tick", "max "+plain(top1))
	} else {
		s.f(`<path class="axis" d="M%s %sV%s"/>`, n(left), n(top), n(top+ph))
		for _, t := range []float64{0, top1 / 2, top1} {
			s.f(`<path class="grid" d="M%s %sH%s"/>`, n(left), n(y(t)), n(left+pw))
			s.text(left-6, y(t)+4, "end", "tick", plain(t))
		}
		s.f(`<text class="unit" transform="translate(12 %s) rotate(-90)" text-anchor="middle">%s</text>`, n(top+ph/2), esc(c.Unit))
		for i, l := range c.Labels {
			if labelled(i, len(c.Labels)) {
				s.text(x(i), top+ph+16, "middle", "tick", l)
			}
		}
	}
	// The line, broken at points without data, with a marker on every point
	// so that a single week between two gaps still shows.
	var d strings.Builder
	pen := false
	for i, v := range c.Values {
		if v == nil {
			pen = false
			continue
		}
		cmd := "L"
		if !pen {
			cmd = "M"
		}
		fmt.Fprintf(&d, "%s%s %s", cmd, n(x(i)), n(y(*v)))
		pen = true
	}
	if d.Len() > 0 {
		s.f(`<path class="line" d="%s"/>`, d.String())
	}
	last := -1
	for i, v := range c.Values {
		if v == nil {
			continue
		}
		last = i
		label := c.format(*v)
		if i < len(c.Labels) {
			label = c.Labels[i] + ": " + label
		}
		s.f(`<circle class="point" cx="%s" cy="%s" r="2.5"><title>%s</title></circle>`, n(x(i)), n(y(*v)), esc(label))
	}
	if c.Sparkline {
		if last >= 0 {
			s.text(left+pw+4, y(*c.Values[last])+4, "start", "value", c.format(*c.Values[last]))
		} else {
			s.text(left+pw/2, top+ph/2+4, "middle", "value", "no data")
		}
		if len(c.Labels) > 0 {
			s.text(left, float64(h)-1, "start", "tick", c.Labels[0])
			s.text(left+pw, float64(h)-1, "end", "tick", c.Labels[len(c.Labels)-1])
		}
	} else if last < 0 {
		s.text(left+pw/2, top+ph/2, "middle", "value", "no data in these weeks")
	}
	t := Table{ID: c.ID, Caption: c.Title, Columns: []string{"week", c.Unit}, Empty: "No week to show."}
	for i, v := range c.Values {
		label := ""
		if i < len(c.Labels) {
			label = c.Labels[i]
		}
		cell := none
		if v != nil {
			cell = c.format(*v)
		}
		t.Rows = append(t.Rows, Row{Cells: []Cell{{Text: label}, {Text: cell}}})
	}
	return Chart{SVG: s.close(), Table: t}
}

// BarSeries is one layer of a stacked bar chart: a name and a value per
// category; nil is no data, drawn as nothing and shown as "—".
type BarSeries struct {
	Name   string
	Values []*float64
}

// StackedBarChart stacks series per category (e.g. coding, pickup, review
// and deploy time per week). Values are divided by Scale on the axis, so
// seconds can be drawn in hours.
type StackedBarChart struct {
	ID, Title, Desc string
	Unit            string
	Categories      []string
	Series          []BarSeries
	Scale           float64
	Format          func(float64) string
}

// fills are the patterns that tell layers apart without colour: each is a
// shade and a texture, named in the legend.
var fills = []struct{ class, pattern string }{
	{"f0", ``},
	{"f1", `<path d="M0 6L6 0" class="hatch"/>`},
	{"f2", `<circle cx="3" cy="3" r="1.2" class="dot"/>`},
	{"f3", `<path d="M0 3H6M3 0V6" class="hatch"/>`},
	{"f4", `<path d="M0 0L6 6" class="hatch"/>`},
}

func (s *svg) patterns(id string, count int) {
	s.b.WriteString(`<defs>`)
	for i := range count {
		f := fills[i%len(fills)]
		s.f(`<pattern id="%s-p%d" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" class="%s"/>%s</pattern>`, esc(id), i, f.class, f.pattern)
	}
	s.b.WriteString(`</defs>`)
}

// StackedBar draws c.
func StackedBar(c StackedBarChart) Chart {
	scale := c.Scale
	if scale == 0 {
		scale = 1
	}
	format := c.Format
	if format == nil {
		format = func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	}
	w, h, left, right, top, bottom := 560, 240, 56.0, 16.0, 16.0, 64.0
	pw, ph := float64(w)-left-right, float64(h)-top-bottom
	totals := make([]float64, len(c.Categories))
	for _, sr := range c.Series {
		for i, v := range sr.Values {
			if v != nil && i < len(totals) {
				totals[i] += *v / scale
			}
		}
	}
	maxT := 0.0
	for _, t := range totals {
		maxT = max(maxT, t)
	}
	top1 := niceMax(maxT)
	y := func(v float64) float64 { return top + ph - ph*v/top1 }

	var s svg
	s.open(c.ID, w, h, c.Title, c.Desc)
	s.patterns(c.ID, len(c.Series))
	s.f(`<path class="axis" d="M%s %sV%sH%s"/>`, n(left), n(top), n(top+ph), n(left+pw))
	for _, t := range []float64{0, top1 / 2, top1} {
		s.f(`<path class="grid" d="M%s %sH%s"/>`, n(left), n(y(t)), n(left+pw))
		s.text(left-6, y(t)+4, "end", "tick", plain(t))
	}
	s.f(`<text class="unit" transform="translate(12 %s) rotate(-90)" text-anchor="middle">%s</text>`, n(top+ph/2), esc(c.Unit))
	slot := pw / float64(max(1, len(c.Categories)))
	bw := slot * 0.6
	for i, cat := range c.Categories {
		x0 := left + slot*float64(i) + (slot-bw)/2
		base := 0.0
		for k, sr := range c.Series {
			if i >= len(sr.Values) || sr.Values[i] == nil || *sr.Values[i] <= 0 {
				continue
			}
			v := *sr.Values[i] / scale
			s.f(`<rect x="%s" y="%s" width="%s" height="%s" fill="url(#%s-p%d)" class="bar"><title>%s, %s: %s</title></rect>`,
				n(x0), n(y(base+v)), n(bw), n(y(base)-y(base+v)), esc(c.ID), k, esc(cat), esc(sr.Name), esc(format(*sr.Values[i])))
			base += v
		}
		if labelled(i, len(c.Categories)) {
			s.text(x0+bw/2, top+ph+16, "middle", "tick", cat)
		}
	}
	// Legend: a swatch of each pattern with its name.
	lx := left
	for k, sr := range c.Series {
		s.f(`<rect x="%s" y="%s" width="12" height="12" fill="url(#%s-p%d)" class="swatch"/>`, n(lx), n(float64(h)-22), esc(c.ID), k)
		s.text(lx+16, float64(h)-12, "start", "legend", sr.Name)
		lx += 24 + 7*float64(len(sr.Name))
	}
	if maxT == 0 {
		s.text(left+pw/2, top+ph/2, "middle", "value", "no data in these weeks")
	}
	t := Table{ID: c.ID, Caption: c.Title, Columns: []string{"week"}, Empty: "Nothing to show."}
	for _, sr := range c.Series {
		t.Columns = append(t.Columns, sr.Name)
	}
	for i, cat := range c.Categories {
		row := Row{Cells: []Cell{{Text: cat}}}
		for _, sr := range c.Series {
			cell := none
			if i < len(sr.Values) && sr.Values[i] != nil {
				cell = format(*sr.Values[i])
			}
			row.Cells = append(row.Cells, Cell{Text: cell})
		}
		t.Rows = append(t.Rows, row)
	}
	return Chart{SVG: s.close(), Table: t}
}

// TimelinePoint is one event on a timeline: when, in which lane (a ring),
// of which category (a deployment status), and its label (an id).
type TimelinePoint struct {
	At       time.Time
	Lane     string
	Category string
	Label    string
}

// TimelineChart places points by time in lanes; each category has its own
// marker shape, named in the legend.
type TimelineChart struct {
	ID, Title, Desc string
	From, To        time.Time
	Lanes           []string
	Categories      []string
	Points          []TimelinePoint
}

// marker draws shape k centred on (x, y): circle, cross, triangle, square,
// diamond, so categories differ in outline, not only in shade.
func (s *svg) marker(k int, x, y float64, class, title string) {
	t := ""
	if title != "" {
		t = "<title>" + esc(title) + "</title>"
	}
	switch k % 5 {
	case 0:
		s.f(`<circle cx="%s" cy="%s" r="5" class="m0 %s">%s</circle>`, n(x), n(y), class, t)
	case 1:
		s.f(`<path d="M%s %sl8 8m0 -8l-8 8" class="m1 %s">%s</path>`, n(x-4), n(y-4), class, t)
	case 2:
		s.f(`<path d="M%s %sl5 9h-10z" class="m2 %s">%s</path>`, n(x), n(y-5), class, t)
	case 3:
		s.f(`<rect x="%s" y="%s" width="9" height="9" class="m3 %s">%s</rect>`, n(x-4.5), n(y-4.5), class, t)
	default:
		s.f(`<path d="M%s %sl5 5l-5 5l-5 -5z" class="m4 %s">%s</path>`, n(x), n(y-5), class, t)
	}
}

// Timeline draws c.
func Timeline(c TimelineChart) Chart {
	lane := 28.0
	w, left, right, top := 560, 72.0, 28.0, 12.0
	ph := lane * float64(max(1, len(c.Lanes)))
	h := int(top + ph + 60)
	pw := float64(w) - left - right
	span := c.To.Sub(c.From)
	x := func(t time.Time) float64 {
		if span <= 0 {
			return left
		}
		return left + pw*float64(t.Sub(c.From))/float64(span)
	}
	var s svg
	s.open(c.ID, w, h, c.Title, c.Desc)
	for i, l := range c.Lanes {
		yl := top + lane*float64(i) + lane/2
		s.f(`<path class="grid" d="M%s %sH%s"/>`, n(left), n(yl), n(left+pw))
		s.text(left-6, yl+4, "end", "tick", l)
	}
	s.f(`<path class="axis" d="M%s %sH%s"/>`, n(left), n(top+ph), n(left+pw))
	for k := 0; k <= 4; k++ {
		t := c.From.Add(time.Duration(float64(span) * float64(k) / 4))
		s.f(`<path class="axis" d="M%s %sv4"/>`, n(x(t)), n(top+ph))
		s.text(x(t), top+ph+16, "middle", "tick", t.UTC().Format("Jan 2"))
	}
	index := func(list []string, v string) int {
		for i, e := range list {
			if e == v {
				return i
			}
		}
		return -1
	}
	for _, p := range c.Points {
		li, ci := index(c.Lanes, p.Lane), index(c.Categories, p.Category)
		if li < 0 || ci < 0 || p.At.Before(c.From) || !p.At.Before(c.To) {
			continue
		}
		s.marker(ci, x(p.At), top+lane*float64(li)+lane/2, "c"+strconv.Itoa(ci),
			fmt.Sprintf("%s %s in %s at %s", p.Label, p.Category, p.Lane, p.At.UTC().Format(time.RFC3339)))
	}
	lx := left
	for k, cat := range c.Categories {
		s.marker(k, lx+5, float64(h)-17, "c"+strconv.Itoa(k), "")
		s.text(lx+14, float64(h)-13, "start", "legend", cat)
		lx += 28 + 7*float64(len(cat))
	}
	if len(c.Points) == 0 {
		s.text(left+pw/2, top+ph/2+4, "middle", "value", "no deployments in the period")
	}
	t := Table{ID: c.ID, Caption: c.Title, Columns: []string{"finished", "lane", "status", "id"}, Empty: "No deployment in the period."}
	for _, p := range c.Points {
		t.Rows = append(t.Rows, Row{Cells: []Cell{{Text: p.At.UTC().Format(time.RFC3339)}, {Text: p.Lane}, {Text: p.Category}, {Text: p.Label}}})
	}
	return Chart{SVG: s.close(), Table: t}
}

// Bin is one bar of a histogram: its range in words and how many fell in it.
type Bin struct {
	Label string
	Count int
}

// HistogramChart is a distribution over labelled bins.
type HistogramChart struct {
	ID, Title, Desc string
	// Unit names what is counted ("changes"); Axis names the bins ("lead time").
	Unit, Axis string
	Bins       []Bin
}

// Histogram draws c.
func Histogram(c HistogramChart) Chart {
	w, h, left, right, top, bottom := 560, 220, 56.0, 16.0, 16.0, 48.0
	pw, ph := float64(w)-left-right, float64(h)-top-bottom
	maxC := 0
	for _, b := range c.Bins {
		maxC = max(maxC, b.Count)
	}
	top1 := math.Max(1, niceMax(float64(maxC)))
	if top1 < 2 && maxC > 0 {
		top1 = 2
	}
	y := func(v float64) float64 { return top + ph - ph*v/top1 }
	var s svg
	s.open(c.ID, w, h, c.Title, c.Desc)
	s.patterns(c.ID, 2)
	s.f(`<path class="axis" d="M%s %sV%sH%s"/>`, n(left), n(top), n(top+ph), n(left+pw))
	for _, t := range []float64{0, top1 / 2, top1} {
		s.f(`<path class="grid" d="M%s %sH%s"/>`, n(left), n(y(t)), n(left+pw))
		s.text(left-6, y(t)+4, "end", "tick", plain(t))
	}
	s.f(`<text class="unit" transform="translate(12 %s) rotate(-90)" text-anchor="middle">%s</text>`, n(top+ph/2), esc(c.Unit))
	s.text(left+pw/2, float64(h)-6, "middle", "unit", c.Axis)
	slot := pw / float64(max(1, len(c.Bins)))
	for i, b := range c.Bins {
		x0 := left + slot*float64(i)
		if b.Count > 0 {
			s.f(`<rect x="%s" y="%s" width="%s" height="%s" fill="url(#%s-p1)" class="bar"><title>%s: %d</title></rect>`,
				n(x0+1), n(y(float64(b.Count))), n(slot-2), n(y(0)-y(float64(b.Count))), esc(c.ID), esc(b.Label), b.Count)
			s.text(x0+slot/2, y(float64(b.Count))-4, "middle", "value", strconv.Itoa(b.Count))
		}
		s.text(x0+slot/2, top+ph+16, "middle", "tick", b.Label)
	}
	if maxC == 0 {
		s.text(left+pw/2, top+ph/2, "middle", "value", "nothing to count in the period")
	}
	t := Table{ID: c.ID, Caption: c.Title, Columns: []string{c.Axis, c.Unit}, Empty: "Nothing to count."}
	for _, b := range c.Bins {
		t.Rows = append(t.Rows, Row{Cells: []Cell{{Text: b.Label}, {Text: strconv.Itoa(b.Count)}}})
	}
	return Chart{SVG: s.close(), Table: t}
}

// HeatGridChart is a grid of counts, one cell per row and column (a
// weekday and an hour), shaded by count.
type HeatGridChart struct {
	ID, Title, Desc string
	Rows, Columns   []string
	// Counts[r][c] is the count of row r, column c.
	Counts [][]int
	// Marked[r][c], when set, outlines a cell (outside working hours).
	Marked [][]bool
	Unit   string
}

// HeatGrid draws c: five shades from none to the largest count, each
// cell titled with its count, so the grid reads without colour too
// through its table.
func HeatGrid(c HeatGridChart) Chart {
	cell, left, top := 20.0, 40.0, 20.0
	w := int(left + cell*float64(len(c.Columns)) + 8)
	h := int(top + cell*float64(len(c.Rows)) + 8)
	maxC := 0
	for _, r := range c.Counts {
		for _, v := range r {
			maxC = max(maxC, v)
		}
	}
	var s svg
	s.open(c.ID, w, h, c.Title, c.Desc)
	for j, col := range c.Columns {
		if j%3 == 0 {
			s.text(left+cell*float64(j)+cell/2, top-6, "middle", "tick", col)
		}
	}
	for i, row := range c.Rows {
		s.text(left-6, top+cell*float64(i)+cell/2+4, "end", "tick", row)
		for j, col := range c.Columns {
			v := 0
			if i < len(c.Counts) && j < len(c.Counts[i]) {
				v = c.Counts[i][j]
			}
			shade := 0
			if v > 0 && maxC > 0 {
				shade = 1 + (v*3-1)/maxC // 1…3 by thirds of the largest count
			}
			class := fmt.Sprintf("heat h%d", shade)
			if i < len(c.Marked) && j < len(c.Marked[i]) && c.Marked[i][j] {
				class += " off"
			}
			s.f(`<rect x="%s" y="%s" width="%s" height="%s" class="%s"><title>%s %s: %d %s</title></rect>`,
				n(left+cell*float64(j)), n(top+cell*float64(i)), n(cell-2), n(cell-2), class, esc(row), esc(col), v, esc(c.Unit))
		}
	}
	t := Table{ID: c.ID, Caption: c.Title, Columns: append([]string{""}, c.Columns...)}
	for i, row := range c.Rows {
		r := Row{Cells: []Cell{{Text: row}}}
		for j := range c.Columns {
			v := 0
			if i < len(c.Counts) && j < len(c.Counts[i]) {
				v = c.Counts[i][j]
			}
			r.Cells = append(r.Cells, Cell{Text: strconv.Itoa(v)})
		}
		t.Rows = append(t.Rows, r)
	}
	return Chart{SVG: s.close(), Table: t}
}
