package store_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestBuildsReadWhatWasMerged: two reports of a re-run merge to one build
// (attempt 2, its default branch, its first start); Builds reads it from
// its columns, reads a row written before the columns existed (status
// NULL) from its JSON, and leaves out builds outside the period, of other
// repositories and not finished.
func TestBuildsReadWhatWasMerged(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ev := func(key string, b delivery.Build) delivery.Event {
			return delivery.Event{Key: key, Kind: delivery.KindBuild, Build: &b}
		}
		_, err := intake.New(db, nil).Events(ctx, "api", []delivery.Event{
			ev("1a", delivery.Build{Repository: "r", ID: "1", Name: "ci", SHA: "s", Branch: "main", Status: delivery.BuildFailure, Attempt: 1,
				StartedAt: t0, FinishedAt: t0.Add(time.Minute), DefaultBranch: "main"}),
			ev("1b", delivery.Build{Repository: "r", ID: "1", Name: "ci", SHA: "s", Branch: "main", Status: delivery.BuildSuccess, Attempt: 2,
				StartedAt: t0.Add(time.Hour), FinishedAt: t0.Add(time.Hour + 2*time.Minute)}),
			ev("2", delivery.Build{Repository: "r", ID: "2", Name: "lint", Branch: "dev", Status: delivery.BuildSuccess, StartedAt: t0, FinishedAt: t0.Add(3 * time.Minute)}),
			ev("3", delivery.Build{Repository: "r", ID: "3", Name: "ci", Status: delivery.BuildRunning, StartedAt: t0}),
			ev("4", delivery.Build{Repository: "other", ID: "4", Name: "ci", Status: delivery.BuildSuccess, FinishedAt: t0.Add(time.Minute)}),
			ev("5", delivery.Build{Repository: "r", ID: "5", Name: "ci", Status: delivery.BuildSuccess, FinishedAt: t0.Add(25 * time.Hour)}),
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []delivery.Build{
			{Repository: "r", ID: "1", Name: "ci", SHA: "s", Branch: "main", Status: delivery.BuildSuccess, Attempt: 2, StartedAt: t0,
				FinishedAt: t0.Add(time.Hour + 2*time.Minute), UpdatedAt: t0.Add(time.Hour + 2*time.Minute), DefaultBranch: "main"},
			{Repository: "r", ID: "2", Name: "lint", Branch: "dev", Status: delivery.BuildSuccess, StartedAt: t0, FinishedAt: t0.Add(3 * time.Minute), UpdatedAt: t0.Add(3 * time.Minute)},
		}
		read := func() []delivery.Build {
			got, err := db.Builds(ctx, t0, t0.Add(24*time.Hour), "r")
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(got, func(a, b delivery.Build) int { return strings.Compare(a.ID, b.ID) })
			return got
		}
		if got := read(); !reflect.DeepEqual(got, want) {
			t.Errorf("from the columns\n got %+v\nwant %+v", got, want)
		}
		if err := db.ExecForTest(ctx, `UPDATE builds SET status = NULL, name = NULL, branch = NULL, started_at = NULL WHERE id = '1'`); err != nil {
			t.Fatal(err)
		}
		if got := read(); !reflect.DeepEqual(got, want) {
			t.Errorf("a row from before the columns\n got %+v\nwant %+v", got, want)
		}
		if all, err := db.Builds(ctx, t0, t0.Add(24*time.Hour)); err != nil || len(all) != 3 {
			t.Errorf("every repository: %d builds, %v; want 3", len(all), err)
		}
	})
}
