package slo

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// BurnWindow is a window over which the burn rate is reported.
type BurnWindow struct {
	Name     string
	Duration time.Duration
	words    string // "the last hour"
	short    string // "1 h"
}

// BurnWindows are the windows of the alert pairs, shortest first.
var BurnWindows = []BurnWindow{
	{"5m", 5 * time.Minute, "the last 5 minutes", "5 m"},
	{"30m", 30 * time.Minute, "the last 30 minutes", "30 m"},
	{"1h", time.Hour, "the last hour", "1 h"},
	{"2h", 2 * time.Hour, "the last 2 hours", "2 h"},
	{"6h", 6 * time.Hour, "the last 6 hours", "6 h"},
	{"1d", 24 * time.Hour, "the last day", "1 d"},
	{"3d", 72 * time.Hour, "the last 3 days", "3 d"},
}

// windowNames fixes the number of burn windows for arrays of counts.
var windowNames = [...]string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}

func windowIndex(name string) int {
	for i, w := range BurnWindows {
		if w.Name == name {
			return i
		}
	}
	panic("slo: unknown burn window " + name)
}

func burnWindow(name string) BurnWindow { return BurnWindows[windowIndex(name)] }

// Severities of an alert: a page wakes someone, a ticket waits for work
// hours.
const (
	Page   = "page"
	Ticket = "ticket"
)

// Pair is a multiwindow burn-rate alert: it fires when both windows burn
// faster than Factor, the long one proving the burn is significant, the
// short one that it is still going on.
type Pair struct {
	Name     string
	Severity string
	Factor   Fraction
	Long     string
	Short    string
}

// Pairs are the alert pairs of docs/metrics.md.
var Pairs = []Pair{
	{"page-1h-5m", Page, Fraction{144, 10}, "1h", "5m"},
	{"page-6h-30m", Page, Fraction{6, 1}, "6h", "30m"},
	{"ticket-1d-2h", Ticket, Fraction{3, 1}, "1d", "2h"},
	{"ticket-3d-6h", Ticket, Fraction{1, 1}, "3d", "6h"},
}

// DefaultMinCalls is the fewest calls a window needs before it may fire.
const DefaultMinCalls = 100

// Options tune an assessment.
type Options struct {
	// MinCalls is the fewest calls an alert window needs to fire; 0 means
	// DefaultMinCalls.
	MinCalls int64
}

func (o Options) minCalls() int64 {
	if o.MinCalls <= 0 {
		return DefaultMinCalls
	}
	return o.MinCalls
}

// Span is a half-open interval of time.
type Span struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Alert is a firing alert pair with the rates that made it fire and its
// reason in words.
type Alert struct {
	Name      string  `json:"name"`
	Severity  string  `json:"severity"`
	Factor    float64 `json:"factor"`
	Long      string  `json:"long_window"`
	Short     string  `json:"short_window"`
	LongRate  float64 `json:"long_burn_rate"`
	ShortRate float64 `json:"short_burn_rate"`
	Reason    string  `json:"reason"`
}

// MaintenanceReport is a maintenance window overlapping the SLO window,
// with whether it was scheduled in time and the calls it left out.
type MaintenanceReport struct {
	Maintenance
	Scheduled bool  `json:"scheduled"`
	LeftGood  int64 `json:"left_out_good"`
	LeftTotal int64 `json:"left_out_total"`
}

// Report is the state of one SLO at one moment, the answer of GET
// /api/v1/slos/{name} and `stride report slo`. SLI is nil without calls.
// For Timeslices, Good and Total count slices and Calls the calls behind
// them. BurnRates maps each of BurnWindows' names to its rate.
type Report struct {
	Name                   string              `json:"name"`
	Service                string              `json:"service"`
	Objective              float64             `json:"objective"`
	Method                 Method              `json:"budgeting_method"`
	Window                 Span                `json:"window"`
	WindowName             string              `json:"window_name"`
	At                     time.Time           `json:"at"`
	SLI                    *float64            `json:"sli"`
	Good                   int64               `json:"good"`
	Total                  int64               `json:"total"`
	Calls                  int64               `json:"calls"`
	BudgetTotal            float64             `json:"budget_total"`
	BudgetTotalMinutes     float64             `json:"budget_total_minutes"`
	BudgetRemaining        float64             `json:"budget_remaining"`
	BudgetRemainingMinutes float64             `json:"budget_remaining_minutes"`
	BurnRates              map[string]float64  `json:"burn_rates"`
	Alerts                 []Alert             `json:"alerts"`
	ExhaustsAt             *time.Time          `json:"exhausts_at"`
	Frozen                 bool                `json:"frozen"`
	FrozenUntil            *time.Time          `json:"frozen_until,omitempty"`
	Maintenance            []MaintenanceReport `json:"maintenance"`
	Warnings               []string            `json:"warnings"`
}

