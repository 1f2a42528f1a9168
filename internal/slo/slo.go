// Package slo computes service level objectives, error budgets and
// burn-rate alerts as docs/metrics.md ("SLOs and error budgets") defines
// them. It is pure: the caller reads SLO definitions (ParseOpenSLO), gives
// the good and total counts per minute or hour (NewSeries), and the package
// answers with reports, alert transitions, compliance tables and Prometheus
// rules. Counts are integers and objectives exact fractions, so 99.9 %
// leaves exactly 0.001 of budget.
package slo

import (
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Method says what the budget counts: calls (Occurrences) or time slices
// whose own ratio met a target (Timeslices).
type Method string

// The budgeting methods of OpenSLO v1 that Stride supports.
const (
	Occurrences Method = "Occurrences"
	Timeslices  Method = "Timeslices"
)

// Source types of a metric. Stride data is pushed to the API; Prometheus
// data is pulled by a job running the query.
const (
	SourceStride     = "stride"
	SourcePrometheus = "prometheus"
)

// Fraction is an exact ratio Num/Den with 0 < Num < Den, used for objectives
// and time-slice targets so budget arithmetic never rounds.
type Fraction struct {
	Num int64 `json:"num"`
	Den int64 `json:"den"`
}

// Float returns the fraction as a float64 for display.
func (f Fraction) Float() float64 {
	if f.Den == 0 {
		return 0
	}
	return float64(f.Num) / float64(f.Den)
}

// Rat returns the fraction as an exact rational.
func (f Fraction) Rat() *big.Rat { return big.NewRat(f.Num, f.Den) }

// String prints the fraction as a decimal, as written in the YAML.
func (f Fraction) String() string {
	s := f.Rat().FloatString(12)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// Percent prints the fraction as a percentage ("99.9 %").
func (f Fraction) Percent() string {
	s := new(big.Rat).Mul(f.Rat(), big.NewRat(100, 1)).FloatString(10)
	s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	return s + " %"
}

// fractionOf parses a decimal such as "0.999" exactly.
func fractionOf(s string) (Fraction, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return Fraction{}, fmt.Errorf("%q is not a number", s)
	}
	if !r.Num().IsInt64() || !r.Denom().IsInt64() || r.Denom().Int64() > 1e12 {
		return Fraction{}, fmt.Errorf("%q has too many digits", s)
	}
	return Fraction{Num: r.Num().Int64(), Den: r.Denom().Int64()}, nil
}

// Source is where a metric's counts come from.
type Source struct {
	Type  string `json:"type"`
	Query string `json:"query,omitempty"`
}

// Indicator is a ratio SLI: Good/Total, or (Total−Bad)/Total when the
// definition counts bad calls. Exactly one of Good and Bad is set.
type Indicator struct {
	Name  string  `json:"name"`
	Good  *Source `json:"good,omitempty"`
	Bad   *Source `json:"bad,omitempty"`
	Total Source  `json:"total"`
}

// Window is the SLO's compliance window: rolling over Rolling, or a
// calendar week or month ("week", "month") that starts at Start's wall
// clock in Start's location and repeats.
type Window struct {
	Rolling  time.Duration `json:"rolling,omitempty"`
	Calendar string        `json:"calendar,omitempty"`
	Start    time.Time     `json:"start,omitzero"`
}

// Calendar units of a calendar window.
const (
	Week  = "week"
	Month = "month"
)

// Bounds returns the window in force at now, [from, to). A rolling window
// ends at now; a calendar window is the week or month containing now, so
// its budget starts full at its start.
func (w Window) Bounds(now time.Time) (from, to time.Time) {
	if w.Calendar == "" {
		return now.Add(-w.Rolling), now
	}
	from = w.periodStart(now)
	return from, w.next(from)
}

func (w Window) next(t time.Time) time.Time {
	if w.Calendar == Week {
		return t.AddDate(0, 0, 7)
	}
	return t.AddDate(0, 1, 0)
}

func (w Window) nth(n int) time.Time {
	if w.Calendar == Week {
		return w.Start.AddDate(0, 0, 7*n)
	}
	return w.Start.AddDate(0, n, 0)
}

// periodStart returns the start of the calendar period containing t.
func (w Window) periodStart(t time.Time) time.Time {
	t = t.In(w.Start.Location())
	var n int
	if w.Calendar == Week {
		n = int(t.Sub(w.Start) / (7 * 24 * time.Hour))
	} else {
		n = (t.Year()-w.Start.Year())*12 + int(t.Month()-w.Start.Month())
	}
	for w.nth(n).After(t) {
		n--
	}
	for !w.nth(n + 1).After(t) {
		n++
	}
	return w.nth(n)
}

// Describe names the window in words for reasons and tables ("30-day",
// "monthly").
func (w Window) Describe() string {
	switch w.Calendar {
	case Week:
		return "weekly"
	case Month:
		return "monthly"
	}
	if w.Rolling%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d-day", int(w.Rolling/(24*time.Hour)))
	}
	return w.Rolling.String()
}

// SLO is one service level objective, validated.
type SLO struct {
	Name        string    `json:"name"`
	Service     string    `json:"service"`
	Description string    `json:"description,omitempty"`
	Objective   Fraction  `json:"objective"`
	Window      Window    `json:"window"`
	Method      Method    `json:"budgeting_method"`
	Indicator   Indicator `json:"indicator"`
	// SliceTarget and SliceWindow are set for Timeslices: a slice is good
	// when its own good/total is at least SliceTarget.
	SliceTarget Fraction      `json:"time_slice_target,omitzero"`
	SliceWindow time.Duration `json:"time_slice_window,omitempty"`
}

// Budget returns the error budget, 1 − objective, exactly.
func (s SLO) Budget() Fraction {
	return Fraction{Num: s.Objective.Den - s.Objective.Num, Den: s.Objective.Den}
}

// Location is the time zone of the SLO's calendar, UTC for rolling windows.
func (s SLO) Location() *time.Location {
	if s.Window.Calendar != "" {
		return s.Window.Start.Location()
	}
	return time.UTC
}
