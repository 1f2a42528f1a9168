package slo

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

func TestParseOpenSLOReadsEveryKindOfDocument(t *testing.T) {
	f, err := os.Open("testdata/slos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	slos, err := ParseOpenSLO(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(slos) != 3 {
		t.Fatalf("got %d SLOs, want 3", len(slos))
	}
	avail, monthly, minutes := slos[0], slos[1], slos[2]

	if avail.Name != "api-availability" || avail.Service != "api" || avail.Objective != (Fraction{999, 1000}) ||
		avail.Window.Rolling != 30*24*time.Hour || avail.Method != Occurrences {
		t.Errorf("api-availability = %+v", avail)
	}
	if avail.Budget() != (Fraction{1, 1000}) {
		t.Errorf("budget of 99.9 %% = %v, want exactly 1/1000", avail.Budget())
	}
	if avail.Indicator.Name != "api-calls" || avail.Indicator.Good == nil || avail.Indicator.Good.Type != SourceStride || avail.Indicator.Total.Type != SourceStride {
		t.Errorf("api-availability indicator = %+v", avail.Indicator)
	}

	berlin, _ := time.LoadLocation("Europe/Berlin")
	if monthly.Objective != (Fraction{1999, 2000}) {
		t.Errorf("targetPercent 99.95 = %v, want 1999/2000", monthly.Objective)
	}
	if monthly.Window.Calendar != Month || !monthly.Window.Start.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, berlin)) ||
		monthly.Location().String() != "Europe/Berlin" {
		t.Errorf("api-monthly window = %+v", monthly.Window)
	}
	if monthly.Indicator.Bad == nil || monthly.Indicator.Good != nil ||
		!strings.Contains(monthly.Indicator.Bad.Query, `code=~"5.."`) || monthly.Indicator.Total.Type != SourcePrometheus {
		t.Errorf("api-monthly indicator = %+v", monthly.Indicator)
	}

	if minutes.Method != Timeslices || minutes.SliceTarget != (Fraction{19, 20}) || minutes.SliceWindow != time.Minute ||
		minutes.Window.Calendar != Week {
		t.Errorf("api-minutes = %+v", minutes)
	}
}

