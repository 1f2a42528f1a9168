// Package sprint computes team and sprint health from a team's work items:
// work completed by type of work (counts and story points, per sprint and
// per period), work in progress per person and per team over time, the
// share of in-progress time an item sat blocked, sprint carry-over and
// throughput. It is a pure function of its input; internal/report reads the
// items. The definitions are in docs/metrics.md ("Sprint and team health").
package sprint

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// The types of work items are sorted into. An item matching none is Other.
const (
	Bug           = "bug"
	Feature       = "feature"
	TechnicalDebt = "technical_debt"
	Chore         = "chore"
	Other         = "other"
)

// WorkType says which items are one type of work: those with any of the
// labels, else those of any of the issue types (both ignore case).
type WorkType struct {
	IssueTypes []string `yaml:"issue_types" json:"issue_types"`
	Labels     []string `yaml:"labels" json:"labels"`
}

// Config is stride.yaml's sprint: section.
type Config struct {
	// WorkTypes maps bug, feature, technical_debt and chore (or any other
	// name) to the items of that type; empty means DefaultWorkTypes.
	WorkTypes map[string]WorkType `yaml:"work_types"`
	// BlockedStatuses are statuses that mean blocked, besides Jira's
	// Flagged (an impediment); matching ignores case.
	BlockedStatuses []string `yaml:"blocked_statuses"`
	// StatusCategories gives the category (todo, in_progress, done) of
	// statuses a changelog names; statuses not listed take the category
	// that items now in them have.
	StatusCategories map[string]delivery.WorkItemCategory `yaml:"status_categories"`
}

// DefaultWorkTypes are the types of work of Jira's default schemes: labels
// decide before issue types, so a Task labelled tech-debt is technical debt.
var DefaultWorkTypes = map[string]WorkType{
	Bug:           {IssueTypes: []string{"Bug", "Defect"}, Labels: []string{"bug"}},
	Feature:       {IssueTypes: []string{"Story", "New Feature", "Feature", "Epic", "Improvement"}, Labels: []string{"feature"}},
	TechnicalDebt: {IssueTypes: []string{"Technical Debt", "Tech Debt"}, Labels: []string{"tech-debt", "technical-debt", "techdebt", "tech_debt"}},
	Chore:         {IssueTypes: []string{"Task", "Sub-task", "Subtask", "Chore"}, Labels: []string{"chore"}},
}

// Validate checks the categories named.
func (c Config) Validate() error {
	for s, cat := range c.StatusCategories {
		if cat != delivery.CategoryToDo && cat != delivery.CategoryInProgress && cat != delivery.CategoryDone {
			return delivery.FieldError("sprint.status_categories", "status %q: category %q is not todo, in_progress or done", s, cat)
		}
	}
	for name, wt := range c.WorkTypes {
		if strings.TrimSpace(name) == "" || (len(wt.IssueTypes) == 0 && len(wt.Labels) == 0) {
			return delivery.FieldError("sprint.work_types", "type %q names neither issue types nor labels", name)
		}
	}
	return nil
}

// Input is what one report reads.
type Input struct {
	Team   string
	Period delivery.Period
	// Items are the team's work items: those done in the period, those of
	// its sprints, and those still open.
	Items  []delivery.WorkItem
	Config Config
	// Explain lists the items behind each figure.
	Explain bool
}

