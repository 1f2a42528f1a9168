package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestOpenWorkItems checks the read behind the open-bugs release criterion:
// of five issues, worked by hand, the open ones of service api are PAY-1
// (bug) and PAY-4 (story); PAY-2 is done, PAY-3 belongs to web only, PAY-5
// was deleted, and PAY-6 names a service whose name contains api's.
func TestOpenWorkItems(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	item := func(key, typ string, cat delivery.WorkItemCategory, services ...string) delivery.WorkItem {
		return delivery.WorkItem{Tracker: "jira", Key: key, Type: typ, Category: cat, Priority: "High", Services: services, UpdatedAt: t0}
	}
	deleted := item("PAY-5", "Bug", delivery.CategoryToDo, "api")
	deleted.Deleted = true
	done := item("PAY-2", "Bug", delivery.CategoryDone, "api")
	done.ResolvedAt = t0
	items := []delivery.WorkItem{
		item("PAY-1", "Bug", delivery.CategoryInProgress, "api", "web"),
		done,
		item("PAY-3", "Bug", delivery.CategoryToDo, "web"),
		item("PAY-4", "Story", delivery.CategoryToDo, "api"),
		deleted,
		item("PAY-6", "Bug", delivery.CategoryToDo, "api_gateway"),
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		var events []delivery.Event
		for i := range items {
			w := items[i]
			events = append(events, delivery.Event{Key: "w-" + w.Key, Kind: delivery.KindWorkItem, Source: "jira", WorkItem: &w})
		}
		ingest(t, db, events...)
		for _, c := range []struct {
			types []string
			want  []string
		}{
			{nil, []string{"PAY-1", "PAY-4"}},
			{[]string{"bug"}, []string{"PAY-1"}},
			{[]string{"Incident"}, nil},
		} {
			got, err := db.OpenWorkItems(ctx, "api", c.types)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, w := range got {
				keys = append(keys, w.Key)
			}
			if !slices.Equal(keys, c.want) {
				t.Errorf("types %v: got %v, want %v", c.types, keys, c.want)
			}
		}
		// Closing PAY-1 through a later report takes it out.
		closed := items[0]
		closed.Category, closed.ResolvedAt, closed.UpdatedAt = delivery.CategoryDone, t0.Add(time.Hour), t0.Add(time.Hour)
		ingest(t, db, delivery.Event{Key: "w-close", Kind: delivery.KindWorkItem, Source: "jira", WorkItem: &closed})
		if got, err := db.OpenWorkItems(ctx, "api", []string{"Bug"}); err != nil || len(got) != 0 {
			t.Errorf("after closing PAY-1: %v %v", got, err)
		}
	})
}