// Assess reports the SLO's state at now from its series: the SLI and
// budget over the SLO window, the burn rate over every alert window, the
// alerts that fire, the projected exhaustion at the current (1 h) burn
// rate and the freeze. It costs two binary searches per window, however
// many minutes the series holds; only a frozen rolling SLO scans its
// window once, to project when the freeze lifts.
func Assess(sr *Series, now time.Time, opt Options) Report {
	s := sr.slo
	budget := s.Budget()
	from, to := s.Window.Bounds(now)
	end := to
	if end.After(now) {
		end = now // a calendar window counts what has happened so far
	}
	c := sr.Sum(from, end)
	r := Report{
		Name: s.Name, Service: s.Service, Objective: s.Objective.Float(), Method: s.Method,
		Window: Span{from, to}, WindowName: s.Window.Describe(), At: now,
		Good: c.Good, Total: c.Total, Calls: c.Calls,
		BurnRates: map[string]float64{}, Alerts: []Alert{}, Maintenance: []MaintenanceReport{}, Warnings: []string{},
	}
	if c.Total > 0 {
		f := quoFloat([]int64{c.Good}, []int64{c.Total})
		r.SLI = &f
	}
	// Budget remaining = 1 − bad·den / (total·num) for the budget num/den
	// = (total·num − bad·den) / (total·num); in minutes of full outage it
	// is that times window minutes · num/den. Each figure is rounded once.
	secs := int64(to.Sub(from) / time.Second)
	r.BudgetTotal = budget.Float()
	r.BudgetTotalMinutes = quoFloat([]int64{secs, budget.Num}, []int64{60, budget.Den})
	r.BudgetRemaining, r.BudgetRemainingMinutes = 1, r.BudgetTotalMinutes
	if c.Total > 0 {
		spare, ok1 := product(c.Total, budget.Num)
		spent, ok2 := product(c.Bad(), budget.Den)
		if ok1 && ok2 {
			r.BudgetRemaining = quoFloat([]int64{spare - spent}, []int64{c.Total, budget.Num})
			r.BudgetRemainingMinutes = quoFloat([]int64{spare - spent, secs}, []int64{c.Total, 60, budget.Den})
		} else {
			rem := remaining(c, budget)
			r.BudgetRemaining = ratFloat(rem)
			r.BudgetRemainingMinutes = ratFloat(rem.Mul(rem, big.NewRat(secs*budget.Num, 60*budget.Den)))
		}
	}

	var counts [len(windowNames)]Counts
	for i, w := range BurnWindows {
		counts[i] = sr.Sum(now.Add(-w.Duration), now)
		r.BurnRates[w.Name] = burnFloat(counts[i], budget)
	}
	minCalls := opt.minCalls()
	var thin []string
	for i, w := range BurnWindows {
		if n := counts[i].Calls; n < minCalls {
			thin = append(thin, fmt.Sprintf("%s (%d)", w.Name, n))
		}
	}
	for _, p := range Pairs {
		long, short := counts[windowIndex(p.Long)], counts[windowIndex(p.Short)]
		if long.Calls < minCalls || short.Calls < minCalls ||
			!burnsFaster(long, budget, p.Factor) || !burnsFaster(short, budget, p.Factor) {
			continue
		}
		r.Alerts = append(r.Alerts, Alert{
			Name: p.Name, Severity: p.Severity, Factor: p.Factor.Float(), Long: p.Long, Short: p.Short,
			LongRate: r.BurnRates[p.Long], ShortRate: r.BurnRates[p.Short],
			Reason: reason(s, p, r.BurnRates, to.Sub(from)),
		})
	}

	r.Frozen = !budgetLeft(c, budget)
	if r.Frozen {
		r.FrozenUntil = sr.lifts(from, to, now)
	} else if burn := r.BurnRates["1h"]; burn > 0 {
		// At burn rate b the whole budget lasts one window / b.
		left := time.Duration(r.BudgetRemaining * float64(to.Sub(from)) / burn)
		at := now.Add(left).Truncate(time.Second)
		if s.Window.Calendar == "" || at.Before(to) {
			r.ExhaustsAt = &at
		}
	}

	for _, m := range sr.maintenance {
		if !m.From.Before(end) || !m.To.After(from) {
			continue
		}
		mr := MaintenanceReport{Maintenance: m.Maintenance, Scheduled: m.Scheduled()}
		for _, b := range m.left {
			if !b.Start.Before(from) && b.Start.Before(end) {
				mr.LeftGood += b.Good
				mr.LeftTotal += b.Total
			}
		}
		r.Maintenance = append(r.Maintenance, mr)
		if !mr.Scheduled {
			r.Warnings = append(r.Warnings, fmt.Sprintf("maintenance from %s was announced %s ahead, less than 7 days: its calls count",
				m.From.UTC().Format(time.RFC3339), roundDays(m.From.Sub(m.AnnouncedAt))))
		}
	}
	r.Warnings = append(r.Warnings, sr.partial...)
	first, last, ok := sr.span()
	switch {
	case !ok || c.Calls == 0:
		r.Warnings = append(r.Warnings, fmt.Sprintf("no calls in the %s window: the SLI is unknown and the budget counted as full", r.WindowName))
	case first.After(from):
		r.Warnings = append(r.Warnings, fmt.Sprintf("data starts at %s, %s after the window start: the SLI covers only that part",
			first.Format(time.RFC3339), roundDays(first.Sub(from))))
	}
	if ok && last.Before(now.Add(-5*time.Minute)) {
		r.Warnings = append(r.Warnings, fmt.Sprintf("no data since %s", last.Format(time.RFC3339)))
	}
	if longest := now.Add(-BurnWindows[len(BurnWindows)-1].Duration); sr.coarseEnd.After(longest) {
		r.Warnings = append(r.Warnings, fmt.Sprintf("roll-ups coarser than a minute reach into the last 3 days (until %s): burn rates there are approximate",
			sr.coarseEnd.UTC().Format(time.RFC3339)))
	}
	if len(thin) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("fewer than %d calls over %s: alerts on these windows do not fire", minCalls, strings.Join(thin, ", ")))
	}
	return r
}