const validSLO = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: web
spec:
  service: web
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: stride}}
        total: {metricSource: {type: stride}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
`

func TestParseOpenSLORejectsBadDocuments(t *testing.T) {
	sli := "apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: calls}\nspec:\n  ratioMetric:\n    good: {metricSource: {type: stride}}\n    total: {metricSource: {type: stride}}\n"
	cases := []struct {
		name, yaml, field, message string
	}{
		{"an unknown field", strings.Replace(validSLO, "  service: web\n", "  service: web\n  servise: web\n", 1), "servise", "document 1 (SLO web): line 7: field servise is not part of OpenSLO v1"},
		{"an unknown field in a later document", sli + "---\n" + strings.Replace(strings.Replace(validSLO, "  indicator:\n    spec:\n      ratioMetric:\n        good: {metricSource: {type: stride}}\n        total: {metricSource: {type: stride}}\n", "  indicatorRef: calls\n", 1), "  objectives: [{target: 0.99}]", "  objectives: [{target: 0.99, tragetPercent: 99}]", 1), "tragetPercent", "document 2 (SLO web): line 18: field tragetPercent is not part"},
		{"an objective of 1", strings.Replace(validSLO, "0.99", "1", 1), "spec.objectives[0].target", "document 1 (SLO web): 1 is not between 0 and 1"},
		{"an objective of 0", strings.Replace(validSLO, "0.99", "0", 1), "spec.objectives[0].target", "not between 0 and 1"},
		{"an objective above 1", strings.Replace(validSLO, "target: 0.99", "target: 99.9", 1), "spec.objectives[0].target", "99.9 is not between 0 and 1"},
		{"a percentage above 100", strings.Replace(validSLO, "target: 0.99", "targetPercent: 100.5", 1), "spec.objectives[0].targetPercent", "not between 0 and 1"},
		{"a duplicate name", validSLO + "---\n" + validSLO, "metadata.name", "document 2 (SLO web): SLO web is defined twice"},
		{"a duplicate SLI", sli + "---\n" + sli + "---\n" + validSLO, "metadata.name", "document 2 (SLI calls): SLI calls is defined twice"},
		{"an unknown SLI", strings.Replace(validSLO, "  indicator:\n    spec:\n      ratioMetric:\n        good: {metricSource: {type: stride}}\n        total: {metricSource: {type: stride}}\n", "  indicatorRef: nope\n", 1), "spec.indicatorRef", "no SLI document is named nope"},
		{"another apiVersion", strings.Replace(validSLO, "openslo/v1", "openslo/v2alpha", 1), "apiVersion", `"openslo/v2alpha" is not openslo/v1`},
		{"an unknown kind", strings.Replace(validSLO, "kind: SLO", "kind: AlertPolicy", 1), "kind", "neither SLO nor SLI"},
		{"no service", strings.Replace(validSLO, "  service: web\n", "", 1), "spec.service", "is required"},
		{"good and bad", strings.Replace(validSLO, "        total:", "        bad: {metricSource: {type: stride}}\n        total:", 1), "spec.indicator.spec.ratioMetric.bad", "not both"},
		{"a prometheus source without a query", strings.ReplaceAll(validSLO, "type: stride", "type: prometheus"), "spec.indicator.spec.ratioMetric.good.metricSource.spec.query", "is required"},
		{"an unknown source", strings.Replace(validSLO, "good: {metricSource: {type: stride}}", "good: {metricSource: {type: datadog}}", 1), "spec.indicator.spec.ratioMetric.good.metricSource.type", `"datadog"`},
		{"a calendar window of 2 weeks", strings.Replace(validSLO, "{duration: 28d, isRolling: true}", "{duration: 2w, isRolling: false, calendar: {startTime: '2026-01-01 00:00:00', timeZone: UTC}}", 1), "spec.timeWindow[0].duration", "1w or 1M"},
		{"a month starting on the 31st", strings.Replace(validSLO, "{duration: 28d, isRolling: true}", "{duration: 1M, isRolling: false, calendar: {startTime: '2026-01-31 00:00:00', timeZone: UTC}}", 1), "spec.timeWindow[0].calendar.startTime", "day 1 to 28"},
		{"an unknown time zone", strings.Replace(validSLO, "{duration: 28d, isRolling: true}", "{duration: 1M, isRolling: false, calendar: {startTime: '2026-01-01 00:00:00', timeZone: Mars/Olympus}}", 1), "spec.timeWindow[0].calendar.timeZone", "not a time zone"},
		{"a bad rolling duration", strings.Replace(validSLO, "28d", "28x", 1), "spec.timeWindow[0].duration", `"28x"`},
		{"an unknown budgeting method", strings.Replace(validSLO, "Occurrences", "RatioTimeslices", 1), "spec.budgetingMethod", "neither Occurrences nor Timeslices"},
		{"time slices without a target", strings.Replace(validSLO, "Occurrences", "Timeslices", 1), "spec.objectives[0].timeSliceTarget", "is required"},
		{"a time slice of 7 minutes", strings.Replace(strings.Replace(validSLO, "Occurrences", "Timeslices", 1), "{target: 0.99}", "{target: 0.99, timeSliceTarget: 0.9, timeSliceWindow: 7m}", 1), "spec.objectives[0].timeSliceWindow", "dividing a day"},
		{"no documents", "# nothing\n", "", "no OpenSLO document"},
	}
	for _, c := range cases {
		t.Run(c.name+" is an invalid-input error naming the field", func(t *testing.T) {
			_, err := ParseOpenSLO(strings.NewReader(c.yaml))
			var e *delivery.Error
			if !errors.As(err, &e) || e.Code != delivery.EINVALID {
				t.Fatalf("error = %v, want an EINVALID *delivery.Error", err)
			}
			if e.Field != c.field || !strings.Contains(e.Message, c.message) {
				t.Errorf("error = field %q message %q, want field %q and a message containing %q", e.Field, e.Message, c.field, c.message)
			}
		})
	}
}
