package intake

import (
	"context"
	"time"

	"github.com/stride-oss/stride/internal/jobs"
)

// TaskShipments names the job that derives which deployment shipped which
// change for the services the write path marked stale.
const TaskShipments = "shipments"

// ShipmentsTask is the job that brings stale shipments up to date. Writes
// only mark services stale, cheaply and in their own transaction; this job,
// run by the one runner main owns, does the derivation, so neither a
// request nor a report read computes it. Every 2 s, and on a large history
// (a refresh of 200,000 changes takes seconds) at most a fifth of a core.
func (in *Intake) ShipmentsTask() jobs.Task {
	return jobs.Task{Name: TaskShipments, Every: 2 * time.Second, Share: 0.2, Run: func(ctx context.Context) error {
		_, err := in.db.RefreshShipments(ctx)
		return err
	}}
}
