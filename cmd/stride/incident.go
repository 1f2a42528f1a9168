package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/incident"
	"github.com/stride-oss/stride/internal/intake"
	"github.com/stride-oss/stride/internal/notify"
	"github.com/stride-oss/stride/internal/respond"
	"github.com/stride-oss/stride/internal/server"
	"github.com/stride-oss/stride/internal/store"
)

const incidentUsage = `Usage:
  stride incident open     --service S --severity 0-3 --title T [--id ID] [--origin customer|monitoring]
  stride incident ack      --service S --id ID
  stride incident resolve  --service S --id ID
  stride incident reopen   --service S --id ID
  stride incident severity --service S --id ID --severity 0-3
  stride incident list     [--service S | --team T] [--all]
  stride incident followup add  --service S --id ID --title T [--tracker jira --issue PAY-1] [--due DATE]
  stride incident followup done --service S --id ID --followup FID
  stride incident review   --service S --id ID --held DATE [--document URL] [--summary TEXT] [--factor F]...
  stride report incidents  [--service S | --team T] [--from DATE] [--to DATE] [--explain FIGURE] [--format table|json]

Every change takes --by (default $USER), --at (default now) and --note. The
notifications a change causes are written to the outbox with it; stride
serve delivers them.
`

// responder builds the incident responder of the configuration.
func responder(cfg config.Config, db *store.DB, logger *slog.Logger) (*respond.Responder, config.ResponseSettings, error) {
	rs, err := cfg.ResponseSettings()
	if err != nil {
		return nil, rs, err
	}
	return respond.New(db, respond.Settings{Policies: rs.Policies, Routing: rs.Routing, Rules: rs.Rules,
		Outbox: notify.Outbox{Routes: rs.Senders, Policy: rs.Retry}, Logger: logger}), rs, nil
}

// incidentFlags are the flags the incident subcommands share.
type incidentFlags struct {
	common
	service, id, title, origin, by, note, at string
	severity                                 int
}

func (f *incidentFlags) register(fs *flag.FlagSet) {
	f.common.register(fs)
	fs.StringVar(&f.service, "service", "", "the incident's service")
	fs.StringVar(&f.id, "id", "", "the incident's id (open: generated when left out)")
	fs.StringVar(&f.title, "title", "", "open: what is wrong")
	fs.StringVar(&f.origin, "origin", "", "open: customer or monitoring")
	fs.IntVar(&f.severity, "severity", -1, "0 critical, 1 major, 2 minor, 3 user-reported")
	fs.StringVar(&f.by, "by", os.Getenv("USER"), "who makes the change")
	fs.StringVar(&f.note, "note", "", "a note kept with the change")
	fs.StringVar(&f.at, "at", "", "when it happened, RFC 3339 (default now)")
}

func parseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return t, delivery.FieldError(name, "want a date or an RFC 3339 time, got %q", v)
	}
	return t, nil
}

