package main

import (
	"context"
	"io"
	"strings"

	// The zone database in the binary: teams' working hours name IANA
	// zones, and a container image may carry none.
	_ "time/tzdata"

	"github.com/stride-oss/stride/internal/cihealth"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/store"
)

// runReportCI is `stride report ci` and `stride report deploy-hours`.
func runReportCI(ctx context.Context, kind string, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report "+kind, stderr)
	var rf reportFlags
	help := "list the builds or changes behind one figure: " + strings.Join(cihealth.Figures[:4], ", ")
	if kind == "deploy-hours" {
		help = "list the deployments behind the report, each at its local time (give deploy_hours)"
	}
	rf.register(fs, help)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !checkReport("report", rf.format, rf.service, rf.team, stderr) {
		return 2
	}
	period, _, db, reports, err := rf.open(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	scope := store.Scope{Service: rf.service, Team: rf.team}
	var out any
	var table func() error
	switch {
	case kind == "deploy-hours" && rf.explain != "":
		if rf.explain != "deploy_hours" {
			return fail(stderr, delivery.FieldError("explain", "report deploy-hours explains deploy_hours only, not %q", rf.explain))
		}
		e, err := reports.DeployHoursExplain(ctx, scope, period)
		if err != nil {
			return fail(stderr, err)
		}
		out, table = e, func() error { return cihealth.WriteExplanation(stdout, e) }
	case kind == "deploy-hours":
		r, err := reports.DeployHours(ctx, scope, period)
		if err != nil {
			return fail(stderr, err)
		}
		out, table = r, func() error { return cihealth.WriteHoursTable(stdout, r) }
	case rf.explain != "":
		if rf.explain == "deploy_hours" {
			return fail(stderr, delivery.FieldError("explain", "deploy_hours is explained by `stride report deploy-hours --explain deploy_hours`"))
		}
		e, err := reports.CIExplain(ctx, scope, period, rf.explain)
		if err != nil {
			return fail(stderr, err)
		}
		out, table = e, func() error { return cihealth.WriteExplanation(stdout, e) }
	default:
		r, err := reports.CI(ctx, scope, period)
		if err != nil {
			return fail(stderr, err)
		}
		out, table = r, func() error { return cihealth.WriteTable(stdout, r) }
	}
	if rf.format == "json" {
		return exitOf(stderr, writeJSON(stdout, out))
	}
	return exitOf(stderr, table())
}
