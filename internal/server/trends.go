package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/jobs"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/web"
)

// TaskTrends is the name of the job that computes the weekly roll-ups.
const TaskTrends = "trends"

// TrendWeeks is how many ISO weeks the roll-ups span, the current one
// included: the dashboard's 12-week trends.
const TrendWeeks = 12

// GaugeWindow is the period the /metrics DORA gauges cover, ending when
// the trend job last ran.
const GaugeWindow = 28 * 24 * time.Hour

// Trends keeps what the dashboard's trends and the /metrics DORA gauges
// read: each scope's DORA and flow report of each of the last TrendWeeks
// ISO weeks, and each service's DORA report over the last GaugeWindow. A
// job (Task) computes them; a page view or a scrape only reads them, so a
// year of history is read once every few minutes, not once per request.
// The zero value with Reports set is ready; it holds nothing until the
// first Refresh.
type Trends struct {
	Reports *report.Reader
	// Thresholds are the tier boundaries the reports judge by (nil: the
	// defaults), as the API's.
	Thresholds *dora.Thresholds
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu      sync.RWMutex
	weeks   map[store.Scope][]web.Week
	gauges  map[string]dora.Report
	updated time.Time
}

// Task is the job that refreshes the roll-ups every five minutes, using
// at most a quarter of a core on average on a large history.
func (t *Trends) Task() jobs.Task {
	return jobs.Task{Name: TaskTrends, Every: 5 * time.Minute, Share: 0.25, Run: t.Refresh}
}

func (t *Trends) now() time.Time {
	if t.Now == nil {
		return time.Now()
	}
	return t.Now()
}

// WeekStart returns the Monday 00:00 UTC that starts the ISO week of at.
func WeekStart(at time.Time) time.Time {
	at = at.UTC()
	day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	back := (int(day.Weekday()) + 6) % 7 // Monday is 0
	return day.AddDate(0, 0, -back)
}

// Refresh computes every roll-up from the store: the organisation, each
// stored team and each stored service, and swaps them in at once.
func (t *Trends) Refresh(ctx context.Context) error {
	now := t.now()
	services, err := t.Reports.Store.ServiceTeams(ctx)
	if err != nil {
		return err
	}
	scopes := []store.Scope{{}}
	seenTeam := map[string]bool{}
	for _, s := range services {
		if s.Team != "" && !seenTeam[s.Team] {
			seenTeam[s.Team] = true
			scopes = append(scopes, store.Scope{Team: s.Team})
		}
	}
	for _, s := range services {
		scopes = append(scopes, store.Scope{Service: s.Name})
	}
	first := WeekStart(now).AddDate(0, 0, -7*(TrendWeeks-1))
	weeks := make(map[store.Scope][]web.Week, len(scopes))
	for _, sc := range scopes {
		if len(services) == 0 {
			break
		}
		ws := make([]web.Week, 0, TrendWeeks)
		for i := range TrendWeeks {
			start := first.AddDate(0, 0, 7*i)
			p := delivery.Period{From: start, To: start.AddDate(0, 0, 7)}
			d, err := t.Reports.DORA(ctx, sc, p, t.Thresholds)
			if err != nil {
				return fmt.Errorf("trends of %s: week of %s: %w", scopeText(sc), start.Format(time.DateOnly), err)
			}
			f, err := t.Reports.Flow(ctx, sc, p)
			if err != nil {
				return fmt.Errorf("trends of %s: flow of the week of %s: %w", scopeText(sc), start.Format(time.DateOnly), err)
			}
			ws = append(ws, web.Week{Start: start, DORA: d, Flow: f})
		}
		weeks[sc] = ws
	}
	gauges := make(map[string]dora.Report, len(services))
	window := delivery.Period{From: now.Add(-GaugeWindow), To: now}
	for _, s := range services {
		rep, err := t.Reports.DORA(ctx, store.Scope{Service: s.Name}, window, t.Thresholds)
		if err != nil {
			return fmt.Errorf("gauges of service %s: %w", s.Name, err)
		}
		gauges[s.Name] = rep
	}
	t.mu.Lock()
	t.weeks, t.gauges, t.updated = weeks, gauges, now
	t.mu.Unlock()
	return nil
}

// Weekly returns the stored roll-ups of scope for the n weeks ending with
// the ISO week that contains end − 1ns, oldest first. Weeks the job has
// not computed (before its window, or before its first run) are left out.
func (t *Trends) Weekly(scope store.Scope, end time.Time, n int) []web.Week {
	last := WeekStart(end.Add(-time.Nanosecond))
	first := last.AddDate(0, 0, -7*(n-1))
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []web.Week
	for _, w := range t.weeks[scope] {
		if !w.Start.Before(first) && !w.Start.After(last) {
			out = append(out, w)
		}
	}
	return out
}

// Gauges returns each service's DORA report over the GaugeWindow that
// ended when the job last ran, and when that was (zero before the first
// run). The map is the job's own: read it, do not change it.
func (t *Trends) Gauges() (map[string]dora.Report, time.Time) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.gauges, t.updated
}

func scopeText(s store.Scope) string {
	switch {
	case s.Service != "":
		return "service " + s.Service
	case s.Team != "":
		return "team " + s.Team
	}
	return "the organisation"
}
