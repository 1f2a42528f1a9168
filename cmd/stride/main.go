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
	"time"

	"github.com/stride-oss/stride/internal/buildinfo"
	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/flow"
	"github.com/stride-oss/stride/internal/ingest"
	gitimport "github.com/stride-oss/stride/internal/ingest/git"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/jobs"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/server"
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
  stride token create   --name NAME --scope ingest|read|admin
  stride reprocess      --source NAME
  stride gate           --service NAME --policy FILE [reports...]   (see stride gate --help)
  stride promote        --service NAME --sha SHA --to RING [--dry-run]
  stride source add     NAME [--secret S | --token T] [--config stride.yaml]
  stride migrate
  stride version

The database is --db, or $STRIDE_DB, or ./stride.db (SQLite). A postgres:// URL selects PostgreSQL.
`

// commands maps each subcommand to its function. Each takes its own
// arguments and returns the exit code: 0 success, 1 failure, 2 bad usage or
// unreadable input.
var commands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) int{
	"serve":     runServe,
	"import":    runImport,
	"report":    runReport,
	"token":     runToken,
	"reprocess": runReprocess,
	"migrate":   runMigrate,
	"gate":      runGate,
	"promote":   runPromote,
	"source":    runSource,
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
	path, optional := c.config, false
	if path == "" {
		path = os.Getenv("STRIDE_CONFIG")
	}
	if path == "" {
		path, optional = "stride.yaml", true
	}
	cfg, err := config.Load(path, optional)
	if err != nil {
		return cfg, nil, err
	}
	url := firstNonEmpty(c.db, os.Getenv("STRIDE_DB"), cfg.DB, "stride.db")
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
	// The address line lets scripts and tests that listen on :0 find the port.
	fmt.Fprintf(stdout, "stride listening on http://%s\n", l.Addr())
	th, err := cfg.DORAThresholds()
	if err != nil {
		return fail(stderr, err)
	}
	in, runner, reports, err := wire(db, sources, logger)
	if err != nil {
		return fail(stderr, err)
	}
	srv := &server.Server{DB: db, Reports: reports, Logger: logger, Sources: sources, Intake: in, Dev: *dev, Thresholds: &th, Rings: cfg.Rings}
	// The runner's tasks stop with ctx, as the server does; both are
	// waited for before the database closes.
	runner.Start(ctx)
	err = srv.Run(ctx, l)
	runner.Wait()
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
func wire(db *store.DB, sources map[string]ingest.Source, logger *slog.Logger) (*intake.Intake, *jobs.Runner, *report.Reader, error) {
	in := intake.New(db, sources)
	runner := jobs.New(logger)
	if err := runner.Add(in.ShipmentsTask()); err != nil {
		return nil, nil, nil, err
	}
	return in, runner, &report.Reader{Store: db, Fresh: runner.Hook(intake.TaskShipments)}, nil
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
	sum, err := gitimport.Import(ctx, opts, storeSink{intake.New(db, nil)})
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

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "stride report: name a report: dora, flow or planning")
		return 2
	}
	kind := args[0]
	if kind != "dora" && kind != "flow" && kind != "planning" {
		fmt.Fprintf(stderr, "stride report: unknown report %q (want dora, flow or planning)\n", kind)
		return 2
	}
	fs := newFlags("report "+kind, stderr)
	var c common
	c.register(fs)
	service := fs.String("service", "", "report on one service")
	team := fs.String("team", "", "report on a team's services")
	from := fs.String("from", "", "period start, a date or RFC 3339 time (default: 30 days before --to)")
	to := fs.String("to", "", "period end, exclusive (default: now)")
	format := fs.String("format", "table", "table or json")
	explain := fs.String("explain", "", "list the records behind one figure (e.g. lead_time)")
	sprints := fs.Int("sprints", 0, "planning: average velocity over the last N sprints (default 3)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(stderr, "stride report: --format must be table or json, not %q\n", *format)
		return 2
	}
	if *service != "" && *team != "" {
		fmt.Fprintln(stderr, "stride report: give --service or --team, not both")
		return 2
	}
	period, err := delivery.ParsePeriod(*from, *to, time.Now())
	if err != nil {
		return fail(stderr, err)
	}
	cfg, db, err := c.load(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	th, err := cfg.DORAThresholds()
	if err != nil {
		return fail(stderr, err)
	}
	scope := store.Scope{Service: *service, Team: *team}
	// No runner is started here: a report that finds shipments stale runs
	// the runner's shipment job once and waits for it.
	_, _, reports, err := wire(db, nil, nil)
	if err != nil {
		return fail(stderr, err)
	}
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
		out, table = r, func() error { return dora.WriteTable(stdout, r) }
	case kind == "flow" && *explain != "":
		e, err := reports.FlowExplain(ctx, scope, period, *explain)
		if err != nil {
			return fail(stderr, err)
		}
		out, table = e, func() error { return writeJSON(stdout, e) }
	case kind == "flow":
		r, err := reports.Flow(ctx, scope, period)
		if err != nil {
			return fail(stderr, err)
		}
		out, table = r, func() error { return flow.WriteTable(stdout, r) }
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

func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "stride token: usage: stride token create --name NAME --scope ingest|read|admin")
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
	in := intake.New(db, sources)
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
