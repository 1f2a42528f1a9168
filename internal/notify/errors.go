package notify

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// StatusError is a receiver's refusal over HTTP.
type StatusError struct {
	Code int
	// RetryAfter is the raw Retry-After header of a 429 or 503.
	RetryAfter string
	Body       string
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// permanentError marks an error that retrying cannot cure.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that the outbox gives up at once.
func Permanent(err error) error { return permanentError{err} }

// IsPermanent reports whether retrying err is pointless: a 4xx answer other
// than 408 (timeout) and 429 (too many requests), a 5xx SMTP reply, or an
// error marked with Permanent. Network errors and timeouts are transient.
func IsPermanent(err error) bool {
	var p permanentError
	if errors.As(err, &p) {
		return true
	}
	var s *StatusError
	if errors.As(err, &s) {
		return s.Code >= 400 && s.Code < 500 && s.Code != http.StatusRequestTimeout && s.Code != http.StatusTooManyRequests
	}
	var t *textproto.Error
	if errors.As(err, &t) {
		return t.Code >= 500
	}
	return false
}

// retryAfter is the wait a 429 or 503 answer asks for, as of now: delay
// seconds or an HTTP date. A date in the past asks for no wait.
func retryAfter(err error, now time.Time) (time.Duration, bool) {
	var s *StatusError
	if !errors.As(err, &s) || (s.Code != http.StatusTooManyRequests && s.Code != http.StatusServiceUnavailable) {
		return 0, false
	}
	return parseRetryAfter(s.RetryAfter, now)
}

// maxRetryAfter bounds a Retry-After in seconds (a week), so that a
// receiver's nonsense cannot overflow a duration or park a row for years.
const maxRetryAfter = 7 * 24 * 3600

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, maxRetryAfter)) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter*time.Second), true
}
