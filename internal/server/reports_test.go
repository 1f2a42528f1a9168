package server_test

import (
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
)

// reader is the report path the tests' servers use: as in the binary, it
// brings stale shipments up to date before reading.
func reader(db *store.DB) *report.Reader {
	return &report.Reader{Store: db, Fresh: report.RefreshFirst(db)}
}