// lifts projects when a freeze ends. A calendar budget starts full at the
// next window. A rolling one holds again once enough of the window's oldest
// buckets have left it, assuming calls go on at the window's average rate
// and all succeed; nil if that does not happen within one window.
func (sr *Series) lifts(from, to, now time.Time) *time.Time {
	s := sr.slo
	if s.Window.Calendar != "" {
		t := to
		return &t
	}
	i, j := sr.index(from.Unix()), sr.index(now.Unix())
	total := sr.cumTotal[j] - sr.cumTotal[i]
	span := float64(now.Sub(from) / time.Second)
	for k := i; k < j; k++ {
		at := time.Unix(sr.end[k], 0).UTC().Add(s.Window.Rolling)
		ahead := float64(at.Sub(now) / time.Second)
		rest := Counts{
			Good:  sr.cumGood[j] - sr.cumGood[k+1],
			Total: sr.cumTotal[j] - sr.cumTotal[k+1],
		}
		more := int64(float64(total) * ahead / span)
		rest.Good += more
		rest.Total += more
		if budgetLeft(rest, s.Budget()) {
			return &at
		}
	}
	return nil
}

func reason(s SLO, p Pair, rates map[string]float64, window time.Duration) string {
	long, short := burnWindow(p.Long), burnWindow(p.Short)
	spent := rates[p.Long] * float64(long.Duration) / float64(window) * 100
	return fmt.Sprintf("%s of the %s budget spent in %s; burn rate %s over %s and %s over %s (%s× fires)",
		percent(spent), s.Window.Describe(), long.words, times(rates[p.Long]), long.short,
		times(rates[p.Short]), short.short, trimFloat(p.Factor.Float(), 1))
}

func percent(x float64) string { return trimFloat(x, 1) + " %" }

func times(x float64) string { return trimFloat(x, 1) + "×" }

func trimFloat(x float64, prec int) string {
	s := strconv.FormatFloat(x, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func roundDays(d time.Duration) string {
	if d >= 24*time.Hour {
		return trimFloat(d.Hours()/24, 1) + " days"
	}
	return d.Round(time.Minute).String()
}
