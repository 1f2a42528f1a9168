package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/impacteval"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/jobs"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
)

// impactTasks are the deployment impact job and, when a service names
// Prometheus queries, their pull, as stride.yaml configures them.
func impactTasks(cfg config.Config, db *store.DB, in *intake.Intake) ([]jobs.Task, error) {
	def, per, apdexT, err := cfg.ImpactSettings()
	if err != nil {
		return nil, err
	}
	services := map[string]impacteval.Service{}
	pulled := false
	for name, s := range per {
		services[name] = impacteval.Service{Options: s.Options, Queries: impacteval.Queries{Calls: s.Calls, Errors: s.Errors, Latency: s.Latency,
			Apdex: impacteval.ApdexQueries{WithinT: s.Apdex.WithinT, Within4T: s.Apdex.Within4T, Total: s.Apdex.Total}, ApdexT: apdexT[name]}}
		pulled = pulled || s.Calls != "" || s.Latency != "" || s.Apdex.Total != ""
	}
	tasks := []jobs.Task{(&impacteval.Job{DB: db, Now: time.Now, Options: def, Services: services}).Task()}
	if pulled {
		tasks = append(tasks, (&impacteval.Pull{Intake: in, DB: db, URL: cfg.SLOs.PrometheusURL, Now: time.Now, Services: services}).Task())
	}
	return tasks, nil
}

// runReportImpact is `stride report impact`: what the impact job stored,
// read through the read path.
func runReportImpact(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report impact", stderr)
	var rf reportFlags
	rf.register(fs, "a deployment id: list the minute figures behind its result")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !checkReport("report impact", rf.format, rf.service, rf.team, stderr) {
		return 2
	}
	period, _, db, reports, err := rf.open(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	rep, err := reports.Impact(ctx, store.Scope{Service: rf.service, Team: rf.team}, period, rf.explain != "")
	if err != nil {
		return fail(stderr, err)
	}
	if rf.explain != "" {
		rep = report.OnlyDeployment(rep, rf.explain)
		if len(rep.Deployments) == 0 {
			return fail(stderr, delivery.Errorf(delivery.ENOTFOUND, "no assessed deployment %s in the period", rf.explain))
		}
	}
	if rf.format == "json" {
		err = writeJSON(stdout, rep)
	} else {
		err = report.WriteImpactTable(stdout, rep)
	}
	if err != nil {
		return fail(stderr, fmt.Errorf("write the impact report: %w", err))
	}
	return 0
}
