package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/stride-oss/stride/internal/collect"
)

// progress shows a collector's run on stderr. On a terminal one line is
// redrawn in place as pages are read and scopes finish; elsewhere (a log
// file, a CI job) redraws would be noise, so nothing is written until the
// end, and then one summary line. Every vendor reports the same
// collect.Progress, so this is the one display for all of them.
type progress struct {
	w        io.Writer
	unit     string // "repositories", "projects", "services"
	terminal bool
	quiet    bool
	now      func() time.Time

	mu     sync.Mutex // scopes are read, and report, concurrently
	start  time.Time
	last   time.Time
	latest collect.Progress
	drawn  bool
}

// terminalWriter is a writer that knows whether it is a terminal; tests
// pass one to see the redraws.
type terminalWriter interface {
	io.Writer
	IsTerminal() bool
}

// isTerminal says whether w is a terminal: a character device, or a
// terminalWriter that says so.
func isTerminal(w io.Writer) bool {
	switch t := w.(type) {
	case terminalWriter:
		return t.IsTerminal()
	case *os.File:
		st, err := t.Stat()
		return err == nil && st.Mode()&os.ModeCharDevice != 0
	}
	return false
}

// redrawEvery bounds the redraws a page causes: the line changes at most
// five times a second, while a finished scope redraws it at once.
const redrawEvery = 200 * time.Millisecond

func newProgress(w io.Writer, unit string, quiet bool) *progress {
	p := &progress{w: w, unit: unit, terminal: isTerminal(w), quiet: quiet, now: time.Now}
	p.start = p.now()
	p.latest = collect.Progress{Remaining: -1, Limit: -1}
	return p
}

// eta extrapolates the time left from the scopes done so far; 0 when
// nothing is done yet or everything is.
func eta(elapsed time.Duration, done, total int) time.Duration {
	if done <= 0 || done >= total {
		return 0
	}
	return elapsed * time.Duration(total-done) / time.Duration(done)
}

// show is the collectors' Progress callback.
func (p *progress) show(s collect.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latest = s
	if p.quiet || !p.terminal {
		return
	}
	now := p.now()
	if s.Scope == "" && p.drawn && now.Sub(p.last) < redrawEvery {
		return
	}
	p.last, p.drawn = now, true
	line := p.line(s)
	if left := eta(now.Sub(p.start), s.ScopesDone, s.Scopes); left > 0 {
		line += ", about " + left.Round(time.Second).String() + " left"
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}

// line is the state of the run in words: scopes done of total, pages,
// requests, events, and the rate-limit budget when the vendor reports it.
func (p *progress) line(s collect.Progress) string {
	line := fmt.Sprintf("%s %d/%d, pages %d, requests %d, events %d (%d new), ",
		p.unit, s.ScopesDone, s.Scopes, s.Pages, s.Requests, s.Events, s.Added)
	switch {
	case s.Remaining < 0:
		line += "rate limit not reported"
	case s.Limit < 0:
		line += fmt.Sprintf("rate limit %d left", s.Remaining)
	default:
		line += fmt.Sprintf("rate limit %d/%d left", s.Remaining, s.Limit)
	}
	if s.Remaining >= 0 && !s.Reset.IsZero() {
		line += ", resets " + s.Reset.Local().Format("15:04:05")
	}
	if s.Waited > 0 {
		line += ", waited " + s.Waited.Round(time.Second).String()
	}
	return line
}

// done ends the display with the summary line: over the redrawn line on a
// terminal, the one line otherwise.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.quiet {
		return
	}
	line := p.line(p.latest) + ", in " + p.now().Sub(p.start).Round(time.Millisecond).String()
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s\n", line)
		return
	}
	fmt.Fprintln(p.w, line)
}
