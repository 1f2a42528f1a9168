package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
)

// TestReportSprint runs `stride report sprint` over a stored sprint of team
// core: CORE-1 (3 points) done in it, CORE-2 (2 points) carried over; the
// table explains the sprint, the JSON is the API's answer, and a service
// scope or an unknown figure is refused.
func TestReportSprint(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stride.db")
	cfg := filepath.Join(t.TempDir(), "stride.yaml")
	if err := os.WriteFile(cfg, []byte("sprint:\n  blocked_statuses: [Blocked]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
	s := []delivery.SprintMembership{{ID: "7", Name: "CORE 7", State: "closed", StartAt: at(2, 8), EndAt: at(13, 17), CompletedAt: at(13, 16), AddedAt: at(1, 9)}}
	three, two := 3.0, 2.0
	events := []delivery.Event{
		{Key: "w1", Kind: delivery.KindWorkItem, WorkItem: &delivery.WorkItem{Tracker: "jira", Key: "CORE-1", Team: "core", Type: "Story", StoryPoints: &three,
			Status: "Done", Category: delivery.CategoryDone, CreatedAt: at(1, 9), ResolvedAt: at(5, 9), UpdatedAt: at(5, 9), Sprints: s,
			Transitions: []delivery.Transition{{At: at(3, 9), Status: "In Progress"}, {At: at(5, 9), Status: "Done"}}}},
		{Key: "w2", Kind: delivery.KindWorkItem, WorkItem: &delivery.WorkItem{Tracker: "jira", Key: "CORE-2", Team: "core", Type: "Bug", StoryPoints: &two,
			Status: "In Progress", Category: delivery.CategoryInProgress, CreatedAt: at(1, 9), UpdatedAt: at(4, 9), Sprints: s,
			Transitions: []delivery.Transition{{At: at(4, 9), Status: "In Progress"}}}},
	}
	if _, err := intake.New(db, nil).Events(ctx, "jira", events); err != nil {
		t.Fatal(err)
	}
	db.Close()
	args := []string{"report", "sprint", "--db", path, "--config", cfg, "--team", "core", "--from", "2026-03-02", "--to", "2026-03-16"}
	code, out, errOut := stride(t, append(args, "--explain", "sprints")...)
	for _, want := range []string{"sprint health of core", "CORE 7", "2 (5 pts)", "1 (2 pts), 50%", "carried over  [CORE-2]", "done  [CORE-1]", "feature    1      3", "blocked: 0.0% (0 h of 327 h in progress, 2 items)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s%s", want, out, errOut)
		}
	}
	if code != 0 {
		t.Errorf("exit %d", code)
	}
	code, out, _ = stride(t, append(args, "--format", "json")...)
	var rep struct {
		Sprints []struct {
			CarryOverRatio float64 `json:"carry_over_ratio"`
		} `json:"sprints"`
	}
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || len(rep.Sprints) != 1 || rep.Sprints[0].CarryOverRatio != 0.5 {
		t.Errorf("json: %d %v %s", code, err, out)
	}
	if code, _, errOut := stride(t, "report", "sprint", "--db", path, "--config", cfg, "--service", "api"); code != 2 || !strings.Contains(errOut, "give --team") {
		t.Errorf("--service: %d %q", code, errOut)
	}
	if code, _, errOut := stride(t, append(args, "--explain", "velocity")...); code == 0 || !strings.Contains(errOut, `"velocity" is not one of`) {
		t.Errorf("--explain velocity: %d %q", code, errOut)
	}
}
