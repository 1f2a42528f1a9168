package server

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestABodyThatDoesNotEncodeIsA500 is the planning report of two work
// items with 1e308 story points: their sum is +Inf, which JSON cannot
// carry. The answer must be a 500, not a 200 with an empty body.
func TestABodyThatDoesNotEncodeIsA500(t *testing.T) {
	for _, c := range []struct {
		name   string
		v      any
		status int
		body   string
	}{
		{"an infinity", map[string]float64{"points": math.Inf(1)}, http.StatusInternalServerError, "could not be encoded"},
		{"a NaN", []float64{math.NaN()}, http.StatusInternalServerError, "could not be encoded"},
		{"a number", map[string]float64{"points": 2e4}, http.StatusOK, `"points": 20000`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeJSON(rec, http.StatusOK, c.v)
			if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.body) {
				t.Fatalf("got %d %q, want %d containing %q", rec.Code, rec.Body, c.status, c.body)
			}
		})
	}
}
