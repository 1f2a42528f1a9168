package git

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// Progress intervals, in commits: a terminal line is redrawn often, since it
// costs one short write, while a log file gets a line only now and then.
const (
	terminalEvery = 1000
	lineEvery     = 10000
)

// progress writes progress lines; a nil *progress is silent. The commit
// reader and the goroutine sending batches both report to it.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	every int
	// drawn is whether a terminal line is open and needs a newline.
	drawn   bool
	nCommit int
	nTags   int
	nSent   int
	nAdded  int
}

func newProgress(w io.Writer) *progress {
	if w == nil {
		return nil
	}
	p := &progress{w: w, every: lineEvery}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
			p.every = terminalEvery
		}
	}
	return p
}

func (p *progress) tags(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nTags = n
}

func (p *progress) commits(n int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nCommit = n
	if n%p.every == 0 {
		p.line()
	}
}

func (p *progress) sent(n, added int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nSent, p.nAdded = n, added
	if p.tty {
		p.line()
	}
}

// line draws the running counts: in place on a terminal, as a new line
// elsewhere. Write errors are ignored: progress is a courtesy, and a closed
// terminal must not fail an import.
func (p *progress) line() {
	if p.tty {
		fmt.Fprintf(p.w, "\r%d commits read, %d tags, %d events sent, %d added", p.nCommit, p.nTags, p.nSent, p.nAdded)
		p.drawn = true
		return
	}
	fmt.Fprintf(p.w, "%d commits read, %d tags, %d events sent, %d added\n", p.nCommit, p.nTags, p.nSent, p.nAdded)
}

// done ends the progress: a terminal line drawn in place is cleared. It
// prints no summary: the caller prints the one summary of the import
// (Summary.WriteText), so that a user reads one account, not two that
// count differently.
func (p *progress) done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}
