package jobs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func noop(context.Context) error { return nil }

func TestAddRefusesWiringMistakes(t *testing.T) {
	cases := []struct {
		name string
		task Task
		want string
	}{
		{"a task without a name", Task{Every: time.Second, Run: noop}, "needs a name"},
		{"a task without Run", Task{Name: "x", Every: time.Second}, "has no Run"},
		{"a zero period", Task{Name: "x", Run: noop}, "positive period"},
		{"a share of a whole core", Task{Name: "x", Every: time.Second, Share: 1, Run: noop}, "share must be"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := New(nil).Add(c.task)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Add: got %v, want an error containing %q", err, c.want)
			}
		})
	}
	t.Run("a name used twice", func(t *testing.T) {
		r := New(nil)
		if err := r.Add(Task{Name: "x", Every: time.Second, Run: noop}); err != nil {
			t.Fatal(err)
		}
		if err := r.Add(Task{Name: "x", Every: time.Second, Run: noop}); err == nil || !strings.Contains(err.Error(), "twice") {
			t.Fatalf("second Add: got %v", err)
		}
	})
	t.Run("adding after start", func(t *testing.T) {
		r := New(nil)
		ctx, cancel := context.WithCancel(context.Background())
		r.Start(ctx)
		cancel()
		r.Wait()
		if err := r.Add(Task{Name: "x", Every: time.Second, Run: noop}); err == nil {
			t.Fatal("Add after Start succeeded")
		}
	})
}

func TestPauseBoundsTheShareOfACore(t *testing.T) {
	cases := []struct {
		share float64
		took  time.Duration
		want  time.Duration
	}{
		{0, 3 * time.Second, 2 * time.Second},
		{0.2, time.Second, 2*time.Second + 4*time.Second},
		{0.5, time.Second, 3 * time.Second},
	}
	for _, c := range cases {
		if got := pause(Task{Every: 2 * time.Second, Share: c.share}, c.took); got != c.want {
			t.Errorf("share %g after %s: pause %s, want %s", c.share, c.took, got, c.want)
		}
	}
}

func TestStartRunsTasksUntilCancelledAndWaitWaits(t *testing.T) {
	r := New(nil)
	var runs atomic.Int64
	ran := make(chan struct{}, 100)
	if err := r.Add(Task{Name: "tick", Every: time.Millisecond, Run: func(ctx context.Context) error {
		runs.Add(1)
		select {
		case ran <- struct{}{}:
		default:
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	for range 3 {
		<-ran
	}
	cancel()
	r.Wait()
	after := runs.Load()
	if after < 3 {
		t.Fatalf("ran %d times, want at least 3", after)
	}
	// Once Wait has returned, no goroutine of the runner is left to run it.
	time.Sleep(5 * time.Millisecond)
	if got := runs.Load(); got != after {
		t.Fatalf("the task ran %d more times after Wait", got-after)
	}
	if s := r.Statuses(); len(s) != 1 || s[0].Runs != after || s[0].Failures != 0 {
		t.Fatalf("statuses %+v, want one task with %d runs", s, after)
	}
}

func TestRunNowWaitsForTheRunInProgress(t *testing.T) {
	r := New(nil)
	var mu sync.Mutex
	var order []string
	started := make(chan struct{})
	release := make(chan struct{})
	calls := 0
	if err := r.Add(Task{Name: "refresh", Every: time.Hour, Run: func(ctx context.Context) error {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			close(started)
			<-release
		}
		mu.Lock()
		order = append(order, map[int]string{1: "first", 2: "second"}[n])
		mu.Unlock()
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	firstDone := make(chan error)
	go func() { firstDone <- r.RunNow(ctx, "refresh") }()
	<-started
	secondDone := make(chan error)
	go func() { secondDone <- r.RunNow(ctx, "refresh") }()
	select {
	case <-secondDone:
		t.Fatal("RunNow returned while another run of the task was in progress")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if err := <-secondDone; err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "first,second" {
		t.Fatalf("runs ended in order %v, want first then second", order)
	}
}

func TestFailuresAreReturnedAndCounted(t *testing.T) {
	r := New(nil)
	boom := errors.New("database is down")
	if err := r.Add(Task{Name: "slo", Every: time.Hour, Run: func(context.Context) error { return boom }}); err != nil {
		t.Fatal(err)
	}
	err := r.RunNow(context.Background(), "slo")
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "job slo") {
		t.Fatalf("RunNow: got %v, want the task's error naming the job", err)
	}
	s := r.Statuses()[0]
	if s.Runs != 1 || s.Failures != 1 || s.LastErr != boom.Error() {
		t.Fatalf("status %+v, want one failed run with its error", s)
	}
	if err := r.RunNow(context.Background(), "nope"); err == nil || !strings.Contains(err.Error(), `no task named "nope"`) {
		t.Fatalf("RunNow of an unknown task: %v", err)
	}
}
