// Command stride is Stride's one binary: the server, the importers, the
// reports and the CI gate. It only wires the internal packages together.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/stride-oss/stride/internal/buildinfo"
	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/flow"
	"github.com/stride-oss/stride/internal/impacteval"
	"github.com/stride-oss/stride/internal/ingest"
	gitimport "github.com/stride-oss/stride/internal/ingest/git"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/jobs"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/sloeval"
	"github.com/stride-oss/stride/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `stride: how fast and how safely do we ship?

Usage:
  stride serve          [--db URL] [--addr :8080] [--config stride.yaml] [--dev]
  stride import git     --repo DIR --service NAME [--deploy-tags 'v*'] [--exclude-tags '*-rc*'] [--paths]
  stride report dora    [--service NAME | --team NAME] [--from DATE] [--to DATE] [--format table|json] [--explain FIGURE]
  stride report flow    [--service NAME | --team NAME] [--from DATE] [--to DATE] [--format table|json] [--explain FIGURE]
  stride report planning [--team NAME] [--from DATE] [--to DATE] [--sprints N] [--format table|json]
  stride report sprint  [--team NAME] [--from DATE] [--to DATE] [--format table|json] [--explain completed|sprints|throughput|wip|blocked|all]
  stride report slo     [--service NAME | --team NAME] [--calendar week|month --from DATE] [--explain SLO] [--format table|json]
  stride report digest  --team NAME [--at TIME] [--format text|html|chat|json]
  stride report impact  [--service NAME | --team NAME] [--from DATE] [--to DATE] [--explain DEPLOYMENT] [--format table|json]
  stride report ci      [--service NAME | --team NAME] [--from DATE] [--to DATE] [--format table|json] [--explain FIGURE]
  stride report deploy-hours [--service NAME | --team NAME] [--from DATE] [--to DATE] [--format table|json] [--explain deploy_hours]
  stride slo            apply -f slos.yaml | list | rules
  stride maintenance    add --service NAME --from TIME --to TIME --reason TEXT | list
  stride rings export   --format flagd [--service NAME] [--sha SHA]
  stride token create   --name NAME --scope ingest|read|admin
  stride reprocess      --source NAME
  stride gate           --service NAME --policy FILE [reports...]   (see stride gate --help)
  stride promote        --service NAME --sha SHA --to RING [--dry-run] [--fix] [--branch B] [--label L] [--policy FILE]
  stride approve        --service NAME --sha SHA --ring RING --by NAME --vote yes|no [--note TEXT]
  stride source add     NAME [--secret S | --token T] [--config stride.yaml]
  stride incident       open|ack|resolve|reopen|severity|list|followup|review (see stride incident --help)
  stride report incidents [--service NAME | --team NAME] [--from DATE] [--to DATE] [--explain FIGURE] [--format table|json]
  stride collect github --repo OWNER/NAME [--org ORG] [--since DATE] [--api-url URL]   (token: $GITHUB_TOKEN)
  stride collect gitlab --project GROUP/NAME [--since DATE] [--api-url URL]            (token: $GITLAB_TOKEN)
  stride collect pagerduty --service ID [--since DATE] [--api-url URL]                 (token: $PAGERDUTY_TOKEN)
  stride collect jira   --project KEY --url https://TEAM.atlassian.net [--since DATE]  ($JIRA_EMAIL, $JIRA_TOKEN)
  stride migrate
  stride version

