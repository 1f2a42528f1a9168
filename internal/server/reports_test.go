package server_test

import (
	"context"

	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/store"
	"github.com/stride-oss/stride/internal/store/storetest"
)

// reader is the report path the tests' servers use: as in the binary, it
// brings stale shipments up to date before reading.
func reader(db *store.DB) *report.Reader {
	return &report.Reader{Store: db, Fresh: storetest.Fresh(db)}
}

// latestGates is what a promotion of service@sha judges: the latest stored
// result of each gate.
func latestGates(db *store.DB, service, sha string) ([]rings.GateRun, error) {
	results, err := db.GateResults(context.Background(), service, sha)
	if err != nil {
		return nil, err
	}
	var runs []rings.GateRun
	for _, g := range results {
		runs = append(runs, rings.GateRun{Name: g.Name, Passed: g.Verdict == string(gate.Pass), At: g.RecordedAt})
	}
	return rings.LatestGates(runs), nil
}
