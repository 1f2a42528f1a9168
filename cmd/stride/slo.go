package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/rings"
	"github.com/stride-oss/stride/internal/slo"
	"github.com/stride-oss/stride/internal/sloeval"
	"github.com/stride-oss/stride/internal/store"
)

// runSLO is `stride slo apply|list|rules`.
func runSLO(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "apply" && args[0] != "list" && args[0] != "rules") {
		fmt.Fprintln(stderr, "stride slo: name a command: apply -f FILE, list or rules")
		return 2
	}
	sub := args[0]
	fs := newFlags("slo "+sub, stderr)
	var c common
	c.register(fs)
	file := fs.String("f", "", "apply: the OpenSLO file (SLO and SLI documents); - reads standard input")
	service := fs.String("service", "", "list, rules: only this service's SLOs")
	format := fs.String("format", "table", "list: table or json")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if sub == "apply" && *file == "" {
		fmt.Fprintln(stderr, "stride slo apply: -f FILE is required")
		return 2
	}
	_, db, err := c.load(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	switch sub {
	case "apply":
		r := io.Reader(os.Stdin)
		if *file != "-" {
			f, err := os.Open(*file)
			if err != nil {
				return fail(stderr, delivery.Errorf(delivery.EINVALID, "%v", err))
			}
			defer f.Close()
			r = f
		}
		defs, err := slo.ParseOpenSLO(r)
		if err != nil {
			return fail(stderr, err)
		}
		created, err := intake.New(db, nil).SLOs(ctx, defs)
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "applied %d SLOs: %d new, %d replaced\n", len(defs), created, len(defs)-created)
	case "list":
		defs, err := sloeval.Definitions(ctx, db, *service)
		if err != nil {
			return fail(stderr, err)
		}
		if *format == "json" {
			if defs == nil {
				defs = []slo.SLO{}
			}
			if err := writeJSON(stdout, defs); err != nil {
				return fail(stderr, err)
			}
			return 0
		}
		fmt.Fprintf(stdout, "%-30s %-15s %-10s %-10s %s\n", "SLO", "SERVICE", "OBJECTIVE", "WINDOW", "SOURCE")
		for _, d := range defs {
			fmt.Fprintf(stdout, "%-30s %-15s %-10s %-10s %s\n", d.Name, d.Service, d.Objective.Percent(), d.Window.Describe(), d.SourceType())
		}
	case "rules":
		defs, err := sloeval.Definitions(ctx, db, *service)
		if err != nil {
			return fail(stderr, err)
		}
		out, err := slo.Rules(defs)
		if err != nil {
			return fail(stderr, err)
		}
		stdout.Write(out)
	}
	return 0
}

// runMaintenance is `stride maintenance add|list`.
func runMaintenance(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "add" && args[0] != "list") {
		fmt.Fprintln(stderr, "stride maintenance: name a command: add --service S --from T --to T --reason R, or list")
		return 2
	}
	sub := args[0]
	fs := newFlags("maintenance "+sub, stderr)
	var c common
	c.register(fs)
	service := fs.String("service", "", "the service under maintenance")
	from := fs.String("from", "", "add: start, RFC 3339 (2026-03-14T02:00:00Z)")
	to := fs.String("to", "", "add: end, RFC 3339")
	reason := fs.String("reason", "", "add: what the maintenance is for")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	_, db, err := c.load(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	if sub == "list" {
		ms, err := db.Maintenance(ctx, *service, time.Now().AddDate(0, 0, -30), time.Now().AddDate(1, 0, 0))
		if err != nil {
			return fail(stderr, err)
		}
		for _, m := range ms {
			sm := slo.Maintenance{Service: m.Service, From: m.From, To: m.To, AnnouncedAt: m.AnnouncedAt}
			fmt.Fprintf(stdout, "%s  %s  %s → %s  scheduled %v  %s\n", m.ID, m.Service, m.From.Format(time.RFC3339), m.To.Format(time.RFC3339), sm.Scheduled(), m.Reason)
		}
		return 0
	}
	var f, t time.Time
	for _, p := range []struct {
		flag, v string
		into    *time.Time
	}{{"from", *from, &f}, {"to", *to, &t}} {
		v, err := time.Parse(time.RFC3339, p.v)
		if err != nil {
			return fail(stderr, delivery.FieldError(p.flag, "--%s %q is not an RFC 3339 time", p.flag, p.v))
		}
		*p.into = v
	}
	m, err := intake.New(db, nil).Maintenance(ctx, slo.Maintenance{Service: *service, From: f, To: t, Reason: *reason})
	if err != nil {
		return fail(stderr, err)
	}
	note := "announced at least 7 days ahead: its calls are left out of the SLI"
	if !m.Scheduled() {
		note = "announced less than 7 days ahead: recorded and shown, but its calls count"
	}
	fmt.Fprintf(stdout, "recorded maintenance of %s from %s to %s; %s\n", m.Service, m.From.Format(time.RFC3339), m.To.Format(time.RFC3339), note)
	return 0
}

