// Package delivery holds Stride's domain: services and teams, changes,
// deployments, incidents, pull requests, work items and builds, the events
// that carry them, and the rules by which repeated or out-of-order events
// converge on one state. It does no I/O; the store, the HTTP server and the
// source connectors depend on it, never the reverse.
package delivery

import (
	"errors"
	"fmt"
)

// Error codes. Exactly one place (the HTTP server) maps them to statuses, so
// the domain can say what went wrong without knowing how it is reported.
const (
	EINVALID      = "invalid"      // the input breaks a rule of the domain
	ENOTFOUND     = "not_found"    // the thing asked for does not exist
	ECONFLICT     = "conflict"     // the input contradicts stored state
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // valid credentials without the scope
	EINTERNAL     = "internal"     // a fault of Stride's, not the caller's
	// EUNAVAILABLE: the database cannot take the request now (down, disk
	// full, corrupt, locked beyond its timeout). Nothing was stored; the
	// same request may succeed later, so callers are told to retry.
	EUNAVAILABLE = "unavailable"
)

// Error is a domain error with a code and a message fit for the caller.
// Field names the offending field, and Index the offending event of a batch
// (-1 when the error is not about one event).
type Error struct {
	Code    string
	Message string
	Field   string
	Index   int
}

func (e *Error) Error() string {
	switch {
	case e.Index >= 0 && e.Field != "":
		return fmt.Sprintf("event %d: %s: %s", e.Index, e.Field, e.Message)
	case e.Field != "":
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	default:
		return e.Message
	}
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Index: -1}
}

// FieldError returns an EINVALID error about one field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...), Index: -1}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-facing message of err: the text of an
// *Error, or a generic text for internal errors whose details belong in the
// log, not in a response.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "internal error"
}
