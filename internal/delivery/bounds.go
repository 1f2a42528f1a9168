package delivery

import (
	"math"
	"unicode/utf8"
)

// Bounds of numeric fields. A number no real work item or pull request
// reaches is a sender's bug; stored, it overflows the sums of a report
// (two story points of 1e308 add up to +Inf, which JSON cannot carry).
const (
	// MaxStoryPoints bounds an estimate: a team's whole quarter is less.
	MaxStoryPoints = 10_000
	// MaxCount bounds a pull request's additions, deletions, files and
	// comments: ten million lines is more than any reviewable change.
	MaxCount = 10_000_000
)

// validText refuses text that is not UTF-8: stored, it would be replaced
// on the way out, and two distinct keys could then read back the same.
func validText(field, v string) error {
	if !utf8.ValidString(v) {
		return FieldError(field, "is not valid UTF-8")
	}
	return nil
}

// validStoryPoints refuses an estimate out of 0..MaxStoryPoints.
func validStoryPoints(p *float64) error {
	if p == nil {
		return nil
	}
	if math.IsNaN(*p) || *p < 0 || *p > MaxStoryPoints {
		return FieldError("work_item.story_points", "must be 0 to %d, got %g", MaxStoryPoints, *p)
	}
	return nil
}
