package dora

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
)

func TestExplainRejectsAnUnknownFigure(t *testing.T) {
	_, err := Explain(fullInput(), "mean_time_to_happiness")
	var de *delivery.Error
	if !errors.As(err, &de) || de.Code != delivery.EINVALID {
		t.Fatalf("Explain(unknown) error = %v; want a *delivery.Error with code %s", err, delivery.EINVALID)
	}
}

// TestExplanationsAgreeWithTheReport checks, for every figure, that the
// records marked counted are exactly the records the figure counted.
func TestExplanationsAgreeWithTheReport(t *testing.T) {
	in := fullInput()
	r := Compute(in)
	countedDeps := func(e Explanation) int {
		n := 0
		for _, d := range e.Deployments {
			if d.Counted {
				n++
			}
		}
		return n
	}
	countedChanges := func(e Explanation) int {
		n := 0
		for _, d := range e.Deployments {
			for _, c := range d.Changes {
				if c.Counted {
					n++
				}
			}
		}
		return n
	}
	countedIncidents := func(e Explanation) int {
		n := 0
		for _, i := range e.Incidents {
			if i.Counted {
				n++
			}
		}
		return n
	}
	failed := func(e Explanation) int {
		n := 0
		for _, d := range e.Deployments {
			if strings.HasPrefix(d.Reason, "failed:") {
				n++
			}
		}
		return n
	}
	unplanned := func(e Explanation) int {
		n := 0
		for _, d := range e.Deployments {
			if strings.HasPrefix(d.Reason, "unplanned:") {
				n++
			}
		}
		return n
	}
	tests := []struct {
		figure    string
		got       func(Explanation) int
		want      int
		whatCount string
	}{
		{FigureDeploymentFrequency, countedDeps, r.DeploymentFrequency.Count, "successful deployments"},
		{FigureLeadTime, countedChanges, r.LeadTime.Count, "changes"},
		{FigureLeadTime, countedDeps, r.LeadTime.Deployments, "deployments with changes"},
		{FigureChangeFailureRate, countedDeps, r.ChangeFailureRate.Deployments, "deployments"},
		{FigureChangeFailureRate, failed, r.ChangeFailureRate.Failed, "failed deployments"},
		{FigureTimeToRestore, countedIncidents, r.TimeToRestore.Count, "incidents"},
		{FigureRecoveryTime, countedDeps, r.RecoveryTime.Count, "recovered failures"},
		{FigureReworkRate, countedDeps, r.ReworkRate.Deployments, "deployments"},
		{FigureReworkRate, unplanned, r.ReworkRate.Unplanned, "unplanned deployments"},
	}
	for _, tt := range tests {
		t.Run("the "+tt.figure+" explanation counts the report's "+tt.whatCount, func(t *testing.T) {
			e, err := Explain(in, tt.figure)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.got(e); got != tt.want {
				t.Errorf("explanation counts %d; report says %d", got, tt.want)
			}
		})
	}
}

func TestExplainSaysHowEachIncidentWasLinked(t *testing.T) {
	e, err := Explain(fullInput(), FigureChangeFailureRate)
	if err != nil {
		t.Fatal(err)
	}
	// INC-0 inferred to a0 (before the period), INC-1 before any
	// deployment, INC-2 explicit to a6, INC-3 inferred to w2.
	want := map[string]struct {
		link    string
		counted bool
	}{
		"INC-0": {"inferred", false}, "INC-1": {"none", false},
		"INC-2": {"explicit", true}, "INC-3": {"inferred", true},
	}
	if len(e.Incidents) != len(want) {
		t.Fatalf("got %d incidents; want %d", len(e.Incidents), len(want))
	}
	for _, i := range e.Incidents {
		if w := want[i.ID]; i.Link != w.link || i.Counted != w.counted {
			t.Errorf("%s: link %s counted %v (%s); want %s %v", i.ID, i.Link, i.Counted, i.Reason, w.link, w.counted)
		}
	}
	for _, d := range e.Deployments {
		if d.ID == "a6" && d.Reason != "failed: caused INC-2 (explicit)" {
			t.Errorf("a6 reason = %q", d.Reason)
		}
		if d.ID == "w2" && d.Reason != "failed: caused INC-3 (inferred)" {
			t.Errorf("w2 reason = %q", d.Reason)
		}
	}
}

func TestTextOutputMatchesGolden(t *testing.T) {
	in := fullInput()
	r := Compute(in)
	r.Team = "payments"
	var buf bytes.Buffer
	if err := WriteTable(&buf, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.golden.txt", buf.Bytes())

	buf.Reset()
	if err := WriteTable(&buf, Compute(Input{Period: period(0, week)})); err != nil {
		t.Fatal(err)
	}
	golden(t, "empty.golden.txt", buf.Bytes())

	for _, f := range Figures() {
		e, err := Explain(in, f)
		if err != nil {
			t.Fatal(err)
		}
		buf.Reset()
		if err := WriteExplanation(&buf, e); err != nil {
			t.Fatal(err)
		}
		golden(t, "explain_"+f+".golden.txt", buf.Bytes())
	}
	e, err := Explain(in, FigureLeadTime)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "explain_lead_time.golden.json", append(mustJSON(t, e), '\n'))
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorsAreReturned(t *testing.T) {
	if err := WriteTable(failingWriter{}, Compute(fullInput())); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteTable error = %v; want the writer's", err)
	}
	e, _ := Explain(fullInput(), FigureLeadTime)
	if err := WriteExplanation(failingWriter{}, e); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("WriteExplanation error = %v; want the writer's", err)
	}
}