The database is --db, or $STRIDE_DB, or ./stride.db (SQLite). A postgres:// URL selects PostgreSQL.
`

// commands maps each subcommand to its function. Each takes its own
// arguments and returns the exit code: 0 success, 1 failure, 2 bad usage or
// unreadable input.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) int{
	"serve":       runServe,
	"import":      runImport,
	"report":      runReport,
	"token":       runToken,
	"reprocess":   runReprocess,
	"migrate":     runMigrate,
	"gate":        runGate,
	"promote":     runPromote,
	"approve":     runApprove,
	"source":      runSource,
	"slo":         runSLO,
	"maintenance": runMaintenance,
	"rings":       runRings,
	"incident":    runIncident,
	"collect":     runCollect,
	"version": func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		// The module version and VCS revision the toolchain stamped, as
		// /metrics reports them in stride_build_info.
		fmt.Fprintln(stdout, buildinfo.Read())
		return 0
	},
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "stride: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	return cmd(ctx, args[1:], stdout, stderr)
}

// common are the flags every database-using command shares.
type common struct {
	db     string
	config string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.db, "db", "", "database: a SQLite file path or a postgres:// URL (default $STRIDE_DB, else the config's db, else stride.db)")
	fs.StringVar(&c.config, "config", "", "configuration file (default $STRIDE_CONFIG, else stride.yaml when present)")
}

// load reads the configuration and opens the database.
func (c *common) load(ctx context.Context) (config.Config, *store.DB, error) {
	path := c.configPath()
	optional := c.config == "" && os.Getenv("STRIDE_CONFIG") == ""
	cfg, err := config.Load(path, optional)
	if err != nil {
		return cfg, nil, err
	}
	url := c.dbURL(cfg)
	db, err := store.Open(ctx, url)
	if err != nil {
		return cfg, nil, err
	}
	for _, s := range cfg.Services {
		if err := db.SetService(ctx, delivery.Service{Name: s.Name, Team: s.Team, Repositories: s.Repositories, Paths: s.Paths}, s.Base); err != nil {
			db.Close()
			return cfg, nil, err
		}
	}
	return cfg, db, nil
}

// configPath is the configuration file in use: --config, else
// $STRIDE_CONFIG, else stride.yaml (which may be absent).
func (c *common) configPath() string {
	return firstNonEmpty(c.config, os.Getenv("STRIDE_CONFIG"), "stride.yaml")
}

// dbURL is the database in use: --db, else $STRIDE_DB, else the config's
// db, else stride.db.
func (c *common) dbURL(cfg config.Config) string {
	return firstNonEmpty(c.db, os.Getenv("STRIDE_DB"), cfg.DB, "stride.db")
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("stride "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// fail prints err and returns the exit code for it: 2 for bad input, 1
// otherwise.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintln(stderr, "stride:", errorText(err))
	if delivery.ErrorCode(err) == delivery.EINVALID {
		return 2
	}
	return 1
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", stderr)
	var c common
	c.register(fs)
	addr := fs.String("addr", "", "listen address (default $STRIDE_ADDR, else the config's addr, else :8080)")
	dev := fs.Bool("dev", false, "turn authentication off (loopback addresses only)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "stride serve: --log-level: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg, db, err := c.load(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	warnIfReadable(logger, c.configPath(), "webhook secrets")
	if db.Dialect() == store.SQLite {
		dbPath, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(c.dbURL(cfg), "sqlite:"), "file:"), "?")
		warnIfReadable(logger, dbPath, "token digests and raw deliveries")
	}
	files := raiseFileLimit(logger)
	sources, err := buildSources(cfg)
	if err != nil {
		return fail(stderr, err)
	}
	listen := firstNonEmpty(*addr, os.Getenv("STRIDE_ADDR"), cfg.Addr, ":8080")
	if *dev && strings.HasPrefix(listen, ":") {
		listen = "127.0.0.1" + listen
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return fail(stderr, fmt.Errorf("listen on %s: %w", listen, err))
	}
	l = limitConnections(l, connectionCap(files))
	// The address line lets scripts and tests that listen on :0 find the port.
	fmt.Fprintf(stdout, "stride listening on http://%s\n", l.Addr())
	th, err := cfg.DORAThresholds()
	if err != nil {
		return fail(stderr, err)
	}
	in, runner, reports, err := wire(db, cfg, sources, logger)
	if err != nil {
		return fail(stderr, err)
	}
	// Incident response (cmd/stride/incident.go): the breach-and-escalation
	// sweep and the outbox delivery are tasks of the same runner.
	responder, rs, err := responder(cfg, db, logger)
	if err != nil {
		return fail(stderr, err)
	}
	in.Policies = rs.Policies
	for _, t := range []jobs.Task{responder.BreachTask(rs.CheckEvery), responder.OutboxTask(rs.DeliverEvery)} {
		if err := runner.Add(t); err != nil {
			return fail(stderr, err)
		}
	}
	// SLOs: the evaluation job every minute hands its burn-rate alerts to
	// the incident routes; the pull job reads Prometheus when one is set.
	sloTasks := []jobs.Task{(&sloeval.Evaluator{DB: db, Now: time.Now, OnAlert: responder.SLOAlerts(ctx), Logger: logger}).Task()}
	if u := cfg.SLOs.PrometheusURL; u != "" {
		sloTasks = append(sloTasks, sloeval.PrometheusTask(db, in, u, time.Now))
	}
	// Deployment impact (cmd/stride/impact.go): the assessment and the
	// pull of the services' Prometheus queries.
	impactJobs, err := impactTasks(cfg, db, in)
	if err != nil {
		return fail(stderr, err)
	}
	sloTasks = append(sloTasks, impactJobs...)
	for _, t := range sloTasks {
		if err := runner.Add(t); err != nil {
			return fail(stderr, err)
		}
	}
	// The API collectors stride.yaml's collect: section names.
	collectors, err := collectTasks(cfg, db, in, logger)
	if err != nil {
		return fail(stderr, err)
	}
	for _, t := range collectors {
		if err := runner.Add(t); err != nil {
			return fail(stderr, err)
		}
	}
	// The trend job keeps the dashboard's weekly roll-ups and the
	// /metrics DORA gauges; its first run starts at once.
	trends := &server.Trends{Reports: reports, Thresholds: &th}
	if err := runner.Add(trends.Task()); err != nil {
		return fail(stderr, err)
	}
	// The weekly team digests (cmd/stride/digest.go) go through the outbox.
	digestReader, err := digests(cfg, reports, &th)
	if err != nil {
		return fail(stderr, err)
	}
	digestTask, schedules, err := digestJob(cfg, db, digestReader)
	if err != nil {
		return fail(stderr, err)
	}
	if digestTask != nil {
		digestTask.Logger = logger
		if err := runner.Add(digestTask.Task()); err != nil {
			return fail(stderr, err)
		}
	}
	srv := &server.Server{DB: db, Reports: reports, Logger: logger, Sources: sources, Intake: in, Responder: responder,
		Dev: *dev, MetricsPublic: cfg.Metrics.Public, Thresholds: &th, Rings: cfg.Rings, Catalog: catalogOf(cfg), Trends: trends,
		Digests: digestReader, DigestSchedules: schedules}
	// The runner's tasks stop with ctx, as the server does; both are
	// waited for before the database closes.
	runner.Start(ctx)
	first := make(chan struct{})
	go func() {
		defer close(first)
		_ = runner.RunNow(ctx, server.TaskTrends)
		// Deployments that finished while Stride was down are assessed
		// now, not a minute from now.
		_ = runner.RunNow(ctx, impacteval.TaskName)
	}()
	err = srv.Run(ctx, l)
	runner.Wait()
	<-first
	if err != nil {
		logger.Error("serve", "err", err)
		return 1
	}
	return 0
}

// wire connects the one write path, the job runner and the one read path
// over db: the runner holds the tasks that derive what writes mark stale,
// and a report that finds data stale runs them now and waits. A command
// that serves starts the runner; the others only run its tasks on demand.
func wire(db *store.DB, cfg config.Config, sources map[string]ingest.Source, logger *slog.Logger) (*intake.Intake, *jobs.Runner, *report.Reader, error) {
	in := writePath(db, cfg, sources)
	runner := jobs.New(logger)
	if err := runner.Add(in.ShipmentsTask()); err != nil {
		return nil, nil, nil, err
	}
	window, windows, err := cfg.IncidentCauseWindows()
	if err != nil {
		return nil, nil, nil, err
	}
	ci, err := cfg.CIHealth()
	if err != nil {
		return nil, nil, nil, err
	}
	return in, runner, &report.Reader{Store: db, Fresh: runner.Hook(intake.TaskShipments), CauseWindow: window, CauseWindows: windows,
		CISettings:   report.CISettings{DefaultBranches: ci.DefaultBranches, TeamTargets: ci.TeamTargets, ServiceTargets: ci.ServiceTargets, Weeks: ci.Weeks},
		SprintConfig: cfg.Sprint}, nil
}

// writePath is the one write path over db as stride.yaml configures it, for
// the given webhook sources (nil for a command that takes none): every
// command that writes uses it, so the production aliases and the other
// mapping rules apply on every path.
func writePath(db *store.DB, cfg config.Config, sources map[string]ingest.Source) *intake.Intake {
	in := intake.New(db, sources)
	in.Mapping = cfg.Mapping()
	// Load checked the impact settings, so only the Apdex T is taken here.
	_, _, in.ApdexT, _ = cfg.ImpactSettings()
	return in
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "git" {
		fmt.Fprintln(stderr, "stride import: the only importer is 'git': stride import git --repo DIR --service NAME")
		return 2
	}
	fs := newFlags("import git", stderr)
	var c common
	c.register(fs)
	repo := fs.String("repo", ".", "path of the local git repository")
	service := fs.String("service", "", "the service the repository deploys (required)")
	repository := fs.String("repository", "", "the repository name stored on changes (default: the service)")
	deployTags := fs.String("deploy-tags", "", "comma-separated patterns, as for git tag -l, of tags that mark production deployments (default: every tag)")
	excludeTags := fs.String("exclude-tags", "", "comma-separated patterns, as for git tag -l, of tags to leave out, e.g. '*-rc*'")
	quiet := fs.Bool("quiet", false, "print no progress")
	paths := fs.Bool("paths", false, "also read the files each commit touched, for services that own paths of a monorepo (slower)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *service == "" {
		fmt.Fprintln(stderr, "stride import git: --service is required")
		return 2
	}
	cfg, db, err := c.load(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	opts := gitimport.Options{Dir: *repo, Service: *service, Repository: *repository,
		DeployTags: []string{*deployTags}, ExcludeTags: []string{*excludeTags}, Paths: *paths}
	for _, s := range cfg.Services {
		if s.Name == *service {
			// A service that owns paths of a monorepo ships only the
			// commits under them, which needs the files, --paths or not.
			opts.ServicePaths = s.Paths
		}
	}
	if !*quiet {
		opts.Progress = stderr
	}
	in := writePath(db, cfg, nil)
	sum, err := gitimport.Import(ctx, opts, storeSink{in})
	if err != nil {
		return fail(stderr, err)
	}
	if err := sum.WriteText(stdout, *service); err != nil {
		return fail(stderr, err)
	}
	return 0
}

// storeSink lets the git importer write through the one write path:
// commits as imported events (recognised by their own key), the tags' deployments as the complete set the git
// import reports for the service.
type storeSink struct{ in *intake.Intake }

func (s storeSink) Ingest(ctx context.Context, events []delivery.Event) (int, error) {
	res, err := s.in.Import(ctx, gitimport.Source, events)
	return res.Added, err
}

func (s storeSink) ReplaceDeployments(ctx context.Context, service string, events []delivery.Event) (gitimport.Reconciled, error) {
	r, err := s.in.ReplaceDeployments(ctx, gitimport.Source, service, events)
	return gitimport.Reconciled{Added: r.Added, Moved: r.Moved, Removed: r.Removed, Kept: r.Kept, Unchanged: r.Unchanged}, err
}

// reportFlags are the flags the period reports share: the scope, the
// period, the output format and the figure to explain.
type reportFlags struct {
	common
	service, team, from, to, format, explain string
}

func (f *reportFlags) register(fs *flag.FlagSet, explainHelp string) {
	f.common.register(fs)
	fs.StringVar(&f.service, "service", "", "report on one service")
	fs.StringVar(&f.team, "team", "", "report on a team's services")
	fs.StringVar(&f.from, "from", "", "period start, a date or RFC 3339 time (default: 30 days before --to)")
	fs.StringVar(&f.to, "to", "", "period end, exclusive (default: now)")
	fs.StringVar(&f.format, "format", "table", "table or json")
	fs.StringVar(&f.explain, "explain", "", explainHelp)
}

// open reads the period the flags give, loads the configuration and the
// database, and wires the read path over them. No runner is started: a
// report that finds shipments stale runs the runner's shipment job once
// and waits for it. The caller closes the database.
func (f *reportFlags) open(ctx context.Context) (delivery.Period, config.Config, *store.DB, *report.Reader, error) {
	period, err := delivery.ParsePeriod(f.from, f.to, time.Now())
	if err != nil {
		return period, config.Config{}, nil, nil, err
	}
	cfg, db, err := f.common.load(ctx)
	if err != nil {
		return period, cfg, nil, nil, err
	}
	_, _, reports, err := wire(db, cfg, nil, nil)
	if err != nil {
		db.Close()
		return period, cfg, nil, nil, err
	}
	return period, cfg, db, reports, nil
}

// checkReport refuses what every report refuses, saying so as `stride
// <name>`: a format other than table or json, and a scope of both a
// service and a team.
func checkReport(name, format, service, team string, stderr io.Writer) bool {
	if format != "table" && format != "json" {
		fmt.Fprintf(stderr, "stride %s: --format must be table or json, not %q\n", name, format)
		return false
	}
	if service != "" && team != "" {
		fmt.Fprintf(stderr, "stride %s: give --service or --team, not both\n", name)
		return false
	}
	return true
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "stride report: name a report: dora, flow, planning, sprint, incidents, slo, digest, impact, ci or deploy-hours")
		return 2
	}
	kind := args[0]
	if kind == "incidents" {
		return runIncidentReport(ctx, args[1:], stdout, stderr)
	}
	if kind == "slo" {
		return runReportSLO(ctx, args[1:], stdout, stderr)
	}
	if kind == "digest" {
		return runReportDigest(ctx, args[1:], stdout, stderr)
	}
	if kind == "impact" {
		return runReportImpact(ctx, args[1:], stdout, stderr)
	}
	if kind == "ci" || kind == "deploy-hours" {
		return runReportCI(ctx, kind, args[1:], stdout, stderr)
	}
	if kind != "dora" && kind != "flow" && kind != "planning" && kind != "sprint" {
		fmt.Fprintf(stderr, "stride report: unknown report %q (want dora, flow, planning, sprint, incidents, slo, digest, impact, ci or deploy-hours)\n", kind)
		return 2
	}
	fs := newFlags("report "+kind, stderr)
	var rf reportFlags
	rf.register(fs, "list the records behind one figure (e.g. lead_time)")
	service, team, format, explain := &rf.service, &rf.team, &rf.format, &rf.explain
	sprints := fs.Int("sprints", 0, "planning: average velocity over the last N sprints (default 3)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if !checkReport("report", *format, *service, *team, stderr) {
		return 2
	}
	if kind == "sprint" && *service != "" {
		fmt.Fprintln(stderr, "stride report sprint: sprints belong to teams; give --team, not --service")
		return 2
	}
	period, cfg, db, reports, err := rf.open(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	th, err := cfg.DORAThresholds()
	if err != nil {
		return fail(stderr, err)
	}
	scope := store.Scope{Service: *service, Team: *team}
	var out any
	var table func() error
	switch {
	case kind == "dora" && *explain != "":
		e, err := reports.DORAExplain(ctx, scope, period, *explain)
		if err != nil {
			return fail(stderr, err)
		}
		out, table = e, func() error { return dora.WriteExplanation(stdout, e) }
	case kind == "dora":
		r, err := reports.DORA(ctx, scope, period, &th)
		if err != nil {
			return fail(stderr, err)
		}
		targets, err := catalogOf(cfg).ScopeTargets(ctx, db, scope)
		if err != nil {
			return fail(stderr, err)
		}
		// The JSON is the API's answer, targets and all.
		ans := server.JudgeDORA(r, targets)
		out, table = ans, func() error {
			if err := dora.WriteTable(stdout, r); err != nil || len(ans.Judged) == 0 {
				return err
			}
			fmt.Fprintln(stdout)
			return dora.WriteTargets(stdout, ans.Judged)
		}
	case kind == "flow" && *explain != "":
		e, err := reports.FlowExplain(ctx, scope, period, *explain)
		if err != nil {
			return fail(stderr, err)
		}
		out, table = e, func() error { return flow.WriteExplanation(stdout, e) }
	case kind == "flow":
		r, err := reports.Flow(ctx, scope, period)
		if err != nil {
			return fail(stderr, err)
		}
		out, table = r, func() error { return flow.WriteTable(stdout, r) }
	case kind == "sprint":
		if out, table, err = sprintReport(ctx, reports, *team, period, *explain, stdout); err != nil {
			return fail(stderr, err)
		}
	case *explain != "":
		e, err := reports.PlanningExplain(ctx, *team, period, *sprints, *explain)
		if err != nil {
			return fail(stderr, err)
		}
		out, table = e, func() error { return flow.WritePlanningExplanation(stdout, e) }
	default:
		r, err := reports.Planning(ctx, *team, period, *sprints)
		if err != nil {
			return fail(stderr, err)
		}
		out, table = r, func() error { return flow.WritePlanningTable(stdout, r) }
	}
	if *format == "json" {
		err = writeJSON(stdout, out)
	} else {
		err = table()
	}
	if err != nil {
		return fail(stderr, err)
	}
	return 0
}

