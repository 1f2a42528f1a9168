package flow

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteExplanation writes e as an aligned table for a terminal: one row per
// pull request with its value, the times it was measured between, the
// deployment that shipped it and whether it counted. With no pull request
// behind the figure it says so, and why, instead of printing a bare header.
func WriteExplanation(w io.Writer, e Explanation) error {
	label := strings.ReplaceAll(e.Figure, "_", " ")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s (%s)\n", label, e.Unit)
	if len(e.Items) == 0 {
		fmt.Fprintf(tw, "nothing counted, because %s\n", nothingBecause(e.Figure))
	} else {
		fmt.Fprintln(tw, "pull request\tauthor\tvalue\tfrom\tto\tdeployment\tcounted\treason\ttitle")
		for _, it := range e.Items {
			value := number(it.Value)
			if e.Unit == "seconds" {
				value = humanDuration(it.Value)
			}
			dep := it.Deployment
			if dep == "" {
				dep = none
			}
			counted := "yes"
			if it.Excluded {
				counted = "no"
			}
			reason := it.Reason
			if reason == "" {
				reason = none
			}
			fmt.Fprintf(tw, "%s#%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.Repository, it.Number, it.Author, value,
				instant(it.Start), instant(it.End), dep, counted, reason, it.Title)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write %s explanation: %w", e.Figure, err)
	}
	for _, warn := range e.Warnings {
		if _, err := fmt.Fprintf(w, "warning: %s\n", warn); err != nil {
			return fmt.Errorf("write %s explanation: %w", e.Figure, err)
		}
	}
	return nil
}

// nothingBecause says why a figure has no pull request behind it.
func nothingBecause(figure string) string {
	switch figure {
	case "deploy_time", "cycle_time":
		return "no pull request of the scope merged in the period was shipped by a production deployment " +
			"(none merged, or Stride does not know which deployment shipped them: see the DORA report's warnings)"
	case "pickup_time", "review_time":
		return "no pull request of the scope merged in the period has a first review (the source reports no reviews, or none was reviewed)"
	case "coding_time":
		return "no pull request of the scope merged in the period has a first commit time"
	}
	return "no pull request of the scope merged in the period"
}

// instant shows a time to the second, or "—".
func instant(t *time.Time) string {
	if t == nil {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

// WritePlanningExplanation writes e as an aligned table for a terminal: one
// row per work item, whether it adds to the figure and why not.
func WritePlanningExplanation(w io.Writer, e PlanningExplanation) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\n", strings.ReplaceAll(e.Figure, "_", " "))
	if len(e.Items) == 0 {
		fmt.Fprintln(tw, "no work item behind this figure")
	} else {
		fmt.Fprintln(tw, "item\ttype\tsprint\tresolved\tpoints\tcounted\treason\ttitle")
		for _, it := range e.Items {
			sprint, points, counted, reason := it.Sprint, none, "yes", it.Reason
			if sprint == "" {
				sprint = none
			}
			if it.StoryPoints != nil {
				points = number(*it.StoryPoints)
			}
			if !it.Counted {
				counted = "no"
			}
			if reason == "" {
				reason = none
			}
			fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.Tracker, it.Key, it.Type, sprint,
				instant(it.ResolvedAt), points, counted, reason, it.Title)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write %s explanation: %w", e.Figure, err)
	}
	for _, warn := range e.Warnings {
		if _, err := fmt.Fprintf(w, "warning: %s\n", warn); err != nil {
			return fmt.Errorf("write %s explanation: %w", e.Figure, err)
		}
	}
	return nil
}
