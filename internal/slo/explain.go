package slo

import (
	"cmp"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Spend is one bucket that spent budget in the SLO window: its counts and
// the fraction of the window's budget its bad calls (or bad slices) used.
type Spend struct {
	Start       time.Time     `json:"start"`
	Width       time.Duration `json:"width"`
	Good        int64         `json:"good"`
	Total       int64         `json:"total"`
	Bad         int64         `json:"bad"`
	BudgetSpent float64       `json:"budget_spent"`
}

// Explain lists the minutes (or roll-ups, or slices) of the SLO window at
// now that spent budget, the costliest first, at most limit of them (all
// when limit ≤ 0): the answer to "what spent the budget?".
func Explain(sr *Series, now time.Time, limit int) []Spend {
	s := sr.slo
	from, to := s.Window.Bounds(now)
	if to.After(now) {
		to = now
	}
	c := sr.Sum(from, to)
	budget := s.Budget()
	var out []Spend
	for i, j := sr.index(from.Unix()), sr.index(to.Unix()); i < j; i++ {
		b := sr.bucket(i)
		if b.Bad() == 0 {
			continue
		}
		spent := quoFloat([]int64{b.Bad(), budget.Den}, []int64{c.Total, budget.Num})
		out = append(out, Spend{Start: b.Start, Width: b.Width, Good: b.Good, Total: b.Total, Bad: b.Bad(), BudgetSpent: spent})
	}
	slices.SortStableFunc(out, func(a, b Spend) int { return cmp.Compare(b.Bad, a.Bad) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Period is one SLO's compliance over one calendar month or week: the
// row of `stride report slo --calendar month`. SLI and Met are nil without
// calls.
type Period struct {
	SLO         string    `json:"slo"`
	Service     string    `json:"service"`
	Period      string    `json:"period"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Objective   float64   `json:"objective"`
	SLI         *float64  `json:"sli"`
	Good        int64     `json:"good"`
	Total       int64     `json:"total"`
	Met         *bool     `json:"met"`
	BudgetSpent float64   `json:"budget_spent"`
	Warnings    []string  `json:"warnings"`
}

// Compliance reports the SLO per calendar month or week (unit Month or
// Week) from the period containing from up to to, in the SLO's time zone
// (UTC for rolling SLOs). A calendar SLO of the same unit keeps its own
// period starts; other weeks start on Monday. Each period counts only its
// own calls, so its budget starts full.
func Compliance(sr *Series, unit string, from, to time.Time) []Period {
	s := sr.slo
	loc := s.Location()
	w := Window{Calendar: unit, Start: time.Date(2000, 1, 1, 0, 0, 0, 0, loc)}
	if unit == Week {
		w.Start = time.Date(2000, 1, 3, 0, 0, 0, 0, loc) // a Monday
	}
	if s.Window.Calendar == unit {
		w = s.Window
	}
	first, _, any := sr.span()
	budget := s.Budget()
	var out []Period
	for p := w.periodStart(from); p.Before(to); p = w.next(p) {
		end := w.next(p)
		c := sr.Sum(p, end)
		row := Period{SLO: s.Name, Service: s.Service, From: p, To: end, Objective: s.Objective.Float(),
			Good: c.Good, Total: c.Total, Warnings: []string{}}
		if unit == Week {
			y, wk := p.ISOWeek()
			row.Period = fmt.Sprintf("%d-W%02d", y, wk)
		} else {
			row.Period = p.Format("2006-01")
		}
		if v := sli(c); v != nil {
			f := ratFloat(v)
			met := atLeast(c.Good, c.Total, s.Objective)
			row.SLI, row.Met = &f, &met
			row.BudgetSpent = ratFloat(new(big.Rat).Sub(big.NewRat(1, 1), remaining(c, budget)))
		} else {
			row.Warnings = append(row.Warnings, "no calls")
		}
		if any && first.After(p) && first.Before(end) {
			row.Warnings = append(row.Warnings, fmt.Sprintf("data starts at %s, %s into the period", first.Format(time.RFC3339), roundDays(first.Sub(p))))
		}
		out = append(out, row)
	}
	return out
}

// WriteTable writes reports as the aligned table of `stride report slo`.
func WriteTable(w io.Writer, reports []Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SLO\tSERVICE\tOBJECTIVE\tWINDOW\tSLI\tBUDGET LEFT\tLEFT (MIN)\tBURN 1H\tALERTS\tFROZEN")
	for _, r := range reports {
		var alerts []string
		for _, a := range r.Alerts {
			alerts = append(alerts, a.Name)
		}
		frozen := "no"
		if r.Frozen {
			frozen = "yes"
			if r.FrozenUntil != nil {
				frozen += " until " + r.FrozenUntil.Format(time.RFC3339)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Service, percent4(r.Objective), r.WindowName,
			optPercent(r.SLI), percent(r.BudgetRemaining*100), trimFloat(r.BudgetRemainingMinutes, 1),
			times(r.BurnRates["1h"]), dash(strings.Join(alerts, ",")), frozen)
	}
	return tw.Flush()
}

// WriteCompliance writes compliance rows as a table.
func WriteCompliance(w io.Writer, rows []Period) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SLO\tSERVICE\tPERIOD\tOBJECTIVE\tSLI\tMET\tBUDGET SPENT\tNOTES")
	for _, p := range rows {
		met := "-"
		if p.Met != nil {
			met = map[bool]string{true: "yes", false: "no"}[*p.Met]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.SLO, p.Service, p.Period, percent4(p.Objective),
			optPercent(p.SLI), met, percent(p.BudgetSpent*100), dash(strings.Join(p.Warnings, "; ")))
	}
	return tw.Flush()
}

// WriteExplain writes the budget spenders as a table.
func WriteExplain(w io.Writer, spends []Spend) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "START\tWIDTH\tBAD\tTOTAL\tBUDGET SPENT")
	for _, s := range spends {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", s.Start.Format(time.RFC3339), s.Width, s.Bad, s.Total, percent(s.BudgetSpent*100))
	}
	return tw.Flush()
}

func percent4(x float64) string { return trimFloat(x*100, 4) + " %" }

func optPercent(x *float64) string {
	if x == nil {
		return "-"
	}
	return percent4(*x)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