const tokenUsage = "stride token: usage: stride token create --name NAME --scope ingest|read|admin | stride token list | stride token revoke NAME"

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, tokenUsage)
		return 2
	}
	switch args[0] {
	case "create":
	case "list":
		return runTokenList(ctx, args[1:], stdout, stderr)
	case "revoke":
		return runTokenRevoke(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintln(stderr, tokenUsage)
		return 2
	}
	fs := newFlags("token create", stderr)
	var c common
	c.register(fs)
	name := fs.String("name", "", "what the token is for, e.g. ci")
	scope := fs.String("scope", "", "ingest, read or admin")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	_, db, err := c.load(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	tok, secret, err := db.CreateToken(ctx, *name, delivery.Scope(*scope))
	if err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintln(stdout, secret)
	fmt.Fprintf(stderr, "created token %q (id %s, scope %s); it is shown once and only its SHA-256 is stored\n", tok.Name, tok.ID, tok.Scope)
	return 0
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("migrate", stderr)
	var c common
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	_, db, err := c.load(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "%s schema at version %d\n", db.Dialect(), v)
	return 0
}

func runReprocess(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("reprocess", stderr)
	var c common
	c.register(fs)
	source := fs.String("source", "", "the webhook source whose stored deliveries to translate again (required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, db, err := c.load(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	sources, err := buildSources(cfg)
	if err != nil {
		return fail(stderr, err)
	}
	in := writePath(db, cfg, sources)
	if !in.Knows(*source) {
		fmt.Fprintf(stderr, "stride reprocess: source %q is not configured\n", *source)
		return 2
	}
	res, err := in.Reprocess(ctx, *source)
	if err != nil {
		return fail(stderr, err)
	}
	fmt.Fprintf(stdout, "reprocessed %d %s deliveries: %d events derived, %d deliveries ignored or unreadable; %d entities rebuilt, %d shared with other sources merged into (%d ignored, %d malformed)\n",
		res.Deliveries, *source, res.Events, res.Ignored+res.Malformed, res.Rebuilt, res.Kept, res.Ignored, res.Malformed)
	return 0
}

func writeJSON(w io.Writer, v any) error {
	enc := newJSONEncoder(w)
	return enc.Encode(v)
}

// errorText is the message for err: a domain error's own text, else the
// wrapped chain, which on the command line is what the user needs to see.
func errorText(err error) string {
	if code := delivery.ErrorCode(err); code != delivery.EINTERNAL {
		return delivery.ErrorMessage(err)
	}
	return err.Error()
}

// runTokenList prints every token's id, name, scope and creation time, one
// a line; secrets are never stored, so none is shown.
func runTokenList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("token list", stderr)
	var c common
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	_, db, err := c.load(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	toks, err := db.Tokens(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	if len(toks) == 0 {
		fmt.Fprintln(stdout, "no tokens (stride token create makes one)")
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tname\tscope\tcreated")
	for _, t := range toks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Scope, t.CreatedAt.Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return fail(stderr, err)
	}
	return 0
}

// runTokenRevoke deletes the tokens of a name (or the one of an id).
func runTokenRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("token revoke", stderr)
	var c common
	c.register(fs)
	// The name comes first (stride token revoke ci --db ...), flags after.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rest := fs.Args()
	if name == "" && len(rest) > 0 {
		name, rest = rest[0], rest[1:]
	}
	if name == "" || len(rest) > 0 {
		fmt.Fprintln(stderr, "stride token revoke: name one token: stride token revoke NAME (or its id, from stride token list)")
		return 2
	}
	_, db, err := c.load(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	gone, err := db.RevokeToken(ctx, name)
	if err != nil {
		return fail(stderr, err)
	}
	for _, t := range gone {
		fmt.Fprintf(stdout, "revoked token %q (id %s, scope %s)\n", t.Name, t.ID, t.Scope)
	}
	return 0
}
