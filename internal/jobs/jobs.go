// Package jobs runs Stride's background work: named tasks, each with a
// period, started by main and waited for on shutdown. Deriving shipments,
// evaluating SLOs, checking SLA breaches, delivering notifications and
// collecting from vendor APIs are all tasks of the one runner, so nothing in
// a request handler or a report read does background work of its own.
//
// A task runs in its own goroutine. Its runs never overlap: a caller that
// needs a task's result now (a report that finds shipments stale) calls
// RunNow, which waits for a run in progress and then runs the task once more
// in the caller's goroutine, so what was committed before the call is seen.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Task is one named piece of background work.
type Task struct {
	// Name identifies the task in logs, metrics and RunNow.
	Name string
	// Every is the pause between the end of one run and the start of the
	// next.
	Every time.Duration
	// Share, when in (0, 1), bounds the fraction of one core the task uses
	// on average: after a run that took d the runner waits at least
	// d·(1/Share − 1) more, so a refresh that takes seconds on a large
	// history backs off instead of running back to back. 0 means no bound.
	Share float64
	// Run does the work. An error is logged and counted; the task runs
	// again at its next period.
	Run func(ctx context.Context) error
}

// Status is what the runner knows of a task, for /metrics and logs.
type Status struct {
	Name     string
	Runs     int64
	Failures int64
	LastRun  time.Time
	LastTook time.Duration
	LastErr  string
}

type entry struct {
	task Task
	// run serialises the task's runs, periodic and RunNow alike.
	run sync.Mutex

	mu     sync.Mutex
	status Status
}

// Runner owns the tasks and their goroutines.
type Runner struct {
	logger *slog.Logger
	now    func() time.Time

	mu      sync.Mutex
	tasks   map[string]*entry
	started bool
	wg      sync.WaitGroup
}

// New returns a runner that logs to logger (slog.Default when nil).
func New(logger *slog.Logger) *Runner {
	if logger == nil {
		logger = slog.Default()
	}
	return &Runner{logger: logger, now: time.Now, tasks: map[string]*entry{}}
}

// Add registers a task. It must be called before Start; a second task of
// the same name, a task with no Run or a non-positive period is a wiring
// mistake and an error.
func (r *Runner) Add(t Task) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.started:
		return fmt.Errorf("jobs: add %q: the runner has started", t.Name)
	case t.Name == "":
		return errors.New("jobs: a task needs a name")
	case t.Run == nil:
		return fmt.Errorf("jobs: task %q has no Run", t.Name)
	case t.Every <= 0:
		return fmt.Errorf("jobs: task %q needs a positive period, got %s", t.Name, t.Every)
	case t.Share < 0 || t.Share >= 1:
		return fmt.Errorf("jobs: task %q: share must be in [0, 1), got %g", t.Name, t.Share)
	}
	if _, dup := r.tasks[t.Name]; dup {
		return fmt.Errorf("jobs: task %q is added twice", t.Name)
	}
	r.tasks[t.Name] = &entry{task: t, status: Status{Name: t.Name}}
	return nil
}

// Start runs every task on its period until ctx is cancelled; Wait then
// returns once every run in progress has ended.
func (r *Runner) Start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return
	}
	r.started = true
	for _, e := range r.tasks {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.loop(ctx, e)
		}()
	}
}

// Wait blocks until the goroutines Start began have returned.
func (r *Runner) Wait() { r.wg.Wait() }

func (r *Runner) loop(ctx context.Context, e *entry) {
	t := time.NewTimer(e.task.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			took, _ := r.runOnce(ctx, e)
			t.Reset(pause(e.task, took))
		}
	}
}

// pause is how long to wait after a run that took took.
func pause(t Task, took time.Duration) time.Duration {
	wait := t.Every
	if t.Share > 0 {
		wait += time.Duration(float64(took) * (1/t.Share - 1))
	}
	return wait
}

// RunNow runs the named task once, in the caller's goroutine, after any run
// in progress has ended, and returns its error.
func (r *Runner) RunNow(ctx context.Context, name string) error {
	r.mu.Lock()
	e, ok := r.tasks[name]
	r.mu.Unlock()
	if !ok {
		return fmt.Errorf("jobs: no task named %q", name)
	}
	_, err := r.runOnce(ctx, e)
	return err
}

func (r *Runner) runOnce(ctx context.Context, e *entry) (time.Duration, error) {
	e.run.Lock()
	defer e.run.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	start := r.now()
	err := e.task.Run(ctx)
	took := r.now().Sub(start)

	e.mu.Lock()
	e.status.Runs++
	e.status.LastRun, e.status.LastTook = start, took
	e.status.LastErr = ""
	if err != nil {
		e.status.Failures++
		e.status.LastErr = err.Error()
	}
	e.mu.Unlock()

	// A run cut short by shutdown is not a failure worth an error line.
	if err != nil && ctx.Err() == nil {
		r.logger.Error("job failed", "job", e.task.Name, "took", took, "err", err)
	} else if err == nil {
		r.logger.Debug("job ran", "job", e.task.Name, "took", took)
	}
	if err != nil {
		return took, fmt.Errorf("job %s: %w", e.task.Name, err)
	}
	return took, nil
}

// Statuses reports every task's counters, sorted by name.
func (r *Runner) Statuses() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Status, 0, len(r.tasks))
	for _, e := range r.tasks {
		e.mu.Lock()
		out = append(out, e.status)
		e.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Hook returns a function that runs the named task now and waits for it,
// for a caller that takes a plain func(ctx) error (such as the read path's
// hook for stale derived data) and should not know the runner.
func (r *Runner) Hook(name string) func(ctx context.Context) error {
	return func(ctx context.Context) error { return r.RunNow(ctx, name) }
}
