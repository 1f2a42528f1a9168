package rings

import (
	"slices"
	"testing"
	"time"
)

func TestLatestGates(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	runs := []GateRun{
		{Name: "coverage+tests", Passed: false, At: t0},
		{Name: "p95 latency", Passed: true, At: t0},
		{Name: "coverage+tests", Passed: true, At: t0}, // the re-run after a fix, in the same clock tick
	}
	want := []GateRun{{Name: "coverage+tests", Passed: true, At: t0}, {Name: "p95 latency", Passed: true, At: t0}}
	if got := LatestGates(runs); !slices.Equal(got, want) {
		t.Errorf("LatestGates = %+v\nwant %+v", got, want)
	}
	if got := LatestGates(nil); len(got) != 0 {
		t.Errorf("no runs: %+v", got)
	}
	// A failing re-run replaces a pass just as well.
	if got := LatestGates([]GateRun{{Name: "tests", Passed: true, At: t0}, {Name: "tests", At: t0.Add(time.Minute)}}); len(got) != 1 || got[0].Passed {
		t.Errorf("a failing re-run: %+v", got)
	}
}
