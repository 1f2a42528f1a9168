package store_test

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// TestRowsOfThePreviousReleaseReadBack inserts pull requests, work items and
// builds raw, in the JSON the previous release wrote (testdata/
// persisted_v1.json, the Go field names of structs without json tags), then
// sends a sparse, older report of each entity. The store reads the stored
// row back, merges and writes it: every value of the old row must survive,
// under the same name. A json tag that no longer matches the stored name
// loses the value and fails here.
func TestRowsOfThePreviousReleaseReadBack(t *testing.T) {
	file, err := os.ReadFile("testdata/persisted_v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var rows map[string]json.RawMessage
	if err := json.Unmarshal(file, &rows); err != nil {
		t.Fatal(err)
	}
	at := func(h int) int64 { return time.Date(2026, 3, 2, h, 0, 0, 0, time.UTC).UnixMicro() }
	earlier := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	// Each table's raw insert (key and indexed columns worked out from the
	// testdata row by hand), its sparse report, and its row's key.
	cases := []struct {
		table, insert, where string
		report               delivery.Event
	}{
		{"pull_requests", "INSERT INTO pull_requests (repository, number, merged_at, merge_sha, data) VALUES ('acme/shop', 42, " + itoa(at(12)) + ", 'abc123', %s)",
			"repository = 'acme/shop' AND number = 42",
			delivery.Event{Key: "pr-old", Kind: delivery.KindPullRequest, PullRequest: &delivery.PullRequest{Repository: "acme/shop", Number: 42, UpdatedAt: earlier}}},
		{"work_items", "INSERT INTO work_items (tracker, key, team, resolved_at, data) VALUES ('jira', 'PAY-7', 'payments', " + itoa(at(15)) + ", %s)",
			"tracker = 'jira' AND key = 'PAY-7'",
			delivery.Event{Key: "wi-old", Kind: delivery.KindWorkItem, WorkItem: &delivery.WorkItem{Tracker: "jira", Key: "PAY-7", UpdatedAt: earlier}}},
		{"builds", "INSERT INTO builds (repository, id, sha, finished_at, data) VALUES ('acme/shop', '991', 'abc123', " + itoa(at(13)) + ", %s)",
			"repository = 'acme/shop' AND id = '991'",
			delivery.Event{Key: "b-old", Kind: delivery.KindBuild, Build: &delivery.Build{Repository: "acme/shop", ID: "991", UpdatedAt: earlier}}},
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		for _, c := range cases {
			old := string(rows[c.table])
			if old == "" {
				t.Fatalf("testdata has no %s row", c.table)
			}
			if err := db.ExecForTest(ctx, strings.Replace(c.insert, "%s", "'"+strings.ReplaceAll(old, "'", "''")+"'", 1)); err != nil {
				t.Fatalf("%s: %v", c.table, err)
			}
			ingest(t, db, c.report)
			stored, err := db.StringForTest(ctx, "SELECT data FROM "+c.table+" WHERE "+c.where)
			if err != nil {
				t.Fatalf("%s: %v", c.table, err)
			}
			var want, got map[string]any
			if err := json.Unmarshal([]byte(old), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(stored), &got); err != nil {
				t.Fatal(err)
			}
			for k, v := range want {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("%s: %s was %v in the old row, is %v after a merge (json tags must keep the stored names)", c.table, k, v, got[k])
				}
			}
		}
		// Spot checks, by hand: the values a report reads most.
		var pr delivery.PullRequest
		if s, err := db.StringForTest(ctx, "SELECT data FROM pull_requests"); err != nil || json.Unmarshal([]byte(s), &pr) != nil {
			t.Fatalf("read pull request: %v", err)
		}
		if !pr.MergedAt.Equal(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)) || pr.MergeSHA != "abc123" || pr.ReviewComments != 9 {
			t.Errorf("pull request read back as %+v", pr)
		}
		var w delivery.WorkItem
		if s, err := db.StringForTest(ctx, "SELECT data FROM work_items"); err != nil || json.Unmarshal([]byte(s), &w) != nil {
			t.Fatalf("read work item: %v", err)
		}
		if w.StoryPoints == nil || *w.StoryPoints != 3.5 || w.Category != delivery.CategoryDone || !w.AcceptanceCriteria {
			t.Errorf("work item read back as %+v", w)
		}
	})
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
