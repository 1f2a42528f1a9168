package store

import (
	"slices"
	"testing"
)

// TestRowChunksCoverEveryRowInFewFixedSizes checks that a batch of any size
// is cut into chunks that add up to it: on SQLite only of the fixed sizes
// (so each is prepared once) and few of them, elsewhere of at most the
// given size.
func TestRowChunksCoverEveryRowInFewFixedSizes(t *testing.T) {
	sqlite, postgres := &DB{dialect: SQLite}, &DB{dialect: Postgres}
	for n := 0; n <= 1200; n++ {
		for _, most := range []int{500, 1000} {
			sizes := sqlite.rowChunks(n, most)
			sum := 0
			for _, s := range sizes {
				sum += s
				if !slices.Contains(sqliteChunks, s) {
					t.Fatalf("sqlite, %d rows: a chunk of %d rows, not one of %v", n, s, sqliteChunks)
				}
			}
			if sum != n {
				t.Fatalf("sqlite, %d rows: chunks %v add up to %d", n, sizes, sum)
			}
			// The largest size as often as it fits, then fewer than
			// largest/next of each smaller size.
			if bound := n/sqliteChunks[0] + 2*(sqliteChunks[1]-1); len(sizes) > bound {
				t.Fatalf("sqlite, %d rows: %d chunks, more than %d", n, len(sizes), bound)
			}
			sizes = postgres.rowChunks(n, most)
			sum = 0
			for _, s := range sizes {
				sum += s
				if s < 1 || s > most {
					t.Fatalf("postgres, %d rows: a chunk of %d rows, most %d", n, s, most)
				}
			}
			if sum != n || len(sizes) != (n+most-1)/most {
				t.Fatalf("postgres, %d rows: chunks %v", n, sizes)
			}
		}
	}
}
