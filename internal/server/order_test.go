package server_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/conformance"
)

// twoEnvironments are GitHub's own deliveries of one deployment id,
// 145988746, to two environments (production and github-pages), a
// deployment and a status each, moved into the history's repository and
// day. Their keys once omitted the environment, so whichever came second
// was taken for a repeat of the first and dropped, and the reports
// depended on the order of arrival.
func twoEnvironments(t *testing.T) []hook {
	dir := conformance.Dir(t, "github")
	var hooks []hook
	for i, f := range []struct {
		event, file       string
		created, statusAt time.Time
	}{
		{"deployment", "deployment/payload.json", at(16, 0), time.Time{}},
		{"deployment_status", "deployment_status/payload.json", at(16, 0), at(16, 5)},
		{"deployment", "deployment/gh-pages.payload.json", at(16, 10), time.Time{}},
		{"deployment_status", "deployment_status/gh-pages.payload.json", at(16, 10), at(16, 12)},
	} {
		body := edit(t, filepath.Join(dir, f.file), func(m map[string]any) {
			inRepo(m)
			set(m, "deployment.created_at", ts(f.created))
			set(m, "deployment.updated_at", ts(f.created))
			if !f.statusAt.IsZero() {
				set(m, "deployment_status.created_at", ts(f.statusAt))
				set(m, "deployment_status.updated_at", ts(f.statusAt))
			}
		})
		hooks = append(hooks, ghHook(f.event, fmt.Sprintf("two-environments-%d", i), body))
	}
	return hooks
}

// TestReversedShuffledAndTripledDeliveriesGiveIdenticalReports sends the
// scripted history and the two-environment deployment in order, reversed,
// shuffled, and every delivery three times shuffled: the DORA and flow
// reports must be byte for byte the same, and both environments' rows of
// deployment 145988746 stored.
func TestReversedShuffledAndTripledDeliveriesGiveIdenticalReports(t *testing.T) {
	forEachDB(t, func(t *testing.T, open func(t *testing.T) *harness) {
		hooks := append(history(t), twoEnvironments(t)...)
		h := open(t)
		sendAll(t, h, hooks)
		_, _, want := reports(t, h.db)
		var envs []string
		rows, err := h.raw.Query(rebind(h, "SELECT environment FROM deployments WHERE id = ? ORDER BY environment"), "145988746")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var e string
			rows.Scan(&e)
			envs = append(envs, e)
		}
		rows.Close()
		if !slices.Equal(envs, []string{"github-pages", "production"}) {
			t.Fatalf("deployment 145988746 stored for %v, want [github-pages production]", envs)
		}
		reversed := slices.Clone(hooks)
		slices.Reverse(reversed)
		shuffled := slices.Clone(hooks)
		rand.New(rand.NewPCG(7, 7)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		tripled := slices.Concat(hooks, hooks, hooks)
		rand.New(rand.NewPCG(3, 3)).Shuffle(len(tripled), func(i, j int) { tripled[i], tripled[j] = tripled[j], tripled[i] })
		for _, c := range []struct {
			name  string
			hooks []hook
		}{{"reversed", reversed}, {"shuffled", shuffled}, {"tripled and shuffled", tripled}} {
			t.Run(c.name, func(t *testing.T) {
				h := open(t)
				sendAll(t, h, c.hooks)
				if _, _, got := reports(t, h.db); got != want {
					t.Errorf("reports differ from the in-order ones:\n%s\nwant\n%s", got, want)
				}
				if n := h.counts(t)["raw_deliveries"]; n != len(hooks) {
					t.Errorf("%d raw deliveries stored, want %d (each once)", n, len(hooks))
				}
			})
		}
	})
}
