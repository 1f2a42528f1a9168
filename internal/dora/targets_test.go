package dora

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stride-oss/stride/internal/delivery"
)

// targetsInput is two weeks with deployment days Mon–Wed of each week (a
// median of 3 deployment days a week), each success shipping one change
// committed two hours before it, one failure on the second Thursday caused
// an incident restored in 30 minutes: 7 deployments, 1 failed (14.3 %).
func targetsInput() Input {
	in := Input{Period: period(0, 2*week)}
	for i, d := range []time.Duration{0, day, 2 * day, week, week + day, week + 2*day} {
		id := string(rune('a' + i))
		in.Deployments = append(in.Deployments, dep(id, success, d+12*hour))
		in.Shipments = append(in.Shipments, ship(id, "sha"+id, d+10*hour))
	}
	in.Deployments = append(in.Deployments, dep("x", failure, week+3*day+9*hour))
	in.Incidents = append(in.Incidents, incident("INC-1", week+3*day+10*hour, week+3*day+10*hour+30*time.Minute, "x", false))
	return in
}

func TestJudgeTargets(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	d := func(v time.Duration) *time.Duration { return &v }
	all := Targets{DeploymentDaysPerWeek: f(5), LeadTime: d(24 * time.Hour), ChangeFailureRate: f(0.10), TimeToRestore: d(time.Hour)}
	tests := []struct {
		name    string
		in      Input
		targets Targets
		want    []TargetResult
	}{
		{
			name: "a team deploying three days a week misses daily and the failure rate, meets lead time and restore",
			in:   targetsInput(), targets: all,
			want: []TargetResult{
				{Key: FigureDeploymentFrequency, Target: 5, Actual: f(3), Met: MetNo,
					Sentence: "Deploying daily? No: 3.0 deployment days a week, target 5"},
				{Key: FigureLeadTime, Target: 86400, Actual: f(7200), Met: MetYes,
					Sentence: "Lead time within 24h? Yes: median 2h 0m over 6 changes, target 24h"},
				{Key: FigureChangeFailureRate, Target: 0.10, Actual: f(1.0 / 7), Met: MetNo,
					Sentence: "Change failure rate at most 10.0 %? No: 14.3 % (1 of 7 deployments), target 10.0 %"},
				{Key: FigureTimeToRestore, Target: 3600, Actual: f(1800), Met: MetYes,
					Sentence: "Restoring within 1h? Yes: median 30m 0s over 1 incident, target 1h"},
			},
		},
		{
			name: "a target exactly reached is met, and only the targets set are judged",
			in:   targetsInput(),
			targets: Targets{DeploymentDaysPerWeek: f(3), LeadTime: d(2 * time.Hour),
				ChangeFailureRate: f(1.0 / 7)},
			want: []TargetResult{
				{Key: FigureDeploymentFrequency, Target: 3, Actual: f(3), Met: MetYes,
					Sentence: "Deploying on 3 days a week? Yes: 3.0 deployment days a week, target 3"},
				{Key: FigureLeadTime, Target: 7200, Actual: f(7200), Met: MetYes,
					Sentence: "Lead time within 2h? Yes: median 2h 0m over 6 changes, target 2h"},
				{Key: FigureChangeFailureRate, Target: 1.0 / 7, Actual: f(1.0 / 7), Met: MetYes,
					Sentence: "Change failure rate at most 14.3 %? Yes: 14.3 % (1 of 7 deployments), target 14.3 %"},
			},
		},
		{
			name: "a scope with no data is unknown on every key, never met or missed",
			in:   Input{Period: period(0, 2*week)}, targets: Targets{DeploymentDaysPerWeek: f(2.5), LeadTime: d(90 * time.Minute), ChangeFailureRate: f(0.05), TimeToRestore: d(30 * time.Minute)},
			want: []TargetResult{
				{Key: FigureDeploymentFrequency, Target: 2.5, Met: MetUnknown,
					Sentence: "Deploying on 2.5 days a week? Unknown: no successful deployment in the period, target 2.5"},
				{Key: FigureLeadTime, Target: 5400, Met: MetUnknown,
					Sentence: "Lead time within 1h30m? Unknown: no change shipped in the period, target 1h30m"},
				{Key: FigureChangeFailureRate, Target: 0.05, Met: MetUnknown,
					Sentence: "Change failure rate at most 5.0 %? Unknown: no deployment in the period, target 5.0 %"},
				{Key: FigureTimeToRestore, Target: 1800, Met: MetUnknown,
					Sentence: "Restoring within 30m? Unknown: no incident resolved in the period, target 30m"},
			},
		},
		{name: "no targets, no answers", in: targetsInput(), targets: Targets{}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := JudgeTargets(Compute(tt.in), tt.targets)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d results %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Key != w.Key || g.Target != w.Target || !eqPtr(g.Actual, w.Actual) || g.Met != w.Met || g.Sentence != w.Sentence {
					t.Errorf("result %d:\n got %+v (actual %v)\nwant %+v (actual %v)", i, g, deref(g.Actual), w, deref(w.Actual))
				}
			}
		})
	}
}

func TestTargetsValidate(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	d := func(v time.Duration) *time.Duration { return &v }
	tests := []struct {
		name    string
		targets Targets
		field   string // "" when valid
	}{
		{"every target in range", Targets{DeploymentDaysPerWeek: f(7), LeadTime: d(time.Hour), ChangeFailureRate: f(0), TimeToRestore: d(time.Minute)}, ""},
		{"no targets", Targets{}, ""},
		{"more days than a week has", Targets{DeploymentDaysPerWeek: f(8)}, "targets.deployment_days_per_week"},
		{"negative days", Targets{DeploymentDaysPerWeek: f(-1)}, "targets.deployment_days_per_week"},
		{"zero lead time", Targets{LeadTime: d(0)}, "targets.lead_time"},
		{"a percentage given as a whole number", Targets{ChangeFailureRate: f(10)}, "targets.change_failure_rate"},
		{"negative time to restore", Targets{TimeToRestore: d(-time.Hour)}, "targets.time_to_restore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.targets.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			var de *delivery.Error
			if !errors.As(err, &de) || de.Code != delivery.EINVALID || de.Field != tt.field {
				t.Fatalf("Validate: %v, want EINVALID on %s", err, tt.field)
			}
		})
	}
	if !(Targets{}).Empty() || (Targets{LeadTime: d(time.Hour)}).Empty() {
		t.Error("Empty: want true only when no target is set")
	}
}

func TestTargetsJSON(t *testing.T) {
	f, d := 5.0, 36*time.Hour
	r := 0.1
	in := Targets{DeploymentDaysPerWeek: &f, LeadTime: &d, ChangeFailureRate: &r}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"deployment_days_per_week":5,"lead_time_seconds":129600,"change_failure_rate":0.1}`; string(b) != want {
		t.Errorf("json %s, want %s", b, want)
	}
	var out Targets
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if *out.LeadTime != d || *out.DeploymentDaysPerWeek != f || *out.ChangeFailureRate != r || out.TimeToRestore != nil {
		t.Errorf("round trip %+v", out)
	}
}

func TestWriteTargets(t *testing.T) {
	f := 5.0
	var b strings.Builder
	if err := WriteTargets(&b, JudgeTargets(Compute(targetsInput()), Targets{DeploymentDaysPerWeek: &f})); err != nil {
		t.Fatal(err)
	}
	if want := "target no       Deploying daily? No: 3.0 deployment days a week, target 5\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
