package dora

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// codes lists the warning codes of r.
func codes(r Report) []string {
	var out []string
	for _, w := range r.Warnings {
		out = append(out, w.Code)
	}
	return out
}

func TestZeroDeploymentsAreAFactOnlyForAScopeThatDeploys(t *testing.T) {
	// A week (one ISO week) with one failed deployment and no success.
	in := func(rep *Reported) Input {
		return Input{Period: period(0, week), Deployments: []delivery.Deployment{dep("a", failure, day)}, Reported: rep}
	}
	tests := []struct {
		name     string
		reported *Reported
		want     DeploymentFrequency
		warning  bool
	}{
		// The service deployed before: not deploying this week is 0 a
		// week, a median of 0 days, and low.
		{"a service that deploys shows zero and low", &Reported{Deployments: true, Failures: true},
			DeploymentFrequency{Count: 0, PerWeek: ptr(0.0), MedianDeploymentDaysPerWeek: ptr(0.0), Weeks: 1, Tier: ptr(TierLow)}, false},
		// No deployment ever: the figures stay null and a warning says why.
		{"a scope without a deployment source shows null and warns", &Reported{},
			DeploymentFrequency{Count: 0, Weeks: 1}, true},
		// Unknown sources: as before, null without a warning.
		{"an input that does not say stays null", nil, DeploymentFrequency{Count: 0, Weeks: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compute(in(tt.reported))
			if !reflect.DeepEqual(r.DeploymentFrequency, tt.want) {
				t.Errorf("deployment frequency =\n%s\nwant\n%s", mustJSON(t, r.DeploymentFrequency), mustJSON(t, tt.want))
			}
			if got := slices.Contains(codes(r), "no_deployment_source"); got != tt.warning {
				t.Errorf("no_deployment_source warning = %v, want %v (warnings %v)", got, tt.warning, codes(r))
			}
		})
	}
}

func TestChangeFailureRateWithoutFailureDataHasNoTier(t *testing.T) {
	// Mon–Fri, one success a day: 0 of 5 failed. Frequency median 5 →
	// elite; lead time, one change of 1 h → elite; restore: no incidents.
	var ds []delivery.Deployment
	for i := range 5 {
		ds = append(ds, dep(string(rune('a'+i)), success, time.Duration(i)*day+12*hour))
	}
	shipments := []Shipment{ship("a", "x", 11*hour)}
	tests := []struct {
		name     string
		reported *Reported
		tier     *Tier
		warning  bool
		missing  []string
	}{
		// Failures were reported once (another period): 0 % is a real
		// elite figure; only time to restore has no tier.
		{"a scope that reports failures gets a tier for 0 %", &Reported{Deployments: true, Failures: true},
			ptr(TierElite), false, []string{"time_to_restore"}},
		// No incident and no failure ever: 0 %, no tier, a warning, and
		// the overall tier is partial.
		{"a scope that never reported a failure gets no tier", &Reported{Deployments: true},
			nil, true, []string{"change_failure_rate", "time_to_restore"}},
		// Unknown sources: the input holds no incident and no failure, so
		// it is judged as the second case.
		{"an input that does not say is judged by its records", nil,
			nil, true, []string{"change_failure_rate", "time_to_restore"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Compute(Input{Period: period(0, week), Deployments: ds, Shipments: shipments, Reported: tt.reported})
			cfr := r.ChangeFailureRate
			if cfr.Ratio == nil || *cfr.Ratio != 0 || cfr.Failed != 0 || cfr.Deployments != 5 || !eqPtr(cfr.Tier, tt.tier) {
				t.Errorf("change failure rate = %s; want 0 of 5, ratio 0, tier %v", mustJSON(t, cfr), deref(tt.tier))
			}
			if got := slices.Contains(codes(r), "no_failure_data"); got != tt.warning {
				t.Errorf("no_failure_data warning = %v, want %v", got, tt.warning)
			}
			if !slices.Equal(r.TierMissing, tt.missing) || !r.TierPartial || !eqPtr(r.Tier, ptr(TierElite)) {
				t.Errorf("overall = %v partial %v missing %v; want elite, partial, missing %v", deref(r.Tier), r.TierPartial, r.TierMissing, tt.missing)
			}
		})
	}
}

func TestTableSaysOneThingInTheSingular(t *testing.T) {
	// One success on Monday with one change of 2 h: 1 deployment day, 1
	// change in 1 deployment, 0 of 1 deployment failed.
	r := Compute(Input{Period: period(0, week), Deployments: []delivery.Deployment{dep("a", success, 12*hour)},
		Shipments: []Shipment{ship("a", "x", 10*hour)}, Reported: &Reported{Deployments: true}})
	var b bytes.Buffer
	if err := WriteTable(&b, r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"1.00 a week, 1 deployment day, median deployment days per week 1.0 over 1 week",
		"1 change in 1 deployment ",
		"0 of 1 deployment ",
		"(partial: no tier for change failure rate, time to restore)",
		"warning: no_failure_data (1): no incident and no failed deployment was ever reported",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"1 deployment days", "1 changes", "1 deployments", "a week over"} {
		if strings.Contains(out, bad) {
			t.Errorf("table says %q:\n%s", bad, out)
		}
	}
}

func TestAnEmptyExplanationSaysWhy(t *testing.T) {
	tests := []struct{ figure, want string }{
		{FigureLeadTime, "nothing counted, because no production deployment of the scope finished in the period"},
		{FigureTimeToRestore, "nothing counted, because no incident of the scope was open in the period"},
	}
	for _, tt := range tests {
		t.Run(tt.figure, func(t *testing.T) {
			e, err := Explain(Input{Period: period(0, week)}, tt.figure)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := WriteExplanation(&b, e); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tt.want) {
				t.Errorf("explanation lacks %q:\n%s", tt.want, b.String())
			}
		})
	}
	// With records, no such line.
	e, err := Explain(fullInput(), FigureLeadTime)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteExplanation(&b, e); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "nothing counted") {
		t.Errorf("an explanation with records says nothing counted:\n%s", b.String())
	}
}

func TestExplanationRepeatsTheWarningsOfItsFigure(t *testing.T) {
	in := Input{Period: period(0, week), Deployments: []delivery.Deployment{dep("a", success, day)}, Reported: &Reported{Deployments: true}}
	e, err := Explain(in, FigureChangeFailureRate)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Warnings) != 1 || !strings.Contains(e.Warnings[0], "connect an incident source") {
		t.Errorf("change failure rate explanation warnings %q; want the no-failure-data warning with what to do", e.Warnings)
	}
	// Lead time is not bent by missing failure data: no such warning.
	if e, _ := Explain(in, FigureLeadTime); len(e.Warnings) != 0 {
		t.Errorf("lead time explanation warnings %q; want none", e.Warnings)
	}
	in.Reported = &Reported{}
	in.Deployments = nil
	if e, _ := Explain(in, FigureDeploymentFrequency); len(e.Warnings) != 1 || !strings.Contains(e.Warnings[0], "stride import git --deploy-tags") {
		t.Errorf("deployment frequency explanation warnings %q; want the no-deployment-source warning", e.Warnings)
	}
}
