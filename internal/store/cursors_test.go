package store_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

func TestCursors(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }

		first, err := db.Cursor(ctx, "github", "acme/api", "pulls")
		if err != nil {
			t.Fatal(err)
		}
		if want := (store.Cursor{Source: "github", Scope: "acme/api", Resource: "pulls"}); first != want {
			t.Fatalf("cursor before any save = %+v, want %+v", first, want)
		}

		// Nanoseconds are cut to microseconds, the precision of every stored time.
		since := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
		c := store.Cursor{Source: "github", Scope: "acme/api", Resource: "pulls", Since: since, ETag: `W/"abc"`}
		if err := db.SaveCursor(ctx, c); err != nil {
			t.Fatal(err)
		}
		other := store.Cursor{Source: "github", Scope: "acme/web", Resource: "commits:main", LastID: "9fceb02"}
		if err := db.SaveCursor(ctx, other); err != nil {
			t.Fatal(err)
		}
		got, err := db.Cursor(ctx, "github", "acme/api", "pulls")
		if err != nil {
			t.Fatal(err)
		}
		want := store.Cursor{Source: "github", Scope: "acme/api", Resource: "pulls",
			Since: time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC), ETag: `W/"abc"`, UpdatedAt: now}
		if got != want {
			t.Fatalf("cursor = %+v, want %+v", got, want)
		}

		// A second save replaces the first: the newer position, a cleared ETag.
		now = now.Add(time.Hour)
		c.Since, c.ETag, c.LastID = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), "", "77"
		if err := db.SaveCursor(ctx, c); err != nil {
			t.Fatal(err)
		}
		list, err := db.Cursors(ctx, "github")
		if err != nil {
			t.Fatal(err)
		}
		wantList := []store.Cursor{
			{Source: "github", Scope: "acme/api", Resource: "pulls", Since: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), LastID: "77", UpdatedAt: now},
			{Source: "github", Scope: "acme/web", Resource: "commits:main", LastID: "9fceb02", UpdatedAt: now.Add(-time.Hour)},
		}
		if !reflect.DeepEqual(list, wantList) {
			t.Fatalf("cursors = %+v, want %+v", list, wantList)
		}
		if list, err := db.Cursors(ctx, "gitlab"); err != nil || len(list) != 0 {
			t.Errorf("cursors of another source = %+v, %v; want none", list, err)
		}
	})
}

func TestSaveCursorNeedsItsKey(t *testing.T) {
	db := storetest.SQLite(t)
	err := db.SaveCursor(ctx, store.Cursor{Source: "github", Resource: "pulls"})
	if delivery.ErrorCode(err) != delivery.EINVALID {
		t.Fatalf("saving a cursor without a scope: %v, want %s", err, delivery.EINVALID)
	}
}
