package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/stride-oss/stride/internal/delivery"
	"github.com/stride-oss/stride/internal/report"
	"github.com/stride-oss/stride/internal/sprint"
)

// sprintReport is `stride report sprint`: its JSON answer (the API's) and
// its table, explaining the figure named (sprint.Figures).
func sprintReport(ctx context.Context, reports *report.Reader, team string, period delivery.Period, explain string, stdout io.Writer) (any, func() error, error) {
	if explain != "" && !slices.Contains(sprint.Figures, explain) {
		return nil, nil, delivery.FieldError("explain", "%q is not one of %s", explain, strings.Join(sprint.Figures, ", "))
	}
	r, err := reports.Sprint(ctx, team, period, explain != "")
	if err != nil {
		return nil, nil, fmt.Errorf("sprint report: %w", err)
	}
	return r, func() error { return sprint.WriteTable(stdout, r, explain) }, nil
}
