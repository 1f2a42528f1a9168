package store_test

import (
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestChangeAncestryIsStoredAndMerged sends, in separate batches, what three
// pushes and then the git importer say of one merge commit m: a push that
// listed it inside (unknown), two pushes that ended on it (proving b, c and
// then a, f), and its true parents. The stored row unites the proofs, and
// the true parents replace them.
func TestChangeAncestryIsStoredAndMerged(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	change := func(key string, a delivery.Ancestry, parents, proven []string) delivery.Event {
		return delivery.Event{Key: key, Kind: delivery.KindChange, Change: &delivery.Change{
			Repository: "acme/shop", SHA: "m", CommitTime: t0, Ancestry: a, Parents: parents, ProvenAncestors: proven}}
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		row := func() string {
			t.Helper()
			s, err := db.StringForTest(ctx, `SELECT ancestry || '|' || proven_ancestors || '|' || parents FROM changes WHERE sha = 'm'`)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		steps := []struct {
			event delivery.Event
			want  string // ancestry|proven_ancestors|parents
		}{
			{change("inside", delivery.AncestryUnknown, nil, nil), "unknown||"},
			{change("head-1", delivery.AncestryProven, nil, []string{"c", "b"}), "proven|b c|"},
			{change("head-2", delivery.AncestryProven, nil, []string{"f", "a"}), "proven|a b c f|"},
			{change("inside-again", delivery.AncestryUnknown, nil, nil), "proven|a b c f|"},
			{change("git", delivery.AncestryParents, []string{"c", "f"}, nil), "||c f"},
			{change("head-3", delivery.AncestryProven, nil, []string{"x"}), "||c f"},
		}
		for _, s := range steps {
			ingest(t, db, s.event)
			if got := row(); got != s.want {
				t.Errorf("after %s: row %q, want %q", s.event.Key, got, s.want)
			}
		}
	})
}
