package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/stride-oss/stride/internal/config"
	"github.com/stride-oss/stride/internal/digest"
	"github.com/stride-oss/stride/internal/dora"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/store"
)

// digests is the weekly digest's read path as stride.yaml configures it:
// the tier thresholds, the incident policies the breach job judges by and
// each team's targets, so the job, the API and the CLI say the same.
func digests(cfg config.Config, reports *report.Reader, th *dora.Thresholds) (*digest.Reader, error) {
	rs, err := cfg.ResponseSettings()
	if err != nil {
		return nil, err
	}
	return &digest.Reader{Reports: reports, Thresholds: th, Policies: rs.Policies, Targets: cfg.TeamTargets}, nil
}

// digestJob is the team-digest job of the configuration, nil when no team
// sets a digest:.
func digestJob(cfg config.Config, db *store.DB, r *digest.Reader) (*digest.Job, []digest.Schedule, error) {
	schedules, err := cfg.DigestSchedules()
	if err != nil || len(schedules) == 0 {
		return nil, schedules, err
	}
	return &digest.Job{DB: db, Reader: r, Schedules: schedules}, schedules, nil
}

// runReportDigest is `stride report digest --team T`: the team's weekly
// digest as of --at (default now), as the job would send it.
func runReportDigest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report digest", stderr)
	var c common
	c.register(fs)
	team := fs.String("team", "", "the team (required)")
	at := fs.String("at", "", "as of this date or RFC 3339 time (default now): the digest covers the last full ISO week that ended by then")
	format := fs.String("format", "text", "text (the mail's text), html (the mail's HTML), chat (the Slack message) or json")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *team == "" {
		fmt.Fprintln(stderr, "stride report digest: --team is required")
		return 2
	}
	if *format != "text" && *format != "html" && *format != "chat" && *format != "json" {
		fmt.Fprintf(stderr, "stride report digest: --format must be text, html, chat or json, not %q\n", *format)
		return 2
	}
	when := time.Now()
	if *at != "" {
		t, err := parseTime("at", *at)
		if err != nil {
			return fail(stderr, err)
		}
		when = t
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
	_, _, reports, err := wire(db, cfg, nil, nil)
	if err != nil {
		return fail(stderr, err)
	}
	r, err := digests(cfg, reports, &th)
	if err != nil {
		return fail(stderr, err)
	}
	schedules, err := cfg.DigestSchedules()
	if err != nil {
		return fail(stderr, err)
	}
	week := digest.ISOWeek(when)
	for _, s := range schedules {
		if s.Team == *team {
			week = s.Key(when)
		}
	}
	d, err := r.Digest(ctx, *team, week, when)
	if err != nil {
		return fail(stderr, err)
	}
	switch *format {
	case "json":
		return jsonOut(stdout, stderr, d)
	case "html":
		html, err := digest.HTML(d)
		if err != nil {
			return fail(stderr, err)
		}
		_, err = io.WriteString(stdout, html)
		return writeDone(stderr, err)
	case "chat":
		_, err = io.WriteString(stdout, digest.Chat(d))
		return writeDone(stderr, err)
	}
	_, err = io.WriteString(stdout, digest.Text(d))
	return writeDone(stderr, err)
}

func writeDone(stderr io.Writer, err error) int {
	if err != nil {
		return fail(stderr, err)
	}
	return 0
}