func runIncident(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, incidentUsage)
		return 2
	}
	sub, args := args[0], args[1:]
	if sub == "followup" {
		if len(args) == 0 || (args[0] != "add" && args[0] != "done") {
			fmt.Fprint(stderr, "stride incident followup: want add or done\n\n"+incidentUsage)
			return 2
		}
		sub, args = "followup "+args[0], args[1:]
	}
	actions := map[string]incident.Action{"open": incident.ActionOpen, "ack": incident.ActionAcknowledge, "resolve": incident.ActionResolve,
		"reopen": incident.ActionReopen, "severity": incident.ActionSeverity}
	fs := newFlags("incident "+sub, stderr)
	var f incidentFlags
	f.register(fs)
	all := fs.Bool("all", false, "list: resolved incidents too")
	team := fs.String("team", "", "list: a team's services")
	tracker := fs.String("tracker", "", "followup add: jira, github or gitlab")
	issue := fs.String("issue", "", "followup add: the issue key (PAY-123, owner/repo#42)")
	due := fs.String("due", "", "followup add: due date")
	followup := fs.String("followup", "", "followup done: the follow-up's id")
	held := fs.String("held", "", "review: when the review was held")
	document := fs.String("document", "", "review: link to the write-up")
	summary := fs.String("summary", "", "review: what happened")
	var factors multiFlag
	fs.Var(&factors, "factor", "review: a contributing factor (repeatable)")
	format := fs.String("format", "table", "table or json")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	at, err := parseTime("at", f.at)
	if err != nil {
		return fail(stderr, err)
	}
	cfg, db, err := f.load(ctx)
	if err != nil {
		return fail(stderr, err)
	}
	defer db.Close()
	r, rs, err := responder(cfg, db, nil)
	if err != nil {
		return fail(stderr, err)
	}
	w := writePath(db, cfg, nil)
	w.Policies = rs.Policies
	var out any
	switch sub {
	case "open", "ack", "resolve", "reopen", "severity":
		if (sub == "open" || sub == "severity") && f.severity < 0 {
			return fail(stderr, delivery.FieldError("severity", "is required: --severity 0-3"))
		}
		if sub == "open" && f.id == "" {
			f.id = server.NewIncidentID(cmpTime(at, time.Now()))
		}
		res, err := w.ChangeIncident(ctx, "cli", r.Routing(), intake.IncidentRequest{Service: f.service, ID: f.id, Title: f.title,
			Origin: delivery.IncidentOrigin(f.origin), Transition: incident.Transition{Action: actions[sub], At: at, By: f.by, Severity: f.severity, Note: f.note}})
		if err != nil {
			return fail(stderr, err)
		}
		if *format != "json" {
			fmt.Fprintf(stdout, "%s %s/%s (severity %d)", sub, res.Incident.Service, res.Incident.ID, res.Incident.Severity)
			if len(res.Notified) > 0 {
				fmt.Fprintf(stdout, "; notifying %s", strings.Join(res.Notified, ", "))
			}
			fmt.Fprintln(stdout)
			return 0
		}
		out = res
	case "list":
		in, err := r.ReportInput(ctx, store.Scope{Service: f.service, Team: *team}, delivery.Period{From: time.Unix(0, 0).UTC(), To: time.Now().UTC()})
		if err != nil {
			return fail(stderr, err)
		}
		rep := incident.Compute(in)
		var rows []incident.IncidentRow
		for _, row := range rep.Incidents {
			if *all || row.ResolvedAt == nil {
				rows = append(rows, row)
			}
		}
		if *format != "json" {
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "service\tid\tseverity\topened\tacknowledged\tresolved\tdue\tbreached\ttitle")
			for _, row := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%t\t%s\n", row.Service, row.ID, row.Severity, row.OpenedAt.Format(time.RFC3339),
					stamp(row.AcknowledgedAt), stamp(row.ResolvedAt), row.SLADueAt.Format(time.RFC3339), row.Breached, row.Title)
			}
			return exitOf(stderr, tw.Flush())
		}
		out = rows
	case "followup add":
		d, err := parseTime("due", *due)
		if err != nil {
			return fail(stderr, err)
		}
		fu, err := w.AddFollowUp(ctx, incident.FollowUp{Service: f.service, Incident: f.id, Title: f.title, Tracker: *tracker, IssueKey: *issue, Due: d, CreatedAt: at})
		if err != nil {
			return fail(stderr, err)
		}
		if *format != "json" {
			fmt.Fprintf(stdout, "follow-up %s of %s/%s: %s\n", fu.ID, fu.Service, fu.Incident, fu.Title)
			return 0
		}
		out = fu
	case "followup done":
		fu, err := w.FinishFollowUp(ctx, f.service, f.id, *followup, at)
		if err != nil {
			return fail(stderr, err)
		}
		if *format != "json" {
			fmt.Fprintf(stdout, "follow-up %s of %s/%s done at %s\n", fu.ID, fu.Service, fu.Incident, fu.DoneAt.Format(time.RFC3339))
			return 0
		}
		out = fu
	case "review":
		h, err := parseTime("held", *held)
		if err != nil {
			return fail(stderr, err)
		}
		rv := incident.Review{Service: f.service, Incident: f.id, HeldAt: h, Document: *document, Summary: *summary, ContributingFactors: factors}
		if err := w.PutReview(ctx, rv); err != nil {
			return fail(stderr, err)
		}
		if *format != "json" {
			fmt.Fprintf(stdout, "review of %s/%s recorded\n", f.service, f.id)
			return 0
		}
		out = rv
	default:
		fmt.Fprintf(stderr, "stride incident: unknown subcommand %q\n\n%s", sub, incidentUsage)
		return 2
	}
	return exitOf(stderr, writeJSON(stdout, out))
}

func cmpTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func exitOf(stderr io.Writer, err error) int {
	if err != nil {
		return fail(stderr, err)
	}
	return 0
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// runIncidentReport is `stride report incidents`.
func runIncidentReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report incidents", stderr)
	var rf reportFlags
	rf.register(fs, "list the incidents behind one figure: "+strings.Join(incident.Figures, ", "))
	c, service, team, from, to, format, explain := &rf.common, &rf.service, &rf.team, &rf.from, &rf.to, &rf.format, &rf.explain
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !checkReport("report", *format, *service, *team, stderr) {
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
	r, _, err := responder(cfg, db, nil)
	if err != nil {
		return fail(stderr, err)
	}
	in, err := r.ReportInput(ctx, store.Scope{Service: *service, Team: *team}, period)
	if err != nil {
		return fail(stderr, err)
	}
	if *explain != "" {
		e, err := incident.Explain(in, *explain)
		if err != nil {
			return fail(stderr, err)
		}
		if *format == "json" {
			return exitOf(stderr, writeJSON(stdout, e))
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "service\tid\tseverity\topened\tdue\treason")
		for _, x := range e {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", x.Service, x.ID, x.Severity, x.OpenedAt.Format(time.RFC3339), x.SLADueAt.Format(time.RFC3339), x.Reason)
		}
		return exitOf(stderr, tw.Flush())
	}
	rep := incident.Compute(in)
	if *format == "json" {
		return exitOf(stderr, writeJSON(stdout, rep))
	}
	return exitOf(stderr, incident.WriteText(stdout, rep))
}
