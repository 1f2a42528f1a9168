package report_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
)

// sprintHistory stores n work items of team core, one created every 5
// minutes, each with a changelog (to do at creation, in progress an hour
// later, every seventh flagged for an hour, done a day later except every
// tenth), in two-week sprints of 4,032 items, a fifth each bugs, stories
// twice, tasks labelled tech-debt and tasks. It returns the period that
// covers them all.
func sprintHistory(tb testing.TB, db *store.DB, n int) delivery.Period {
	ctx := context.Background()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const sprintLength = 14 * 24 * time.Hour
	in := intake.New(db, nil)
	var events []delivery.Event
	flush := func() {
		if _, err := in.Events(ctx, "jira", events); err != nil {
			tb.Fatal(err)
		}
		events = events[:0]
	}
	on, off := true, false
	types := []string{"Bug", "Story", "Story", "Task", "Task"}
	for i := 0; i < n; i++ {
		created := t0.Add(time.Duration(i) * 5 * time.Minute)
		points := float64(i%5 + 1)
		s := int(created.Sub(t0) / sprintLength)
		start := t0.Add(time.Duration(s) * sprintLength)
		w := &delivery.WorkItem{Tracker: "jira", Key: fmt.Sprintf("CORE-%d", i), Team: "core", Type: types[i%5], Title: "item",
			Status: "Done", Category: delivery.CategoryDone, StoryPoints: &points, Assignee: fmt.Sprintf("dev%d", i%8), Labels: []string{},
			CreatedAt: created, UpdatedAt: created.Add(24 * time.Hour), ResolvedAt: created.Add(24 * time.Hour),
			Sprints: []delivery.SprintMembership{{ID: fmt.Sprint(s), Name: fmt.Sprintf("Sprint %d", s), State: "closed",
				StartAt: start, EndAt: start.Add(sprintLength), CompletedAt: start.Add(sprintLength), AddedAt: created}},
			Transitions: []delivery.Transition{{At: created, Status: "To Do"}, {At: created.Add(time.Hour), Status: "In Progress"}}}
		if i%5 == 3 {
			w.Labels = []string{"tech-debt"}
		}
		if i%7 == 0 {
			w.Transitions = append(w.Transitions, delivery.Transition{At: created.Add(2 * time.Hour), Flagged: &on}, delivery.Transition{At: created.Add(3 * time.Hour), Flagged: &off})
		}
		if i%10 == 0 {
			w.Status, w.Category, w.ResolvedAt, w.UpdatedAt = "In Progress", delivery.CategoryInProgress, time.Time{}, created.Add(3*time.Hour)
		} else {
			w.Transitions = append(w.Transitions, delivery.Transition{At: created.Add(24 * time.Hour), Status: "Done", Category: delivery.CategoryDone})
		}
		events = append(events, delivery.Event{Key: "w" + w.Key, Kind: delivery.KindWorkItem, WorkItem: w})
		if len(events) >= delivery.MaxBatch {
			flush()
		}
	}
	flush()
	return delivery.Period{From: t0, To: t0.Add(time.Duration(n)*5*time.Minute + 30*24*time.Hour)}
}

// rawWorkItemScan reads the rows the sprint report of team core reads,
// scanned into nothing.
func rawWorkItemScan(b *testing.B, raw *sql.DB, period delivery.Period) int {
	rows, err := raw.Query(numbered(`SELECT data FROM work_items WHERE (resolved_at IS NULL OR resolved_at < ?) AND team = ?`), period.To.UnixMicro(), "core")
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	n := 0
	var data sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&data); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkSprintReport is the sprint report of a team with 100,000 work
// items over their whole history, from SQLite and, when STRIDE_TEST_POSTGRES
// is set, PostgreSQL, against a raw scan of the same rows run alternately:
// x-raw-scan is the report's time over the scan's.
func BenchmarkSprintReport(b *testing.B) {
	const n = 100_000
	for name, open := range benchStores(b) {
		b.Run(name, func(b *testing.B) {
			db, raw := open(b)
			period := sprintHistory(b, db, n)
			ctx := context.Background()
			reader := &report.Reader{Store: db}
			var p pair
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				p.time(&p.reference, func() {
					if got := rawWorkItemScan(b, raw, period); got != n {
						b.Fatalf("raw scan read %d rows", got)
					}
				})
				b.StartTimer()
				p.time(&p.measured, func() {
					r, err := reader.Sprint(ctx, "core", period, false)
					if err != nil {
						b.Fatal(err)
					}
					done := 0
					for _, c := range r.Completed {
						done += c.Items
					}
					if done != n-n/10 || len(r.Sprints) == 0 {
						b.Fatalf("%d done in %d sprints, want %d", done, len(r.Sprints), n-n/10)
					}
				})
				p.rounds++
			}
			p.report(b, "raw-scan")
		})
	}
}
