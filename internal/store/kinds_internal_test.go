package store

import (
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
)

// TestEveryKindHasATable checks that each kind the domain declares has a
// table here, written in kindOrder, with as many key columns as its key has
// parts, so a kind added to delivery.Kinds and not here fails at once.
func TestEveryKindHasATable(t *testing.T) {
	samples := map[delivery.Kind]delivery.Event{
		delivery.KindChange:      {Kind: delivery.KindChange, Change: &delivery.Change{}},
		delivery.KindDeployment:  {Kind: delivery.KindDeployment, Deployment: &delivery.Deployment{}},
		delivery.KindIncident:    {Kind: delivery.KindIncident, Incident: &delivery.Incident{}},
		delivery.KindPullRequest: {Kind: delivery.KindPullRequest, PullRequest: &delivery.PullRequest{}},
		delivery.KindWorkItem:    {Kind: delivery.KindWorkItem, WorkItem: &delivery.WorkItem{}},
		delivery.KindBuild:       {Kind: delivery.KindBuild, Build: &delivery.Build{}},
	}
	if len(kindOrder) != len(delivery.Kinds) || len(entityTables) != len(delivery.Kinds) {
		t.Fatalf("%d kinds declared, %d ordered, %d tables", len(delivery.Kinds), len(kindOrder), len(entityTables))
	}
	for _, kind := range kindOrder {
		spec, ok := delivery.Kinds[kind]
		table, hasTable := entityTables[kind]
		e, sampled := samples[kind]
		if !ok || !hasTable || !sampled {
			t.Errorf("%s: declared %v, table %v, sampled %v", kind, ok, hasTable, sampled)
			continue
		}
		if n := len(spec.Key(e)); n != len(table.keys) {
			t.Errorf("%s: the key has %d parts, the table %s %d key columns", kind, n, table.table, len(table.keys))
		}
	}
}