// Report is the sprint and team health of one team and period.
type Report struct {
	Team string    `json:"team"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Completed is the work done in the period by type of work.
	Completed []TypeCount `json:"completed"`
	// Sprints are the sprints that ended in the period or are running at
	// its end, by start.
	Sprints []Sprint `json:"sprints"`
	// Throughput is the items done per week (weeks start on Monday, UTC)
	// of the period.
	Throughput []Week `json:"throughput"`
	// WIP is the work in progress at the end of each week of the period.
	WIP []WIP `json:"wip"`
	// Blocked is the share of in-progress time items sat blocked.
	Blocked Blocked `json:"blocked"`
	// Warnings say, in words, what data was missing or assumed and what
	// to do; never null.
	Warnings []string `json:"warnings"`
}

// TypeCount is how much work of one type was done: items, their story
// points, and how many of them carried no estimate (adding nothing to
// Points).
type TypeCount struct {
	Type        string   `json:"type"`
	Items       int      `json:"items"`
	Points      float64  `json:"points"`
	Unestimated int      `json:"unestimated"`
	Keys        []string `json:"keys,omitempty"`
}

// Sprint is the health of one sprint.
type Sprint struct {
	ID    string    `json:"id"`
	Name  string    `json:"name"`
	State string    `json:"state"`
	Start time.Time `json:"start"`
	// End is when it was completed, else its planned end.
	End time.Time `json:"end"`
	// Committed are the items in it at its start; Added those that entered
	// later.
	Committed Count `json:"committed"`
	Added     Count `json:"added"`
	// Completed are its items done at its end (or now, while it runs), by
	// type of work.
	Completed     Count       `json:"completed"`
	CompletedType []TypeCount `json:"completed_by_type"`
	// CarriedOver are the committed items not done at its end; nil while
	// it runs. CarryOverRatio is CarriedOver over Committed items.
	CarriedOver    *Count   `json:"carried_over"`
	CarryOverRatio *float64 `json:"carry_over_ratio"`
	// AssumedCommitted counts items whose entry into the sprint is not
	// known (no changelog), counted as committed.
	AssumedCommitted int `json:"assumed_committed"`
}

// Count is a number of items and their story points.
type Count struct {
	Items       int      `json:"items"`
	Points      float64  `json:"points"`
	Unestimated int      `json:"unestimated"`
	Keys        []string `json:"keys,omitempty"`
}

func (c *Count) add(w *delivery.WorkItem, explain bool) {
	c.Items++
	if w.StoryPoints == nil {
		c.Unestimated++
	} else {
		c.Points += *w.StoryPoints
	}
	if explain {
		c.Keys = append(c.Keys, w.Key)
	}
}

// Week is the items done in one week.
type Week struct {
	Start time.Time `json:"start"`
	Done  int       `json:"done"`
	Keys  []string  `json:"keys,omitempty"`
}

// WIP is the work in progress at one moment: the team's and each
// assignee's ("" for unassigned). The assignee is the item's current one:
// trackers' changelogs of assignment are not read.
type WIP struct {
	At       time.Time      `json:"at"`
	Team     int            `json:"team"`
	ByPerson map[string]int `json:"by_person"`
	Keys     []string       `json:"keys,omitempty"`
}

// Blocked is blocked time over in-progress time, within the period, of the
// items with a changelog. Ratio is nil when no item was in progress.
type Blocked struct {
	Ratio             *float64 `json:"ratio"`
	InProgressSeconds float64  `json:"in_progress_seconds"`
	BlockedSeconds    float64  `json:"blocked_seconds"`
	Items             int      `json:"items"`
	Keys              []string `json:"keys,omitempty"`
}

// item is a work item with what the figures read of it, worked out once.
type item struct {
	w        *delivery.WorkItem
	typ      string
	timeline []state // nil without a changelog
	doneAt   time.Time
}

// state is what an item was from At on, until the next state.
type state struct {
	At       time.Time
	Category delivery.WorkItemCategory
	Blocked  bool
}

// Compute returns the report of in.
func Compute(in Input) Report {
	from, to := in.Period.From, in.Period.To
	rep := Report{Team: in.Team, From: from, To: to, Completed: []TypeCount{}, Sprints: []Sprint{}, Throughput: []Week{}, WIP: []WIP{}, Warnings: []string{}}
	types := in.Config.WorkTypes
	if len(types) == 0 {
		types = DefaultWorkTypes
	}
	classify := classifier(types)
	categoryOf := statusCategories(in.Items, in.Config.StatusCategories)
	blocked := map[string]bool{}
	for _, s := range in.Config.BlockedStatuses {
		blocked[strings.ToLower(s)] = true
	}

	items := make([]item, 0, len(in.Items))
	withoutChangelog, unknownStatus := 0, map[string]bool{}
	for i := range in.Items {
		w := &in.Items[i]
		if w.Deleted {
			continue
		}
		it := item{w: w, typ: classify(w)}
		if w.Transitions != nil {
			it.timeline = timeline(w, categoryOf, blocked, unknownStatus)
		} else {
			withoutChangelog++
		}
		it.doneAt = doneAt(it)
		items = append(items, it)
	}

	// Completed by type in the period, and throughput by week.
	byType := map[string]*TypeCount{}
	weeks := map[time.Time]*Week{}
	for ws := weekStart(from); ws.Before(to); ws = ws.AddDate(0, 0, 7) {
		weeks[ws] = &Week{Start: ws}
	}
	unestimated := 0
	for i := range items {
		it := &items[i]
		if it.doneAt.IsZero() || it.doneAt.Before(from) || !it.doneAt.Before(to) {
			continue
		}
		tc := byType[it.typ]
		if tc == nil {
			tc = &TypeCount{Type: it.typ}
			byType[it.typ] = tc
		}
		c := Count{}
		c.add(it.w, false)
		tc.Items++
		tc.Points += c.Points
		tc.Unestimated += c.Unestimated
		unestimated += c.Unestimated
		if in.Explain {
			tc.Keys = append(tc.Keys, it.w.Key)
		}
		if wk := weeks[weekStart(it.doneAt)]; wk != nil {
			wk.Done++
			if in.Explain {
				wk.Keys = append(wk.Keys, it.w.Key)
			}
		}
	}
	rep.Completed = sortedTypes(byType)
	for _, wk := range weeks {
		rep.Throughput = append(rep.Throughput, *wk)
	}
	slices.SortFunc(rep.Throughput, func(a, b Week) int { return a.Start.Compare(b.Start) })

	rep.Sprints = sprints(items, from, to, in.Explain)
	rep.WIP = wip(items, rep.Throughput, to, in.Explain)
	rep.Blocked = blockedShare(items, from, to, in.Explain)
	slices.SortFunc(rep.Completed, func(a, b TypeCount) int { return strings.Compare(a.Type, b.Type) })

	// Warnings, in words, with what to do.
	if len(items) == 0 {
		rep.Warnings = append(rep.Warnings, "no work items are stored for this team: connect the Jira webhook or run `stride collect jira`, and map the project to the team (project_teams)")
		return rep
	}
	if len(rep.Sprints) == 0 {
		rep.Warnings = append(rep.Warnings, "no sprint ended in the period or runs at its end, so there is no commitment or carry-over: the team may work without sprints, or its sprints were never read (run `stride collect jira`, which reads boards and sprints through the agile API)")
	}
	if unestimated > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d of the items done in the period carry no story points, so they add to the counts and not to the points: estimate them, or read the counts", unestimated))
	}
	if withoutChangelog > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d of %d items have no changelog, so their time in progress and blocked is unknown (left out of work in progress over time and of the blocked share) and their entry into a sprint is assumed to be before its start: `stride collect jira` reads changelogs", withoutChangelog, len(items)))
	}
	if len(unknownStatus) > 0 {
		names := make([]string, 0, len(unknownStatus))
		for s := range unknownStatus {
			names = append(names, s)
		}
		slices.Sort(names)
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the category of status %s is not known (no item is in it now), so time in it counts as in progress: name it under sprint.status_categories in stride.yaml", strings.Join(names, ", ")))
	}
	assumed := 0
	for _, s := range rep.Sprints {
		assumed += s.AssumedCommitted
	}
	if assumed > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("for %d sprint memberships the changelog does not show when the item entered the sprint, so it is counted as committed at the start", assumed))
	}
	return rep
}

func sortedTypes(m map[string]*TypeCount) []TypeCount {
	out := []TypeCount{}
	for _, tc := range m {
		out = append(out, *tc)
	}
	slices.SortFunc(out, func(a, b TypeCount) int { return strings.Compare(a.Type, b.Type) })
	return out
}

// classifier returns the type of work of an item: the first type (by name)
// one of whose labels it carries, else the first whose issue types name its
// type, else Other.
func classifier(types map[string]WorkType) func(*delivery.WorkItem) string {
	names := make([]string, 0, len(types))
	for n := range types {
		names = append(names, n)
	}
	slices.Sort(names)
	return func(w *delivery.WorkItem) string {
		for _, n := range names {
			for _, l := range types[n].Labels {
				if slices.ContainsFunc(w.Labels, func(x string) bool { return strings.EqualFold(x, l) }) {
					return n
				}
			}
		}
		for _, n := range names {
			if slices.ContainsFunc(types[n].IssueTypes, func(x string) bool { return strings.EqualFold(x, w.Type) }) {
				return n
			}
		}
		return Other
	}
}

// defaultCategories are the categories of the statuses of Jira's default
// workflows, used when no item is in one now to show its category.
var defaultCategories = map[string]delivery.WorkItemCategory{
	"to do": delivery.CategoryToDo, "open": delivery.CategoryToDo, "backlog": delivery.CategoryToDo,
	"selected for development": delivery.CategoryToDo, "reopened": delivery.CategoryToDo,
	"in progress": delivery.CategoryInProgress, "in review": delivery.CategoryInProgress, "code review": delivery.CategoryInProgress,
	"done": delivery.CategoryDone, "closed": delivery.CategoryDone, "resolved": delivery.CategoryDone,
}

// statusCategories maps a status (lower case) to its category: as
// configured, else as items now in that status have it, else as Jira's
// default workflows have it.
func statusCategories(items []delivery.WorkItem, configured map[string]delivery.WorkItemCategory) map[string]delivery.WorkItemCategory {
	out := maps.Clone(defaultCategories)
	for i := range items {
		if s, c := strings.ToLower(items[i].Status), items[i].Category; s != "" && c != "" {
			out[s] = c
		}
	}
	for s, c := range configured {
		out[strings.ToLower(s)] = c
	}
	return out
}

// timeline replays an item's changelog into states. A status of unknown
// category counts as in progress (and is named in the warnings).
func timeline(w *delivery.WorkItem, categoryOf map[string]delivery.WorkItemCategory, blockedStatus map[string]bool, unknown map[string]bool) []state {
	var out []state
	cur := state{Category: delivery.CategoryToDo}
	statusBlocked, flagged := false, false
	if !w.CreatedAt.IsZero() {
		cur.At = w.CreatedAt
		out = append(out, cur)
	}
	for _, tr := range w.Transitions {
		if tr.Flagged != nil {
			flagged = *tr.Flagged
		} else {
			c := tr.Category
			if c == "" {
				c = categoryOf[strings.ToLower(tr.Status)]
			}
			if c == "" {
				unknown[tr.Status] = true
				c = delivery.CategoryInProgress
			}
			cur.Category = c
			statusBlocked = blockedStatus[strings.ToLower(tr.Status)]
		}
		cur.At = tr.At
		cur.Blocked = flagged || statusBlocked
		if n := len(out); n > 0 && !out[n-1].At.Before(cur.At) {
			out[n-1] = cur
		} else {
			out = append(out, cur)
		}
	}
	return out
}

// at is the state of an item at t; ok is false before its first state.
func (it *item) at(t time.Time) (state, bool) {
	i, found := slices.BinarySearchFunc(it.timeline, t, func(s state, t time.Time) int { return s.At.Compare(t) })
	if found {
		return it.timeline[i], true
	}
	if i == 0 {
		return state{}, false
	}
	return it.timeline[i-1], true
}

// doneAt is when the item was finished: the start of its last stretch in
// done, from its changelog; without one, its resolution (when it is done
// now). Zero when it is not done.
func doneAt(it item) time.Time {
	if it.timeline != nil {
		n := len(it.timeline)
		if n == 0 || it.timeline[n-1].Category != delivery.CategoryDone {
			return time.Time{}
		}
		i := n - 1
		for i > 0 && it.timeline[i-1].Category == delivery.CategoryDone {
			i--
		}
		return it.timeline[i].At
	}
	if it.w.Category == delivery.CategoryDone || (it.w.Category == "" && !it.w.ResolvedAt.IsZero()) {
		if !it.w.ResolvedAt.IsZero() {
			return it.w.ResolvedAt
		}
		return it.w.UpdatedAt
	}
	return time.Time{}
}

// doneBy reports whether the item was done at t.
func (it *item) doneBy(t time.Time) bool {
	if it.timeline != nil {
		s, ok := it.at(t)
		return ok && s.Category == delivery.CategoryDone
	}
	return !it.doneAt.IsZero() && !it.doneAt.After(t)
}

// sprints works out each sprint that ended in [from, to) or runs at to.
func sprints(items []item, from, to time.Time, explain bool) []Sprint {
	type acc struct {
		s     Sprint
		types map[string]*TypeCount
	}
	byID := map[string]*acc{}
	for i := range items {
		it := &items[i]
		for _, m := range it.w.Sprints {
			if m.StartAt.IsZero() || !m.StartAt.Before(to) {
				continue // not started by the end of the period
			}
			end := m.CompletedAt
			if end.IsZero() && m.State == "closed" {
				end = m.EndAt
			}
			running := end.IsZero() || !end.Before(to)
			if !running && end.Before(from) {
				continue
			}
			a := byID[m.ID]
			if a == nil {
				a = &acc{s: Sprint{ID: m.ID, Name: m.Name, State: m.State, Start: m.StartAt, End: end}, types: map[string]*TypeCount{}}
				if a.s.End.IsZero() {
					a.s.End = m.EndAt
				}
				byID[m.ID] = a
			}
			committed := m.AddedAt.IsZero() || !m.AddedAt.After(m.StartAt)
			if m.AddedAt.IsZero() {
				a.s.AssumedCommitted++
			}
			if committed {
				a.s.Committed.add(it.w, explain)
			} else {
				a.s.Added.add(it.w, explain)
			}
			at := to
			if !running {
				at = end
			}
			if it.doneBy(at) {
				a.s.Completed.add(it.w, explain)
				tc := a.types[it.typ]
				if tc == nil {
					tc = &TypeCount{Type: it.typ}
					a.types[it.typ] = tc
				}
				c := Count{}
				c.add(it.w, false)
				tc.Items, tc.Points, tc.Unestimated = tc.Items+1, tc.Points+c.Points, tc.Unestimated+c.Unestimated
				if explain {
					tc.Keys = append(tc.Keys, it.w.Key)
				}
			} else if committed && !running {
				if a.s.CarriedOver == nil {
					a.s.CarriedOver = &Count{}
				}
				a.s.CarriedOver.add(it.w, explain)
			}
			if !running && a.s.CarriedOver == nil {
				a.s.CarriedOver = &Count{}
			}
		}
	}
	out := make([]Sprint, 0, len(byID))
	for _, a := range byID {
		a.s.CompletedType = sortedTypes(a.types)
		if a.s.CarriedOver != nil && a.s.Committed.Items > 0 {
			r := float64(a.s.CarriedOver.Items) / float64(a.s.Committed.Items)
			a.s.CarryOverRatio = &r
		}
		for _, c := range []*Count{&a.s.Committed, &a.s.Added, &a.s.Completed, a.s.CarriedOver} {
			if c != nil {
				slices.Sort(c.Keys)
			}
		}
		out = append(out, a.s)
	}
	slices.SortFunc(out, func(a, b Sprint) int {
		return cmp.Or(a.Start.Compare(b.Start), strings.Compare(a.ID, b.ID))
	})
	return out
}

// wip counts the items in progress at the end of each week of the period
// (the period's end for the last), from the items' changelogs.
func wip(items []item, weeks []Week, to time.Time, explain bool) []WIP {
	out := make([]WIP, 0, len(weeks))
	for _, wk := range weeks {
		at := wk.Start.AddDate(0, 0, 7)
		if at.After(to) {
			at = to
		}
		// An instant just before the boundary: the state of the week's end.
		p := WIP{At: at, ByPerson: map[string]int{}}
		for i := range items {
			it := &items[i]
			if it.timeline == nil {
				continue
			}
			if s, ok := it.at(at.Add(-time.Microsecond)); ok && s.Category == delivery.CategoryInProgress {
				p.Team++
				p.ByPerson[it.w.Assignee]++
				if explain {
					p.Keys = append(p.Keys, it.w.Key)
				}
			}
		}
		slices.Sort(p.Keys)
		out = append(out, p)
	}
	return out
}

// blockedShare sums, over the items with a changelog, the time in
// progress within [from, to) and the part of it blocked.
func blockedShare(items []item, from, to time.Time, explain bool) Blocked {
	var b Blocked
	for i := range items {
		it := &items[i]
		inProgress, blocked := 0.0, 0.0
		for j, s := range it.timeline {
			if s.Category != delivery.CategoryInProgress {
				continue
			}
			start, end := s.At, to
			if j+1 < len(it.timeline) {
				end = it.timeline[j+1].At
			}
			if start.Before(from) {
				start = from
			}
			if end.After(to) {
				end = to
			}
			if !end.After(start) {
				continue
			}
			d := end.Sub(start).Seconds()
			inProgress += d
			if s.Blocked {
				blocked += d
			}
		}
		if inProgress > 0 {
			b.Items++
			b.InProgressSeconds += inProgress
			b.BlockedSeconds += blocked
			if explain && blocked > 0 {
				b.Keys = append(b.Keys, it.w.Key)
			}
		}
	}
	if b.InProgressSeconds > 0 {
		r := b.BlockedSeconds / b.InProgressSeconds
		b.Ratio = &r
	}
	slices.Sort(b.Keys)
	return b
}

// weekStart is the Monday 00:00 UTC of t's week.
func weekStart(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}
