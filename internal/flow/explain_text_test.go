package flow

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestWriteExplanation(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	end := start.Add(90 * time.Minute)
	tests := []struct {
		name string
		e    Explanation
		want []string
		not  []string
	}{{
		// 90 minutes from merge to deployment, shown as 1h 30m.
		name: "a duration figure lists each pull request with its value in words",
		e: Explanation{Figure: "deploy_time", Unit: "seconds", Items: []ExplainedPR{
			{Repository: "acme/api", Number: 7, Title: "retry", Author: "ana", Value: 5400, Start: &start, End: &end, Deployment: "api/production/d1"},
			{Repository: "acme/api", Number: 8, Title: "skew", Author: "bo", Value: -60, Excluded: true, Reason: "clock skew"},
		}, Warnings: []string{"service api has received commits"}},
		want: []string{"deploy time (seconds)", "acme/api#7", "ana", "1h 30m", "2026-03-02T09:00:00Z", "2026-03-02T10:30:00Z",
			"api/production/d1", "retry", "acme/api#8", "clock skew", "warning: service api has received commits"},
		not: []string{"{", "\"items\""},
	}, {
		name: "an empty figure says why nothing is behind it",
		e:    Explanation{Figure: "deploy_time", Unit: "seconds"},
		want: []string{"deploy time (seconds)", "nothing counted, because no pull request of the scope merged in the period was shipped by a production deployment"},
		not:  []string{"pull request\tauthor", "author"},
	}, {
		name: "a count figure shows its number",
		e:    Explanation{Figure: "pr_size", Unit: "count", Items: []ExplainedPR{{Repository: "r", Number: 1, Value: 42}}},
		want: []string{"pr size (count)", "r#1", "42"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteExplanation(&b, tt.e); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}
}
