package web

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; got:\n%s", name, got)
	}
}

func fp(v float64) *float64 { return &v }

// checkAccessible asserts what every chart must carry: role="img", a title
// and a description it is labelled by, and a table alternative with a row
// per point.
func checkAccessible(t *testing.T, c Chart, id string, rows int) {
	t.Helper()
	s := string(c.SVG)
	for _, want := range []string{`role="img"`, `aria-labelledby="` + id + `-title ` + id + `-desc"`,
		`<title id="` + id + `-title">`, `<desc id="` + id + `-desc">`} {
		if !strings.Contains(s, want) {
			t.Errorf("svg lacks %s", want)
		}
	}
	if len(c.Table.Rows) != rows {
		t.Errorf("text alternative has %d rows, want %d", len(c.Table.Rows), rows)
	}
}

func TestCharts(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		chart Chart
		id    string
		rows  int
		// cells are table cells (row, column, text) worked out by hand.
		cells [][3]any
	}{
		{
			name: "line_gap", id: "l1", rows: 4,
			chart: Line(LineChart{ID: "l1", Title: "Deployment days a week", Desc: "median deployment days per ISO week",
				Unit: "days a week", Labels: []string{"Mar 2", "Mar 9", "Mar 16", "Mar 23"},
				Values: []*float64{fp(3), nil, fp(4.5), fp(5)}}),
			cells: [][3]any{{0, 1, "3.0"}, {1, 1, none}, {3, 1, "5.0"}},
		},
		{
			name: "sparkline", id: "s1", rows: 3,
			chart: Line(LineChart{ID: "s1", Title: "Lead time trend", Desc: "median lead time per week, hours",
				Unit: "hours", Labels: []string{"Mar 2", "Mar 9", "Mar 16"}, Values: []*float64{fp(30), fp(12), fp(8)}, Sparkline: true}),
			cells: [][3]any{{2, 1, "8.0"}},
		},
		{
			name: "stacked_bar", id: "b1", rows: 2,
			chart: StackedBar(StackedBarChart{ID: "b1", Title: "Pull-request flow", Desc: "median hours per stage, per week",
				Unit: "hours", Categories: []string{"Mar 2", "Mar 9"}, Scale: 3600,
				Format: func(v float64) string { return plain(v/3600) + " h" },
				Series: []BarSeries{
					{Name: "coding", Values: []*float64{fp(7200), fp(3600)}},
					{Name: "pickup", Values: []*float64{fp(1800), nil}},
					{Name: "review", Values: []*float64{fp(3600), fp(10800)}},
					{Name: "deploy", Values: []*float64{fp(900), fp(3600)}},
				}}),
			cells: [][3]any{{0, 1, "2 h"}, {0, 2, "0.5 h"}, {1, 2, none}, {1, 3, "3 h"}},
		},
		{
			name: "timeline", id: "t1", rows: 3,
			chart: Timeline(TimelineChart{ID: "t1", Title: "Deployments", Desc: "deployments by ring and status",
				From: t0, To: t0.AddDate(0, 0, 14), Lanes: []string{"ring0", "ring1", "ring2"},
				Categories: []string{"success", "failure", "rolled_back"},
				Points: []TimelinePoint{
					{At: t0.Add(26 * time.Hour), Lane: "ring0", Category: "success", Label: "d1"},
					{At: t0.Add(50 * time.Hour), Lane: "ring2", Category: "failure", Label: "d2"},
					{At: t0.Add(7 * 24 * time.Hour), Lane: "ring2", Category: "rolled_back", Label: "d3"},
				}}),
			cells: [][3]any{{1, 0, "2026-03-04T02:00:00Z"}, {1, 2, "failure"}, {2, 1, "ring2"}},
		},
		{
			name: "histogram", id: "h1", rows: 3,
			chart: Histogram(HistogramChart{ID: "h1", Title: "Lead time distribution", Desc: "changes by lead time",
				Unit: "changes", Axis: "lead time", Bins: []Bin{{"< 1h", 3}, {"1h–1d", 7}, {"≥ 1d", 0}}}),
			cells: [][3]any{{1, 1, "7"}, {2, 1, "0"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAccessible(t, tt.chart, tt.id, tt.rows)
			for _, c := range tt.cells {
				r, col, want := c[0].(int), c[1].(int), c[2].(string)
				if got := tt.chart.Table.Rows[r].Cells[col].Text; got != want {
					t.Errorf("table row %d column %d = %q, want %q", r, col, got, want)
				}
			}
			golden(t, tt.name+".svg", []byte(string(tt.chart.SVG)+"\n"))
		})
	}
}

func TestChartsEscapeLabels(t *testing.T) {
	c := Line(LineChart{ID: "x", Title: `<script>alert(1)</script>`, Labels: []string{`a"b`}, Values: []*float64{fp(1)}})
	if strings.Contains(string(c.SVG), "<script>") || strings.Contains(string(c.SVG), `a"b`) {
		t.Fatalf("labels not escaped: %s", c.SVG)
	}
}

func TestNiceMax(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{{0, 1}, {0.3, 0.5}, {1, 1}, {1.2, 2}, {3, 5}, {7, 10}, {42, 50}, {180, 200}} {
		if got := niceMax(tt.in); got != tt.want {
			t.Errorf("niceMax(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
