package collect

import (
	"sync"
	"time"
)

// Progress is what a collector's run has done so far, the same for every
// vendor: scopes are GitHub's repositories, GitLab's and Jira's projects,
// PagerDuty's services. The client's counts (requests, the rate-limit
// budget the vendor's headers report, time waited) come with it.
type Progress struct {
	Scopes, ScopesDone int
	Pages              int
	Events, Added      int
	Requests           int
	// Remaining and Limit are the primary budget the answers last
	// reported, -1 when the vendor sends no such header; Reset is zero
	// when it names no reset time.
	Remaining, Limit int
	Reset            time.Time
	// Waited is the time spent waiting for rate limits (Retry-After, a
	// spent budget) and backing off.
	Waited time.Duration
	// Scope and Err name a scope just finished and why it stopped; empty
	// on the reports of pages.
	Scope string
	Err   error
}

// Tracker keeps a run's Progress and tells report of each change.
// Collectors read scopes concurrently, so it locks; a nil report, or a nil
// Tracker, reports nothing.
type Tracker struct {
	client *Client
	report func(Progress)

	mu sync.Mutex
	p  Progress
}

// NewTracker returns a tracker reading client's counts.
func NewTracker(client *Client, report func(Progress)) *Tracker {
	return &Tracker{client: client, report: report}
}

// Start begins a run of scopes scopes.
func (t *Tracker) Start(scopes int) {
	t.update(func(p *Progress) { *p = Progress{Scopes: scopes} })
}

// Page counts a page read.
func (t *Tracker) Page() { t.update(func(p *Progress) { p.Pages++ }) }

// Wrote counts events written, added of them new.
func (t *Tracker) Wrote(events, added int) {
	t.update(func(p *Progress) { p.Events += events; p.Added += added })
}

// Done counts scope finished, err when it stopped.
func (t *Tracker) Done(scope string, err error) {
	t.update(func(p *Progress) { p.ScopesDone++; p.Scope, p.Err = scope, err })
}

// Progress returns the run's progress so far.
func (t *Tracker) Progress() Progress {
	if t == nil {
		return Progress{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.p
}

func (t *Tracker) update(f func(*Progress)) {
	if t == nil {
		return
	}
	t.mu.Lock()
	f(&t.p)
	if t.client != nil {
		s := t.client.Stats()
		t.p.Requests, t.p.Remaining, t.p.Limit, t.p.Reset, t.p.Waited = s.Requests, s.Remaining, s.Limit, s.Reset, s.Waited
	}
	p := t.p
	t.p.Scope, t.p.Err = "", nil
	report := t.report
	// Reported under the lock so the reports arrive in order.
	if report != nil {
		report(p)
	}
	t.mu.Unlock()
}
