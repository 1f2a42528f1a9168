package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/stride-oss/stride/internal/rings"
)

// runApprove implements `stride approve`: record a person's sign-off vote
// on a commit's promotion to a ring. The latest vote decides: a no holds
// the promotion until a later yes.
func runApprove(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("approve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		service = fs.String("service", "", "service of the commit (required)")
		sha     = fs.String("sha", "", "commit signed off (required)")
		ring    = fs.String("ring", "", "ring the vote is for, e.g. ring2 (required)")
		by      = fs.String("by", "", "name of the person who votes (required)")
		vote    = fs.String("vote", "", "yes or no (required)")
		note    = fs.String("note", "", "why, or a link to the test report")
		server  = fs.String("server", "", "Stride server URL (required)")
		token   = fs.String("token", "", "API token (default $STRIDE_TOKEN)")
		format  = fs.String("format", "text", "output: text or json")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitPass
		}
		return exitError
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "stride approve: "+format+"\n", args...)
		return exitError
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments %q", fs.Args())
	}
	req := rings.Approval{Service: *service, SHA: *sha, Ring: *ring, By: *by, Vote: *vote, Note: *note}
	if err := req.Validate(); err != nil {
		return fail("--%v", err)
	}
	if *server == "" {
		return fail("--server is required")
	}
	if *format != "text" && *format != "json" {
		return fail("--format %q: want text or json", *format)
	}
	var rec rings.Approval
	if err := postAPI(ctx, *server, "/api/v1/approvals", firstNonEmpty(*token, os.Getenv("STRIDE_TOKEN")), req, &rec); err != nil {
		return fail("%v", err)
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rec); err != nil {
			return fail("write json: %v", err)
		}
		return exitPass
	}
	if _, err := fmt.Fprintf(stdout, "recorded: %s voted %s for %s @ %s in %s at %s%s\n",
		rec.By, rec.Vote, rec.Service, rec.SHA, rec.Ring, rec.At.UTC().Format(time.RFC3339), noteSuffix(rec.Note)); err != nil {
		return fail("write text: %v", err)
	}
	return exitPass
}

func noteSuffix(n string) string {
	if n == "" {
		return ""
	}
	return " (" + n + ")"
}
