package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/stride-oss/stride/internal/gate"
	"github.com/stride-oss/stride/internal/rings"
)

// runPromote implements `stride promote`: ask the server to promote a
// commit to a ring (or, with --dry-run, only whether it may), and print
// every condition of the decision so a refusal says what to wait for.
func runPromote(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("promote", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		service = fs.String("service", "", "service to promote (required)")
		sha     = fs.String("sha", "", "commit to promote (required)")
		to      = fs.String("to", "", "target ring, e.g. ring1 (required)")
		dryRun  = fs.Bool("dry-run", false, "decide only; do not record the promotion")
		fix     = fs.Bool("fix", false, "the commit is a fix, which a frozen service still accepts")
		server  = fs.String("server", "", "Stride server URL (required)")
		token   = fs.String("token", "", "API token (default $STRIDE_TOKEN)")
		format  = fs.String("format", "text", "output: text or json")
		policy  = fs.String("policy", "", "release-criteria YAML whose fix_branches and fix_labels mark fixes")
		branch  = fs.String("branch", "", "the change's branch, a fix when it matches fix_branches (default $GITHUB_HEAD_REF, $GITHUB_REF_NAME or $CI_COMMIT_REF_NAME)")
		labels  listFlag
	)
	fs.Var(&labels, "label", "a label of the change, a fix when it matches fix_labels; repeatable")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitPass
		}
		return exitError
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "stride promote: "+format+"\n", args...)
		return exitError
	}
	if fs.NArg() > 0 {
		return fail("unexpected arguments %q", fs.Args())
	}
	req := rings.PromotionRequest{Service: *service, SHA: *sha, To: *to, DryRun: *dryRun}
	if err := req.Validate(); err != nil {
		return fail("--%v", err)
	}
	if err := markFix(&req, *policy, *fix, *branch, labels); err != nil {
		return fail("%v", err)
	}
	if *server == "" {
		return fail("--server is required")
	}
	if *format != "text" && *format != "json" {
		return fail("--format %q: want text or json", *format)
	}
	var resp rings.PromotionResponse
	if err := postAPI(ctx, *server, "/api/v1/promotions", firstNonEmpty(*token, os.Getenv("STRIDE_TOKEN")), req, &resp); err != nil {
		return fail("%v", err)
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(resp); err != nil {
			return fail("write json: %v", err)
		}
	} else if err := writePromotion(stdout, resp); err != nil {
		return fail("%v", err)
	}
	if !resp.Allowed {
		return exitFail
	}
	return exitPass
}

// markFix marks a promotion a fix as `stride gate` marks a gate run: by
// --fix, or the branch or a label against the policy's fix_branches and
// fix_labels. The labels of the commit's stored pull requests are the
// server's to judge, from the fix_labels sent along.
func markFix(req *rings.PromotionRequest, policy string, fix bool, branch string, labels []string) error {
	var pol gate.Policy
	if policy != "" {
		var err error
		if pol, err = gate.ReadPolicy(policy); err != nil {
			return err
		}
	}
	criteria := pol.For(req.Service)
	req.Fix, req.FixReason = criteria.FixOf(fix, changeBranch(branch), labels)
	req.FixLabels = criteria.FixLabels
	return nil
}

func writePromotion(w io.Writer, resp rings.PromotionResponse) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range resp.Conditions {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", strings.ToUpper(string(c.Status)), c.Name, c.Reason)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write text: %w", err)
	}
	what := "promotion"
	if resp.DryRun {
		what = "promotion (dry run)"
	}
	from := ""
	if resp.From != "" {
		from = " from " + resp.From
	}
	verdict := "refused"
	if resp.Allowed {
		verdict = "allowed"
	}
	_, err := fmt.Fprintf(w, "%s of %s @ %s%s to %s: %s\n", what, resp.Service, resp.SHA, from, resp.To, verdict)
	if err != nil {
		return fmt.Errorf("write text: %w", err)
	}
	return nil
}
