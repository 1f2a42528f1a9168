package gate

import (
	"errors"
	"strings"
	"testing"

	"github.com/stride-oss/stride/internal/delivery"
)

func judged(verdict Status, names ...string) Result {
	r := Result{Service: "api", SHA: "a", Verdict: verdict}
	for _, name := range names {
		r.Criteria = append(r.Criteria, Criterion{Name: name, Status: verdict})
	}
	r.Criteria = append(r.Criteria, Criterion{Name: "build time", Status: Skipped})
	return r
}

func TestName(t *testing.T) {
	tests := []struct {
		name   string
		result Result
		want   string
	}{
		{"judged criteria sorted, skipped ones left out", judged(Pass, "tests", "coverage"), "coverage+tests"},
		{"a run that judged nothing", judged(Pass), "gate"},
		{"failed criteria count as judged", Result{Criteria: []Criterion{{Name: "p95 latency", Status: Fail}}}, "p95 latency"},
		{"a criterion judged twice is named once", judged(Fail, "tests", "tests"), "tests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Name(tt.result); got != tt.want {
				t.Errorf("Name = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckRecordable(t *testing.T) {
	tests := []struct {
		name  string
		r     Result
		field string
	}{
		{"no service", Result{SHA: "a", Verdict: Pass}, "service"},
		{"no verdict", Result{Service: "api", SHA: "a"}, "verdict"},
		{"a skipped verdict", Result{Service: "api", SHA: "a", Verdict: Skipped}, "verdict"},
		{"a sha too long", Result{Service: "api", SHA: strings.Repeat("a", delivery.MaxKeyLength+1), Verdict: Pass}, "sha"},
		{"a passing result", judged(Pass, "tests"), ""},
		{"a failing result without a sha", Result{Service: "api", Verdict: Fail}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.CheckRecordable()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			var e *delivery.Error
			if delivery.ErrorCode(err) != delivery.EINVALID || !errors.As(err, &e) || e.Field != tt.field {
				t.Errorf("err = %v, want invalid %s", err, tt.field)
			}
		})
	}
}