// runReportSLO is `stride report slo`. A command line is not a request:
// it assesses the stored buckets at the present moment itself, so it
// answers without a server running the evaluation job.
func runReportSLO(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report slo", stderr)
	var c common
	c.register(fs)
	service := fs.String("service", "", "report on one service's SLOs")
	team := fs.String("team", "", "report on a team's SLOs")
	calendar := fs.String("calendar", "", "compliance per calendar period: week or month")
	from := fs.String("from", "", "--calendar: first period's start, a date or RFC 3339 time (default: 3 periods ago)")
	to := fs.String("to", "", "--calendar: end (default: now)")
	explain := fs.String("explain", "", "list the minutes that spent the budget of one SLO")
	format := fs.String("format", "table", "table or json")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !checkReport("report slo", *format, *service, *team, stderr) {
		return 2
	}
	if *calendar != "" && *calendar != slo.Week && *calendar != slo.Month {
		fmt.Fprintf(stderr, "stride report slo: --calendar must be week or month, not %q\n", *calendar)
		return 2
	}
	_, db, err := c.load(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	now := time.Now().UTC().Truncate(time.Minute)

	if *explain != "" {
		def, err := sloeval.Definition(ctx, db, *explain)
		if err != nil {
			return fail(stderr, err)
		}
		sr, err := sloeval.Series(ctx, db, def, time.Time{}, now)
		if err != nil {
			return fail(stderr, err)
		}
		spends := slo.Explain(sr, now, 20)
		if *format == "json" {
			return jsonOut(stdout, stderr, map[string]any{"slo": def.Name, "service": def.Service, "spent": orEmpty(spends)})
		}
		if err := slo.WriteExplain(stdout, spends); err != nil {
			return fail(stderr, err)
		}
		return 0
	}

	defs, err := sloeval.Definitions(ctx, db, *service)
	if err != nil {
		return fail(stderr, err)
	}
	if *team != "" {
		services, err := db.ScopeServices(ctx, store.Scope{Team: *team})
		if err != nil {
			return fail(stderr, err)
		}
		defs = slices.DeleteFunc(defs, func(d slo.SLO) bool { return !slices.Contains(services, d.Service) })
	}

	if *calendar != "" {
		period, err := delivery.ParsePeriod(*from, *to, now)
		if err != nil {
			return fail(stderr, err)
		}
		start, end := period.From, period.To
		if *from == "" {
			start = now.AddDate(0, -3, 0)
			if *calendar == slo.Week {
				start = now.AddDate(0, 0, -21)
			}
		}
		var rows []slo.Period
		for _, d := range defs {
			sr, err := sloeval.Series(ctx, db, d, start, now)
			if err != nil {
				return fail(stderr, err)
			}
			rows = append(rows, slo.Compliance(sr, *calendar, start, end)...)
		}
		if *format == "json" {
			return jsonOut(stdout, stderr, orEmpty(rows))
		}
		if err := slo.WriteCompliance(stdout, rows); err != nil {
			return fail(stderr, err)
		}
		return 0
	}

	var reports []slo.Report
	for _, d := range defs {
		sr, err := sloeval.Series(ctx, db, d, time.Time{}, now)
		if err != nil {
			return fail(stderr, err)
		}
		reports = append(reports, slo.Assess(sr, now, slo.Options{}))
	}
	if *format == "json" {
		return jsonOut(stdout, stderr, orEmpty(reports))
	}
	if err := slo.WriteTable(stdout, reports); err != nil {
		return fail(stderr, err)
	}
	return 0
}

// runRings is `stride rings export --format flagd`.
func runRings(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "export" {
		fmt.Fprintln(stderr, "stride rings: name a command: export --format flagd")
		return 2
	}
	fs := newFlags("rings export", stderr)
	var c common
	c.register(fs)
	format := fs.String("format", "flagd", "flagd (an OpenFeature flagd flag definition)")
	service := fs.String("service", "", "the service whose rings to export (default: every configured service)")
	sha := fs.String("sha", "", "the release whose rollout the flags follow (default: none reached)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *format != "flagd" {
		fmt.Fprintf(stderr, "stride rings export: --format must be flagd, not %q\n", *format)
		return 2
	}
	cfg, db, err := c.load(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	var services []string
	if *service != "" {
		services = []string{*service}
	} else {
		for _, s := range cfg.Services {
			services = append(services, s.Name)
		}
	}
	if len(services) == 0 {
		return fail(stderr, delivery.FieldError("service", "no service to export: give --service or configure services in stride.yaml"))
	}
	var rollouts []rings.Rollout
	for _, name := range services {
		rc := cfg.Rings(name)
		var deps []delivery.Deployment
		if *sha != "" {
			if deps, err = db.CommitDeployments(ctx, name, *sha); err != nil {
				return fail(stderr, err)
			}
		}
		rollouts = append(rollouts, rings.Rollout{Config: rc, Position: rings.Locate(rc, *sha, deps, time.Now())})
	}
	out, err := rings.Flagd(rollouts)
	if err != nil {
		return fail(stderr, err)
	}
	stdout.Write(out)
	return 0
}

func jsonOut(stdout, stderr io.Writer, v any) int {
	if err := writeJSON(stdout, v); err != nil {
		return fail(stderr, err)
	}
	return 0
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
